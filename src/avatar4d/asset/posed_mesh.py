"""A character's mesh posed at one instant, in world space (glTF units, Y up)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Material:
    """Base colour of a primitive: ``factor x texture(TEXCOORD_0) x COLOR_0``.

    ``texture`` is RGBA uint8 (H, W, 4) in sRGB as stored in the file; it is shared,
    not copied, between poses of the same asset.
    """

    base_color_factor: np.ndarray  # (4,) float32, linear RGBA as in the glTF file
    texture: np.ndarray | None = None  # (H, W, 4) uint8 sRGB, or None
    double_sided: bool = False
    alpha_mode: str = "OPAQUE"  # OPAQUE | MASK | BLEND
    alpha_cutoff: float = 0.5
    name: str = ""


@dataclass(frozen=True)
class PosedPart:
    """One glTF primitive after animation, skinning and morphing."""

    positions: np.ndarray  # (V, 3) float32, world space
    normals: np.ndarray  # (V, 3) float32, world space, unit length
    uvs: np.ndarray | None  # (V, 2) float32 TEXCOORD_0 (texture transform applied), or None
    colors: np.ndarray | None  # (V, 4) float32 linear COLOR_0, or None
    indices: np.ndarray  # (T, 3) uint32 triangle corners into this part's vertices
    material: Material
    mesh_name: str = ""
    primitive_index: int = 0
    node_index: int = -1  # glTF node that instances the mesh
    mesh_index: int = -1  # glTF mesh the primitive belongs to


@dataclass(frozen=True)
class PosedMesh:
    """All primitives of the scene in node order (depth-first, children in file order)."""

    parts: list[PosedPart]

    @property
    def vertex_count(self) -> int:
        return sum(len(p.positions) for p in self.parts)

    @property
    def triangle_count(self) -> int:
        return sum(len(p.indices) for p in self.parts)

    def all_positions(self) -> np.ndarray:
        """(V, 3) positions of all parts concatenated in node order."""
        if not self.parts:
            return np.zeros((0, 3), np.float32)
        return np.concatenate([p.positions for p in self.parts], axis=0)
