"""Static (unposed) mesh data: one MeshPrimitive per glTF triangle primitive, read once."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from avatar4d.asset.accessors import Accessors
from avatar4d.asset.draco import as_declared, decode_draco_primitive
from avatar4d.asset.extensions import DRACO, apply_uv_transform
from avatar4d.asset.gltf_json import GltfJson
from avatar4d.asset.limits import (
    MAX_MORPH_DELTAS_TOTAL,
    MAX_TRIANGLES_TOTAL,
    MAX_VERTICES_TOTAL,
)
from avatar4d.asset.materials import DEFAULT_MATERIAL, MaterialBinding
from avatar4d.asset.posed_mesh import Material
from avatar4d.asset.topology import TRIANGLE_MODES, TRIANGLES, normalize_rows, triangles_from_mode


@dataclass(frozen=True)
class MeshPrimitive:
    mesh_index: int
    primitive_index: int
    mesh_name: str
    positions: np.ndarray  # (V, 3) float32, mesh space
    normals: np.ndarray | None  # (V, 3) float32 unit, or None (computed after posing)
    uvs: np.ndarray | None  # (V, 2) float32, texture transform applied
    colors: np.ndarray | None  # (V, 4) float32
    triangles: np.ndarray  # (T, 3) uint32
    joints: np.ndarray | None  # (V, K) int64 indices into the skin's joint list
    weights: np.ndarray | None  # (V, K) float32, rows sum to 1
    target_positions: np.ndarray | None  # (M, V, 3) float32 morph deltas
    target_normals: np.ndarray | None  # (M, V, 3) float32 morph deltas
    material: Material

    @property
    def is_skinned(self) -> bool:
        return self.joints is not None


@dataclass(frozen=True)
class MeshData:
    index: int
    name: str
    primitives: list[MeshPrimitive]  # triangle primitives only
    skipped_primitives: int  # POINTS / LINES primitives, not rendered
    target_names: list[str]
    default_weights: np.ndarray  # (M,) float32 mesh.weights, zeros if absent


def read_meshes(
    doc: GltfJson, accessors: Accessors, materials: list[MaterialBinding]
) -> list[MeshData]:
    meshes = doc.array("meshes")
    _check_totals(doc, accessors, meshes)
    return [_read_mesh(doc, accessors, materials, i, mesh) for i, mesh in enumerate(meshes)]


@dataclass(frozen=True)
class _MeshCounts:
    vertices: int
    triangles: int
    morph_deltas: int  # targets x vertices


def _mesh_counts(doc: GltfJson, accessors: Accessors, mesh: dict, m: int) -> _MeshCounts:
    """What a mesh will need, from the accessor counts alone (no data read)."""
    vertices = triangles = deltas = 0
    for p, primitive in enumerate(_primitive_list(doc, mesh, m)):
        path = f"meshes[{m}].primitives[{p}]"
        attributes = doc.object(primitive, "attributes", path)
        count = 0
        if "POSITION" in attributes:
            count = accessors.info(doc.index(attributes, "POSITION", path, "accessors")).count
        vertices += count
        index = doc.optional_index(primitive, "indices", path, "accessors")
        triangles += (count if index is None else accessors.info(index).count) // 3
        targets = primitive.get("targets", [])
        deltas += count * len(targets) if isinstance(targets, list) else 0
    return _MeshCounts(vertices, triangles, deltas)


def _check_totals(doc: GltfJson, accessors: Accessors, meshes: list[dict]) -> None:
    """Refuse absurd vertex / triangle / morph totals from the accessor counts, before reading."""
    counts = [_mesh_counts(doc, accessors, mesh, m) for m, mesh in enumerate(meshes)]
    _check_vertex_totals(doc, "meshes have", counts)
    deltas = sum(c.morph_deltas for c in counts)
    if deltas > MAX_MORPH_DELTAS_TOTAL:
        doc.fail(
            f"morph targets hold {deltas:,} vertex deltas (targets x vertices), more than the "
            f"{MAX_MORPH_DELTAS_TOTAL:,} allowed"
        )


def check_drawn_totals(doc: GltfJson, accessors: Accessors, mesh_of_drawn_nodes: list[int]) -> None:
    """Refuse before any mesh is read when the scene draws too many vertices: a mesh counts
    once for every node that instances it (``mesh_of_drawn_nodes``: one mesh index per node)."""
    meshes = doc.array("meshes")
    per_mesh: dict[int, _MeshCounts] = {}
    for m in mesh_of_drawn_nodes:
        if m not in per_mesh:
            per_mesh[m] = _mesh_counts(doc, accessors, meshes[m], m)
    drawn = [per_mesh[m] for m in mesh_of_drawn_nodes]
    _check_vertex_totals(doc, f"the scene draws {len(drawn):,} mesh instances with", drawn)


def _check_vertex_totals(doc: GltfJson, what: str, counts: list[_MeshCounts]) -> None:
    vertices = sum(c.vertices for c in counts)
    triangles = sum(c.triangles for c in counts)
    if vertices > MAX_VERTICES_TOTAL:
        doc.fail(f"{what} {vertices:,} vertices, more than the {MAX_VERTICES_TOTAL:,} allowed")
    if triangles > MAX_TRIANGLES_TOTAL:
        doc.fail(f"{what} {triangles:,} triangles, more than the {MAX_TRIANGLES_TOTAL:,} allowed")


def _primitive_list(doc: GltfJson, mesh: dict, mesh_index: int) -> list[dict]:
    primitives = mesh.get("primitives")
    if not isinstance(primitives, list) or not all(isinstance(p, dict) for p in primitives):
        doc.fail(f"meshes[{mesh_index}].primitives must be an array of objects")
    return primitives


def _read_mesh(
    doc: GltfJson,
    accessors: Accessors,
    materials: list[MaterialBinding],
    index: int,
    mesh: dict,
) -> MeshData:
    name = doc.string(mesh, "name", f"meshes[{index}]", f"mesh_{index}")
    primitives: list[MeshPrimitive] = []
    skipped = 0
    for p, primitive in enumerate(_primitive_list(doc, mesh, index)):
        path = f"meshes[{index}].primitives[{p}]"
        mode = doc.integer(primitive, "mode", path, default=TRIANGLES)
        if mode > 6:
            doc.fail(f"{path}.mode {mode} is not a glTF primitive mode")
        if mode not in TRIANGLE_MODES:
            skipped += 1
            continue
        primitives.append(
            _PrimitiveReader(doc, accessors, primitive, path).read(index, p, name, materials, mode)
        )
    target_count = max((_target_count(p) for p in primitives), default=0)
    weights = doc.numbers(mesh, "weights", f"meshes[{index}]", None, [])
    default_weights = np.zeros(target_count, np.float32)
    default_weights[: min(len(weights), target_count)] = weights[:target_count]
    extras = mesh.get("extras")
    names = extras.get("targetNames") if isinstance(extras, dict) else None
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        names = []
    target_names = [names[i] if i < len(names) else f"target_{i}" for i in range(target_count)]
    return MeshData(index, name, primitives, skipped, target_names, default_weights)


def _target_count(primitive: MeshPrimitive) -> int:
    deltas = primitive.target_positions
    if deltas is None:
        deltas = primitive.target_normals
    return 0 if deltas is None else len(deltas)


class _PrimitiveReader:
    """Reads one primitive's attributes from accessors, or from its Draco-compressed data."""

    def __init__(self, doc: GltfJson, accessors: Accessors, primitive: dict, path: str) -> None:
        self.doc = doc
        self.accessors = accessors
        self.primitive = primitive
        self.path = path
        self.attributes = doc.object(primitive, "attributes", path)
        self.draco: dict[str, np.ndarray] | None = None
        self.draco_indices: np.ndarray | None = None
        extension = doc.extensions(primitive, path).get(DRACO)
        if isinstance(extension, dict):
            self.draco, self.draco_indices = decode_draco_primitive(doc, accessors, extension, path)

    def read(
        self,
        mesh_index: int,
        primitive_index: int,
        mesh_name: str,
        materials: list[MaterialBinding],
        mode: int,
    ) -> MeshPrimitive:
        positions = self.attribute("POSITION", ("VEC3",), required=True)
        if not np.isfinite(positions).all():
            self.doc.fail(f"{self.path}: POSITION holds non-finite values")
        count = len(positions)
        normals = self.attribute("NORMAL", ("VEC3",), count=count)
        binding = self._material(materials)
        uvs = self.attribute(f"TEXCOORD_{binding.tex_coord}", ("VEC2",), count=count)
        if uvs is not None and binding.uv_transform is not None:
            uvs = apply_uv_transform(uvs, binding.uv_transform)
        colors = self.attribute("COLOR_0", ("VEC3", "VEC4"), count=count)
        if colors is not None and colors.shape[1] == 3:
            colors = np.concatenate([colors, np.ones((count, 1), np.float32)], axis=1)
        joints, weights = self._skin_influences(count)
        target_positions, target_normals = self._morph_targets(count)
        triangles = self._triangles(count, mode)
        for shared in (uvs, colors, triangles):  # handed to every pose: nobody may edit them
            if shared is not None:
                shared.setflags(write=False)
        return MeshPrimitive(
            mesh_index=mesh_index,
            primitive_index=primitive_index,
            mesh_name=mesh_name,
            positions=positions,
            normals=None if normals is None else normalize_rows(normals),
            uvs=None if uvs is None else uvs.astype(np.float32, copy=False),
            colors=None if colors is None else colors.astype(np.float32, copy=False),
            triangles=triangles,
            joints=joints,
            weights=weights,
            target_positions=target_positions,
            target_normals=target_normals,
            material=binding.material,
        )

    def attribute(
        self,
        name: str,
        types: tuple[str, ...],
        required: bool = False,
        count: int | None = None,
        raw: bool = False,
        source: dict | None = None,
    ) -> np.ndarray | None:
        """float32 (or raw integer) array of an attribute, type- and count-checked."""
        source = self.attributes if source is None else source
        where = f"{self.path} attribute {name}"
        if name not in source:
            if required:
                self.doc.fail(f"{self.path} has no {name} attribute")
            return None
        index = self.doc.index(source, name, f"{self.path}.attributes", "accessors")
        info = self.accessors.info(index)
        if info.type not in types:
            self.doc.fail(f"{where} must be {' or '.join(types)}, accessor {index} is {info.type}")
        if count is not None and info.count != count:  # before reading a single element
            self.doc.fail(f"{where} has {info.count} elements, POSITION has {count}")
        if self.draco is not None and name in self.draco and source is self.attributes:
            values = self.draco[name]
            values = values if raw else as_declared(values, info.normalized).astype(np.float32)
        elif raw:
            values = self.accessors.read_raw(index)
        else:
            values = self.accessors.read_float(index)
        if count is not None and len(values) != count:
            self.doc.fail(f"{where} has {len(values)} elements, POSITION has {count}")
        return values

    def _material(self, materials: list[MaterialBinding]) -> MaterialBinding:
        index = self.doc.optional_index(self.primitive, "material", self.path, "materials")
        return MaterialBinding(DEFAULT_MATERIAL) if index is None else materials[index]

    def _triangles(self, count: int, mode: int) -> np.ndarray:
        if self.draco_indices is not None:
            indices = self.draco_indices
        else:
            index = self.doc.optional_index(self.primitive, "indices", self.path, "accessors")
            if index is None:
                indices = np.arange(count, dtype=np.uint32)
            else:
                indices = self.accessors.read_indices(index)
        if len(indices) and int(indices.max()) >= count:
            self.doc.fail(
                f"{self.path}: index {int(indices.max())} is out of range for {count} vertices"
            )
        if mode == TRIANGLES and len(indices) % 3:
            self.doc.fail(f"{self.path}: {len(indices)} indices is not a multiple of 3")
        return triangles_from_mode(indices, mode)

    def _skin_influences(self, count: int) -> tuple[np.ndarray | None, np.ndarray | None]:
        joint_sets, weight_sets = [], []
        for set_index in range(2):
            joints = self.attribute(f"JOINTS_{set_index}", ("VEC4",), count=count, raw=True)
            weights = self.attribute(f"WEIGHTS_{set_index}", ("VEC4",), count=count)
            if (joints is None) != (weights is None):
                self.doc.fail(f"{self.path}: JOINTS_{set_index} and WEIGHTS_{set_index} must pair")
            if joints is None:
                break
            if joints.dtype.kind not in "iu":
                self.doc.fail(f"{self.path}: JOINTS_{set_index} must hold integers")
            joint_sets.append(joints.astype(np.int64))
            weight_sets.append(weights)
        if not joint_sets:
            return None, None
        joints = np.concatenate(joint_sets, axis=1)
        weights = np.concatenate(weight_sets, axis=1).astype(np.float32)
        if (joints < 0).any():
            self.doc.fail(f"{self.path}: JOINTS holds negative joint indices")
        weights = _renormalized(weights)
        joints[weights == 0] = 0  # unused slots may hold any index; never look it up
        return joints, weights

    def _morph_targets(self, count: int) -> tuple[np.ndarray | None, np.ndarray | None]:
        targets = self.primitive.get("targets", [])
        if not isinstance(targets, list) or not all(isinstance(t, dict) for t in targets):
            self.doc.fail(f"{self.path}.targets must be an array of objects")
        if not targets:
            return None, None
        positions = [self.attribute("POSITION", ("VEC3",), count=count, source=t) for t in targets]
        normals = [self.attribute("NORMAL", ("VEC3",), count=count, source=t) for t in targets]
        return _stack_deltas(positions, count), _stack_deltas(normals, count)


def _stack_deltas(deltas: list[np.ndarray | None], count: int) -> np.ndarray | None:
    if all(d is None for d in deltas):
        return None
    zeros = np.zeros((count, 3), np.float32)
    return np.stack([zeros if d is None else d for d in deltas]).astype(np.float32)


def _renormalized(weights: np.ndarray) -> np.ndarray:
    """Rows scaled to sum to 1; a row of zeros (invalid glTF) follows its first joint fully."""
    weights = np.maximum(weights, 0.0)
    totals = weights.sum(axis=1, keepdims=True)
    empty = totals[:, 0] <= 0
    weights = weights / np.where(totals > 0, totals, 1.0)
    weights[empty, 0] = 1.0
    return weights.astype(np.float32)
