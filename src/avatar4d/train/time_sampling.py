"""Which train time a step uses: uniform, after an optional curriculum that widens in time.

With the curriculum, the first steps use only the time the Gaussians were initialised at, and
the window of allowed times grows steadily until it holds every train time. Motion is then
learned a small step at a time: at a newly allowed time the Gaussians are still close to
where they need to be, so the image gradients pull them the right way.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


def time_distance(a: float, b: float, periodic: bool) -> float:
    gap = abs(a - b)
    return min(gap, 1.0 - gap) if periodic else gap


@dataclass(frozen=True)
class TimeSampler:
    distances: list[float]  # of each train time from the anchor time
    curriculum_steps: int  # 0 = no curriculum

    @classmethod
    def around(
        cls, times: list[float], anchor: float, periodic: bool, curriculum_steps: int
    ) -> TimeSampler:
        return cls([time_distance(t, anchor, periodic) for t in times], curriculum_steps)

    def allowed(self, step: int) -> list[int]:
        if step >= self.curriculum_steps:
            return list(range(len(self.distances)))
        reach = max(self.distances) * step / self.curriculum_steps
        return [i for i, distance in enumerate(self.distances) if distance <= reach + 1e-9]

    def draw(self, step: int) -> int:
        """A train time index, drawn with the global torch RNG (restored on resume)."""
        allowed = self.allowed(step)
        return allowed[int(torch.randint(len(allowed), ()))]
