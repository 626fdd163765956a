"""Uniform cubic B-spline over normalised time t in [0, 1].

At any t exactly four consecutive control points are active; their weights are the cubic
B-spline basis functions of the position within the segment. The curve is C2 (position,
velocity and acceleration continuous) and the weights sum to 1.

- periodic (a looping clip): M control points evenly around the loop, t = 1 is t = 0, and the
  curve is C2 across the wrap. Control point m sits at t = m / M (it dominates there).
- open (a clip that does not loop): M - 3 segments span [0, 1]; t outside is clamped.
"""

from __future__ import annotations

import math

MIN_CONTROL_POINTS = 4


def cubic_basis(s: float) -> tuple[float, float, float, float]:
    """Weights of the four active control points at position s in [0, 1) of a segment."""
    s2, s3 = s * s, s * s * s
    return (
        (1.0 - s) ** 3 / 6.0,
        (3.0 * s3 - 6.0 * s2 + 4.0) / 6.0,
        (-3.0 * s3 + 3.0 * s2 + 3.0 * s + 1.0) / 6.0,
        s3 / 6.0,
    )


def spline_weights(
    t: float, num_control: int, periodic: bool
) -> tuple[tuple[int, int, int, int], tuple[float, float, float, float]]:
    """Indices and weights of the four control points active at time t."""
    if num_control < MIN_CONTROL_POINTS:
        raise ValueError(f"a cubic B-spline needs at least 4 control points, got {num_control}")
    if periodic:
        position = (t % 1.0) * num_control
        segment = math.floor(position)
        s = position - segment
        # Centred: the segment between knots m and m+1 uses points m-1 .. m+2.
        indices = tuple((segment - 1 + k) % num_control for k in range(4))
    else:
        position = min(max(t, 0.0), 1.0) * (num_control - 3)
        segment = min(math.floor(position), num_control - 4)
        s = position - segment
        indices = tuple(segment + k for k in range(4))
    return indices, cubic_basis(s)  # type: ignore[return-value]
