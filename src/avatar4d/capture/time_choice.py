"""How many train times a clip needs: enough that no surface point moves more than a few
pixels between two consecutive train times (a model then interpolates short steps only).

A clip is probed at evenly spaced times; its fastest vertices (all but the fastest 1 %) give
the largest distance a surface point covers per clip length, which the rig's scale (pixels per
world unit at the bounds centre) turns into pixels; jumps (STEP keys) are left out. ``grid``
uses this when --train-times is not given.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from avatar4d.capture.rig import camera_distance
from avatar4d.capture.rig_settings import RigSettings

MIN_TRAIN_TIMES = 60  # Grid-24x60's count: never fewer, however slow the clip
MAX_CHOSEN_TRAIN_TIMES = 600  # a cap: 24 cameras x 600 times is already 14,400 train images
STEP_PIXELS = 2.0  # the most a surface point may move between consecutive train times
FIRST_PROBES = 240
# Of the vertices, per step: the fastest 1 % is left out, so that a blink keyed as a STEP (a
# jump no sampling resolves) or a stray vertex does not set the count of a whole clip.
STEP_PERCENTILE = 99.0
JUMP_SHARE = 0.9  # a halved step that keeps this much in one half is a jump, not motion
MAX_JUMPS_LOOKED_AT = 32


@dataclass(frozen=True)
class TimeChoice:
    clip: str
    train_times: int  # what grid uses: needed, raised to the floor and held to the cap
    needed: int  # train times that keep every step within STEP_PIXELS
    capped: bool
    pixels_per_clip: float  # the largest distance a surface point covers per clip length, px
    probes: int
    jumps: int = 0  # probe steps left out as jumps (STEP keys)

    @property
    def step_pixels(self) -> float:
        """The largest step between consecutive train times, estimated."""
        return self.pixels_per_clip / self.train_times

    def to_json(self) -> dict:
        return {
            "needed": self.needed,
            "capped": self.capped,
            "largest_step_px": round(self.step_pixels, 3),
            "step_limit_px": STEP_PIXELS,
            "probes": self.probes,
            "jumps_left_out": self.jumps,
        }


def pixels_per_unit(settings: RigSettings, radius: float) -> float:
    """Image pixels per world unit at the bounds centre, for this rig."""
    focal = 0.5 * settings.height / math.tan(math.radians(settings.fov_y_deg) / 2.0)
    return focal / camera_distance(radius, settings.fov_y_deg, settings.sphere_fraction)


def _step(before: np.ndarray, after: np.ndarray) -> float | None:
    """How far the vertices move (their STEP_PERCENTILE); None when they cannot be followed
    (their count changes, or a position is not finite)."""
    if before.shape != after.shape or not np.isfinite(after).all():
        return None
    if not len(after):
        return 0.0
    return float(np.percentile(np.linalg.norm(after - before, axis=1), STEP_PERCENTILE))


def largest_smooth_step(
    positions_at: Callable[[float], np.ndarray], probes: int
) -> tuple[float | None, int]:
    """(the largest step between ``probes`` evenly spaced clip times that is motion, jumps
    left out). A step is a jump when halving it leaves nearly all of it in one half: a
    morph or scale keyed as a STEP moves by the same amount at any sampling, which no count
    of train times would make smooth."""
    times = [k / probes for k in range(probes)]
    positions = [positions_at(t) for t in times]
    steps = []
    for before, after in zip(positions, positions[1:], strict=False):
        step = _step(before, after)
        if step is None:
            return None, 0
        steps.append(step)
    jumps = 0
    for index in np.argsort(steps)[::-1][:MAX_JUMPS_LOOKED_AT]:
        step = steps[index]
        middle = positions_at((times[index] + times[index + 1]) / 2.0)
        halves = [_step(positions[index], middle), _step(middle, positions[index + 1])]
        if step <= 0.0 or None in halves or max(halves) < JUMP_SHARE * step:
            return step, jumps
        jumps += 1
    return (float(np.max(steps)) if steps else 0.0), jumps


def choose_train_times(
    clip: str,
    positions_at: Callable[[float], np.ndarray],
    scale: float,
    minimum: int = MIN_TRAIN_TIMES,
    cap: int = MAX_CHOSEN_TRAIN_TIMES,
) -> TimeChoice:
    """Train times for ``clip``; ``positions_at(clip_time)`` gives every vertex at a normalised
    clip time and ``scale`` is pixels per world unit (``pixels_per_unit``)."""
    probes = FIRST_PROBES
    while True:
        step, jumps = largest_smooth_step(positions_at, probes)
        pixels_per_clip = 0.0 if step is None else step * probes * scale
        needed = max(1, math.ceil(pixels_per_clip / STEP_PIXELS))
        # Probes much sparser than the train times would miss the fastest moments.
        if 2 * needed <= probes or probes >= 2 * cap:
            break
        probes = min(max(2 * needed, 2 * probes), 2 * cap)
    chosen = min(max(needed, minimum), cap)
    return TimeChoice(clip, chosen, needed, needed > cap, pixels_per_clip, probes, jumps)
