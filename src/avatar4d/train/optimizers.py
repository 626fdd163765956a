"""One Adam optimiser per parameter (gsplat's convention: densification edits their states)."""

from __future__ import annotations

import torch

from avatar4d.model.motions.registry import model_of
from avatar4d.model.shading import LIGHT_KEY, NORMALS_KEY
from avatar4d.run.config import TrainConfig

ADAM_EPS = 1e-15  # as in 3DGS: gradients of tiny Gaussians are tiny; a larger eps would mute them


def base_learning_rates(config: TrainConfig, scene_radius: float) -> dict[str, float]:
    """Every parameter's learning rate: the Gaussians', the shading's, the motion model's."""
    rates = config.optimiser
    return {
        "means": rates.lr_means * scene_radius,
        "scales": rates.lr_scales,
        "quats": rates.lr_quats,
        "opacities": rates.lr_opacities,
        "colors": rates.lr_colors,
        NORMALS_KEY: rates.lr_normals,
        LIGHT_KEY: rates.lr_light,
        **model_of(config.motion).learning_rates(config.motion, scene_radius),
    }


def position_keys(config: TrainConfig) -> tuple[str, ...]:
    """The parameters whose learning rate decays (world-space positions)."""
    return ("means", *model_of(config.motion).position_keys)


def make_optimizers(
    params: dict[str, torch.nn.Parameter], learning_rates: dict[str, float]
) -> dict[str, torch.optim.Adam]:
    trainable = {name: param for name, param in params.items() if param.requires_grad}
    missing = sorted(set(trainable) - set(learning_rates))
    if missing:
        raise ValueError(f"no learning rate for parameters {missing}")
    # On a GPU, fused Adam updates a parameter in one kernel instead of about a dozen.
    return {
        name: torch.optim.Adam(
            [{"params": [param], "lr": learning_rates[name], "name": name}],
            eps=ADAM_EPS,
            fused=param.is_cuda or None,
        )
        for name, param in trainable.items()
    }


def set_position_learning_rates(
    optimizers: dict[str, torch.optim.Adam],
    learning_rates: dict[str, float],
    factor: float,
    keys: tuple[str, ...],
) -> None:
    for name in keys:
        if name in optimizers:
            optimizers[name].param_groups[0]["lr"] = learning_rates[name] * factor
