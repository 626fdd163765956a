"""glTF materials reduced to what the ground-truth renderer uses: base colour, alpha, sidedness."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from avatar4d.asset.extensions import texture_transform
from avatar4d.asset.gltf_json import GltfJson
from avatar4d.asset.images import Images
from avatar4d.asset.posed_mesh import Material

ALPHA_MODES = ("OPAQUE", "MASK", "BLEND")
DEFAULT_MATERIAL = Material(base_color_factor=np.ones(4, np.float32), name="default")


@dataclass(frozen=True)
class MaterialBinding:
    """A material plus how its base colour texture reads the mesh's UVs."""

    material: Material
    tex_coord: int = 0  # which TEXCOORD_n set the base colour texture uses
    uv_transform: np.ndarray | None = None  # 3x3 KHR_texture_transform matrix


def read_materials(doc: GltfJson, images: Images) -> list[MaterialBinding]:
    return [_read_material(doc, images, i, m) for i, m in enumerate(doc.array("materials"))]


def _read_material(doc: GltfJson, images: Images, index: int, material: dict) -> MaterialBinding:
    path = f"materials[{index}]"
    pbr = doc.object(material, "pbrMetallicRoughness", path)
    pbr_path = f"{path}.pbrMetallicRoughness"
    factor = np.array(doc.numbers(pbr, "baseColorFactor", pbr_path, 4, [1.0] * 4), np.float32)
    factor.setflags(write=False)
    texture = None
    tex_coord, uv_transform = 0, None
    texture_info = doc.object(pbr, "baseColorTexture", pbr_path)
    if texture_info:
        info_path = f"{pbr_path}.baseColorTexture"
        texture_index = doc.integer(texture_info, "index", info_path)
        image_index = images.texture_image_index(texture_index)
        if image_index is not None:
            texture = images.rgba(image_index)
            uv_transform, tex_coord = texture_transform(texture_info, doc, info_path)
    alpha_mode = doc.string(material, "alphaMode", path, "OPAQUE")
    if alpha_mode not in ALPHA_MODES:
        doc.fail(f"{path}.alphaMode must be one of {', '.join(ALPHA_MODES)}, got {alpha_mode!r}")
    return MaterialBinding(
        material=Material(
            base_color_factor=factor,
            texture=texture,
            double_sided=material.get("doubleSided", False) is True,
            alpha_mode=alpha_mode,
            alpha_cutoff=doc.number(material, "alphaCutoff", path, 0.5),
            name=doc.string(material, "name", path, f"material_{index}"),
        ),
        tex_coord=tex_coord,
        uv_transform=uv_transform,
    )
