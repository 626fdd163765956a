"""Validation during training: mean PSNR on white of a few held-out frames (display only)."""

from __future__ import annotations

import math

import torch

from avatar4d.model.deformation import Deformation
from avatar4d.model.render import render_gaussians
from avatar4d.train.frames import FrameStack
from avatar4d.train.losses import composite


def psnr_on_white(pred_rgb: torch.Tensor, target_rgba: torch.Tensor) -> float:
    """PSNR in dB of a render on white against straight-alpha float RGBA ground truth."""
    white = torch.ones(3, device=target_rgba.device)
    mse = float((pred_rgb - composite(target_rgba, white)).square().mean())
    return 10.0 * math.log10(1.0 / max(mse, 1e-10))


@torch.no_grad()
def validation_psnr(
    params: dict[str, torch.Tensor], deformation: Deformation, frames: list[FrameStack]
) -> float:
    """Mean PSNR over the validation frames, each rendered on white at its own time."""
    values = []
    for stack in frames:
        white = torch.ones(3, device=stack.rgba.device)
        for i, time in enumerate(stack.times):
            index = torch.tensor([i], device=stack.rgba.device)
            output = render_gaussians(deformation.deform(params, time), stack.cameras[index], white)
            values.append(psnr_on_white(output.rgb, stack.images(index)))
    return sum(values) / len(values) if values else math.nan
