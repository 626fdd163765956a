"""How many control points a motion spline gets when its settings say 0 (automatic)."""

from __future__ import annotations

UNTRACKED_CAP = 32
TRACKED_CAP = 120
# Per-Gaussian splines hold 7 numbers per control point and Gaussian (28 bytes, three times
# that with Adam's moments): 60 points are 1.7 KB a Gaussian, 120 would be 3.4 KB.
TRACKED_PER_GAUSSIAN_CAP = 60


def automatic_control_points(
    num_train_times: int, tracked: bool = False, per_gaussian: bool = False
) -> int:
    """Control points of each motion spline (each node's, or with ``per_gaussian`` each
    Gaussian's), at least 4.

    Learned from images alone, about one per two train times (at most 32): with one per train
    time each trajectory fits every train time on its own and zig-zags between them (Soldier
    Walk novel time 29.6 dB at 60 points, 33.1 at 30; docs/benchmarks.md). With surface
    tracks pulling the motion at every train time, one per train time (at most 120, or 60 per
    Gaussian): the tracks keep the curves smooth between them (Soldier Walk, 10,000 steps:
    novel view 37.8 dB at 60 points, 36.7 at 45, 35.6 at 30).
    """
    if tracked:
        cap = TRACKED_PER_GAUSSIAN_CAP if per_gaussian else TRACKED_CAP
        return max(4, min(cap, num_train_times))
    return max(4, min(UNTRACKED_CAP, round(num_train_times / 2)))


def control_points_disagreement(resolved: int, asked: int) -> str | None:
    """Why ``resolved`` control points cannot have come from ``asked`` (0: automatic)."""
    if asked and resolved != asked:
        return (
            f"model.motion.control_points is {resolved} but train.motion.control_points is {asked}"
        )
    return None
