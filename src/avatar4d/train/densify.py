"""Densification: gsplat's DefaultStrategy, sized to the scene, with a cap on the count.

Three changes to gsplat 1.5.3's strategy:
- opacity resets happen: its check ``step % self.reset_every == 0 & step > 0`` parses as
  ``step % reset_every == (0 & step) > 0``, a chained comparison that is always False;
- ``max_gaussians``: after each densification, the least opaque Gaussians beyond the cap are
  removed (through gsplat's own ``remove``, which keeps the optimiser states in step);
- the screen-gradient statistics of the unpacked layout are summed over the cameras with a
  mask instead of gathered by the visible pairs' indices, whose count the host must read
  (a wait for the GPU every step of densification). The same gradient sums and counts; the
  optional radii statistic (off here: ``refine_scale2d_stop_iter`` is 0) keeps the largest
  radius over the cameras, where gsplat's indexed write keeps one camera's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from gsplat.strategy import DefaultStrategy
from gsplat.strategy.ops import remove, reset_opa

from avatar4d.model.gaussians import per_gaussian
from avatar4d.run.config import TrainConfig


@dataclass
class CappedDefaultStrategy(DefaultStrategy):
    max_gaussians: int = 0  # 0 = no cap
    reset_opacities: bool = False
    gsplat_statistics: bool = False  # True: gsplat's own update (kept to time against)

    def is_refine_step(self, step: int) -> bool:
        return (
            self.refine_start_iter < step < self.refine_stop_iter and step % self.refine_every == 0
        )

    def step_post_backward(
        self,
        params: dict[str, torch.nn.Parameter],
        optimizers: dict[str, torch.optim.Optimizer],
        state: dict[str, Any],
        step: int,
        info: dict[str, Any],
        packed: bool = False,
    ) -> None:
        super().step_post_backward(params, optimizers, state, step, info, packed=packed)
        if step >= self.refine_stop_iter:
            return
        if self.reset_opacities and step > 0 and step % self.reset_every == 0:
            reset_opa(params=params, optimizers=optimizers, state=state, value=self.prune_opa * 2)
        if self.max_gaussians > 0 and self.is_refine_step(step):
            self.enforce_cap(params, optimizers, state)

    @torch.no_grad()
    def _update_state(
        self,
        params: dict[str, torch.nn.Parameter],
        state: dict[str, Any],
        info: dict[str, Any],
        packed: bool = False,
    ) -> None:
        if packed or self.gsplat_statistics:
            super()._update_state(params, state, info, packed=packed)
            return
        gradient = info[self.key_for_gradient]
        grads = gradient.absgrad if self.absgrad else gradient.grad  # (C, N, 2)
        # Normalised to [-1, 1] screen space, as gsplat does.
        x_scale = info["width"] / 2.0 * info["n_cameras"]
        y_scale = info["height"] / 2.0 * info["n_cameras"]
        norms = torch.hypot(grads[..., 0] * x_scale, grads[..., 1] * y_scale)
        visible = (info["radii"] > 0.0).all(dim=-1)  # (C, N)
        count = len(next(iter(params.values())))
        for key in ("grad2d", "count"):
            if state[key] is None:
                state[key] = torch.zeros(count, device=grads.device)
        state["grad2d"] += torch.where(visible, norms, 0.0).sum(dim=0)
        state["count"] += visible.sum(dim=0)
        if self.refine_scale2d_stop_iter > 0:
            if state["radii"] is None:
                state["radii"] = torch.zeros(count, device=grads.device)
            radii = torch.where(visible, info["radii"].amax(dim=-1), 0).amax(dim=0)
            size = float(max(info["width"], info["height"]))
            torch.maximum(state["radii"], radii / size, out=state["radii"])

    @torch.no_grad()
    def enforce_cap(
        self,
        params: dict[str, torch.nn.Parameter],
        optimizers: dict[str, torch.optim.Optimizer],
        state: dict[str, Any],
    ) -> int:
        excess = len(params["means"]) - self.max_gaussians
        if excess <= 0:
            return 0
        least_opaque = torch.topk(params["opacities"], excess, largest=False).indices
        mask = torch.zeros(len(params["means"]), dtype=torch.bool, device=least_opaque.device)
        mask[least_opaque] = True
        remove(params=params, optimizers=optimizers, state=state, mask=mask)
        return excess


def make_strategy(config: TrainConfig) -> CappedDefaultStrategy:
    """The strategy for a run; sizes are relative to the scene scale (the bounds radius)."""
    never, densify = config.steps + 1, config.densify
    return CappedDefaultStrategy(
        prune_opa=densify.prune_opacity,
        grow_grad2d=densify.grow_grad2d,
        grow_scale3d=densify.grow_scale3d,
        prune_scale3d=densify.prune_scale3d,
        refine_start_iter=round(densify.refine_start_fraction * config.steps),
        refine_stop_iter=round(densify.refine_stop_fraction * config.steps),
        refine_every=densify.refine_every,
        reset_every=densify.reset_opacity_every or never,
        reset_opacities=densify.reset_opacity_every > 0,
        max_gaussians=densify.max_gaussians,
    )


def is_packed(info: dict[str, Any]) -> bool:
    """gsplat's packed layout: one row per visible (camera, Gaussian) pair."""
    return info.get("gaussian_ids") is not None and info["means2d"].dim() == 2


def densify_after_backward(
    strategy: CappedDefaultStrategy,
    params: dict[str, torch.nn.Parameter],
    optimizers: dict[str, torch.optim.Optimizer],
    state: dict[str, Any],
    step: int,
    info: dict[str, Any],
    packed: bool,
) -> None:
    """The strategy's post-backward step on the per-Gaussian parameters; shared ones (control
    nodes) are not cloned, split or pruned. Replaced tensors are written back to ``params``."""
    gaussians = per_gaussian(params)
    strategy.step_post_backward(
        gaussians, per_gaussian(optimizers), state, step, info, packed=packed
    )
    params.update(gaussians)
