"""Reference rasteriser against values computed by hand (float64, so tolerances are tight)."""

from __future__ import annotations

import math

import pytest
import torch

from avatar4d.raster import Cameras, pair_selection, rasterize
from avatar4d.raster.constants import ALPHA_THRESHOLD

DTYPE = torch.float64
FOCAL = 100.0
SIZE = 32
# The principal point on a pixel centre: a Gaussian on the optical axis lands on pixel (16, 16).
CENTRE = 16.5


# An OpenGL camera at the origin turned to look down +z: the OpenCV identity view.
LOOKING_DOWN_PLUS_Z = torch.diag(torch.tensor([1.0, -1.0, -1.0, 1.0], dtype=DTYPE))


def _camera(width: int = SIZE, height: int = SIZE) -> Cameras:
    """Camera at the origin looking down +z (OpenCV identity view)."""
    return Cameras(LOOKING_DOWN_PLUS_Z, FOCAL, FOCAL, CENTRE, CENTRE, width, height)


def _render(
    means: list[list[float]],
    scales: list[float],
    opacities: list[float],
    colors: list[list[float]],
    background: tuple[float, float, float] = (0.0, 0.0, 0.0),
):
    count = len(means)
    return rasterize(
        means=torch.tensor(means, dtype=DTYPE),
        quats=torch.tensor([[0.3, -0.5, 0.2, 0.7]] * count, dtype=DTYPE),  # any: isotropic
        scales=torch.tensor(scales, dtype=DTYPE)[:, None].expand(count, 3),
        opacities=torch.tensor(opacities, dtype=DTYPE),
        colors=torch.tensor(colors, dtype=DTYPE),
        cameras=_camera(),
        background=torch.tensor(background, dtype=DTYPE),
        backend="reference",
    )


def _scale_for_screen_sigma(depth: float, sigma_px: float) -> float:
    """World scale whose projected, dilated (+0.3 px^2) standard deviation is sigma_px."""
    return math.sqrt(sigma_px**2 - 0.3) * depth / FOCAL


def test_centre_pixel_has_the_opacity_and_the_colour() -> None:
    out = _render([[0.0, 0.0, 5.0]], [0.02], [0.7], [[0.2, 0.5, 0.9]], background=(1, 1, 1))
    assert abs(out.alpha[0, 16, 16, 0].item() - 0.7) < 1e-12
    expected = 0.7 * torch.tensor([0.2, 0.5, 0.9], dtype=DTYPE) + 0.3 * 1.0
    torch.testing.assert_close(out.rgb[0, 16, 16], expected, rtol=0, atol=1e-12)


def test_one_sigma_away_including_the_low_pass_dilation() -> None:
    opacity = 0.8
    scale = _scale_for_screen_sigma(depth=5.0, sigma_px=2.0)  # 2D variance 3.7 + 0.3 = 4
    out = _render([[0.0, 0.0, 5.0]], [scale], [opacity], [[1.0, 1.0, 1.0]])
    alpha = out.alpha[0, ..., 0]
    # Pixel centres 2 px = 1 sigma to the right, below, and diagonally (sigma^2 = 2 there).
    assert abs(alpha[16, 18].item() - opacity * math.exp(-0.5)) < 1e-12
    assert abs(alpha[18, 16].item() - opacity * math.exp(-0.5)) < 1e-12
    assert abs(alpha[14, 14].item() - opacity * math.exp(-1.0)) < 1e-12
    # Without the dilation this pixel would have alpha 0.8 exp(-0.5 * 4 / 3.7) = 0.4665.
    assert abs(alpha[16, 18].item() - 0.4852245277701476) < 1e-12


