"""The raw bytes of every glTF buffer (GLB BIN chunk, data URI or neighbouring file)."""

from __future__ import annotations

from avatar4d.asset.gltf_file import GltfFile
from avatar4d.asset.limits import MAX_BUFFER_BYTES_TOTAL
from avatar4d.asset.uris import read_uri


def load_buffers(gltf: GltfFile) -> list[memoryview]:
    """Each buffer's bytes, exactly ``byteLength`` long; total size checked before any read."""
    doc = gltf.json
    buffers = doc.array("buffers")
    lengths = [doc.integer(b, "byteLength", f"buffers[{i}]") for i, b in enumerate(buffers)]
    total = sum(lengths)
    if total > MAX_BUFFER_BYTES_TOTAL:
        doc.fail(
            f"buffers declare {total:,} bytes, more than the {MAX_BUFFER_BYTES_TOTAL:,} allowed"
        )
    loaded: list[memoryview] = []
    for i, (buffer, length) in enumerate(zip(buffers, lengths, strict=True)):
        what = f"buffer {i}"
        uri = buffer.get("uri")
        if uri is None:
            if i != 0 or gltf.glb_bin is None:
                doc.fail(f"{what} has no uri and there is no GLB BIN chunk for it")
            data = gltf.glb_bin
        elif isinstance(uri, str):
            data = memoryview(read_uri(uri, gltf.folder, doc.where, what))
        else:
            doc.fail(f"buffers[{i}].uri must be a string")
        if len(data) < length:
            doc.fail(f"{what} has {len(data):,} bytes but byteLength says {length:,}")
        loaded.append(data[:length])
    return loaded
