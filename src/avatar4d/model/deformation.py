"""Time-conditioned deformation of the canonical Gaussians.

Interface: ``deform(params, t) -> GaussiansAtTime``. Every deformation keeps its tensors in
the same parameter dict as the Gaussians: per-Gaussian ones (this module's spline) are
densified with the rest; shared ones (``node_*``, see ``node_deformation``) are not.

``SplineDeformation``: every Gaussian carries a cubic B-spline S over time of
- a position offset, ``motion_means`` (N, M, 3): ``means_t = means + S(t) - S(t_anchor)``;
- a rotation offset, ``motion_quats`` (N, M, 4): ``quats_t = normalise(d_t * quats)`` with
  ``d_t = (1, 0, 0, 0) + S(t) - S(t_anchor)``, applied as a quaternion product in world frame.
  The canonical Gaussians are the pose at the anchor time, where both offsets vanish.
  The product (rather than adding the offset to the canonical quaternion) means one rotation
  offset is the same numbers for every Gaussian of a rigidly moving part, whatever each
  Gaussian's canonical orientation and quaternion norm, so neighbours share similar motion
  parameters and the smoothness prior acts on the motion itself.
Scales, opacities and colours do not change over time. Both offsets start at zero (identity).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import torch

from avatar4d.model.bspline import spline_weights
from avatar4d.model.constants import constant, identity_quat
from avatar4d.model.gaussians import f_dc_to_rgb
from avatar4d.raster.quaternions import normalize_quat, quat_multiply


@dataclass(frozen=True)
class GaussiansAtTime:
    """The Gaussians posed at one time, in stored form (log scales, logits, f_dc)."""

    means: torch.Tensor  # (N, 3)
    quats: torch.Tensor  # (N, 4) unit, w x y z
    log_scales: torch.Tensor  # (N, 3)
    opacity_logits: torch.Tensor  # (N,)
    f_dc: torch.Tensor  # (N, 3)
    # (N, 4) unit quaternion: each Gaussian's rotation since the canonical pose (None: not
    # tracked by this deformation). The rigidity prior compares neighbours with it.
    rotation_since_canonical: torch.Tensor | None = None

    @property
    def scales(self) -> torch.Tensor:
        return torch.exp(self.log_scales)

    @property
    def opacities(self) -> torch.Tensor:
        return torch.sigmoid(self.opacity_logits)

    @property
    def colors(self) -> torch.Tensor:
        return f_dc_to_rgb(self.f_dc)


class Deformation(Protocol):
    def initial_points(self, count: int, generator: torch.Generator) -> torch.Tensor | None:
        """Where the initial Gaussians start when the motion model knows the surface (the
        character's mesh); None: carved from the train masks."""
        ...

    def init_motion(self, means: torch.Tensor) -> dict[str, torch.Tensor]:
        """Initial motion tensors (identity motion) for Gaussians at ``means``, to add to the
        params."""
        ...

    def deform(self, params: dict[str, torch.Tensor], t: float) -> GaussiansAtTime: ...

    def deform_many(
        self, params: dict[str, torch.Tensor], times: list[float]
    ) -> GaussiansAtTime: ...

    def smoothness(self, params: dict[str, torch.Tensor], length_scale: float) -> torch.Tensor:
        """A scalar prior penalising motion that changes abruptly over time (unitless)."""
        ...

    def refresh(self, params: dict[str, torch.Tensor]) -> None:
        """Update non-trained bookkeeping from the current parameters (the trainer calls it
        on a fixed step schedule, after densification)."""
        ...


@dataclass(frozen=True)
class SplineDeformation:
    num_control: int
    periodic: bool
    anchor_time: float = 0.0  # the canonical pose is the pose at this time

    def initial_points(self, count: int, generator: torch.Generator) -> torch.Tensor | None:
        return None  # the surface is not known: carved from the masks

    def init_motion(self, means: torch.Tensor) -> dict[str, torch.Tensor]:
        count, device = len(means), means.device
        return {
            "motion_means": torch.zeros(count, self.num_control, 3, device=device),
            "motion_quats": torch.zeros(count, self.num_control, 4, device=device),
        }

    def spline(self, control_points: torch.Tensor, t: float) -> torch.Tensor:
        """(N, M, D) control points -> (N, D) curve values at time t."""
        indices, weights = spline_weights(t, self.num_control, self.periodic)
        index = constant(indices, control_points.device, torch.long)
        weight = constant(weights, control_points.device, control_points.dtype)
        return (control_points[:, index] * weight[:, None]).sum(dim=1)

    def spline_many(self, control_points: torch.Tensor, times: list[float]) -> torch.Tensor:
        """(N, M, D) control points -> (T, N, D) curve values at each of the times."""
        found = [spline_weights(t, self.num_control, self.periodic) for t in times]
        device, dtype = control_points.device, control_points.dtype
        index = constant(tuple(indices for indices, _ in found), device, torch.long)
        weight = constant(tuple(weights for _, weights in found), device, dtype)  # (T, 4)
        # A weighted sum of 4 rows, not einsum: that runs as a tiny product per Gaussian.
        return (control_points[:, index] * weight[:, :, None]).sum(dim=2).transpose(0, 1)

    def deform_many(self, params: dict[str, torch.Tensor], times: list[float]) -> GaussiansAtTime:
        """The Gaussians at several times at once: every tensor gains a leading (T,) axis.

        The same numbers as ``deform`` at each time, in a few large operations instead of
        many small ones (rendering a batch of frames).
        """
        count = len(times)
        motions = {}
        for key in ("motion_means", "motion_quats"):
            at_anchor = self.spline(params[key], self.anchor_time)
            motions[key] = self.spline_many(params[key], times) - at_anchor
        delta = normalize_quat(motions["motion_quats"] + identity_quat(params["quats"]))
        canonical_quats = params["quats"].expand(count, -1, -1)
        return GaussiansAtTime(
            means=params["means"] + motions["motion_means"],
            quats=normalize_quat(quat_multiply(delta, canonical_quats)),
            log_scales=params["scales"].expand(count, -1, -1),
            opacity_logits=params["opacities"].expand(count, -1),
            f_dc=params["colors"].expand(count, -1, -1),
            rotation_since_canonical=delta,
        )

    def refresh(self, params: dict[str, torch.Tensor]) -> None:
        """Nothing to update: every Gaussian carries its own motion."""

    def motion(self, params: dict[str, torch.Tensor], key: str, t: float) -> torch.Tensor:
        """The curve at t minus the curve at the anchor time: zero at the anchor, always.

        Without the subtraction, moving every control point of a Gaussian by the same amount
        and its canonical position back would change nothing, and Adam's noisy steps would
        drift along that free direction; pinned, the canonical pose is the anchor's pose.
        """
        return self.spline(params[key], t) - self.spline(params[key], self.anchor_time)

    def deform(self, params: dict[str, torch.Tensor], t: float) -> GaussiansAtTime:
        offset = self.motion(params, "motion_means", t)
        delta = self.motion(params, "motion_quats", t)
        delta = normalize_quat(delta + identity_quat(delta))
        return GaussiansAtTime(
            means=params["means"] + offset,
            quats=normalize_quat(quat_multiply(delta, params["quats"])),
            log_scales=params["scales"],
            opacity_logits=params["opacities"],
            f_dc=params["colors"],
            rotation_since_canonical=delta,
        )

    def smoothness(
        self, params: dict[str, torch.Tensor], length_scale: float, prefix: str = ""
    ) -> torch.Tensor:
        """Mean squared second difference of neighbouring control points (of the curves named
        ``<prefix>motion_means`` and ``<prefix>motion_quats``)."""
        total = params["means"].new_zeros(())
        for key, scale in (("motion_means", length_scale), ("motion_quats", 1.0)):
            total = total + self.curve_smoothness(params[prefix + key] / scale)
        return total

    def curve_smoothness(self, points: torch.Tensor) -> torch.Tensor:
        """Mean squared second difference of (N, M, D) control points along M."""
        if self.periodic:
            second = points.roll(1, dims=1) - 2.0 * points + points.roll(-1, dims=1)
        else:
            second = points[:, :-2] - 2.0 * points[:, 1:-1] + points[:, 2:]
        return second.square().sum(dim=-1).mean()
