"""Which clip and clip time each time of a dataset's timeline shows (grids of a character).

A grid lays its train clips end to end on one timeline (docs/dataset_format.md): a frame of
clip k at clip time c has ``time = start_k + length_k * c``. The segments ``(clip, start,
length)`` are read back from the train frames, so a model can turn any time of its timeline
into a pose of the character.
"""

from __future__ import annotations

from collections.abc import Sequence

from avatar4d.data.dataset import Frame
from avatar4d.errors import InputError

TOLERANCE = 1e-6  # the times are written with float precision


def train_segments(frames: Sequence[Frame], where: object) -> list[tuple[str, float, float]]:
    """(clip, start, length) of each train clip, in timeline order; InputError naming
    ``where`` when the frames carry no clip or do not lie on one line per clip."""
    by_clip: dict[str, set[tuple[float, float]]] = {}
    for frame in frames:
        if frame.clip is None or frame.clip_time is None:
            raise InputError(where, f"{frame.source} names no clip: not a grid of a character")
        by_clip.setdefault(frame.clip, set()).add((frame.clip_time, frame.time))
    segments = []
    for clip, points in by_clip.items():
        ordered = sorted(points)
        (first_c, first_t), (last_c, last_t) = ordered[0], ordered[-1]
        if last_c - first_c <= TOLERANCE:
            raise InputError(where, f'clip "{clip}" has one train time; a timeline needs two')
        length = (last_t - first_t) / (last_c - first_c)
        start = first_t - length * first_c
        for clip_time, time in ordered:
            if abs(start + length * clip_time - time) > TOLERANCE:
                raise InputError(
                    where,
                    f'clip "{clip}": time {time:g} at clip time {clip_time:g} is off the line '
                    f"of its other frames (start {start:g}, length {length:g})",
                )
        segments.append((clip, start, length))
    return sorted(segments, key=lambda segment: segment[1])
