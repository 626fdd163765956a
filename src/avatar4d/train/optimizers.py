"""One Adam optimiser per parameter (gsplat's convention: densification edits their states)."""

from __future__ import annotations

import torch

from avatar4d.run.config import TrainConfig

ADAM_EPS = 1e-15  # as in 3DGS: gradients of tiny Gaussians are tiny; a larger eps would mute them
POSITION_KEYS = ("means", "motion_means", "node_means", "node_motion_means")


def base_learning_rates(config: TrainConfig, scene_radius: float) -> dict[str, float]:
    return {
        "means": config.lr_means * scene_radius,
        "motion_means": config.lr_motion_means * scene_radius,
        "motion_quats": config.lr_motion_quats,
        "scales": config.lr_scales,
        "quats": config.lr_quats,
        "opacities": config.lr_opacities,
        "colors": config.lr_colors,
        "normals": config.lr_normals,
        "light_irradiance": config.lr_light,
        "node_means": config.lr_node_means * scene_radius,
        "node_log_radii": config.lr_node_radii,
        "node_motion_means": config.lr_node_motion_means * scene_radius,
        "node_motion_quats": config.lr_motion_quats,
    }


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
) -> None:
    for name in POSITION_KEYS:
        if name in optimizers:
            optimizers[name].param_groups[0]["lr"] = learning_rates[name] * factor
