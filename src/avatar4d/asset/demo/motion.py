"""Keyframe helpers for authoring the demo clips (quaternions are x, y, z, w, as in glTF)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from avatar4d.asset import quaternions


def rotations(*steps: tuple[str, np.ndarray | float]) -> np.ndarray:
    """Compose axis rotations applied in the given order, e.g. ``("z", a), ("y", b)``."""
    result = quaternions.about_axis("x", 0.0)
    for axis, degrees in steps:
        result = quaternions.multiply(quaternions.about_axis(axis, degrees), result)
    return quaternions.continuous(result / np.linalg.norm(result, axis=1, keepdims=True))


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
