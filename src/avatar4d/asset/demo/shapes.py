"""Smooth closed shapes for the demo character: lathed profiles, ellipsoids, capsules.

Every shape is a grid of rows (top to bottom along a local +Y axis) by columns (angle
around it, seam at the back, front = local +Z at u = 0.5), so it has UVs for free.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass
class ShapeMesh:
    positions: np.ndarray  # (V, 3) float64
    normals: np.ndarray  # (V, 3) float64, unit
    uvs: np.ndarray  # (V, 2) float64, v = 0 at the top row
    indices: np.ndarray  # (T, 3) int64, counter-clockwise seen from outside

    @property
    def vertex_count(self) -> int:
        return len(self.positions)


def lathe(rows: np.ndarray, segments: int) -> ShapeMesh:
    """Surface of revolution with elliptical sections.

    ``rows`` is (K, 3): (height along +Y, radius along X, radius along Z), first row at
    the top. A row with zero radii is a pole.
    """
    rows = np.asarray(rows, np.float64)
    heights, radius_x, radius_z = rows[:, 0], rows[:, 1], rows[:, 2]
    angles = np.linspace(-np.pi, np.pi, segments + 1)  # seam at the back (-Z)
    sin_a, cos_a = np.sin(angles)[None, :], np.cos(angles)[None, :]
    grid = np.stack(
        [
            radius_x[:, None] * sin_a,
            np.broadcast_to(heights[:, None], (len(rows), segments + 1)),
            radius_z[:, None] * cos_a,
        ],
        axis=-1,
    )
    along_rows = np.gradient(grid, axis=0)  # points down the profile
    around = np.stack(
        [
            radius_x[:, None] * cos_a,
            np.zeros_like(radius_x[:, None] * cos_a),
            -radius_z[:, None] * sin_a,
        ],
        axis=-1,
    )
    # Using the profile's section radii as stand-ins at poles keeps the normals finite.
    normals = np.cross(along_rows, around)
    pole = np.linalg.norm(normals, axis=-1) < 1e-12
    normals[pole] = 0.0
    top_rows = np.arange(len(rows))[:, None] < len(rows) / 2
    normals[..., 1] += np.where(pole, np.where(top_rows, 1.0, -1.0), 0.0)
    normals /= np.linalg.norm(normals, axis=-1, keepdims=True)

    arc = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(rows[:, :2], axis=0), axis=1))])
    v = arc / arc[-1] if arc[-1] > 0 else np.linspace(0.0, 1.0, len(rows))
    u = np.linspace(0.0, 1.0, segments + 1)
    uvs = np.stack(np.meshgrid(u, v), axis=-1)
    positions = grid.reshape(-1, 3)
    indices = _grid_triangles(len(rows) - 1, segments)
    return ShapeMesh(
        positions, normals.reshape(-1, 3), uvs.reshape(-1, 2), _drop_degenerate(positions, indices)
    )


def ellipsoid(radii: Sequence[float], rows: int | np.ndarray, segments: int) -> ShapeMesh:
    """Ellipsoid centred at the origin with semi-axes ``radii`` (x, y, z).

    ``rows`` is a number of rows evenly spaced in polar angle, or the polar angles
    themselves (increasing from 0, the top); a cap that stops short of pi is left open.
    """
    polar = np.linspace(0.0, np.pi, rows + 1) if np.isscalar(rows) else np.asarray(rows)
    profile = np.stack(
        [radii[1] * np.cos(polar), radii[0] * np.sin(polar), radii[2] * np.sin(polar)], axis=1
    )
    profile[np.abs(np.sin(polar)) < 1e-12, 1:] = 0.0  # exact poles
    mesh = lathe(profile, segments)
    # Texture rows follow the polar angle (an equirectangular map); the analytic normal is
    # exact, unlike the finite differences near the poles.
    mesh.uvs[:, 1] = np.repeat(polar / np.pi, segments + 1)
    normals = mesh.positions / np.square(np.asarray(radii, np.float64))
    mesh.normals = normals / np.linalg.norm(normals, axis=1, keepdims=True)
    return mesh


def capsule(
    start: Sequence[float],
    end: Sequence[float],
    start_radius: float,
    end_radius: float,
    segments: int = 16,
    cap_rows: int = 4,
    body_rows: int = 3,
    front: Sequence[float] = (0.0, 0.0, 1.0),
) -> ShapeMesh:
    """Rounded cone from ``start`` (top row) to ``end``, hemispherical caps on both ends."""
    start_point, end_point = np.asarray(start, np.float64), np.asarray(end, np.float64)
    length = float(np.linalg.norm(start_point - end_point))
    top = np.linspace(0.0, np.pi / 2, cap_rows + 1)
    bottom = np.linspace(np.pi / 2, np.pi, cap_rows + 1)
    body = np.linspace(0.0, 1.0, body_rows + 1)[1:-1]
    profile = np.concatenate(
        [
            np.stack([length + start_radius * np.cos(top), start_radius * np.sin(top)], axis=1),
            np.stack(
                [length * (1 - body), start_radius + (end_radius - start_radius) * body], axis=1
            ),
            np.stack([end_radius * np.cos(bottom), end_radius * np.sin(bottom)], axis=1),
        ]
    )
    profile[[0, -1], 1] = 0.0
    rows = np.stack([profile[:, 0], profile[:, 1], profile[:, 1]], axis=1)
    return place(lathe(rows, segments), end_point, start_point - end_point, front)


def place(
    mesh: ShapeMesh,
    origin: Sequence[float],
    up: Sequence[float] = (0.0, 1.0, 0.0),
    front: Sequence[float] = (0.0, 0.0, 1.0),
) -> ShapeMesh:
    """Move a shape built around local +Y / +Z so its axes follow ``up`` and ``front``."""
    rotation = frame_from(up, front)
    return ShapeMesh(
        mesh.positions @ rotation.T + np.asarray(origin, np.float64),
        mesh.normals @ rotation.T,
        mesh.uvs.copy(),
        mesh.indices.copy(),
    )


def frame_from(up: Sequence[float], front: Sequence[float]) -> np.ndarray:
    """Rotation matrix whose columns are the local X, Y (= up), Z (~ front) axes in world."""
    y_axis = np.asarray(up, np.float64) / np.linalg.norm(up)
    z_axis = np.asarray(front, np.float64) - np.dot(front, y_axis) * y_axis
    z_axis /= np.linalg.norm(z_axis)
    x_axis = np.cross(y_axis, z_axis)
    return np.stack([x_axis, y_axis, z_axis], axis=1)


def merge(meshes: Sequence[ShapeMesh]) -> ShapeMesh:
    offsets = np.cumsum([0] + [m.vertex_count for m in meshes[:-1]])
    return ShapeMesh(
        np.concatenate([m.positions for m in meshes]),
        np.concatenate([m.normals for m in meshes]),
        np.concatenate([m.uvs for m in meshes]),
        np.concatenate([m.indices + offset for m, offset in zip(meshes, offsets, strict=True)]),
    )


def smooth_profile(points: Sequence[Sequence[float]], samples_per_span: int) -> np.ndarray:
    """Catmull-Rom curve through profile rows, so few hand-set rows give a smooth outline."""
    p = np.asarray(points, np.float64)
    padded = np.concatenate([p[:1], p, p[-1:]])
    out = []
    for i in range(len(p) - 1):
        p0, p1, p2, p3 = padded[i : i + 4]
        for s in np.linspace(0.0, 1.0, samples_per_span, endpoint=False):
            out.append(
                0.5
                * (
                    2 * p1
                    + (p2 - p0) * s
                    + (2 * p0 - 5 * p1 + 4 * p2 - p3) * s * s
                    + (3 * p1 - p0 - 3 * p2 + p3) * s**3
                )
            )
    out.append(p[-1])
    return np.asarray(out)


def _grid_triangles(row_spans: int, segments: int) -> np.ndarray:
    columns = segments + 1
    i, j = np.meshgrid(np.arange(row_spans), np.arange(segments), indexing="ij")
    a = (i * columns + j).reshape(-1)
    b, c, d = a + columns, a + columns + 1, a + 1
    return np.concatenate([np.stack([a, b, d], 1), np.stack([b, c, d], 1)])


def _drop_degenerate(positions: np.ndarray, indices: np.ndarray) -> np.ndarray:
    corners = positions[indices]
    area = np.linalg.norm(
        np.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0]), axis=1
    )
    return indices[area > 1e-14]
