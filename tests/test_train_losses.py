"""The training loss: SSIM behaves as SSIM (and agrees with the evaluation metric), L1 mix."""

from __future__ import annotations

import pytest
import torch

from avatar4d.train.losses import composite, depth_loss, photometric_loss, ssim


def random_images(seed: int, batch: int = 2, size: int = 20) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return torch.rand(batch, size, size, 3, generator=generator)


def test_ssim_of_identical_images_is_one_and_falls_with_noise():
    image = random_images(0)
    assert float(ssim(image, image)) == pytest.approx(1.0, abs=1e-6)
    generator = torch.Generator().manual_seed(1)
    noise = torch.randn(image.shape, generator=generator)
    slightly = float(ssim(image, (image + 0.02 * noise).clamp(0, 1)))
    very = float(ssim(image, (image + 0.3 * noise).clamp(0, 1)))
    assert 1.0 > slightly > very > 0.0


def test_ssim_matches_the_evaluation_metric():
    metrics = pytest.importorskip("avatar4d.evaluate.metrics")
    pred, target = random_images(2, batch=1)[0], random_images(3, batch=1)[0]
    blurred = (target + torch.roll(target, 1, dims=0)) / 2
    for other in (pred, blurred):
        ours = float(ssim(other[None], target[None]))
        assert ours == pytest.approx(metrics.ssim(other, target), abs=1e-4)


def test_ssim_of_large_images_uses_the_band_and_matches_the_evaluation_metric():
    """Axes longer than DENSE_BLUR_UP_TO are blurred in tiles with a halo (one of them not a
    whole number of tiles): still the numbers of the zero-padded window."""
    metrics = pytest.importorskip("avatar4d.evaluate.metrics")
    from avatar4d.train.losses import DENSE_BLUR_UP_TO

    height, width = DENSE_BLUR_UP_TO + 70, DENSE_BLUR_UP_TO + 1
    generator = torch.Generator().manual_seed(6)
    target = torch.rand(height, width, 3, generator=generator)
    pred = (target + 0.1 * torch.randn(target.shape, generator=generator)).clamp(0, 1)
    blurred = (target + torch.roll(target, 1, dims=1)) / 2
    for other in (pred, blurred):
        ours = float(ssim(other[None], target[None]))
        assert ours == pytest.approx(metrics.ssim(other, target), abs=1e-4)


def test_loss_mixes_l1_and_dssim():
    pred, target = random_images(4), random_images(5)
    l1 = float((pred - target).abs().mean())
    assert float(photometric_loss(pred, target, 0.0)) == pytest.approx(l1)
    mixed = float(photometric_loss(pred, target, 0.2))
    assert mixed == pytest.approx(0.8 * l1 + 0.2 * (1 - float(ssim(pred, target))), rel=1e-5)
    assert float(photometric_loss(target, target, 0.2)) == pytest.approx(0.0, abs=1e-6)


def test_composite_uses_straight_alpha():
    rgba = torch.tensor([[[[1.0, 0.0, 0.0, 0.25]]]])
    out = composite(rgba, torch.tensor([0.0, 0.0, 1.0]))
    torch.testing.assert_close(out, torch.tensor([[[[0.25, 0.0, 0.75]]]]))


def test_depth_loss_averages_over_covered_pixels_in_radii() -> None:
    target = torch.zeros(1, 2, 2, 1)
    target[0, 0, :, 0] = 3.0  # top row: surface at depth 3
    true_alpha = torch.zeros(1, 2, 2, 1)
    true_alpha[0, 0, 0, 0], true_alpha[0, 0, 1, 0] = 1.0, 0.6
    true_alpha[0, 1, 0, 0] = 1.0  # covered, but no depth: not counted
    alpha = torch.tensor([[[[1.0], [0.5]], [[1.0], [1.0]]]], requires_grad=True)
    expected = torch.tensor([[[[3.5], [2.0]], [[9.0], [9.0]]]])
    accumulated = (expected * alpha.detach()).requires_grad_()
    loss = depth_loss(accumulated, alpha, target, true_alpha, length_scale=2.0)
    # Errors 0.5 (alpha 1) and 1.0 (alpha 0.5), averaged over 2 covered pixels, in radii.
    assert loss.item() == pytest.approx((1.0 * 0.5 + 0.5 * 1.0) / 2 / 2.0)
    loss.backward()
    assert accumulated.grad is not None and accumulated.grad[0, 1].abs().sum() == 0
    # d loss / d accumulated = sign * coverage / alpha / (count * scale): bounded by 1/4 here.
    assert accumulated.grad[0, 0, :, 0].tolist() == pytest.approx([0.25, -0.25])
    nothing = depth_loss(accumulated, alpha, torch.zeros_like(target), true_alpha, 2.0)
    assert nothing.item() == 0.0
