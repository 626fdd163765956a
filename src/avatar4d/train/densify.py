"""Densification: gsplat's DefaultStrategy, sized to the scene, with a cap on the count.

Two additions to gsplat 1.5.3's strategy:
- opacity resets happen: its check ``step % self.reset_every == 0 & step > 0`` parses as
  ``step % reset_every == (0 & step) > 0``, a chained comparison that is always False;
- ``max_gaussians``: after each densification, the least opaque Gaussians beyond the cap are
  removed (through gsplat's own ``remove``, which keeps the optimiser states in step).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from gsplat.strategy import DefaultStrategy
from gsplat.strategy.ops import remove, reset_opa

from avatar4d.model.gaussians import per_gaussian
from avatar4d.train.config import TrainConfig


@dataclass
class CappedDefaultStrategy(DefaultStrategy):
    max_gaussians: int = 0  # 0 = no cap
    reset_opacities: bool = False

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
    never = config.steps + 1
    return CappedDefaultStrategy(
        prune_opa=config.prune_opacity,
        grow_grad2d=config.grow_grad2d,
        grow_scale3d=config.grow_scale3d,
        prune_scale3d=config.prune_scale3d,
        refine_start_iter=round(config.refine_start_fraction * config.steps),
        refine_stop_iter=round(config.refine_stop_fraction * config.steps),
        refine_every=config.refine_every,
        reset_every=config.reset_opacity_every or never,
        reset_opacities=config.reset_opacity_every > 0,
        max_gaussians=config.max_gaussians,
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
