"""The whole drawn mesh as one triangle mesh, posed at any clip, times and morph weights.

Every drawn primitive (skinned, or placed by its node; morph targets and node animation applied)
in scene order, the order of ``Asset.pose``'s parts, concatenated into one vertex array and one
face array. Posing keeps a glTF mesh's topology, so vertex v and face f name the same point and
triangle in every pose: a Gaussian bound to a face follows it through any clip (the ``rig``
motion model's template; see docs/rig_model.md).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from avatar4d.asset.loader import Asset
from avatar4d.asset.topology import triangle_areas
from avatar4d.errors import InputError

MAX_POSED_NUMBERS = 1 << 28  # T x V x 3 float32 numbers one call may return (1 GiB)
# A face is degenerate when its area is below this share of its longest edge squared (an
# equilateral triangle has 0.43): its normal would be float32 rounding noise.
DEGENERATE_SHAPE = 1e-6


@dataclass(frozen=True)
class MeshPart:
    """Where one glTF primitive's vertices and faces sit in the combined arrays."""

    mesh_name: str
    node_index: int
    primitive_index: int
    first_vertex: int
    vertex_count: int
    first_face: int
    face_count: int


@dataclass(frozen=True)
class RigMesh:
    faces: np.ndarray  # (F, 3) int64 corners into the combined vertices
    vertex_count: int
    parts: tuple[MeshPart, ...]
    visible: np.ndarray  # (F,) bool: the face's material is not fully transparent
    clips: dict[str, float]  # clip name -> duration in seconds, in file order
    morph_targets: list[str]  # names ``pose_rig_mesh`` accepts in ``morph``


class RigPoser:
    """Poses one asset's combined mesh; the layout is read once from the rest pose.

    Faces keep the winding of the rest pose (a node mirrored there has its faces turned so
    their normals point outward); a pose cannot reorder them.
    """

    def __init__(self, asset: Asset) -> None:
        self.asset = asset
        rest = asset.pose(None, 0.0)
        parts, faces, visible = [], [], []
        vertex, face = 0, 0
        for part in rest.parts:
            parts.append(
                MeshPart(
                    part.mesh_name,
                    part.node_index,
                    part.primitive_index,
                    vertex,
                    len(part.positions),
                    face,
                    len(part.indices),
                )
            )
            faces.append(part.indices.astype(np.int64) + vertex)
            alpha = float(part.material.base_color_factor[3])
            visible.append(np.full(len(part.indices), alpha > 0.0))
            vertex += len(part.positions)
            face += len(part.indices)
        self.mesh = RigMesh(
            faces=np.concatenate(faces) if faces else np.zeros((0, 3), np.int64),
            vertex_count=vertex,
            parts=tuple(parts),
            visible=np.concatenate(visible) if visible else np.zeros(0, bool),
            clips={clip.name: clip.duration for clip in asset.clips},
            morph_targets=asset.morph_target_names,
        )

    def pose(
        self,
        clip: str | None,
        times: Sequence[float],
        morph: Mapping[str, float] | None = None,
    ) -> np.ndarray:
        """(T, V, 3) float32 world positions at each of ``times`` seconds into ``clip`` (None:
        the rest pose), with the named morph targets set to ``morph``'s weights on top of what
        the clip gives them. Times outside the clip hold its first / last keyframe."""
        if clip is not None:
            self.asset.find_clip(clip)  # one line naming the clips there are
        count = len(times)
        if count * self.mesh.vertex_count * 3 > MAX_POSED_NUMBERS:
            raise InputError(
                self.asset.path,
                f"posing {count:,} times of {self.mesh.vertex_count:,} vertices at once needs "
                f"more than {MAX_POSED_NUMBERS * 4 // 1024**2:,} MiB; pose fewer times per call",
            )
        out = np.empty((count, self.mesh.vertex_count, 3), np.float32)
        for row, seconds in enumerate(times):
            node_pose = self.asset.node_pose(clip, seconds)
            if morph:
                self.asset.set_morph_weights(node_pose, morph)
            when = "the rest pose" if clip is None else f'clip "{clip}" at {seconds:g} s'
            out[row] = self.asset.positions_from_nodes(node_pose, when)
        return out


def degenerate_faces(positions: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """(..., F) bool: faces with no usable plane at these (..., V, 3) positions (repeated
    corners, collinear corners, slivers whose area is rounding noise)."""
    corners = positions[..., faces, :].astype(np.float64)
    edges = corners - np.roll(corners, 1, axis=-2)
    longest = (edges**2).sum(axis=-1).max(axis=-1)
    areas = triangle_areas(positions, faces)
    return ~(areas > DEGENERATE_SHAPE * longest)


def embeddable_faces(mesh: RigMesh, positions: np.ndarray) -> np.ndarray:
    """(F,) bool: faces Gaussians may be bound to, judged at one pose (V, 3), the anchor:
    visible and not degenerate there."""
    return mesh.visible & ~degenerate_faces(positions, mesh.faces)
