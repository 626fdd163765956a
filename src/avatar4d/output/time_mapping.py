"""Which normalised animation time each output frame shows.

Times are in [0, 1] as in the dataset (``t = clip_seconds / clip_duration``):

- ``loop``: ``t_i = (i / frames * cycles) mod 1``, the clip played ``cycles`` times;
- ``pingpong``: forward from t0 to t1 then back, ``cycles`` times (a triangle wave);
- ``hold``: every frame at the fixed time ``t`` (a frozen pose seen along the camera path);
- ``range``: t0 to t1 linearly, both ends included.
"""

from __future__ import annotations

import math

import numpy as np

from avatar4d.errors import InputError

TIME_MAPPINGS = ("loop", "pingpong", "hold", "range")


def _check_time(where: str, name: str, value: float) -> None:
    if not (math.isfinite(value) and 0.0 <= value <= 1.0):
        raise InputError(where, f"{name} = {value} is outside the normalised time range [0, 1]")


def time_mapping(
    kind: str,
    frames: int,
    *,
    cycles: float = 1.0,
    t: float = 0.0,
    t0: float = 0.0,
    t1: float = 1.0,
) -> np.ndarray:
    """(frames,) float64 normalised times for the output frames."""
    where = f"time mapping {kind!r}"
    if kind not in TIME_MAPPINGS:
        raise InputError(where, f"unknown kind; use one of {', '.join(TIME_MAPPINGS)}")
    if frames < 1:
        raise InputError(where, f"needs at least 1 frame, got {frames}")
    if not (math.isfinite(cycles) and cycles > 0.0):
        raise InputError(where, f"cycles must be positive, got {cycles}")
    steps = np.arange(frames, dtype=np.float64)

    if kind == "loop":
        return np.mod(steps / frames * cycles, 1.0)
    if kind == "hold":
        _check_time(where, "t", t)
        return np.full(frames, float(t))
    _check_time(where, "t0", t0)
    _check_time(where, "t1", t1)
    if kind == "range":
        return np.linspace(t0, t1, frames)
    phase = np.mod(steps / frames * cycles, 1.0)
    triangle = 1.0 - np.abs(2.0 * phase - 1.0)  # 0 -> 1 -> 0 over one cycle
    return t0 + (t1 - t0) * triangle
