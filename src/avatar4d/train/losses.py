"""Photometric training loss: (1 - w) * L1 + w * (1 - SSIM), on images composited on a colour.

The SSIM here is the training loss's (differentiable, float32, any batch); the reported metric
lives in ``avatar4d.evaluate.metrics``.
"""

from __future__ import annotations

import torch

SSIM_WINDOW = 11
SSIM_SIGMA = 1.5
SSIM_C1 = 0.01**2
SSIM_C2 = 0.03**2


def blur_matrix(size: int, like: torch.Tensor) -> torch.Tensor:
    """(size, size) matrix that applies the 1D Gaussian window with zero padding ("same")."""
    offsets = torch.arange(SSIM_WINDOW, dtype=like.dtype, device=like.device) - SSIM_WINDOW // 2
    window = torch.exp(-(offsets**2) / (2 * SSIM_SIGMA**2))
    window = window / window.sum()
    index = torch.arange(size, device=like.device)
    gap = index[None, :] - index[:, None]  # input pixel minus output pixel
    half = SSIM_WINDOW // 2
    return torch.where(gap.abs() <= half, window[(gap + half).clamp(0, 2 * half)], 0.0)


def ssim(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean SSIM of (B, H, W, 3) images in [0, 1] (11 x 11 Gaussian window, zero padding).

    The separable window is applied as two small matrix products (rows, then columns): the
    same numbers as a zero-padded convolution, and much faster than a depthwise convolution
    on the CPU for training-sized images.
    """
    x, y = pred.permute(0, 3, 1, 2), target.permute(0, 3, 1, 2)  # (B, 3, H, W)
    rows, columns = blur_matrix(x.shape[-2], x), blur_matrix(x.shape[-1], x)

    def blur(image: torch.Tensor) -> torch.Tensor:
        return rows @ image @ columns.T

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


def depth_loss(
    accumulated_depth: torch.Tensor,
    alpha: torch.Tensor,
    target_depth: torch.Tensor,
    target_alpha: torch.Tensor,
    length_scale: float,
    min_alpha: float = 0.5,
) -> torch.Tensor:
    """Mean alpha * |rendered - true| expected depth over the pixels the surface covers (true
    alpha >= ``min_alpha`` and a depth), in units of ``length_scale``; 0 when none is covered.

    ``accumulated_depth`` is sum_i w_i z_i and ``alpha`` sum_i w_i (the renderer's). The
    expected depth is their ratio; weighting its error by the (constant) rendered alpha keeps
    every gradient bounded: d/dz_i is at most w_i, where the bare ratio's would grow as
    1 / alpha on pixels the Gaussians barely cover yet. All (B, H, W, 1); no host sync.
    """
    covered = (target_alpha >= min_alpha) & (target_depth > 0)
    coverage = alpha.detach()
    expected = accumulated_depth / alpha.clamp_min(1e-4)
    error = torch.where(covered, coverage * (expected - target_depth).abs(), 0.0)
    return error.sum() / (covered.sum().clamp_min(1) * length_scale)
