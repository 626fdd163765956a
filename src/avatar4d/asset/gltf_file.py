"""Read a .glb or .gltf file: the GLB container checked byte by byte, the JSON parsed and vetted."""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass
from pathlib import Path

from avatar4d.asset.gltf_json import GltfJson
from avatar4d.asset.limits import MAX_FILE_BYTES
from avatar4d.errors import InputError
from avatar4d.io.json_file import parse_json_bytes

GLB_MAGIC = b"glTF"
GLB_HEADER_BYTES = 12
GLB_CHUNK_HEADER_BYTES = 8
CHUNK_JSON = 0x4E4F534A  # "JSON" little-endian
CHUNK_BIN = 0x004E4942  # "BIN\0" little-endian


@dataclass(frozen=True)
class GltfFile:
    """One glTF 2.0 asset as read from disk, before any buffer or accessor is touched."""

    path: Path  # as the user gave it (used in error messages)
    json: GltfJson
    glb_bin: memoryview | None  # the GLB BIN chunk, if any
    sha256: str

    @property
    def folder(self) -> Path:
        return self.path.resolve().parent


def read_gltf_file(path: str | Path) -> GltfFile:
    path = Path(path)
    where = str(path)
    if not path.exists():
        raise InputError(where, "file not found")
    if not path.is_file():
        raise InputError(where, "not a file")
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise InputError(where, f"file is {size:,} bytes, more than the {MAX_FILE_BYTES:,} allowed")
    data = path.read_bytes()
    sha256 = hashlib.sha256(data).hexdigest()
    if data[:4] == GLB_MAGIC:
        json_bytes, glb_bin = _split_glb(data, where)
    elif data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"{":
        json_bytes, glb_bin = data, None
    else:
        raise InputError(
            where, f"not a glTF 2.0 file (neither GLB nor glTF JSON; starts with {data[:8]!r})"
        )
    document = _parse_json(json_bytes, where)
    return GltfFile(path=path, json=GltfJson(document, where), glb_bin=glb_bin, sha256=sha256)


def _split_glb(data: bytes, where: str) -> tuple[bytes, memoryview | None]:
    """Return (JSON chunk, BIN chunk or None) after checking every length in the container."""
    if len(data) < GLB_HEADER_BYTES:
        raise InputError(where, f"truncated GLB: {len(data)} bytes, the header alone needs 12")
    _, version, total = struct.unpack_from("<4sII", data, 0)
    if version != 2:
        raise InputError(where, f"not a glTF 2.0 file (GLB container version {version})")
    if total > len(data):
        raise InputError(where, f"truncated GLB: header says {total} bytes, file has {len(data)}")
    if total < len(data):
        raise InputError(
            where, f"corrupt GLB: header says {total} bytes, file has {len(data)} (trailing data)"
        )
    chunks: list[tuple[int, memoryview]] = []
    offset = GLB_HEADER_BYTES
    view = memoryview(data)
    while offset < total:
        if total - offset < GLB_CHUNK_HEADER_BYTES:
            raise InputError(where, f"corrupt GLB: incomplete chunk header at byte {offset}")
        length, kind = struct.unpack_from("<II", data, offset)
        start = offset + GLB_CHUNK_HEADER_BYTES
        if length > total - start:
            raise InputError(
                where,
                f"corrupt GLB: chunk at byte {offset} says {length} bytes, "
                f"only {total - start} remain",
            )
        chunks.append((kind, view[start : start + length]))
        offset = start + length
    if not chunks or chunks[0][0] != CHUNK_JSON:
        raise InputError(where, "corrupt GLB: the first chunk is not JSON")
    glb_bin = chunks[1][1] if len(chunks) > 1 and chunks[1][0] == CHUNK_BIN else None
    return bytes(chunks[0][1]), glb_bin


def _parse_json(json_bytes: bytes, where: str) -> dict:
    document = parse_json_bytes(json_bytes, where, max_bytes=MAX_FILE_BYTES)
    if not isinstance(document, dict) or not isinstance(document.get("asset"), dict):
        raise InputError(where, "not a glTF 2.0 file (JSON without an 'asset' object)")
    version = str(document["asset"].get("version", ""))
    if not version.startswith("2."):
        raise InputError(where, f"not a glTF 2.0 file (asset.version is {version!r})")
    min_version = document["asset"].get("minVersion")
    if min_version is not None and str(min_version) not in ("2.0",):
        raise InputError(where, f"needs glTF {min_version}, avatar4d reads glTF 2.0")
    return document
