"""Triangle lists from glTF primitive modes, area-weighted vertex normals, triangle areas and
points drawn uniformly over a surface."""

from __future__ import annotations

import numpy as np

POINTS, LINES, LINE_LOOP, LINE_STRIP, TRIANGLES, TRIANGLE_STRIP, TRIANGLE_FAN = range(7)
TRIANGLE_MODES = (TRIANGLES, TRIANGLE_STRIP, TRIANGLE_FAN)


def triangles_from_mode(indices: np.ndarray, mode: int) -> np.ndarray:
    """(T, 3) uint32 corners for TRIANGLES / TRIANGLE_STRIP / TRIANGLE_FAN index lists.

    Strips and fans keep the winding of their first triangle, as the glTF specification
    defines them; degenerate strip triangles (used as restarts) are dropped.
    """
    indices = indices.astype(np.uint32, copy=False)
    if mode == TRIANGLES:
        return indices[: len(indices) // 3 * 3].reshape(-1, 3)
    count = max(len(indices) - 2, 0)
    i = np.arange(count)
    if mode == TRIANGLE_STRIP:
        odd = i % 2
        triangles = np.stack([indices[i], indices[i + 1 + odd], indices[i + 2 - odd]], axis=1)
        degenerate = (
            (triangles[:, 0] == triangles[:, 1])
            | (triangles[:, 1] == triangles[:, 2])
            | (triangles[:, 0] == triangles[:, 2])
        )
        return np.ascontiguousarray(triangles[~degenerate])
    if mode == TRIANGLE_FAN:
        first = np.full(count, indices[0] if len(indices) else 0, np.uint32)
        return np.stack([indices[i + 1], indices[i + 2], first], axis=1)
    raise ValueError(f"not a triangle mode: {mode}")


def vertex_normals(positions: np.ndarray, triangles: np.ndarray) -> np.ndarray:
    """Unit normals per vertex: the sum of adjacent face normals weighted by face area."""
    corners = positions[triangles.astype(np.int64)]
    face = np.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0])  # |face| = 2 area
    flat = triangles.reshape(-1).astype(np.int64)  # corner order matches np.repeat(face, 3)
    normals = np.stack(
        [
            np.bincount(flat, weights=np.repeat(face[:, axis], 3), minlength=len(positions))
            for axis in range(3)
        ],
        axis=1,
    )
    return normalize_rows(normals)


def normalize_rows(vectors: np.ndarray) -> np.ndarray:
    """Unit-length rows as float32; zero rows, and rows that are not finite (a corrupt NORMAL
    accessor), come out zero."""
    vectors = np.asarray(vectors, dtype=np.float64)  # float32 squares overflow past 1.8e19
    finite = np.isfinite(vectors).all(axis=1, keepdims=True)
    vectors = np.where(finite, vectors, 0.0)
    lengths = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.maximum(lengths, 1e-20)).astype(np.float32)


def triangle_areas(positions: np.ndarray, indices: np.ndarray) -> np.ndarray:
    """(..., T) float64 areas of the triangles ``indices`` (T, 3) over (..., V, 3) positions."""
    corners = positions[..., indices.astype(np.int64), :].astype(np.float64)  # (..., T, 3, 3)
    first, second, third = corners[..., 0, :], corners[..., 1, :], corners[..., 2, :]
    return 0.5 * np.linalg.norm(np.cross(second - first, third - first), axis=-1)


def sample_triangles(
    weights: np.ndarray, count: int, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """``count`` triangles drawn with probability proportional to ``weights`` (T,) (their
    areas: uniform over the surface), and on each a point uniform over the triangle: (P,)
    int64 triangle indices and (P, 3) float64 barycentric weights of its corners."""
    total = float(weights.sum())
    if count <= 0 or not np.isfinite(total) or total <= 0.0:
        raise ValueError("the mesh has no visible surface to sample (no triangle with an area)")
    rng = np.random.default_rng(seed)
    picks = rng.choice(len(weights), size=count, p=weights / total)
    # Uniform on a triangle: fold the unit square's upper half back onto the lower one.
    u, v = rng.random(count), rng.random(count)
    folded = u + v > 1.0
    u, v = np.where(folded, 1.0 - u, u), np.where(folded, 1.0 - v, v)
    return picks.astype(np.int64), np.stack([1.0 - u - v, u, v], axis=1)
