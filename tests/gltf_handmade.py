"""Tiny glTF 2.0 files written by hand in tests (independent of the project's own GLB writer)."""

from __future__ import annotations

import base64
import json
import struct
from pathlib import Path
from typing import Any

import numpy as np

COMPONENT_TYPES = {
    np.dtype("int8"): 5120,
    np.dtype("uint8"): 5121,
    np.dtype("int16"): 5122,
    np.dtype("uint16"): 5123,
    np.dtype("uint32"): 5125,
    np.dtype("float32"): 5126,
}
TYPES = {1: "SCALAR", 2: "VEC2", 3: "VEC3", 4: "VEC4", 16: "MAT4"}


class HandmadeGltf:
    """Builds a glTF document and one binary buffer, then writes .gltf (data URI) or .glb."""

    def __init__(self) -> None:
        self.doc: dict[str, Any] = {"asset": {"version": "2.0", "generator": "test"}}
        self.blob = bytearray()

    def array(self, key: str) -> list[dict[str, Any]]:
        return self.doc.setdefault(key, [])

    def add(self, key: str, item: dict[str, Any]) -> int:
        self.array(key).append(item)
        return len(self.doc[key]) - 1

    def view(self, data: bytes, stride: int | None = None) -> int:
        while len(self.blob) % 4:
            self.blob.append(0)
        view = {"buffer": 0, "byteOffset": len(self.blob), "byteLength": len(data)}
        if stride is not None:
            view["byteStride"] = stride
        self.blob += data
        return self.add("bufferViews", view)

    def accessor(
        self, values: np.ndarray, type_name: str | None = None, normalized: bool = False
    ) -> int:
        values = np.ascontiguousarray(values)
        count = len(values)
        width = int(np.prod(values.shape[1:])) if values.ndim > 1 else 1
        accessor: dict[str, Any] = {
            "bufferView": self.view(values.tobytes()),
            "componentType": COMPONENT_TYPES[values.dtype],
            "count": count,
            "type": type_name or TYPES[width],
        }
        if normalized:
            accessor["normalized"] = True
        return self.add("accessors", accessor)

    def triangle_mesh(
        self,
        positions: np.ndarray,
        indices: np.ndarray | None = None,
        name: str = "",
        **attributes: int,
    ) -> int:
        primitive: dict[str, Any] = {
            "attributes": {"POSITION": self.accessor(np.asarray(positions, np.float32))}
        }
        primitive["attributes"].update(attributes)
        if indices is not None:
            primitive["indices"] = self.accessor(np.asarray(indices, np.uint16).reshape(-1))
        mesh: dict[str, Any] = {"primitives": [primitive]}
        if name:
            mesh["name"] = name
        return self.add("meshes", mesh)

    def node(self, **fields: Any) -> int:
        return self.add("nodes", dict(fields))

    def scene(self, *roots: int) -> None:
        self.doc["scenes"] = [{"nodes": list(roots)}]
        self.doc["scene"] = 0

    def animation(
        self,
        node: int,
        path: str,
        times: list[float],
        values: np.ndarray,
        interpolation: str = "LINEAR",
        name: str | None = None,
    ) -> int:
        sampler = {
            "input": self.accessor(np.asarray(times, np.float32)),
            "output": self.accessor(np.asarray(values, np.float32).reshape(len(values), -1)),
            "interpolation": interpolation,
        }
        animation: dict[str, Any] = {
            "samplers": [sampler],
            "channels": [{"sampler": 0, "target": {"node": node, "path": path}}],
        }
        if name is not None:
            animation["name"] = name
        return self.add("animations", animation)

    def _finish(self, uri: str | None) -> dict[str, Any]:
        doc = json.loads(json.dumps(self.doc))
        while len(self.blob) % 4:
            self.blob.append(0)
        if self.blob:
            buffer: dict[str, Any] = {"byteLength": len(self.blob)}
            if uri is not None:
                buffer["uri"] = uri
            doc["buffers"] = [buffer]
        return doc

    def write_gltf(self, path: Path) -> Path:
        """A .gltf with the buffer embedded as a base64 data URI."""
        while len(self.blob) % 4:
            self.blob.append(0)
        uri = "data:application/octet-stream;base64," + base64.b64encode(self.blob).decode()
        path.write_text(json.dumps(self._finish(uri)))
        return path

    def write_glb(self, path: Path) -> Path:
        path.write_bytes(glb_bytes(self._finish(None), bytes(self.blob)))
        return path


def glb_bytes(document: dict[str, Any], binary: bytes) -> bytes:
    json_chunk = json.dumps(document).encode()
    json_chunk += b" " * (-len(json_chunk) % 4)
    binary += b"\0" * (-len(binary) % 4)
    chunks = struct.pack("<II", len(json_chunk), 0x4E4F534A) + json_chunk
    if binary:
        chunks += struct.pack("<II", len(binary), 0x004E4942) + binary
    return struct.pack("<4sII", b"glTF", 2, 12 + len(chunks)) + chunks


def one_triangle(name: str = "tri") -> HandmadeGltf:
    """One triangle at (0,0,0), (1,0,0), (0,1,0) on node 0, the only scene root."""
    gltf = HandmadeGltf()
    mesh = gltf.triangle_mesh(
        np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0]], np.float32), [0, 1, 2], name=name
    )
    gltf.scene(gltf.node(mesh=mesh, name="body"))
    return gltf
