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


def ssim_map(
    mu_x: torch.Tensor, xx: torch.Tensor, xy: torch.Tensor, mu_y: torch.Tensor, yy: torch.Tensor
) -> torch.Tensor:
    """The SSIM of every pixel from the blurred moments: x, x², xy, y, y²."""
    numerator = (2 * mu_x * mu_y + SSIM_C1) * (2 * (xy - mu_x * mu_y) + SSIM_C2)
    denominator = (mu_x**2 + mu_y**2 + SSIM_C1) * ((xx - mu_x**2) + (yy - mu_y**2) + SSIM_C2)
    return numerator / denominator


class MeanSsimFromMoments(torch.autograd.Function):
    """Mean of ``ssim_map`` with its derivatives in closed form, for x's three moments only.

    Autograd through ``ssim_map`` saves and replays about thirty full-size operations; these
    few do the same (the target's moments need no gradient)."""

    @staticmethod
    def forward(ctx, mu_x, xx, xy, mu_y, yy):  # noqa: ANN001, ANN205 (autograd's signature)
        a1 = 2 * mu_x * mu_y + SSIM_C1
        a2 = 2 * (xy - mu_x * mu_y) + SSIM_C2
        b1 = mu_x**2 + mu_y**2 + SSIM_C1
        b2 = (xx - mu_x**2) + (yy - mu_y**2) + SSIM_C2
        values = a1 * a2 / (b1 * b2)
        ctx.save_for_backward(mu_x, mu_y, a1, a2, b1, b2, values)
        return values.mean()

    @staticmethod
    def backward(ctx, grad):  # noqa: ANN001, ANN205
        mu_x, mu_y, a1, a2, b1, b2, values = ctx.saved_tensors
        scale = grad / values.numel()
        inverse = scale / (b1 * b2)
        d_xy = 2 * a1 * inverse
        d_xx = -scale * values / b2
        d_mu_x = 2 * mu_y * (a2 - a1) * inverse + 2 * scale * mu_x * values * (1 / b2 - 1 / b1)
        return d_mu_x, d_xx, d_xy, None, None


def ssim(pred: torch.Tensor, target: torch.Tensor, closed_form: bool = True) -> torch.Tensor:
    """Mean SSIM of (B, H, W, 3) images in [0, 1] (11 x 11 Gaussian window, zero padding);
    only ``pred`` gets a gradient.

    The separable window runs along rows, then columns, each pass a matrix product
    (``blur_2d``): the numbers of a zero-padded convolution, in large products instead of
    many small kernels, with the moments of each image stacked into one blur. The SSIM map's
    layout does not matter to its mean. ``closed_form=False`` differentiates the map by
    autograd instead (the same numbers, more work: kept to test and time against).
    """
    x = pred.permute(0, 3, 1, 2)  # (B, 3, H, W)
    y = target.detach().permute(0, 3, 1, 2)
    along_rows, along_columns = axis_matrix(x.shape[-1], x), axis_matrix(x.shape[-2], x)
    mu_x, xx, xy = blur_2d(torch.stack((x, x * x, x * y)), along_rows, along_columns)
    with torch.no_grad():
        mu_y, yy = blur_2d(torch.stack((y, y * y)), along_rows, along_columns)
    if closed_form:
        return MeanSsimFromMoments.apply(mu_x, xx, xy, mu_y, yy)
    return ssim_map(mu_x, xx, xy, mu_y, yy).mean()


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