def test_radius_is_the_opacity_aware_box_of_gsplat() -> None:
    opacity = 0.8
    scale = _scale_for_screen_sigma(depth=5.0, sigma_px=2.0)
    out = _render([[0.0, 0.0, 5.0]], [scale], [opacity], [[1.0, 1.0, 1.0]])
    extent = math.sqrt(2.0 * math.log(opacity / ALPHA_THRESHOLD))  # 3.27 sigmas
    expected = math.ceil(extent * 2.0)
    assert out.info["radii"].tolist() == [[[expected, expected]]]
    assert out.info["radii"].dtype == torch.int32
    # Beyond the box nothing is drawn; inside it the last pixel with alpha >= 1/255 is drawn.
    row = out.alpha[0, 16, :, 0]
    drawn = torch.nonzero(row > 0).squeeze(-1)
    assert drawn.min().item() >= 16 - expected and drawn.max().item() <= 16 + expected
    assert row[drawn].min().item() >= ALPHA_THRESHOLD


def test_front_gaussian_wins_and_swapping_depths_swaps_the_order() -> None:
    red, green, background = [1.0, 0.0, 0.0], [0.0, 1.0, 0.0], (0.0, 0.0, 1.0)
    red_opacity, green_opacity = 0.6, 0.5
    bg = torch.tensor(background, dtype=DTYPE)
    r, g = torch.tensor(red, dtype=DTYPE), torch.tensor(green, dtype=DTYPE)
    transmittance = (1 - red_opacity) * (1 - green_opacity)

    red_in_front = _render(
        [[0.0, 0.0, 4.0], [0.0, 0.0, 6.0]], [0.03, 0.03], [0.6, 0.5], [red, green], background
    )
    expected = red_opacity * r + (1 - red_opacity) * green_opacity * g + transmittance * bg
    torch.testing.assert_close(red_in_front.rgb[0, 16, 16], expected, rtol=0, atol=1e-12)
    assert abs(red_in_front.alpha[0, 16, 16, 0].item() - (1 - transmittance)) < 1e-12

    green_in_front = _render(
        [[0.0, 0.0, 6.0], [0.0, 0.0, 4.0]], [0.03, 0.03], [0.6, 0.5], [red, green], background
    )
    expected = green_opacity * g + (1 - green_opacity) * red_opacity * r + transmittance * bg
    torch.testing.assert_close(green_in_front.rgb[0, 16, 16], expected, rtol=0, atol=1e-12)


def test_compositing_stops_before_transmittance_reaches_the_floor() -> None:
    # After two 0.98 layers T = 4e-4; a third would take it to 8e-6 <= 1e-4, so gsplat stops
    # before it and that layer contributes nothing.
    colors = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]
    out = _render(
        [[0.0, 0.0, 4.0], [0.0, 0.0, 5.0], [0.0, 0.0, 6.0]],
        [0.03] * 3,
        [0.98] * 3,
        colors,
        background=(1.0, 1.0, 1.0),
    )
    expected = torch.tensor([0.98, 0.02 * 0.98, 0.0], dtype=DTYPE) + 0.02 * 0.02
    torch.testing.assert_close(out.rgb[0, 16, 16], expected, rtol=0, atol=1e-12)
    assert abs(out.alpha[0, 16, 16, 0].item() - (1 - 0.02 * 0.02)) < 1e-12


def test_background_where_nothing_is_drawn() -> None:
    out = _render([[0.0, 0.0, 5.0]], [0.02], [0.9], [[1.0, 0.0, 0.0]], background=(0.1, 0.2, 0.3))
    torch.testing.assert_close(out.rgb[0, 0, 0], torch.tensor([0.1, 0.2, 0.3], dtype=DTYPE))
    assert out.alpha[0, 0, 0, 0].item() == 0.0
    assert out.alpha.shape == (1, SIZE, SIZE, 1) and out.rgb.shape == (1, SIZE, SIZE, 3)


