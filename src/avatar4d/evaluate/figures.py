"""Side-by-side comparison images: ground truth | render | error heat map, each on white."""

from __future__ import annotations

import numpy as np
import torch

from avatar4d.evaluate.compositing import check_same_size, composite_on_white

# Errors at or above this per-pixel RMS (on a 0..1 scale) get the darkest colour; fixed rather
# than per image, so that heat maps of different frames compare.
ERROR_SCALE_MAX = 0.5
ERROR_COLORMAP = "Reds"  # white at zero error, so the heat map sits on white like the images
GUTTER_PIXELS = 4
GUTTER_GREY = 200


def to_uint8(rgb: torch.Tensor | np.ndarray) -> np.ndarray:
    """Float RGB in [0, 1] -> uint8 numpy array, rounded."""
    if isinstance(rgb, torch.Tensor):
        rgb = rgb.detach().to("cpu", torch.float64).numpy()
    return np.round(np.clip(rgb, 0.0, 1.0) * 255.0).astype(np.uint8)


def error_heat_map(pred: torch.Tensor, gt: torch.Tensor) -> np.ndarray:
    """(H, W, 3) uint8: per-pixel RMS error over RGB on white, coloured 0 -> ERROR_SCALE_MAX."""
    from matplotlib import colormaps

    difference = composite_on_white(pred) - composite_on_white(gt)
    rms = difference.square().mean(dim=-1).sqrt().cpu().numpy()
    colours = colormaps[ERROR_COLORMAP](np.clip(rms / ERROR_SCALE_MAX, 0.0, 1.0))[..., :3]
    return to_uint8(colours)


def comparison_image(pred: torch.Tensor, gt: torch.Tensor) -> np.ndarray:
    """(H, 3 W + 2 gutters, 3) uint8: ground truth | render | error heat map."""
    check_same_size(pred, gt)
    panels = [
        to_uint8(composite_on_white(gt)),
        to_uint8(composite_on_white(pred)),
        error_heat_map(pred, gt),
    ]
    height = panels[0].shape[0]
    gutter = np.full((height, GUTTER_PIXELS, 3), GUTTER_GREY, dtype=np.uint8)
    return np.concatenate([panels[0], gutter, panels[1], gutter, panels[2]], axis=1)
