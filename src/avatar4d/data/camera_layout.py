"""Where cameras sit around the subject: centre, up axis, azimuth and elevation.

Conventions: cameras follow OpenGL (look down their -Z, +Y up). The world up axis is not fixed
across D-NeRF sets (glTF grids are +Y up, Blender scenes +Z up), so it is estimated from the
cameras' own up vectors and snapped to a world axis when one is close.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

AXIS_NAMES = ("x", "y", "z")
SNAP_TO_AXIS_COS = np.cos(np.radians(30.0))
# Smallest/largest eigenvalue ratio below which the optical axes do not pin down one point.
AXES_CONDITION_LIMIT = 1e-3


@dataclass(frozen=True)
class UpFrame:
    """An orthonormal world frame: two horizontal axes and up."""

    horizontal_a: np.ndarray  # azimuth 90 deg direction
    horizontal_b: np.ndarray  # azimuth 0 deg direction
    up: np.ndarray
    names: tuple[str, str, str]  # e.g. ("x", "z", "y"); "" when the axis is not a world axis


def _axis_name(vector: np.ndarray) -> str:
    index = int(np.argmax(np.abs(vector)))
    if abs(vector[index]) < 1 - 1e-9:
        return ""
    return ("+" if vector[index] > 0 else "-") + AXIS_NAMES[index]


def estimate_up_frame(c2w: np.ndarray) -> UpFrame:
    """World up from the mean camera up vector, snapped to a world axis within 30 deg.

    Falls back to +Y (the glTF convention) when the cameras' up vectors cancel out.
    """
    mean_up = np.asarray(c2w, dtype=np.float64)[:, :3, 1].mean(axis=0)
    norm = np.linalg.norm(mean_up)
    up = mean_up / norm if norm > 1e-6 else np.array([0.0, 1.0, 0.0])
    index = int(np.argmax(np.abs(up)))
    if abs(up[index]) >= SNAP_TO_AXIS_COS:
        up = np.sign(up[index]) * np.eye(3)[index]

    # Horizontal reference: for +Y up this gives a = +X, b = +Z (azimuth 0 looks from +Z).
    least_aligned = np.eye(3)[int(np.argmin(np.abs(up)))]
    horizontal_a = least_aligned - up * float(least_aligned @ up)
    horizontal_a /= np.linalg.norm(horizontal_a)
    horizontal_b = np.cross(horizontal_a, up)
    names = (_axis_name(horizontal_a), _axis_name(horizontal_b), _axis_name(up))
    return UpFrame(horizontal_a, horizontal_b, up, names)


def closest_point_to_axes(c2w: np.ndarray) -> np.ndarray | None:
    """Least-squares point nearest to every camera's optical axis; None if ill-posed."""
    poses = np.asarray(c2w, dtype=np.float64)
    directions = -poses[:, :3, 2]
    directions /= np.linalg.norm(directions, axis=1, keepdims=True).clip(min=1e-12)
    origins = poses[:, :3, 3]
    projectors = np.eye(3)[None] - directions[:, :, None] * directions[:, None, :]
    system = projectors.sum(axis=0)
    eigenvalues = np.linalg.eigvalsh(system)
    if eigenvalues[-1] <= 0 or eigenvalues[0] / eigenvalues[-1] < AXES_CONDITION_LIMIT:
        return None
    point = np.linalg.solve(system, np.einsum("nij,nj->i", projectors, origins))
    # Cameras looking away from the point (an inside-out rig) make it meaningless.
    in_front = np.einsum("ni,ni->n", point[None] - origins, directions) > 0
    return point if in_front.mean() >= 0.5 else None


def subject_centre(c2w: np.ndarray, bounds_center: np.ndarray | None) -> tuple[np.ndarray, str]:
    """The centre cameras are described around, and where it came from."""
    if bounds_center is not None:
        return np.asarray(bounds_center, dtype=np.float64), "scene.json bounds centre"
    point = closest_point_to_axes(c2w)
    if point is not None:
        return point, "point closest to all optical axes"
    return np.asarray(c2w)[:, :3, 3].mean(axis=0), "mean camera position"


def azimuth_elevation(
    positions: np.ndarray, centre: np.ndarray, frame: UpFrame
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(azimuth deg in [0, 360), elevation deg, distance) of each position about the centre."""
    offsets = np.asarray(positions, dtype=np.float64) - centre
    a, b, h = offsets @ frame.horizontal_a, offsets @ frame.horizontal_b, offsets @ frame.up
    azimuth = np.degrees(np.arctan2(a, b)) % 360.0
    elevation = np.degrees(np.arctan2(h, np.hypot(a, b)))
    return azimuth, elevation, np.linalg.norm(offsets, axis=1)


def largest_azimuth_gap(azimuths_deg: np.ndarray) -> float:
    """Widest empty arc of azimuth between cameras, in degrees (360 for one camera or none)."""
    if len(azimuths_deg) < 2:
        return 360.0
    ordered = np.sort(np.asarray(azimuths_deg) % 360.0)
    gaps = np.diff(np.concatenate([ordered, ordered[:1] + 360.0]))
    return float(gaps.max())


def angle_between_deg(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Angles in degrees between rows of ``a`` (N, 3) and rows of ``b`` (M, 3): (N, M)."""
    a = a / np.linalg.norm(a, axis=-1, keepdims=True).clip(min=1e-12)
    b = b / np.linalg.norm(b, axis=-1, keepdims=True).clip(min=1e-12)
    return np.degrees(np.arccos(np.clip(a @ b.T, -1.0, 1.0)))
