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


BLUR_TILE = 64  # output pixels per tile of the banded blur
DENSE_BLUR_UP_TO = 2 * BLUR_TILE  # axes this short are blurred by one dense matrix product


def gaussian_window(like: torch.Tensor) -> torch.Tensor:
    offsets = torch.arange(SSIM_WINDOW, dtype=like.dtype, device=like.device) - SSIM_WINDOW // 2
    window = torch.exp(-(offsets**2) / (2 * SSIM_SIGMA**2))
    return window / window.sum()


def window_matrix(rows: int, columns: int, like: torch.Tensor) -> torch.Tensor:
    """(rows, columns): entry (i, o) is the window's weight of input i - 5 for output o (the
    input starting 5 pixels before the first output: the zero padding's offset)."""
    gap = torch.arange(rows, device=like.device)[:, None] - torch.arange(
        columns, device=like.device
    )
    inside = (gap >= 0) & (gap < SSIM_WINDOW)
    return torch.where(inside, gaussian_window(like)[gap.clamp(0, SSIM_WINDOW - 1)], 0.0)


def axis_matrix(size: int, like: torch.Tensor) -> torch.Tensor:
    """What ``blur_last_axis`` multiplies by: the dense (size, size) matrix of a short axis,
    or the (74, 64) band of a long one's tiles."""
    half = SSIM_WINDOW // 2
    if size <= DENSE_BLUR_UP_TO:
        return window_matrix(size + 2 * half, size, like)[half:-half].contiguous()
    return window_matrix(BLUR_TILE + 2 * half, BLUR_TILE, like)


def blur_last_axis(image: torch.Tensor, matrix: torch.Tensor) -> torch.Tensor:
    """The 1D Gaussian window along the last axis, zero padding ("same").

    A short axis is one product with a dense (size, size) matrix. A long one is cut into
    tiles of ``BLUR_TILE`` outputs, each read with the 10 pixels of halo that follow it (the
    first ones of the next tile), and every tile is a row of one product with the (74, 64)
    band: 74 multiplies per output instead of 512 at 512 pixels. The same numbers either way.
    """
    size, half = image.shape[-1], SSIM_WINDOW // 2
    if size <= DENSE_BLUR_UP_TO:
        return image @ matrix
    tiles = -(-size // BLUR_TILE)
    padded = torch.nn.functional.pad(image, (half, (tiles + 1) * BLUR_TILE - size - half))
    blocks = padded.unflatten(-1, (tiles + 1, BLUR_TILE))
    windows = torch.cat((blocks[..., :-1, :], blocks[..., 1:, : 2 * half]), dim=-1)
    blurred = (windows @ matrix).flatten(-2)
    return blurred if blurred.shape[-1] == size else blurred[..., :size]


def blur_2d(
    image: torch.Tensor, along_rows: torch.Tensor, along_columns: torch.Tensor
) -> torch.Tensor:
    """The separable 11 x 11 Gaussian window over the last two axes (H, W), zero padding;
    the matrices are ``axis_matrix`` of W and of H.

    The result is contiguous, (..., H, W) when H is short, (..., W, H) when it is long (it is
    blurred along the last axis of the transposed image, and not transposed back, so that what
    follows runs on contiguous memory): the same layout for every image of the same size.
    """
    blurred = blur_last_axis(image, along_rows)
    if blurred.shape[-2] <= DENSE_BLUR_UP_TO:  # as a left product: no transposed copies
        return along_columns.T @ blurred
    return blur_last_axis(blurred.transpose(-1, -2), along_columns)


def ssim(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean SSIM of (B, H, W, 3) images in [0, 1] (11 x 11 Gaussian window, zero padding).

    The separable window runs along rows, then columns, each pass a matrix product
    (``blur_2d``): the numbers of a zero-padded convolution, in large products instead of
    many small kernels. The SSIM map's layout does not matter to its mean.
    """
    x = pred.permute(0, 3, 1, 2).contiguous()  # (B, 3, H, W)
    y = target.permute(0, 3, 1, 2).contiguous()
    along_rows, along_columns = axis_matrix(x.shape[-1], x), axis_matrix(x.shape[-2], x)
    mu_x, mu_y, xx, yy, xy = (
        blur_2d(image, along_rows, along_columns) for image in (x, y, x * x, y * y, x * y)
    )
    var_x = xx - mu_x**2
    var_y = yy - mu_y**2
    covar = xy - mu_x * mu_y
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
