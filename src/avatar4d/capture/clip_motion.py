"""Refuse clips in which nothing moves: a camera x time grid of one pose tests no time."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import numpy as np

from avatar4d.errors import InputError

# Of the bounds radius. A character filling 80 % of a 1024² image has a radius of about 410
# pixels, so a clip whose vertices all move less than this changes no pixel by 0.05 px.
STILL_FRACTION = 1e-4


class ClipLike(Protocol):
    name: str
    duration: float


class MotionMeter:
    """The largest distance any vertex gets from where it is in the first pose added, pose
    by pose (only the first is kept). ``largest`` is None when no vertex can be followed:
    the poses hold different vertices, or a position that is not finite."""

    def __init__(self) -> None:
        self._first: np.ndarray | None = None
        self.largest: float | None = 0.0

    def add(self, positions: np.ndarray) -> None:
        if self.largest is None:
            return
        if not np.isfinite(positions).all():
            self.largest = None
        elif self._first is None:
            self._first = np.array(positions, copy=True)
        elif positions.shape != self._first.shape:
            self.largest = None
        else:
            moved = np.linalg.norm(positions - self._first, axis=1).max(initial=0.0)
            self.largest = max(self.largest, float(moved))


def refuse_still_clip(source: Path, clip: ClipLike, motion: float | None, radius: float) -> None:
    """InputError naming the clip when it lasts 0 s or no vertex moves (``motion``, from a
    ``MotionMeter`` over the grid's times) more than ``STILL_FRACTION`` of the bounds radius."""
    hint = f"choose a clip that moves (avatar4d asset info {source} lists them)"
    if clip.duration <= 0:
        raise InputError(
            source,
            f'clip "{clip.name}" lasts 0 s: every time of the grid would show the same pose '
            f"and its novel times would test nothing; {hint}",
        )
    limit = STILL_FRACTION * radius
    if motion is not None and motion < limit:
        raise InputError(
            source,
            f'clip "{clip.name}" does not move at the grid\'s times: no vertex moves more than '
            f"{motion:.3g} (the limit is {limit:.3g}, {STILL_FRACTION:g} of the bounds radius "
            f"{radius:.4g}), so its novel times would test nothing; {hint}, or more "
            "--train-times",
        )
