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


def largest_motion(poses: list[np.ndarray]) -> float | None:
    """The largest distance any vertex gets from where it is in the first pose (None when the
    poses do not hold the same vertices, so that no vertex can be followed)."""
    first = poses[0]
    if any(pose.shape != first.shape for pose in poses[1:]):
        return None
    return max(
        (float(np.linalg.norm(pose - first, axis=1).max(initial=0.0)) for pose in poses[1:]),
        default=0.0,
    )


def refuse_still_clip(source: Path, clip: ClipLike, poses: list[np.ndarray], radius: float) -> None:
    """InputError naming the clip when it lasts 0 s or no vertex moves at the grid's times."""
    hint = f"choose a clip that moves (avatar4d asset info {source} lists them)"
    if clip.duration <= 0:
        raise InputError(
            source,
            f'clip "{clip.name}" lasts 0 s: every time of the grid would show the same pose '
            f"and its novel times would test nothing; {hint}",
        )
    motion = largest_motion(poses)
    if motion is not None and motion < STILL_FRACTION * radius:
        raise InputError(
            source,
            f'clip "{clip.name}" does not move at the grid\'s times (no vertex moves more than '
            f"{motion:.3g}, {STILL_FRACTION:g} of the bounds radius {radius:.4g}): its novel "
            f"times would test nothing; {hint}",
        )
