"""A small, general writer of binary glTF 2.0 (GLB) files from numpy arrays.

Every ``add_*`` method appends one object to the glTF JSON and returns its index, so
objects can refer to each other (a texture to its image, a node to its mesh, ...). All
binary data goes into one buffer; each accessor gets its own bufferView, 4-byte aligned.
The output depends only on the calls made, so the same calls give the same bytes.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

GLB_MAGIC = b"glTF"
GLB_VERSION = 2
CHUNK_JSON = 0x4E4F534A  # "JSON"
CHUNK_BIN = 0x004E4942  # "BIN\0"

ARRAY_BUFFER = 34962  # bufferView target of vertex attributes
ELEMENT_ARRAY_BUFFER = 34963  # bufferView target of indices

LINEAR_FILTER = 9729
LINEAR_MIPMAP_LINEAR = 9987
REPEAT = 10497
CLAMP_TO_EDGE = 33071

COMPONENT_TYPES: dict[np.dtype, int] = {
    np.dtype(np.int8): 5120,
    np.dtype(np.uint8): 5121,
    np.dtype(np.int16): 5122,
    np.dtype(np.uint16): 5123,
    np.dtype(np.uint32): 5125,
    np.dtype(np.float32): 5126,
}
# Element shape (after the first axis) -> glTF accessor type.
ELEMENT_TYPES: dict[tuple[int, ...], str] = {
    (): "SCALAR",
    (1,): "SCALAR",
    (2,): "VEC2",
    (3,): "VEC3",
    (4,): "VEC4",
    (2, 2): "MAT2",
    (3, 3): "MAT3",
    (4, 4): "MAT4",
}
INTERPOLATIONS = ("LINEAR", "STEP", "CUBICSPLINE")
ANIMATION_PATHS = ("translation", "rotation", "scale", "weights")


@dataclass
class MorphTarget:
    """Per-vertex deltas of one morph target (added to the base attributes times its weight)."""

    position_deltas: np.ndarray  # (V, 3) float32
    normal_deltas: np.ndarray | None = None  # (V, 3) float32


@dataclass
class Primitive:
    """One triangle-list primitive; optional attributes are left out of the file when None.

    ``colors`` are linear RGB or RGBA float32, ``joints`` uint8/uint16 (V, 4) with their
    ``weights`` float32 (V, 4) summing to one.
    """

    positions: np.ndarray  # (V, 3) float32
    indices: np.ndarray  # (T, 3) or (3T,) integer
    material: int | None = None
    normals: np.ndarray | None = None  # (V, 3) float32
    uvs: np.ndarray | None = None  # (V, 2) float32, TEXCOORD_0
    colors: np.ndarray | None = None  # (V, 3|4) float32, COLOR_0
    joints: np.ndarray | None = None  # (V, 4) uint8 | uint16, JOINTS_0
    weights: np.ndarray | None = None  # (V, 4) float32, WEIGHTS_0
    targets: list[MorphTarget] = field(default_factory=list)


@dataclass
class AnimationChannel:
    """Keyframes of one node property.

    ``values`` holds one row per key (for ``weights``: one row of all morph weights per
    key); CUBICSPLINE rows come in triples per key: in-tangent, value, out-tangent.
    """

    node: int
    path: str  # translation | rotation | scale | weights
    times: np.ndarray  # (K,) float32 seconds, increasing
    values: np.ndarray  # (K, n) or (3K, n) for CUBICSPLINE
    interpolation: str = "LINEAR"


class GlbBuilder:
    """Collects glTF objects and binary data, then writes them as one GLB file."""

    def __init__(self) -> None:
        self._json: dict[str, Any] = {"asset": {"version": "2.0", "generator": "avatar4d"}}
        self._binary = bytearray()

    # -- binary data ---------------------------------------------------------------------

    def add_buffer_view(
        self, data: bytes, target: int | None = None, stride: int | None = None
    ) -> int:
        """Append raw bytes at a 4-byte-aligned offset of the one buffer."""
        self._binary.extend(b"\0" * (-len(self._binary) % 4))
        view: dict[str, Any] = {
            "buffer": 0,
            "byteOffset": len(self._binary),
            "byteLength": len(data),
        }
        if stride is not None:
            view["byteStride"] = stride
        if target is not None:
            view["target"] = target
        self._binary.extend(data)
        return self._append("bufferViews", view)

    def add_accessor(
        self,
        array: np.ndarray,
        *,
        target: int | None = None,
        normalized: bool = False,
        with_bounds: bool = False,
    ) -> int:
        """Store ``array`` (count along axis 0) as a typed accessor in a new bufferView.

        Vertex attributes (``target=ARRAY_BUFFER``) whose elements are not a multiple of
        4 bytes are padded element by element and given a byteStride, as glTF requires.
        ``with_bounds`` records per-component min/max (required for POSITION and for
        animation times).
        """
        array = np.ascontiguousarray(array)
        if array.dtype not in COMPONENT_TYPES:
            raise ValueError(f"unsupported accessor dtype {array.dtype}")
        element_shape = tuple(array.shape[1:])
        if element_shape not in ELEMENT_TYPES or array.ndim == 0 or len(array) == 0:
            raise ValueError(f"unsupported accessor shape {array.shape}")
        if np.issubdtype(array.dtype, np.floating) and not np.all(np.isfinite(array)):
            raise ValueError("accessor data must be finite")
        accessor_type = ELEMENT_TYPES[element_shape]
        if accessor_type.startswith("MAT"):
            # glTF matrices are column-major; numpy rows here are the math rows.
            array = np.ascontiguousarray(np.swapaxes(array, 1, 2))
        count = len(array)
        flat = array.reshape(count, -1)
        element_bytes = flat.shape[1] * array.dtype.itemsize
        stride = None
        if target == ARRAY_BUFFER and element_bytes % 4:
            stride = element_bytes + (-element_bytes % 4)
            padded = np.zeros((count, stride), np.uint8)
            padded[:, :element_bytes] = flat.view(np.uint8).reshape(count, element_bytes)
            data = padded.tobytes()
        else:
            data = flat.tobytes()
        accessor: dict[str, Any] = {
            "bufferView": self.add_buffer_view(data, target=target, stride=stride),
            "componentType": COMPONENT_TYPES[array.dtype],
            "count": count,
            "type": accessor_type,
        }
        if normalized:
            accessor["normalized"] = True
        if with_bounds:
            accessor["min"] = _json_numbers(flat.min(axis=0))
            accessor["max"] = _json_numbers(flat.max(axis=0))
        return self._append("accessors", accessor)

    # -- images, textures, materials -----------------------------------------------------

    def add_image_png(self, png: bytes, name: str | None = None) -> int:
        """Embed PNG bytes as an image (stored in the binary chunk)."""
        if not png.startswith(b"\x89PNG\r\n\x1a\n"):
            raise ValueError("image data is not a PNG")
        image = _named({"bufferView": self.add_buffer_view(png), "mimeType": "image/png"}, name)
        return self._append("images", image)

    def add_sampler(
        self,
        mag_filter: int = LINEAR_FILTER,
        min_filter: int = LINEAR_MIPMAP_LINEAR,
        wrap_s: int = REPEAT,
        wrap_t: int = REPEAT,
    ) -> int:
        sampler = {
            "magFilter": mag_filter,
            "minFilter": min_filter,
            "wrapS": wrap_s,
            "wrapT": wrap_t,
        }
        return self._append("samplers", sampler)

    def add_texture(self, image: int, sampler: int | None = None) -> int:
        texture: dict[str, Any] = {"source": image}
        if sampler is not None:
            texture["sampler"] = sampler
        return self._append("textures", texture)

    def add_material(
        self,
        name: str | None = None,
        base_color_factor: Sequence[float] = (1.0, 1.0, 1.0, 1.0),
        base_color_texture: int | None = None,
        metallic: float = 0.0,
        roughness: float = 1.0,
        double_sided: bool = False,
    ) -> int:
        """A pbrMetallicRoughness material; ``base_color_factor`` is linear RGBA."""
        if len(base_color_factor) != 4:
            raise ValueError("base_color_factor needs 4 components (linear RGBA)")
        pbr: dict[str, Any] = {
            "baseColorFactor": _json_numbers(base_color_factor),
            "metallicFactor": float(metallic),
            "roughnessFactor": float(roughness),
        }
        if base_color_texture is not None:
            pbr["baseColorTexture"] = {"index": base_color_texture}
        material = _named({"pbrMetallicRoughness": pbr}, name)
        if double_sided:
            material["doubleSided"] = True
        return self._append("materials", material)

    # -- meshes ---------------------------------------------------------------------------

    def add_mesh(
        self,
        primitives: Sequence[Primitive],
        name: str | None = None,
        weights: Sequence[float] | None = None,
        target_names: Sequence[str] | None = None,
    ) -> int:
        """A mesh of triangle primitives; all of them must have the same number of targets."""
        if not primitives:
            raise ValueError("a mesh needs at least one primitive")
        target_counts = {len(p.targets) for p in primitives}
        if len(target_counts) != 1:
            raise ValueError("all primitives of a mesh must have the same number of morph targets")
        target_count = target_counts.pop()
        for values, what in ((weights, "weights"), (target_names, "target_names")):
            if values is not None and len(values) != target_count:
                raise ValueError(f"mesh {what} must have one entry per morph target")
        mesh = _named({"primitives": [self._add_primitive(p) for p in primitives]}, name)
        if weights is not None:
            mesh["weights"] = _json_numbers(weights)
        if target_names is not None:
            mesh["extras"] = {"targetNames": list(target_names)}
        return self._append("meshes", mesh)

    def _add_primitive(self, primitive: Primitive) -> dict[str, Any]:
        positions = _as_float32(primitive.positions, (3,), "positions")
        vertex_count = len(positions)
        attributes = {
            "POSITION": self.add_accessor(positions, target=ARRAY_BUFFER, with_bounds=True)
        }
        optional = (
            ("NORMAL", primitive.normals, (3,)),
            ("TEXCOORD_0", primitive.uvs, (2,)),
            ("COLOR_0", primitive.colors, None),
            ("WEIGHTS_0", primitive.weights, (4,)),
        )
        for semantic, values, shape in optional:
            if values is None:
                continue
            array = _as_float32(values, shape, semantic)
            if semantic == "COLOR_0" and array.shape[1:] not in ((3,), (4,)):
                raise ValueError("COLOR_0 must be (V, 3) or (V, 4)")
            _check_count(array, vertex_count, semantic)
            attributes[semantic] = self.add_accessor(array, target=ARRAY_BUFFER)
        if primitive.joints is not None:
            joints = np.asarray(primitive.joints)
            if joints.dtype not in (np.uint8, np.uint16) or joints.shape[1:] != (4,):
                raise ValueError("JOINTS_0 must be (V, 4) uint8 or uint16")
            _check_count(joints, vertex_count, "JOINTS_0")
            attributes["JOINTS_0"] = self.add_accessor(joints, target=ARRAY_BUFFER)
        if (primitive.joints is None) != (primitive.weights is None):
            raise ValueError("JOINTS_0 and WEIGHTS_0 come together")
        result: dict[str, Any] = {
            "attributes": attributes,
            "indices": self._add_indices(primitive.indices, vertex_count),
            "mode": 4,
        }
        if primitive.material is not None:
            result["material"] = primitive.material
        if primitive.targets:
            result["targets"] = [self._add_target(t, vertex_count) for t in primitive.targets]
        return result

    def _add_indices(self, indices: np.ndarray, vertex_count: int) -> int:
        flat = np.asarray(indices).reshape(-1)
        if len(flat) == 0 or len(flat) % 3 or not np.issubdtype(flat.dtype, np.integer):
            raise ValueError("indices must be a non-empty integer list of triangles")
        if flat.min() < 0 or flat.max() >= vertex_count:
            raise ValueError("an index points past the primitive's vertices")
        dtype = np.uint16 if vertex_count <= 0xFFFF else np.uint32
        return self.add_accessor(flat.astype(dtype), target=ELEMENT_ARRAY_BUFFER)

    def _add_target(self, target: MorphTarget, vertex_count: int) -> dict[str, int]:
        deltas = _as_float32(target.position_deltas, (3,), "morph POSITION")
        _check_count(deltas, vertex_count, "morph POSITION")
        result = {"POSITION": self.add_accessor(deltas, target=ARRAY_BUFFER, with_bounds=True)}
        if target.normal_deltas is not None:
            normals = _as_float32(target.normal_deltas, (3,), "morph NORMAL")
            _check_count(normals, vertex_count, "morph NORMAL")
            result["NORMAL"] = self.add_accessor(normals, target=ARRAY_BUFFER)
        return result

    # -- nodes, skins, animations, scenes ------------------------------------------------

    def add_node(
        self,
        name: str | None = None,
        translation: Sequence[float] | None = None,
        rotation: Sequence[float] | None = None,
        scale: Sequence[float] | None = None,
        mesh: int | None = None,
        skin: int | None = None,
        children: Sequence[int] = (),
    ) -> int:
        """A node with a TRS transform; ``rotation`` is a unit quaternion (x, y, z, w)."""
        node = _named({}, name)
        for key, value, size in (
            ("translation", translation, 3),
            ("rotation", rotation, 4),
            ("scale", scale, 3),
        ):
            if value is not None:
                if len(value) != size:
                    raise ValueError(f"node {key} needs {size} numbers")
                node[key] = _json_numbers(value)
        if mesh is not None:
            node["mesh"] = mesh
        if skin is not None:
            node["skin"] = skin
        if children:
            node["children"] = [int(c) for c in children]
        return self._append("nodes", node)

    def add_children(self, parent: int, children: Sequence[int]) -> None:
        """Attach existing nodes under ``parent`` (for trees built leaves-first or not)."""
        self._json["nodes"][parent].setdefault("children", []).extend(int(c) for c in children)

    def add_skin(
        self,
        joints: Sequence[int],
        inverse_bind_matrices: np.ndarray,
        skeleton: int | None = None,
        name: str | None = None,
    ) -> int:
        """A skin; ``inverse_bind_matrices`` is (J, 4, 4) in math layout (M @ column vector)."""
        matrices = _as_float32(inverse_bind_matrices, (4, 4), "inverse_bind_matrices")
        if len(matrices) != len(joints):
            raise ValueError("one inverse bind matrix per joint")
        skin = _named({"inverseBindMatrices": self.add_accessor(matrices)}, name)
        skin["joints"] = [int(j) for j in joints]
        if skeleton is not None:
            skin["skeleton"] = skeleton
        return self._append("skins", skin)

    def add_animation(self, channels: Sequence[AnimationChannel], name: str | None = None) -> int:
        """One clip; channels with identical key times share one input accessor."""
        if not channels:
            raise ValueError("an animation needs at least one channel")
        time_accessors: dict[bytes, int] = {}
        samplers: list[dict[str, Any]] = []
        json_channels: list[dict[str, Any]] = []
        for channel in channels:
            times = self._validated_times(channel)
            values = _animation_values(channel, len(times))
            key = times.tobytes()
            if key not in time_accessors:
                time_accessors[key] = self.add_accessor(times, with_bounds=True)
            samplers.append(
                {
                    "input": time_accessors[key],
                    "interpolation": channel.interpolation,
                    "output": self.add_accessor(values),
                }
            )
            target = {"node": channel.node, "path": channel.path}
            json_channels.append({"sampler": len(samplers) - 1, "target": target})
        animation = _named({"channels": json_channels, "samplers": samplers}, name)
        return self._append("animations", animation)

    def _validated_times(self, channel: AnimationChannel) -> np.ndarray:
        if channel.interpolation not in INTERPOLATIONS:
            raise ValueError(f"unknown interpolation {channel.interpolation!r}")
        if channel.path not in ANIMATION_PATHS:
            raise ValueError(f"unknown animation path {channel.path!r}")
        if not 0 <= channel.node < len(self._json.get("nodes", [])):
            raise ValueError(f"animation channel targets missing node {channel.node}")
        times = _as_float32(channel.times, (), "animation times")
        if len(times) and (times[0] < 0 or np.any(np.diff(times) <= 0)):
            raise ValueError("animation times must be non-negative and strictly increasing")
        return times

    def add_scene(self, nodes: Sequence[int], name: str | None = None, default: bool = True) -> int:
        """A scene of root nodes; the first scene added (or any with ``default``) is shown."""
        index = self._append("scenes", _named({"nodes": [int(n) for n in nodes]}, name))
        if default:
            self._json["scene"] = index
        return index

    # -- output --------------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        """The glTF JSON as it will be written (a deep copy, with the buffer declared)."""
        document = json.loads(json.dumps(self._json))
        if self._binary:
            document["buffers"] = [{"byteLength": _padded_length(len(self._binary))}]
        return document

    def to_bytes(self) -> bytes:
        """The complete GLB: header, JSON chunk (space padded), BIN chunk (zero padded)."""
        json_bytes = json.dumps(self.to_json(), separators=(",", ":"), allow_nan=False).encode()
        json_bytes += b" " * (-len(json_bytes) % 4)
        chunks = struct.pack("<II", len(json_bytes), CHUNK_JSON) + json_bytes
        if self._binary:
            binary = bytes(self._binary) + b"\0" * (-len(self._binary) % 4)
            chunks += struct.pack("<II", len(binary), CHUNK_BIN) + binary
        header = struct.pack("<4sII", GLB_MAGIC, GLB_VERSION, 12 + len(chunks))
        return header + chunks

    def _append(self, kind: str, item: dict[str, Any]) -> int:
        items = self._json.setdefault(kind, [])
        items.append(item)
        return len(items) - 1


def _animation_values(channel: AnimationChannel, key_count: int) -> np.ndarray:
    values = np.asarray(channel.values, np.float32)
    rows_per_key = 3 if channel.interpolation == "CUBICSPLINE" else 1
    if channel.path == "weights":
        values = values.reshape(-1)  # a SCALAR accessor: all weights of key 0, key 1, ...
        if key_count == 0 or len(values) % (key_count * rows_per_key):
            raise ValueError("weights values must hold the same number of weights per key")
        return values
    width = {"translation": 3, "rotation": 4, "scale": 3}[channel.path]
    values = values.reshape(-1, width) if values.size % width == 0 else values
    if values.shape != (key_count * rows_per_key, width):
        raise ValueError(
            f"{channel.path} values must be ({key_count * rows_per_key}, {width}) "
            f"for {key_count} {channel.interpolation} keys, got {values.shape}"
        )
    if not np.all(np.isfinite(values)):
        raise ValueError("animation values must be finite")
    return values


def _as_float32(values: np.ndarray, element_shape: tuple[int, ...] | None, what: str) -> np.ndarray:
    array = np.asarray(values, dtype=np.float32)
    if element_shape is not None and array.shape[1:] != element_shape:
        raise ValueError(f"{what} must have elements of shape {element_shape}, got {array.shape}")
    return array


def _check_count(array: np.ndarray, vertex_count: int, what: str) -> None:
    if len(array) != vertex_count:
        raise ValueError(f"{what} has {len(array)} rows, the primitive has {vertex_count} vertices")


def _json_numbers(values: Sequence[float] | np.ndarray) -> list[float | int]:
    """Plain Python numbers (JSON cannot hold numpy scalars); float32 values stay exact."""
    array = np.asarray(values)
    if np.issubdtype(array.dtype, np.integer):
        return [int(v) for v in array.reshape(-1)]
    return [float(v) for v in array.reshape(-1)]


def _named(item: dict[str, Any], name: str | None) -> dict[str, Any]:
    return {"name": name, **item} if name else item


def _padded_length(length: int) -> int:
    return length + (-length % 4)
