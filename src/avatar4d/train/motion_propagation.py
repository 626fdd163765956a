"""Carry learned motion ahead of the time curriculum's frontier.

While the curriculum widens, control points whose times are not yet allowed have had no
image to learn from. Left at zero, a time just beyond the frontier would pose the Gaussians
back at the anchor pose, far from where the frontier left them. Instead each such point
copies the newest learned point on its side of the anchor time, so a newly allowed time
starts from the frontier's pose, a small step away from its own: tracking, as in
sequential multi-view methods, inside one joint optimisation.
"""

from __future__ import annotations

import torch

from avatar4d.model.bspline import control_point_times, knot_spacing

MOTION_KEYS = ("motion_means", "motion_quats")


def signed_offset(t: float, anchor: float, periodic: bool) -> float:
    """t minus the anchor time; for a loop, the shorter way round (in [-0.5, 0.5))."""
    offset = t - anchor
    if periodic:
        offset = (offset + 0.5) % 1.0 - 0.5
    return offset


class MotionPropagation:
    def __init__(self, num_control: int, periodic: bool, anchor_time: float) -> None:
        self.offsets = [
            signed_offset(t, anchor_time, periodic)
            for t in control_point_times(num_control, periodic)
        ]
        self.spacing = knot_spacing(num_control, periodic)

    def sources(self, reach: float) -> list[int]:
        """For each control point, the point it copies (itself once released).

        A point is released when it is at most one knot beyond the reach: then it carries at
        least 1/6 of the weight at the frontier's time and learns from its images.
        """
        limit = reach + self.spacing + 1e-9
        released = [abs(offset) <= limit for offset in self.offsets]
        sources = list(range(len(self.offsets)))
        for side in (-1.0, 1.0):
            on_side = [
                i for i, offset in enumerate(self.offsets) if released[i] and offset * side >= 0
            ]
            if not on_side:
                continue
            newest = max(on_side, key=lambda i: abs(self.offsets[i]))
            for i, offset in enumerate(self.offsets):
                if not released[i] and offset * side > 0:
                    sources[i] = newest
        return sources

    @torch.no_grad()
    def apply(self, params: dict[str, torch.Tensor], reach: float) -> None:
        """Overwrite the unreleased control points of every Gaussian's motion in place."""
        sources = self.sources(reach)
        if sources == list(range(len(sources))):
            return
        index = torch.tensor(sources, device=params["means"].device)
        for key in MOTION_KEYS:
            params[key].copy_(params[key][:, index])
