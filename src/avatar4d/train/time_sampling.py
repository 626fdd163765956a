"""Which train time a step uses: uniform, after an optional curriculum that widens in time.

With the curriculum, the first steps use only the time the Gaussians were initialised at, and
the window of allowed times grows steadily until it holds every train time. Motion is then
learned a small step at a time: at a newly allowed time the Gaussians are still close to
where they need to be, so the image gradients pull them the right way. A share of the
curriculum's steps goes to the frontier (the newest allowed times), where the motion is still
being found; the rest keeps the times already learned in shape.
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
    frontier_share: float = 0.0  # of the curriculum's draws, taken from the newest times

    @classmethod
    def around(
        cls,
        times: list[float],
        anchor: float,
        periodic: bool,
        curriculum_steps: int,
        frontier_share: float = 0.0,
    ) -> TimeSampler:
        distances = [time_distance(t, anchor, periodic) for t in times]
        return cls(distances, curriculum_steps, frontier_share)

    def in_curriculum(self, step: int) -> bool:
        return step < self.curriculum_steps

    def reach(self, step: int) -> float:
        """Largest distance from the anchor time allowed at this step."""
        if not self.in_curriculum(step):
            return max(self.distances)
        return max(self.distances) * step / self.curriculum_steps

    def allowed(self, step: int) -> list[int]:
        if not self.in_curriculum(step):
            return list(range(len(self.distances)))
        reach = self.reach(step)
        return [i for i, distance in enumerate(self.distances) if distance <= reach + 1e-9]

    def frontier(self, step: int) -> list[int]:
        """The allowed times farthest from the anchor (one on each side, when two)."""
        allowed = self.allowed(step)
        farthest = max(self.distances[i] for i in allowed)
        return [i for i in allowed if self.distances[i] >= farthest - 1e-9]

    def draw(self, step: int) -> int:
        """A train time index, drawn with the global torch RNG (restored on resume)."""
        choices = self.allowed(step)
        frontier_draw = self.in_curriculum(step) and self.frontier_share > 0
        if frontier_draw and float(torch.rand(())) < self.frontier_share:
            choices = self.frontier(step)
        return choices[int(torch.randint(len(choices), ()))]
