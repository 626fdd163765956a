"""Bounding sphere of a point set that changes over time (a character over a whole clip)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

KEEP_POINTS_BYTES = 256 * 1024**2  # keep posed points for the radius pass up to this much


def bounding_sphere_over_time(
    positions_at: Callable[[float], np.ndarray], times: Sequence[float]
) -> tuple[np.ndarray, float]:
    """(center, radius): centre of the axis-aligned box around every point at every time, and
    the largest distance from it, so every posed vertex lies inside the sphere.

    Posed points are kept for the second pass while they fit in KEEP_POINTS_BYTES; beyond that
    the poses are computed again rather than held in memory.
    """
    low = np.full(3, np.inf)
    high = np.full(3, -np.inf)
    kept: list[np.ndarray] | None = []
    kept_bytes = 0
    for t in times:
        points = positions_at(t)
        if len(points) == 0:
            continue
        low = np.minimum(low, points.min(axis=0))
        high = np.maximum(high, points.max(axis=0))
        if kept is not None:
            kept_bytes += points.nbytes
            if kept_bytes <= KEEP_POINTS_BYTES:
                kept.append(points)
            else:
                kept = None
    if not np.isfinite(low).all():
        return np.zeros(3), 0.0
    center = (low + high) / 2.0
    point_sets = kept if kept is not None else (positions_at(t) for t in times)
    radius = max(
        (float(np.sqrt(((p - center) ** 2).sum(axis=1).max())) for p in point_sets if len(p)),
        default=0.0,
    )
    return center, radius
