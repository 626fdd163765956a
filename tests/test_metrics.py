"""Image metrics on white: exact PSNR values, foreground PSNR, SSIM against a direct reference,
LPIPS availability, and the bootstrap confidence interval."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from avatar4d.evaluate import lpips_metric
from avatar4d.evaluate.bootstrap import bootstrap_mean, mean_ci
from avatar4d.evaluate.compositing import composite_on_white
from avatar4d.evaluate.metrics import (
    PSNR_CAP_DB,
    foreground_psnr,
    lpips_available,
    psnr,
    score_image,
    ssim,
)


def rgba(rgb: float | np.ndarray, alpha: float | np.ndarray, size: tuple[int, int] = (8, 6)):
    """(H, W, 4) float32 tensor from a colour (scalar or (H, W, 3)) and an alpha."""
    height, width = size
    image = np.empty((height, width, 4), np.float32)
    image[..., :3] = rgb
    image[..., 3] = alpha
    return torch.from_numpy(image)


def test_composite_on_white_uses_straight_alpha():
    image = rgba(0.2, 0.25, size=(1, 1))
    # 0.2 * 0.25 + 0.75 = 0.8
    assert composite_on_white(image)[0, 0].tolist() == pytest.approx([0.8, 0.8, 0.8], abs=1e-7)


def test_psnr_constant_error_gives_exact_value():
    gt = rgba(0.5, 1.0)
    assert psnr(rgba(0.75, 1.0), gt) == pytest.approx(10 * math.log10(16), abs=1e-12)  # 12.04 dB
    assert psnr(rgba(0.6, 1.0), gt) == pytest.approx(20.0, abs=1e-5)  # error 0.1 -> 20 dB


def test_psnr_is_taken_on_white():
    # Transparent pixels of any colour are white; an opaque white pixel is white as well.
    invisible_red = rgba(np.array([1.0, 0.0, 0.0]), 0.0)
    assert psnr(invisible_red, rgba(1.0, 1.0)) == PSNR_CAP_DB


def test_identical_images_are_capped():
    image = rgba(0.3, 0.7)
    assert psnr(image, image) == PSNR_CAP_DB
    assert foreground_psnr(image, image) == PSNR_CAP_DB


def test_foreground_psnr_ignores_white_background():
    size = (20, 20)
    gt_alpha = np.zeros(size, np.float32)
    gt_alpha[9:11, 9:11] = 1.0  # 4 foreground pixels out of 400
    gt = rgba(0.0, gt_alpha, size)
    pred = rgba(0.5, gt_alpha, size)  # black character rendered mid-grey: error 0.5 on it

    whole = psnr(pred, gt)
    foreground = foreground_psnr(pred, gt)
    assert whole == pytest.approx(10 * math.log10(400 / (4 * 0.25)), abs=1e-9)  # 26.0 dB
    assert foreground == pytest.approx(10 * math.log10(1 / 0.25), abs=1e-9)  # 6.0 dB
    assert whole - foreground == pytest.approx(20.0, abs=1e-9)  # 10 log10(400 / 4)


def test_foreground_includes_pixels_only_the_prediction_covers():
    size = (4, 4)
    gt = rgba(1.0, 0.0, size)
    pred_alpha = np.zeros(size, np.float32)
    pred_alpha[0, 0] = 1.0
    pred = rgba(0.0, pred_alpha, size)  # one black floater where the ground truth is empty
    assert foreground_psnr(pred, gt) == pytest.approx(0.0, abs=1e-12)  # error 1 on that pixel


def test_an_rgb_prediction_adds_no_foreground_of_its_own():
    # A render saved as RGB on white has no alpha: a floater on it counts only where the
    # ground truth has foreground; the same render with alpha counts it everywhere.
    size = (4, 4)
    gt_alpha = np.zeros(size, np.float32)
    gt_alpha[0, 0] = 1.0
    gt = rgba(0.5, gt_alpha, size)  # one grey pixel on a clear field
    pred_alpha = gt_alpha.copy()
    pred_alpha[3, 3] = 1.0
    pred = rgba(0.5, pred_alpha, size)
    pred[3, 3, :3] = 0.0  # a black floater where the ground truth is empty
    on_white = composite_on_white(pred).to(torch.float32)  # (H, W, 3): no alpha
    assert foreground_psnr(pred, gt) == pytest.approx(10 * math.log10(2), abs=1e-9)  # 2 px
    assert foreground_psnr(on_white, gt) == PSNR_CAP_DB  # the one grey pixel: exact
    assert psnr(on_white, gt) == pytest.approx(psnr(pred, gt), abs=1e-9)  # on white: the same
    gt_on_white = composite_on_white(gt).to(torch.float32)
    # No alpha on either side: every pixel is foreground (16 pixels, one off by 1).
    assert foreground_psnr(on_white, gt_on_white) == pytest.approx(10 * math.log10(16), abs=1e-9)


def test_foreground_psnr_without_foreground_is_nan():
    empty = rgba(0.0, 0.0)
    faint = rgba(0.0, 0.5 / 255.0)  # below the 1/255 threshold
    assert math.isnan(foreground_psnr(empty, faint))


def _reference_ssim(pred: torch.Tensor, gt: torch.Tensor) -> float:
    """SSIM written out directly: every window weighted and summed, zero-padded by 5."""
    x = composite_on_white(pred).numpy()
    y = composite_on_white(gt).numpy()
    offsets = np.arange(11) - 5
    profile = np.exp(-(offsets**2) / (2 * 1.5**2))
    window = np.outer(profile, profile) / profile.sum() ** 2
    height, width, _ = x.shape
    c1, c2 = 0.01**2, 0.03**2
    values = []
    for channel in range(3):
        xp = np.pad(x[..., channel], 5)
        yp = np.pad(y[..., channel], 5)
        for row in range(height):
            for col in range(width):
                wx = xp[row : row + 11, col : col + 11]
                wy = yp[row : row + 11, col : col + 11]
                mx, my = (window * wx).sum(), (window * wy).sum()
                vx = (window * wx * wx).sum() - mx * mx
                vy = (window * wy * wy).sum() - my * my
                cxy = (window * wx * wy).sum() - mx * my
                numerator = (2 * mx * my + c1) * (2 * cxy + c2)
                values.append(numerator / ((mx * mx + my * my + c1) * (vx + vy + c2)))
    return float(np.mean(values))


def test_ssim_identical_is_one():
    rng = np.random.default_rng(1)
    image = rgba(rng.random((12, 10, 3)), rng.random((12, 10)), size=(12, 10))
    assert ssim(image, image) == pytest.approx(1.0, abs=1e-12)


def test_ssim_matches_direct_reference():
    rng = np.random.default_rng(2)
    gt = rgba(rng.random((12, 14, 3)), 1.0, size=(12, 14))
    noisy = np.clip(gt[..., :3].numpy() + rng.normal(0, 0.1, (12, 14, 3)), 0, 1)
    pred = rgba(noisy, rng.random((12, 14)), size=(12, 14))
    value = ssim(pred, gt)
    assert value == pytest.approx(_reference_ssim(pred, gt), abs=1e-10)
    assert 0.0 < value < 0.95


def test_size_mismatch_is_refused():
    with pytest.raises(ValueError, match="sizes differ"):
        psnr(rgba(0.0, 1.0, size=(4, 4)), rgba(0.0, 1.0, size=(4, 5)))


def test_score_image_without_lpips():
    scores = score_image(rgba(0.6, 1.0), rgba(0.5, 1.0))
    assert scores.psnr == pytest.approx(20.0, abs=1e-5)
    assert scores.fg_psnr == pytest.approx(20.0, abs=1e-5)
    assert scores.lpips is None


def test_lpips_unavailable_without_weights(monkeypatch, tmp_path):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))  # an empty hub cache
    assert lpips_available() is False
    assert lpips_metric.backbone_checkpoint_path("alex").parent == tmp_path / "hub" / "checkpoints"


def test_lpips_available_needs_both_weight_files(monkeypatch, tmp_path):
    package_weights = tmp_path / "lpips" / "weights" / "v0.1" / "alex.pth"
    monkeypatch.setattr(lpips_metric, "_package_weights_path", lambda net: package_weights)
    monkeypatch.setattr(lpips_metric.importlib.util, "find_spec", lambda name: object())
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    backbone = lpips_metric.backbone_checkpoint_path("alex")
    assert backbone.name.startswith("alexnet-")

    assert not lpips_available()
    package_weights.parent.mkdir(parents=True)
    package_weights.write_bytes(b"x")
    assert not lpips_available()  # backbone still missing
    backbone.parent.mkdir(parents=True)
    backbone.write_bytes(b"x")
    assert lpips_available()


def test_bootstrap_ci_contains_mean_and_is_deterministic():
    values = np.random.default_rng(3).normal(25.0, 2.0, size=40)
    mean, low, high = mean_ci(values)
    assert mean == pytest.approx(values.mean(), abs=1e-12)
    assert low < mean < high
    # Roughly mean +- 1.96 standard errors for a normal sample.
    standard_error = values.std(ddof=1) / math.sqrt(values.size)
    assert high - low == pytest.approx(2 * 1.96 * standard_error, rel=0.2)
    assert mean_ci(values) == (mean, low, high)
    assert mean_ci(values, seed=1) != (mean, low, high)


def test_bootstrap_single_value_and_non_finite():
    assert mean_ci([31.5]) == (31.5, 31.5, 31.5)
    summary = bootstrap_mean([20.0, math.nan, 22.0, math.inf])
    assert (summary.n, summary.excluded) == (2, 2)
    assert summary.mean == pytest.approx(21.0)
    assert 20.0 <= summary.low <= 21.0 <= summary.high <= 22.0
    empty = bootstrap_mean([math.nan])
    assert math.isnan(empty.mean) and (empty.n, empty.excluded) == (0, 1)
