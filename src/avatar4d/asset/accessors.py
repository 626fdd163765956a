"""Typed arrays behind glTF accessors: bounds-checked views, byteStride, sparse, normalized ints."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from avatar4d.asset.gltf_json import GltfJson
from avatar4d.asset.limits import MAX_ACCESSOR_BYTES_TOTAL, MAX_ACCESSOR_COUNT

COMPONENT_DTYPES: dict[int, np.dtype] = {
    5120: np.dtype("<i1"),
    5121: np.dtype("<u1"),
    5122: np.dtype("<i2"),
    5123: np.dtype("<u2"),
    5125: np.dtype("<u4"),
    5126: np.dtype("<f4"),
}
# (columns, rows): matrices are column-major and each column starts on a 4-byte boundary
TYPE_SHAPES: dict[str, tuple[int, int]] = {
    "SCALAR": (1, 1),
    "VEC2": (1, 2),
    "VEC3": (1, 3),
    "VEC4": (1, 4),
    "MAT2": (2, 2),
    "MAT3": (3, 3),
    "MAT4": (4, 4),
}
INDEX_COMPONENT_TYPES = (5121, 5123, 5125)


@dataclass(frozen=True)
class AccessorInfo:
    index: int
    count: int
    dtype: np.dtype
    type: str
    normalized: bool

    @property
    def components(self) -> int:
        columns, rows = TYPE_SHAPES[self.type]
        return columns * rows

    @property
    def is_float(self) -> bool:
        return self.dtype.kind == "f"


@dataclass(frozen=True)
class _Layout:
    columns: int
    rows: int
    component_bytes: int
    column_stride: int
    element_bytes: int


class Accessors:
    """Reads accessors of one asset; results are cached, read-only arrays."""

    def __init__(self, doc: GltfJson, buffers: list[memoryview]) -> None:
        self._doc = doc
        self._buffers = buffers
        self._accessors = doc.array("accessors")
        self._views = doc.array("bufferViews")
        self._float_cache: dict[int, np.ndarray] = {}
        self._bytes_read = 0  # every array read_raw allocated so far

    def info(self, index: int) -> AccessorInfo:
        doc = self._doc
        if not 0 <= index < len(self._accessors):
            doc.fail(f"accessor {index} does not exist ({len(self._accessors)} accessors)")
        accessor = self._accessors[index]
        path = f"accessors[{index}]"
        count = doc.integer(accessor, "count", path)
        if count > MAX_ACCESSOR_COUNT:
            doc.fail(f"{path}.count is {count:,}, more than the {MAX_ACCESSOR_COUNT:,} allowed")
        component_type = accessor.get("componentType")
        if not isinstance(component_type, int) or component_type not in COMPONENT_DTYPES:
            doc.fail(f"{path}.componentType {component_type!r} is not a glTF component type")
        type_name = accessor.get("type")
        if not isinstance(type_name, str) or type_name not in TYPE_SHAPES:
            doc.fail(f"{path}.type {type_name!r} is not a glTF accessor type")
        normalized = accessor.get("normalized", False) is True
        return AccessorInfo(index, count, COMPONENT_DTYPES[component_type], type_name, normalized)

    def read_float(self, index: int) -> np.ndarray:
        """(count, components) float32; normalized integers mapped to [0, 1] or [-1, 1]."""
        cached = self._float_cache.get(index)
        if cached is None:
            info = self.info(index)
            cached = to_float(self.read_raw(index), info.normalized)
            cached.setflags(write=False)
            self._float_cache[index] = cached
        return cached

    def read_indices(self, index: int) -> np.ndarray:
        """A SCALAR unsigned integer accessor as a flat uint32 array (primitive indices, joints)."""
        info = self.info(index)
        if info.dtype.kind not in "u" or info.type != "SCALAR":
            self._doc.fail(f"accessors[{index}] must be SCALAR unsigned integers for indices")
        return self.read_raw(index).reshape(-1).astype(np.uint32)

    def read_raw(self, index: int) -> np.ndarray:
        """(count, components) in the stored component type, sparse substitution applied."""
        info = self.info(index)
        accessor = self._accessors[index]
        path = f"accessors[{index}]"
        layout = _layout(info)
        view_index = self._doc.optional_index(accessor, "bufferView", path, "bufferViews")
        if view_index is None:
            self._charge(info.count, layout, info, path)
            values = np.zeros((info.count, info.components), info.dtype)
        else:
            offset = self._doc.integer(accessor, "byteOffset", path, default=0)
            values = self._read_elements(view_index, offset, info.count, layout, info, path)
        sparse = accessor.get("sparse")
        if sparse is not None:
            self._apply_sparse(values, sparse, info, layout, path)
        return values

    def _charge(self, count: int, layout: _Layout, info: AccessorInfo, path: str) -> None:
        """Count an array about to be made (float32 size at least, as most are converted);
        refuse it when all arrays read would pass MAX_ACCESSOR_BYTES_TOTAL. Zero-filled
        accessors cost nothing in the file, so this is what bounds them."""
        nbytes = count * layout.columns * layout.rows * max(info.dtype.itemsize, 4)
        if self._bytes_read + nbytes > MAX_ACCESSOR_BYTES_TOTAL:
            self._doc.fail(
                f"{path} would bring the accessor data read to {self._bytes_read + nbytes:,} "
                f"bytes, more than the {MAX_ACCESSOR_BYTES_TOTAL:,} allowed"
            )
        self._bytes_read += nbytes

    def view_bytes(self, view_index: int, path: str) -> memoryview:
        """The bytes of one bufferView, after checking that it lies inside its buffer."""
        doc = self._doc
        if not 0 <= view_index < len(self._views):
            doc.fail(f"{path}: bufferView {view_index} does not exist ({len(self._views)} exist)")
        view = self._views[view_index]
        view_path = f"bufferViews[{view_index}]"
        buffer_index = doc.index(view, "buffer", view_path, "buffers")
        offset = doc.integer(view, "byteOffset", view_path, default=0)
        length = doc.integer(view, "byteLength", view_path)
        buffer = self._buffers[buffer_index]
        if offset + length > len(buffer):
            doc.fail(
                f"{view_path} spans bytes {offset}..{offset + length} "
                f"but buffer {buffer_index} has {len(buffer)} bytes"
            )
        return buffer[offset : offset + length]

    def _read_elements(
        self,
        view_index: int,
        offset: int,
        count: int,
        layout: _Layout,
        info: AccessorInfo,
        path: str,
        packed: bool = False,
    ) -> np.ndarray:
        doc = self._doc
        data = self.view_bytes(view_index, path)
        stride = layout.element_bytes
        declared_stride = None if packed else self._views[view_index].get("byteStride")
        if declared_stride is not None:
            stride = doc.integer(
                self._views[view_index], "byteStride", f"bufferViews[{view_index}]"
            )
            if stride < layout.element_bytes:
                doc.fail(
                    f"bufferViews[{view_index}].byteStride {stride} is smaller than one "
                    f"{info.type} element of {path} ({layout.element_bytes} bytes)"
                )
        needed = offset + (count - 1) * stride + layout.element_bytes if count else 0
        if needed > len(data):
            doc.fail(
                f"{path}: {count:,} elements of {layout.element_bytes} bytes (stride {stride}) "
                f"from byte {offset} need {needed:,} bytes, "
                f"bufferView {view_index} has {len(data):,}"
            )
        if count == 0:
            return np.zeros((0, layout.columns * layout.rows), info.dtype)
        self._charge(count, layout, info, path)
        strided = np.ndarray(
            shape=(count, layout.columns, layout.rows),
            dtype=info.dtype,
            buffer=data,
            offset=offset,
            strides=(stride, layout.column_stride, layout.component_bytes),
        )
        return strided.copy().reshape(count, layout.columns * layout.rows)  # own, writable

    def _apply_sparse(
        self, values: np.ndarray, sparse: object, info: AccessorInfo, layout: _Layout, path: str
    ) -> None:
        doc = self._doc
        sparse_path = f"{path}.sparse"
        if not isinstance(sparse, dict):
            doc.fail(f"{sparse_path} must be an object")
        count = doc.integer(sparse, "count", sparse_path)
        if count > info.count:
            doc.fail(f"{sparse_path}.count {count} exceeds the accessor count {info.count}")
        indices_spec = doc.object(sparse, "indices", sparse_path)
        values_spec = doc.object(sparse, "values", sparse_path)
        index_type = indices_spec.get("componentType")
        if not isinstance(index_type, int) or index_type not in INDEX_COMPONENT_TYPES:
            doc.fail(f"{sparse_path}.indices.componentType must be 5121, 5123 or 5125")
        index_dtype = COMPONENT_DTYPES[index_type]
        index_info = AccessorInfo(-1, count, index_dtype, "SCALAR", False)
        indices = self._read_elements(
            doc.index(indices_spec, "bufferView", f"{sparse_path}.indices", "bufferViews"),
            doc.integer(indices_spec, "byteOffset", f"{sparse_path}.indices", default=0),
            count,
            _layout(index_info),
            index_info,
            f"{sparse_path}.indices",
            packed=True,
        ).reshape(-1)
        substitutes = self._read_elements(
            doc.index(values_spec, "bufferView", f"{sparse_path}.values", "bufferViews"),
            doc.integer(values_spec, "byteOffset", f"{sparse_path}.values", default=0),
            count,
            layout,
            info,
            f"{sparse_path}.values",
            packed=True,
        )
        if count and int(indices.max()) >= info.count:
            doc.fail(f"{sparse_path}.indices refer to element {int(indices.max())} of {info.count}")
        values[indices.astype(np.int64)] = substitutes


def _layout(info: AccessorInfo) -> _Layout:
    columns, rows = TYPE_SHAPES[info.type]
    component_bytes = info.dtype.itemsize
    column_bytes = rows * component_bytes
    column_stride = (column_bytes + 3) // 4 * 4 if columns > 1 else column_bytes
    return _Layout(columns, rows, component_bytes, column_stride, columns * column_stride)


def to_float(values: np.ndarray, normalized: bool) -> np.ndarray:
    """Integers as float32, mapped to [0, 1] / [-1, 1] when ``normalized`` (glTF rules)."""
    if values.dtype.kind == "f":
        return values.astype(np.float32, copy=True)
    result = values.astype(np.float32)
    if normalized:
        bits = values.dtype.itemsize * 8
        if values.dtype.kind == "i":
            result = np.maximum(result / float(2 ** (bits - 1) - 1), -1.0)
        else:
            result = result / float(2**bits - 1)
    return result.astype(np.float32, copy=False)
