"""KHR_draco_mesh_compression primitives, decoded with the DracoPy package."""

from __future__ import annotations

import numpy as np

from avatar4d.asset.accessors import Accessors, to_float
from avatar4d.asset.extensions import DRACO, draco_available
from avatar4d.asset.gltf_json import GltfJson


def decode_draco_primitive(
    doc: GltfJson, accessors: Accessors, extension: dict, path: str
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """({attribute name: float32 or integer array}, flat uint32 indices) of one primitive.

    ``extension`` maps attribute names to Draco unique ids; the primitive's own accessors give
    the component type and normalization the decoded integers stand for.
    """
    if not draco_available():
        doc.fail(
            f"{path} uses {DRACO}, which avatar4d cannot decode without the DracoPy package "
            "(pip install DracoPy, or re-export without Draco compression)"
        )
    import DracoPy

    ext_path = f"{path}.extensions.{DRACO}"
    view_index = doc.integer(extension, "bufferView", ext_path)
    data = bytes(accessors.view_bytes(view_index, ext_path))
    try:
        mesh = DracoPy.decode(data)
    except Exception as error:  # DracoPy raises its own assorted exception types
        doc.fail(f"{ext_path}: Draco data cannot be decoded ({error})")
    faces = getattr(mesh, "faces", None)
    if faces is None or len(faces) == 0:
        doc.fail(f"{ext_path}: Draco data holds no triangles")
    ids = doc.object(extension, "attributes", ext_path)
    attributes: dict[str, np.ndarray] = {}
    for name, unique_id in ids.items():
        found = mesh.get_attribute_by_unique_id(unique_id)
        if found is None or found.get("data") is None:
            doc.fail(
                f"{ext_path}: attribute {name} (id {unique_id}) is missing from the Draco data"
            )
        values = np.asarray(found["data"])
        attributes[name] = values.reshape(len(values), -1)
    return attributes, np.asarray(faces, dtype=np.uint32).reshape(-1)


def as_declared(values: np.ndarray, normalized: bool) -> np.ndarray:
    """Decoded integer attributes mean what the glTF accessor declares (maybe normalized)."""
    if values.dtype.kind in "iu" and normalized:
        return to_float(values, True)
    return values
