"""Skins: joint matrices from the posed hierarchy and linear blend skinning of positions/normals."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from avatar4d.asset.accessors import Accessors
from avatar4d.asset.gltf_json import GltfJson

# glTF 2.0 (section 3.7.3.3): a skinned mesh node's own transform is ignored; the joints place
# the mesh in the world. Set to True to apply that node's world matrix after skinning instead
# (only if a viewer we compare against turns out to do so on real assets).
APPLY_SKINNED_NODE_TRANSFORM = False


@dataclass(frozen=True)
class Skin:
    joints: np.ndarray  # (J,) node indices
    inverse_bind_matrices: np.ndarray  # (J, 4, 4) float64
    name: str

    def joint_matrices(self, world: np.ndarray) -> np.ndarray:
        """(..., J, 4, 4): world(joint) x inverseBindMatrix(joint)."""
        return world[..., self.joints, :, :] @ self.inverse_bind_matrices


def read_skins(doc: GltfJson, accessors: Accessors, node_count: int) -> list[Skin]:
    skins = []
    for i, skin in enumerate(doc.array("skins")):
        path = f"skins[{i}]"
        joints = skin.get("joints")
        if (
            not isinstance(joints, list)
            or not joints
            or not all(isinstance(j, int) and not isinstance(j, bool) for j in joints)
            or not all(0 <= j < node_count for j in joints)
        ):
            doc.fail(
                f"{path}.joints must be a non-empty array of node indices (0..{node_count - 1})"
            )
        index = doc.optional_index(skin, "inverseBindMatrices", path, "accessors")
        if index is None:
            inverse_bind = np.tile(np.eye(4), (len(joints), 1, 1))
        else:
            info = accessors.info(index)
            if info.count != len(joints) or info.type != "MAT4":  # checked before reading
                doc.fail(
                    f"{path}.inverseBindMatrices: accessor {index} holds {info.count:,} "
                    f"{info.type} elements, the skin has {len(joints)} joints (one MAT4 each)"
                )
            values = accessors.read_float(index)
            if values.shape != (len(joints), 16) or not np.isfinite(values).all():
                doc.fail(f"{path}.inverseBindMatrices must hold {len(joints)} finite MAT4 values")
            inverse_bind = values.astype(np.float64).reshape(-1, 4, 4).transpose(0, 2, 1)
        name = doc.string(skin, "name", path, f"skin_{i}")
        skins.append(Skin(np.array(joints, np.int64), inverse_bind, name))
    return skins


def blend_matrices(
    joint_matrices: np.ndarray, joints: np.ndarray, weights: np.ndarray
) -> np.ndarray:
    """(V, 3, 4) per-vertex skinning matrices: sum_i w_i x jointMatrix[joint_i]."""
    affine = joint_matrices[:, :3, :].astype(np.float32)
    return np.einsum("vk,vkij->vij", weights, affine[joints])


def transform_points(matrices: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Apply (V, 3, 4) or (3, 4) affine matrices to (V, 3) points."""
    if matrices.ndim == 2:
        return (points @ matrices[:, :3].T + matrices[:, 3]).astype(np.float32)
    return (np.einsum("vij,vj->vi", matrices[:, :, :3], points) + matrices[:, :, 3]).astype(
        np.float32
    )


def transform_normals(matrices: np.ndarray, normals: np.ndarray) -> np.ndarray:
    """Normals through the cofactor of each linear part: the inverse transpose times the
    determinant, which handles non-uniform scale (and singular matrices); multiplying by the
    determinant's sign keeps mirrored transforms pointing outward. Not normalised here."""
    linear = matrices[..., :3, :3]
    c0, c1, c2 = linear[..., :, 0], linear[..., :, 1], linear[..., :, 2]
    cofactor = np.stack([_cross(c1, c2), _cross(c2, c0), _cross(c0, c1)], axis=-1)
    sign = np.sign((c0 * _cross(c1, c2)).sum(axis=-1))
    oriented = cofactor * np.where(sign == 0, 1.0, sign)[..., None, None]
    if matrices.ndim == 2:
        return (normals @ oriented.T).astype(np.float32)
    return np.einsum("vij,vj->vi", oriented, normals)


def _cross(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise cross product of (..., 3) arrays (np.cross costs more for small inputs)."""
    ax, ay, az = a[..., 0], a[..., 1], a[..., 2]
    bx, by, bz = b[..., 0], b[..., 1], b[..., 2]
    return np.stack([ay * bz - az * by, az * bx - ax * bz, ax * by - ay * bx], axis=-1)
