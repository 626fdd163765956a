"""The cubic B-spline over time: partition of unity, C2 continuity, periodic wrap."""

from __future__ import annotations

import random

import pytest

from avatar4d.model.bspline import spline_weights


def curve(t: float, values: list[float], periodic: bool) -> float:
    indices, weights = spline_weights(t, len(values), periodic)
    return sum(w * values[i] for i, w in zip(indices, weights, strict=True))


def derivatives(t: float, values: list[float], periodic: bool, h: float = 1e-4):
    f = lambda x: curve(x, values, periodic)  # noqa: E731
    first = (f(t + h) - f(t - h)) / (2 * h)
    second = (f(t + h) - 2 * f(t) + f(t - h)) / (h * h)
    return f(t), first, second


@pytest.mark.parametrize("periodic", [True, False])
def test_weights_are_a_partition_of_unity(periodic):
    for t in [0.0, 0.013, 0.25, 0.5, 0.77, 0.999, 1.0]:
        indices, weights = spline_weights(t, 7, periodic)
        assert sum(weights) == pytest.approx(1.0, abs=1e-12)
        assert all(w >= 0 for w in weights)
        assert all(0 <= i < 7 for i in indices)


@pytest.mark.parametrize("periodic", [True, False])
def test_curve_is_c2_across_knots(periodic):
    rng = random.Random(3)
    values = [rng.uniform(-1, 1) for _ in range(8)]
    segments = 8 if periodic else 5
    for knot in range(1, segments):
        t = knot / segments
        left = derivatives(t - 1e-3, values, periodic)
        right = derivatives(t + 1e-3, values, periodic)
        # Values, slopes and curvatures agree on both sides (up to the 2e-3 gap they span).
        assert left[0] == pytest.approx(right[0], abs=0.05)
        assert left[1] == pytest.approx(right[1], abs=0.5)
        assert left[2] == pytest.approx(right[2], rel=0.05, abs=5.0)
    # The slopes are not trivially zero, so the comparisons above can see a kink.
    assert any(abs(derivatives(k / segments, values, periodic)[1]) > 1 for k in range(1, segments))


def test_open_curve_of_a_step_is_a_smooth_ramp():
    # A step function of control points gives a smooth ramp, never a jump of a whole step.
    values = [0.0, 0.0, 0.0, 1.0, 1.0, 1.0]
    samples = [curve(i / 1000, values, periodic=False) for i in range(1001)]
    steps = [abs(b - a) for a, b in zip(samples, samples[1:], strict=False)]
    assert max(steps) < 0.01
    assert samples[0] == pytest.approx(0.0) and samples[-1] == pytest.approx(1.0)


def test_periodic_curve_wraps_exactly():
    rng = random.Random(5)
    values = [rng.uniform(-1, 1) for _ in range(6)]
    assert curve(0.0, values, True) == curve(1.0, values, True)
    start = derivatives(1e-3, values, True)
    end = derivatives(1.0 - 1e-3, values, True)
    assert start[0] == pytest.approx(end[0], abs=0.05)
    assert start[1] == pytest.approx(end[1], abs=0.5)


def test_periodic_control_point_dominates_at_its_time():
    indices, weights = spline_weights(2 / 6, 6, periodic=True)
    weight_of = dict(zip(indices, weights, strict=True))
    assert weight_of[2] == pytest.approx(4 / 6)
    assert weight_of[1] == pytest.approx(1 / 6) and weight_of[3] == pytest.approx(1 / 6)


def test_open_curve_clamps_times_outside_the_clip():
    values = [0.3, -1.0, 2.0, 0.5, 0.1]
    assert curve(-0.5, values, False) == curve(0.0, values, False)
    assert curve(1.5, values, False) == curve(1.0, values, False)


def test_needs_four_control_points():
    with pytest.raises(ValueError, match="at least 4"):
        spline_weights(0.5, 3, periodic=True)
