"""A plain-data summary of an asset (what ``avatar4d asset info`` prints)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from avatar4d.errors import InputError

if TYPE_CHECKING:
    from avatar4d.asset.animation import Clip
    from avatar4d.asset.images import Images
    from avatar4d.asset.posing import DrawItem
    from avatar4d.asset.primitives import MeshData
    from avatar4d.asset.scene_graph import SceneGraph
    from avatar4d.asset.skinning import Skin


@dataclass(frozen=True)
class Bounds:
    center: list[float]
    radius: float


@dataclass(frozen=True)
class ClipSummary:
    name: str
    duration: float  # seconds
    channels: int
    bounds: Bounds | None  # None when bounds were not asked for this clip


@dataclass(frozen=True)
class MeshSummary:
    name: str
    primitives: int  # triangle primitives
    vertices: int
    triangles: int
    skipped_primitives: int  # POINTS / LINES primitives, not drawn
    morph_targets: list[str]
    instances: int  # scene nodes that draw this mesh
    skinned: bool


@dataclass(frozen=True)
class ImageSummary:
    index: int
    name: str
    width: int | None  # None when the header cannot be read (e.g. a KTX2 image)
    height: int | None


@dataclass(frozen=True)
class AssetSummary:
    file: str
    sha256: str
    generator: str
    clips: list[ClipSummary]
    meshes: list[MeshSummary]
    nodes: int
    skins: int
    joints: int  # distinct joint nodes over all skins
    morph_targets: list[str]  # every target name, mesh by mesh
    textures: int  # glTF textures
    images: list[ImageSummary]
    vertices: int  # drawn in the scene (instances counted)
    triangles: int
    rest_bounds: Bounds

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def build_summary(
    path: Path,
    sha256: str,
    generator: str,
    clips: list[Clip],
    clip_bounds: dict[str, tuple[np.ndarray, float]],
    rest_bounds: tuple[np.ndarray, float],
    graph: SceneGraph,
    meshes: list[MeshData],
    skins: list[Skin],
    images: Images,
    draw_items: list[DrawItem],
) -> AssetSummary:
    instances = [0] * len(meshes)
    skinned = [False] * len(meshes)
    for item in draw_items:
        instances[item.mesh.index] += 1
        skinned[item.mesh.index] |= item.skin_index is not None
    mesh_summaries = [
        MeshSummary(
            name=mesh.name,
            primitives=len(mesh.primitives),
            vertices=sum(len(p.positions) for p in mesh.primitives),
            triangles=sum(len(p.triangles) for p in mesh.primitives),
            skipped_primitives=mesh.skipped_primitives,
            morph_targets=list(mesh.target_names),
            instances=instances[mesh.index],
            skinned=skinned[mesh.index],
        )
        for mesh in meshes
    ]
    return AssetSummary(
        file=str(path),
        sha256=sha256,
        generator=generator,
        clips=[
            ClipSummary(c.name, c.duration, len(c.channels), _bounds(clip_bounds.get(c.name)))
            for c in clips
        ],
        meshes=mesh_summaries,
        nodes=graph.node_count,
        skins=len(skins),
        joints=len({int(j) for skin in skins for j in skin.joints}),
        morph_targets=[name for mesh in meshes for name in mesh.target_names],
        textures=images.texture_count,
        images=[_image_summary(images, i) for i in range(images.image_count)],
        vertices=sum(len(p.positions) for item in draw_items for p in item.mesh.primitives),
        triangles=sum(len(p.triangles) for item in draw_items for p in item.mesh.primitives),
        rest_bounds=_bounds(rest_bounds),
    )


def _bounds(bounds: tuple[np.ndarray, float] | None) -> Bounds | None:
    if bounds is None:
        return None
    center, radius = bounds
    return Bounds([float(v) for v in center], float(radius))


def _image_summary(images: Images, index: int) -> ImageSummary:
    try:
        width, height = images.size(index)
    except InputError:
        width = height = None
    return ImageSummary(index, images.name(index), width, height)
