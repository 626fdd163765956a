"""Which glTF extensions avatar4d reads, ignores or refuses, and KHR_texture_transform."""

from __future__ import annotations

import importlib.util
import math

import numpy as np

from avatar4d.asset.gltf_json import GltfJson

DRACO = "KHR_draco_mesh_compression"
TEXTURE_TRANSFORM = "KHR_texture_transform"
WEBP = "EXT_texture_webp"

# Read by the loader (or harmless to skip because they only add shading detail we do not use).
SUPPORTED = {
    TEXTURE_TRANSFORM,
    "KHR_mesh_quantization",
    WEBP,
    "KHR_materials_unlit",
    "KHR_lights_punctual",
}
SUPPORTED_PREFIXES = ("KHR_materials_",)

# Compression we cannot undo: one line telling the user what to do instead.
UNDECODABLE = {
    "EXT_meshopt_compression": "re-export without meshopt compression",
    "KHR_meshopt_compression": "re-export without meshopt compression",
    "KHR_texture_basisu": "re-export with PNG or JPEG textures",
}


def draco_available() -> bool:
    return importlib.util.find_spec("DracoPy") is not None


def check_required_extensions(doc: GltfJson) -> None:
    """Refuse, with one line, any extension the file requires and avatar4d cannot honour."""
    required = doc.document.get("extensionsRequired", [])
    if not isinstance(required, list) or not all(isinstance(name, str) for name in required):
        doc.fail("extensionsRequired must be a list of strings")
    for name in required:
        if name in UNDECODABLE:
            doc.fail(f"uses {name}, which avatar4d cannot decode ({UNDECODABLE[name]})")
        if name == DRACO:
            if not draco_available():
                doc.fail(
                    f"uses {DRACO}, which avatar4d cannot decode without the DracoPy package "
                    "(pip install DracoPy, or re-export without Draco compression)"
                )
            continue
        if name not in SUPPORTED and not name.startswith(SUPPORTED_PREFIXES):
            doc.fail(
                f"requires extension {name}, which avatar4d does not support (re-export without it)"
            )


def texture_transform(
    texture_info: dict, doc: GltfJson, path: str
) -> tuple[np.ndarray | None, int]:
    """(3x3 UV matrix or None, texCoord set) for a textureInfo, honouring KHR_texture_transform."""
    tex_coord = doc.integer(texture_info, "texCoord", path, default=0)
    transform = doc.extensions(texture_info, path).get(TEXTURE_TRANSFORM)
    if transform is None:
        return None, tex_coord
    transform_path = f"{path}.extensions.{TEXTURE_TRANSFORM}"
    if not isinstance(transform, dict):
        doc.fail(f"{transform_path} must be an object")
    offset = doc.numbers(transform, "offset", transform_path, 2, [0.0, 0.0])
    rotation = doc.number(transform, "rotation", transform_path, 0.0)
    scale = doc.numbers(transform, "scale", transform_path, 2, [1.0, 1.0])
    tex_coord = doc.integer(transform, "texCoord", transform_path, default=tex_coord)
    return uv_transform_matrix(offset, rotation, scale), tex_coord


def uv_transform_matrix(offset: list[float], rotation: float, scale: list[float]) -> np.ndarray:
    """Translation x Rotation x Scale, as defined by the KHR_texture_transform specification."""
    cos, sin = math.cos(rotation), math.sin(rotation)
    translation = np.array([[1, 0, offset[0]], [0, 1, offset[1]], [0, 0, 1]], np.float64)
    rotate = np.array([[cos, sin, 0], [-sin, cos, 0], [0, 0, 1]], np.float64)
    scaling = np.diag([scale[0], scale[1], 1.0])
    return translation @ rotate @ scaling


def apply_uv_transform(uvs: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    return (uvs.astype(np.float64) @ matrix[:2, :2].T + matrix[:2, 2]).astype(np.float32)
