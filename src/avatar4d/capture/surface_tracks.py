"""Surface tracks: where fixed points of the character's surface are at every train time.

Points are drawn once, uniformly by area, as (part, triangle, barycentric) on the posed mesh of
the first train time, and then evaluated on the mesh posed at each train time, so row t of the
result is the same material points moved by the clip. Skinning and morphing keep a glTF mesh's
topology, so a sample names the same surface point at every time. Written next to the images
(``tracks.safetensors``, docs/dataset_format.md); the trainer can supervise its motion with it.
Only train times are written: held-out times stay held out.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from avatar4d.asset.posed_mesh import PosedMesh
from avatar4d.asset.topology import sample_triangles, triangle_areas
from avatar4d.io.permissions import make_readable_as_umask_allows

TRACKS_FILE = "tracks.safetensors"


@dataclass(frozen=True)
class SurfaceSamples:
    """Surface points named by their triangle: every array has one row per point."""

    part: np.ndarray  # (P,) int64 index into PosedMesh.parts
    triangle: np.ndarray  # (P,) int64 index into that part's triangles
    barycentric: np.ndarray  # (P, 3) float64 weights of the triangle's corners, summing to 1

    @property
    def count(self) -> int:
        return len(self.part)


def sample_surface(mesh: PosedMesh, count: int, seed: int = 0) -> SurfaceSamples:
    """``count`` points spread uniformly by area over every triangle of ``mesh``."""
    areas = [
        triangle_areas(part.positions, part.indices) * (part.material.base_color_factor[3] > 0)
        for part in mesh.parts
    ]  # fully transparent parts are never seen: no points there
    flat = np.concatenate(areas) if areas else np.zeros(0)
    picks, barycentric = sample_triangles(flat, count, seed)
    starts = np.cumsum([0] + [len(a) for a in areas])
    part = np.searchsorted(starts, picks, side="right") - 1
    order = np.argsort(picks, kind="stable")  # grouped by part: cheaper to evaluate
    return SurfaceSamples(
        part=part[order].astype(np.int64),
        triangle=(picks - starts[part])[order].astype(np.int64),
        barycentric=barycentric[order],
    )


def positions_on(mesh: PosedMesh, samples: SurfaceSamples) -> np.ndarray:
    """(P, 3) float32 world positions of the sampled points on ``mesh`` (same topology)."""
    return _interpolated(mesh, samples, "positions").astype(np.float32)


def normals_on(mesh: PosedMesh, samples: SurfaceSamples) -> np.ndarray:
    """(P, 3) float32 unit world normals of the sampled points on ``mesh``: its vertex normals
    blended over the triangle, as the renderer shades a front face with them."""
    normals = _interpolated(mesh, samples, "normals")
    length = np.linalg.norm(normals, axis=1, keepdims=True)
    fallback = np.zeros_like(normals)
    fallback[:, 1] = 1.0  # corners with opposite normals: any unit vector will do
    unit = np.where(length > 1e-8, normals / np.maximum(length, 1e-8), fallback)
    return unit.astype(np.float32)


def _interpolated(mesh: PosedMesh, samples: SurfaceSamples, attribute: str) -> np.ndarray:
    out = np.empty((samples.count, 3), np.float64)
    for index in np.unique(samples.part):
        part = mesh.parts[int(index)]
        rows = samples.part == index
        corners = part.indices.astype(np.int64)[samples.triangle[rows]]  # (p, 3)
        values = getattr(part, attribute).astype(np.float64)[corners]  # (p, 3 corners, 3)
        out[rows] = np.einsum("pc,pcx->px", samples.barycentric[rows], values)
    return out


def same_topology(first: PosedMesh, other: PosedMesh) -> bool:
    if len(first.parts) != len(other.parts):
        return False
    # Corners compared as sets: a mirrored node's triangles are wound the other way round.
    return all(
        len(a.positions) == len(b.positions)
        and np.array_equal(np.sort(a.indices, axis=1), np.sort(b.indices, axis=1))
        for a, b in zip(first.parts, other.parts, strict=True)
    )


class TrackRecorder:
    """Collects the sampled points' positions at each train time while the grid is rendered."""

    def __init__(self, count: int, seed: int = 0) -> None:
        self.count = count
        self.seed = seed
        self.samples: SurfaceSamples | None = None
        self.first_mesh: PosedMesh | None = None
        self.rows: dict[float, tuple[np.ndarray, np.ndarray]] = {}  # positions, normals

    def record(self, time: float, mesh: PosedMesh) -> None:
        if self.samples is None or self.first_mesh is None:
            self.samples = sample_surface(mesh, self.count, self.seed)
            self.first_mesh = mesh
        elif not same_topology(self.first_mesh, mesh):
            raise ValueError(f"the mesh changed its triangles at time {time:g}: cannot track it")
        self.rows[float(time)] = (
            positions_on(mesh, self.samples),
            normals_on(mesh, self.samples).astype(np.float16),
        )

    def write(self, path: Path) -> None:
        """Write ``times`` (T,) float64, ``positions`` (T, P, 3) float32 and ``normals``
        (T, P, 3) float16 (unit; half precision is good to 1e-3), times ascending."""
        from safetensors.numpy import save_file

        times = sorted(self.rows)
        stacked = {
            name: np.ascontiguousarray(np.stack([self.rows[t][column] for t in times]))
            for column, name in enumerate(("positions", "normals"))
        }
        save_file(
            {
                "times": np.asarray(times, dtype=np.float64),
                "positions": stacked["positions"],
                "normals": stacked["normals"],
            },
            str(path),
        )
        make_readable_as_umask_allows(path)  # safetensors writes owner-only files
