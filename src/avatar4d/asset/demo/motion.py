"""Quaternion and keyframe helpers for authoring the demo clips (quaternions are x, y, z, w)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

AXES = {"x": (1.0, 0.0, 0.0), "y": (0.0, 1.0, 0.0), "z": (0.0, 0.0, 1.0)}


def quat_axis_angle(axis: str, degrees: np.ndarray | float) -> np.ndarray:
    """(K, 4) rotations by ``degrees`` about a principal axis ("x", "y" or "z")."""
    half = np.radians(np.atleast_1d(np.asarray(degrees, np.float64))) / 2
    xyz = np.asarray(AXES[axis])[None, :] * np.sin(half)[:, None]
    return np.concatenate([xyz, np.cos(half)[:, None]], axis=1)


def quat_mul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Hamilton product ``a * b`` (apply ``b`` first, then ``a``), broadcasting over rows."""
    ax, ay, az, aw = np.moveaxis(np.atleast_2d(a), -1, 0)
    bx, by, bz, bw = np.moveaxis(np.atleast_2d(b), -1, 0)
    return np.stack(
        [
            aw * bx + ax * bw + ay * bz - az * by,
            aw * by - ax * bz + ay * bw + az * bx,
            aw * bz + ax * by - ay * bx + az * bw,
            aw * bw - ax * bx - ay * by - az * bz,
        ],
        axis=-1,
    )


def rotations(*steps: tuple[str, np.ndarray | float]) -> np.ndarray:
    """Compose axis rotations applied in the given order, e.g. ``("z", a), ("y", b)``."""
    result = quat_axis_angle("x", 0.0)
    for axis, degrees in steps:
        result = quat_mul(quat_axis_angle(axis, degrees), result)
    return continuous(result / np.linalg.norm(result, axis=1, keepdims=True))


def continuous(quaternions: np.ndarray) -> np.ndarray:
    """Flip signs so neighbouring keys lie in the same hemisphere (shortest interpolation)."""
    q = np.array(quaternions, np.float64)
    for k in range(1, len(q)):
        if np.dot(q[k - 1], q[k]) < 0:
            q[k] = -q[k]
    return q


def quat_from_matrix(matrix: np.ndarray) -> np.ndarray:
    """(4,) unit quaternion of a 3x3 rotation matrix."""
    m = np.asarray(matrix, np.float64)
    w = np.sqrt(max(0.0, 1.0 + m[0, 0] + m[1, 1] + m[2, 2])) / 2
    x = np.sqrt(max(0.0, 1.0 + m[0, 0] - m[1, 1] - m[2, 2])) / 2
    y = np.sqrt(max(0.0, 1.0 - m[0, 0] + m[1, 1] - m[2, 2])) / 2
    z = np.sqrt(max(0.0, 1.0 - m[0, 0] - m[1, 1] + m[2, 2])) / 2
    x = np.copysign(x, m[2, 1] - m[1, 2])
    y = np.copysign(y, m[0, 2] - m[2, 0])
    z = np.copysign(z, m[1, 0] - m[0, 1])
    q = np.array([x, y, z, w])
    return q / np.linalg.norm(q)


def key_times(duration: float, keys_per_second: int) -> np.ndarray:
    """Evenly spaced key times from 0 to ``duration`` inclusive."""
    count = round(duration * keys_per_second)
    return np.linspace(0.0, duration, count + 1)


def close_loop(values: np.ndarray) -> np.ndarray:
    """Make the last key exactly equal to the first, so the clip loops without a jump."""
    values = np.array(values, np.float64)
    values[-1] = values[0]
    return values


def smoothstep(edge0: float, edge1: float, x: np.ndarray) -> np.ndarray:
    t = np.clip((np.asarray(x, np.float64) - edge0) / (edge1 - edge0), 0.0, 1.0)
    return t * t * (3 - 2 * t)


def monotone_tangents(times: Sequence[float], values: Sequence[float]) -> np.ndarray:
    """Slopes (per second) for a looping cubic through the keys that never overshoots them.

    Zero at local extrema, the harmonic mean of the neighbouring slopes elsewhere
    (Fritsch-Carlson); the first and last key are the same point of the loop.
    """
    t, v = np.asarray(times, np.float64), np.asarray(values, np.float64)
    slopes = np.diff(v) / np.diff(t)
    left = np.concatenate([[slopes[-1]], slopes])  # slope arriving at each key (wraps)
    right = np.concatenate([slopes, [slopes[0]]])  # slope leaving each key (wraps)
    same_sign = left * right > 0
    safe_left = np.where(same_sign, left, 1.0)
    safe_right = np.where(same_sign, right, 1.0)
    return np.where(same_sign, 2.0 / (1.0 / safe_left + 1.0 / safe_right), 0.0)


def cubic_spline_values(values: np.ndarray, tangents: np.ndarray) -> np.ndarray:
    """glTF CUBICSPLINE output rows: in-tangent, value, out-tangent for every key."""
    values = np.asarray(values, np.float64).reshape(len(values), -1)
    tangents = np.asarray(tangents, np.float64).reshape(values.shape)
    return np.stack([tangents, values, tangents], axis=1).reshape(-1, values.shape[1])
