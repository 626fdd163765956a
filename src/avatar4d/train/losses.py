"""Photometric training loss: (1 - w) * L1 + w * (1 - SSIM), on images composited on a colour.

The SSIM here is the training loss's (differentiable, float32, any batch); the reported metric
lives in ``avatar4d.evaluate.metrics``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

SSIM_WINDOW = 11
SSIM_SIGMA = 1.5
SSIM_C1 = 0.01**2
SSIM_C2 = 0.03**2


def gaussian_window(size: int, sigma: float, channels: int, like: torch.Tensor) -> torch.Tensor:
    """(channels, 1, size, size) normalised Gaussian kernel for a depthwise convolution."""
    offsets = torch.arange(size, dtype=like.dtype, device=like.device) - (size - 1) / 2
    line = torch.exp(-(offsets**2) / (2 * sigma**2))
    line = line / line.sum()
    return (line[:, None] * line[None, :]).expand(channels, 1, size, size).contiguous()


def ssim(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean SSIM of (B, H, W, 3) images in [0, 1] (Gaussian window, zero padding)."""
    x, y = pred.permute(0, 3, 1, 2), target.permute(0, 3, 1, 2)
    channels = x.shape[1]
    window = gaussian_window(SSIM_WINDOW, SSIM_SIGMA, channels, x)

    def blur(image: torch.Tensor) -> torch.Tensor:
        return F.conv2d(image, window, padding=SSIM_WINDOW // 2, groups=channels)

    mu_x, mu_y = blur(x), blur(y)
    var_x = blur(x * x) - mu_x**2
    var_y = blur(y * y) - mu_y**2
    covar = blur(x * y) - mu_x * mu_y
    numerator = (2 * mu_x * mu_y + SSIM_C1) * (2 * covar + SSIM_C2)
    denominator = (mu_x**2 + mu_y**2 + SSIM_C1) * (var_x + var_y + SSIM_C2)
    return (numerator / denominator).mean()


def composite(rgba: torch.Tensor, background: torch.Tensor) -> torch.Tensor:
    """(B, H, W, 4) straight-alpha float RGBA on a (3,) background -> (B, H, W, 3)."""
    alpha = rgba[..., 3:]
    return rgba[..., :3] * alpha + background * (1.0 - alpha)


def photometric_loss(pred: torch.Tensor, target: torch.Tensor, ssim_weight: float) -> torch.Tensor:
    l1 = (pred - target).abs().mean()
    if ssim_weight == 0:
        return l1
    return (1.0 - ssim_weight) * l1 + ssim_weight * (1.0 - ssim(pred, target))
