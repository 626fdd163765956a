"""Image quality metrics on straight-alpha RGBA images composited on white.

Images are float tensors (H, W, 4) in [0, 1] with straight (not premultiplied) alpha; (H, W, 3)
is accepted and treated as opaque. Every metric first composites both images on white
(``rgb * a + (1 - a)``), the D-NeRF convention, and computes in float64.

Conventions chosen here (and reported in docs/GRID_BENCHMARK.md's terms):

- PSNR: ``10 log10(1 / MSE)`` with the MSE over all pixels and the three channels. Identical
  images would give +inf; the value is capped at ``PSNR_CAP_DB`` (100 dB) so that means and
  confidence intervals stay finite. Real renders are nowhere near the cap; the aggregation
  adds a note when any image reaches it.
- Foreground PSNR: the same squared error, averaged only over pixels where either alpha is
  above 1/255. With no such pixel the value is NaN ("no foreground"); aggregation excludes and
  counts it. An (H, W, 3) image has no alpha, so it adds no foreground of its own: a render
  saved as RGB on white is scored over the ground truth's foreground alone (and when neither
  image has alpha, every pixel is foreground).
- SSIM: 11 x 11 Gaussian window (sigma 1.5), K1 = 0.01, K2 = 0.03, data range 1, the window
  applied by a convolution with zero padding 5 ("same" size) and the SSIM map averaged over
  all pixels and channels. This is the convention of the reference 3DGS code and the 4D
  Gaussian codebases that copy it, so numbers compare with published tables; scikit-image's
  default differs slightly (reflect padding, border cropped, sample covariance).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from avatar4d.evaluate.compositing import alpha_channel, check_same_size, composite_on_white
from avatar4d.evaluate.lpips_metric import LpipsMetric, lpips_available

__all__ = [
    "FOREGROUND_ALPHA",
    "PSNR_CAP_DB",
    "ImageScores",
    "composite_on_white",
    "foreground_psnr",
    "lpips_available",
    "psnr",
    "score_image",
    "ssim",
]

PSNR_CAP_DB = 100.0
FOREGROUND_ALPHA = 1.0 / 255.0

SSIM_WINDOW = 11
SSIM_SIGMA = 1.5
SSIM_K1 = 0.01
SSIM_K2 = 0.03


def _mse_to_psnr(mse: float) -> float:
    if mse <= 10.0 ** (-PSNR_CAP_DB / 10.0):
        return PSNR_CAP_DB
    return -10.0 * math.log10(mse)


def psnr(pred: torch.Tensor, gt: torch.Tensor) -> float:
    """PSNR in dB over the whole image on white; capped at ``PSNR_CAP_DB``."""
    check_same_size(pred, gt)
    error = composite_on_white(pred) - composite_on_white(gt)
    return _mse_to_psnr(float(error.square().mean()))


def foreground_psnr(pred: torch.Tensor, gt: torch.Tensor) -> float:
    """PSNR over pixels where either alpha exceeds 1/255 (an RGB image has none of its own);
    NaN when there are none."""
    check_same_size(pred, gt)
    with_alpha = [image for image in (pred, gt) if image.shape[-1] == 4] or [pred]
    mask = torch.stack([alpha_channel(image) > FOREGROUND_ALPHA for image in with_alpha]).any(0)
    if not bool(mask.any()):
        return math.nan
    error = composite_on_white(pred) - composite_on_white(gt)
    return _mse_to_psnr(float(error[mask].square().mean()))


def _gaussian_profile(device: torch.device) -> torch.Tensor:
    offsets = torch.arange(SSIM_WINDOW, dtype=torch.float64, device=device) - SSIM_WINDOW // 2
    profile = torch.exp(-offsets.square() / (2.0 * SSIM_SIGMA**2))
    return profile / profile.sum()


def _gaussian_blur(planes: torch.Tensor) -> torch.Tensor:
    """(1, C, H, W) -> (1, C, H, W): the 11 x 11 Gaussian window with zero padding.

    Applied as a vertical then a horizontal 1-D pass, which equals the 2-D window (the window
    is an outer product and zero padding stays zero) at a fraction of the cost.
    """
    channels, half = planes.shape[1], SSIM_WINDOW // 2
    profile = _gaussian_profile(planes.device)
    vertical = profile.view(1, 1, SSIM_WINDOW, 1).expand(channels, 1, SSIM_WINDOW, 1)
    horizontal = profile.view(1, 1, 1, SSIM_WINDOW).expand(channels, 1, 1, SSIM_WINDOW)
    planes = F.conv2d(planes, vertical, padding=(half, 0), groups=channels)
    return F.conv2d(planes, horizontal, padding=(0, half), groups=channels)


def ssim(pred: torch.Tensor, gt: torch.Tensor) -> float:
    """Mean SSIM on white over pixels and channels (3DGS convention, see the module notes)."""
    check_same_size(pred, gt)
    x = composite_on_white(pred).permute(2, 0, 1)  # (3, H, W)
    y = composite_on_white(gt).permute(2, 0, 1)
    # All five local statistics in one blur call.
    stacked = torch.cat([x, y, x * x, y * y, x * y]).unsqueeze(0)
    mu_x, mu_y, mean_xx, mean_yy, mean_xy = _gaussian_blur(stacked)[0].split(3)
    var_x = mean_xx - mu_x.square()
    var_y = mean_yy - mu_y.square()
    cov_xy = mean_xy - mu_x * mu_y
    c1, c2 = SSIM_K1**2, SSIM_K2**2
    ssim_map = ((2.0 * mu_x * mu_y + c1) * (2.0 * cov_xy + c2)) / (
        (mu_x.square() + mu_y.square() + c1) * (var_x + var_y + c2)
    )
    return float(ssim_map.mean())


@dataclass(frozen=True)
class ImageScores:
    psnr: float
    fg_psnr: float  # NaN: no foreground pixel in either image
    ssim: float
    lpips: float | None  # None: not computed (LPIPS weights not on this machine)


def score_image(
    pred: torch.Tensor, gt: torch.Tensor, lpips: LpipsMetric | None = None
) -> ImageScores:
    """All metrics of one prediction against its ground truth."""
    return ImageScores(
        psnr=psnr(pred, gt),
        fg_psnr=foreground_psnr(pred, gt),
        ssim=ssim(pred, gt),
        lpips=None if lpips is None else lpips(pred, gt),
    )
