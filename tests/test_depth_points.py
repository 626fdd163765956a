"""Initial points lifted from depth maps."""

from __future__ import annotations

import math

import torch

from avatar4d.model.depth_points import depth_surface_points, lift_view
from avatar4d.model.visual_hull import MaskedView


def _view(distance: float, alpha: int = 255) -> MaskedView:
    """A 16x12 camera at (0, 0, distance) looking down -z at a wall of depth ``distance``,
    the wall covering the left half of the image; red pixels."""
    c2w = torch.eye(4)
    c2w[2, 3] = distance
    rgba = torch.zeros(12, 16, 4, dtype=torch.uint8)
    rgba[:, :8] = torch.tensor([255, 0, 0, alpha], dtype=torch.uint8)
    depth = torch.zeros(12, 16)
    depth[:, :8] = distance
    return MaskedView(c2w=c2w, fl_x=20.0, fl_y=20.0, cx=8.0, cy=6.0, rgba=rgba, depth=depth)


def test_lifted_points_lie_on_the_surface_under_their_pixels() -> None:
    points, colors = lift_view(_view(3.0))
    assert points.shape == (12 * 8, 3)
    assert torch.allclose(points[:, 2], torch.zeros(len(points)), atol=1e-6)  # the z = 0 wall
    # Pixel column c has its centre at c + 0.5: x = (c + 0.5 - 8) / 20 * 3, left half only.
    xs = sorted({round(float(x), 5) for x in points[:, 0]})
    assert xs == [round((c + 0.5 - 8.0) / 20.0 * 3.0, 5) for c in range(8)]
    ys = sorted({round(float(y), 5) for y in points[:, 1]})
    assert ys == sorted(round(-(r + 0.5 - 6.0) / 20.0 * 3.0, 5) for r in range(12))
    assert torch.equal(colors, torch.tensor([[1.0, 0.0, 0.0]]).expand(len(points), 3))


def test_a_rotated_camera_lifts_into_world_coordinates() -> None:
    view = _view(2.0)
    turn = torch.tensor(
        [[math.cos(0.7), 0.0, math.sin(0.7)], [0.0, 1.0, 0.0], [-math.sin(0.7), 0.0, math.cos(0.7)]]
    )
    position = turn @ torch.tensor([0.0, 0.0, 2.0])
    c2w = torch.eye(4)
    c2w[:3, :3], c2w[:3, 3] = turn, position
    rotated = MaskedView(c2w, view.fl_x, view.fl_y, view.cx, view.cy, view.rgba, view.depth)
    points, _ = lift_view(rotated)
    expected, _ = lift_view(view)
    assert torch.allclose(points, expected @ turn.T, atol=1e-5)
    forward = -turn[:, 2]
    assert torch.allclose((points - position) @ forward, torch.full((len(points),), 2.0))


def test_partly_covered_pixels_are_not_lifted() -> None:
    points, _ = lift_view(_view(3.0, alpha=200))
    assert len(points) == 0


def test_at_most_max_points_are_kept() -> None:
    views = [_view(3.0), _view(4.0)]
    points, colors = depth_surface_points(views, 50, torch.Generator().manual_seed(0))
    assert points.shape == (50, 3) and colors.shape == (50, 3)
    everything, _ = depth_surface_points(views, 10_000, torch.Generator().manual_seed(0))
    assert len(everything) == 2 * 12 * 8