def test_gaussians_behind_the_camera_or_before_the_near_plane_are_invisible() -> None:
    out = _render(
        [[0.0, 0.0, -5.0], [0.0, 0.0, 0.005], [50.0, 0.0, 5.0]],
        [0.5, 0.5, 0.02],
        [0.9, 0.9, 0.9],
        [[1.0, 1.0, 1.0]] * 3,
        background=(0.25, 0.5, 0.75),
    )
    assert out.info["radii"].abs().sum().item() == 0  # behind, too near, off-screen
    assert out.alpha.abs().max().item() == 0.0
    expected = torch.tensor([0.25, 0.5, 0.75], dtype=DTYPE).expand(1, SIZE, SIZE, 3)
    torch.testing.assert_close(out.rgb, expected, rtol=0, atol=0)


def _dense_sequential_render(out, opacities, colors, background, width, height):
    """gsplat's per-pixel loop written plainly: every Gaussian at every pixel, front to back."""
    info = out.info
    rgb = torch.zeros(height, width, 3, dtype=DTYPE)
    transmittance = torch.ones(height, width, dtype=DTYPE)
    done = torch.zeros(height, width, dtype=torch.bool)
    rows, cols = torch.meshgrid(
        torch.arange(height, dtype=DTYPE), torch.arange(width, dtype=DTYPE), indexing="ij"
    )
    visible = (info["radii"][0] > 0).all(-1)
    for index in sorted(
        torch.nonzero(visible).squeeze(-1).tolist(), key=lambda i: info["depths"][0, i]
    ):
        a, b, c = info["conics"][0, index].detach()
        dx = info["means2d"][0, index, 0].detach() - (cols + 0.5)
        dy = info["means2d"][0, index, 1].detach() - (rows + 0.5)
        sigma = 0.5 * (a * dx * dx + c * dy * dy) + b * dx * dy
        alpha = torch.clamp(opacities[index] * torch.exp(-sigma), max=0.999)
        blend = (sigma >= 0) & (alpha >= ALPHA_THRESHOLD) & ~done
        next_transmittance = transmittance * (1 - alpha)
        stops = blend & (next_transmittance <= 1e-4)
        done |= stops
        blend &= ~stops
        rgb += torch.where(blend, alpha * transmittance, 0.0)[..., None] * colors[index]
        transmittance = torch.where(blend, next_transmittance, transmittance)
    stopped_pixels = int(done.sum())
    return rgb + transmittance[..., None] * background, 1 - transmittance, stopped_pixels


@pytest.mark.parametrize("chunk_splats", [7, 512])  # several depth chunks, and one
def test_matches_a_dense_per_pixel_loop_on_a_random_scene(
    chunk_splats: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pair_selection, "CHUNK_SPLATS", chunk_splats)
    generator = torch.Generator().manual_seed(7)
    count, width, height = 80, 30, 22  # not square: catches x / y mix-ups
    means = torch.rand(count, 3, generator=generator, dtype=DTYPE) * torch.tensor(
        [1.2, 0.9, 2.0], dtype=DTYPE
    ) + torch.tensor([-0.6, -0.45, 3.0], dtype=DTYPE)
    opacities = torch.rand(count, generator=generator, dtype=DTYPE) * 0.99
    opacities[:40] = 0.995  # some saturated pixels, so the early stop matters
    colors = torch.rand(count, 3, generator=generator, dtype=DTYPE)
    background = torch.tensor([0.3, 0.6, 0.9], dtype=DTYPE)
    cameras = Cameras(LOOKING_DOWN_PLUS_Z, 40.0, 42.0, 14.3, 10.9, width, height)
    out = rasterize(
        means,
        torch.randn(count, 4, generator=generator, dtype=DTYPE),
        torch.rand(count, 3, generator=generator, dtype=DTYPE) * 0.25 + 0.02,
        opacities,
        colors,
        cameras,
        background,
        backend="reference",
    )
    expected_rgb, expected_alpha, stopped_pixels = _dense_sequential_render(
        out, opacities, colors, background, width, height
    )
    assert stopped_pixels > 50, "the scene should saturate pixels so that the early stop matters"
    torch.testing.assert_close(out.rgb[0], expected_rgb, rtol=0, atol=1e-10)
    torch.testing.assert_close(out.alpha[0, ..., 0], expected_alpha, rtol=0, atol=1e-10)
