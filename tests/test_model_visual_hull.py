"""Initial Gaussians from the data: visual hull carving, facing colours, fallbacks."""

from __future__ import annotations

import math

import pytest
import torch

from avatar4d.model.deformation import SplineDeformation
from avatar4d.model.init_gaussians import (
    SceneBounds,
    bounds_from_cameras,
    initial_gaussians,
    nearest_neighbour_distance,
)
from avatar4d.model.visual_hull import MaskedViews, visual_hull_points
from avatar4d.raster.cameras import Cameras

SIZE = 32
FOCAL = 0.5 * SIZE / math.tan(math.radians(20.0))
SPHERE_RADIUS = 0.5
CENTER = torch.tensor([0.0, 1.0, 0.0])


def look_at(azimuth_deg: float, elevation_deg: float, distance: float = 3.0) -> torch.Tensor:
    az, el = math.radians(azimuth_deg), math.radians(elevation_deg)
    offset = torch.tensor([math.cos(el) * math.sin(az), math.sin(el), math.cos(el) * math.cos(az)])
    back = offset / offset.norm()
    right = torch.linalg.cross(torch.tensor([0.0, 1.0, 0.0]), back)
    right = right / right.norm()
    c2w = torch.eye(4)
    c2w[:3, 0], c2w[:3, 1], c2w[:3, 2] = right, torch.linalg.cross(back, right), back
    c2w[:3, 3] = CENTER + distance * offset
    return c2w


def sphere_image(c2w: torch.Tensor, opaque_background: bool = False) -> torch.Tensor:
    """A sphere at CENTER: red where the visible surface has x > 0, blue elsewhere."""
    rows, cols = torch.meshgrid(torch.arange(SIZE), torch.arange(SIZE), indexing="ij")
    x = (cols + 0.5 - SIZE / 2) / FOCAL
    y = -(rows + 0.5 - SIZE / 2) / FOCAL
    directions = torch.stack([x, y, -torch.ones_like(x)], dim=-1) @ c2w[:3, :3].T
    directions = directions / directions.norm(dim=-1, keepdim=True)
    origin = c2w[:3, 3] - CENTER
    b = (directions * origin).sum(-1)
    disc = b * b - (origin @ origin - SPHERE_RADIUS**2)
    hit = disc > 0
    distance = -b - disc.clamp_min(0).sqrt()
    surface_x = origin[0] + distance * directions[..., 0]
    rgba = torch.zeros(SIZE, SIZE, 4, dtype=torch.uint8)
    rgba[..., 0] = torch.where(hit & (surface_x > 0), 255, 0).to(torch.uint8)
    rgba[..., 2] = torch.where(hit & (surface_x <= 0), 255, 0).to(torch.uint8)
    rgba[..., 3] = 255 if opaque_background else hit.to(torch.uint8) * 255
    return rgba


def ring_of_views(opaque_background: bool = False) -> MaskedViews:
    c2w = torch.stack(
        [look_at(azimuth, elevation) for azimuth in range(0, 360, 45) for elevation in (-20, 30)]
    )
    cameras = Cameras(c2w, FOCAL, FOCAL, SIZE / 2, SIZE / 2, width=SIZE, height=SIZE)
    return MaskedViews(cameras, torch.stack([sphere_image(m, opaque_background) for m in c2w]))


def test_hull_points_lie_on_the_sphere_with_the_colours_of_their_side():
    bounds = SceneBounds(CENTER.double(), 1.0)
    hull = visual_hull_points(ring_of_views(), bounds.center, bounds.radius, 40, torch.Generator())
    assert len(hull.points) > 300
    distance = (hull.points - CENTER).norm(dim=-1)
    # A hull from 16 views is a bit larger than the sphere, and the shell is a voxel deep.
    assert distance.median() == pytest.approx(SPHERE_RADIUS, abs=1.5 * hull.voxel_size)
    assert (distance < SPHERE_RADIUS + 3 * hull.voxel_size).float().mean() > 0.95
    assert hull.filled_fraction < 0.2
    x = hull.points[:, 0] - CENTER[0]
    right, left = hull.colors[x > 0.2], hull.colors[x < -0.2]
    assert (right[:, 0] > right[:, 2]).float().mean() > 0.9  # red on +x
    assert (left[:, 2] > left[:, 0]).float().mean() > 0.9  # blue on -x


def test_initial_gaussians_from_the_hull_are_capped_and_sized_by_neighbours():
    deformation = SplineDeformation(num_control=5, periodic=True)
    initial = initial_gaussians(
        ring_of_views(),
        SceneBounds(CENTER.double(), 1.0),
        deformation,
        max_points=200,
        hull_resolution=40,
        init_opacity=0.1,
        generator=torch.Generator().manual_seed(0),
    )
    tensors = initial.tensors
    assert initial.source == "visual hull"
    assert tensors["means"].shape == (200, 3)
    assert tensors["motion_means"].shape == (200, 5, 3)
    assert tensors["motion_quats"].shape == (200, 5, 4)
    assert torch.sigmoid(tensors["opacities"]) == pytest.approx(torch.full((200,), 0.1))
    scale = torch.exp(tensors["scales"][:, 0])
    assert 0.01 < float(scale.median()) < 0.2  # 200 points on a sphere of radius 0.5


def test_without_transparency_the_points_are_random_in_the_bounds():
    bounds = SceneBounds(CENTER.double(), 0.8)
    initial = initial_gaussians(
        ring_of_views(opaque_background=True),
        bounds,
        SplineDeformation(num_control=4, periodic=False),
        max_points=150,
        hull_resolution=24,
        init_opacity=0.2,
        generator=torch.Generator().manual_seed(1),
    )
    assert initial.source == (
        "random points in the bounds (the images have no alpha channel or are fully opaque: "
        "no masks for a visual hull, and the background is learnt as part of the subject)"
    )
    assert initial.tensors["means"].shape == (150, 3)
    assert float((initial.tensors["means"] - CENTER).norm(dim=-1).max()) <= 0.8 + 1e-6


def test_bounds_from_cameras_find_what_they_look_at():
    bounds = bounds_from_cameras(ring_of_views().cameras)
    torch.testing.assert_close(bounds.center.float(), CENTER, atol=1e-4, rtol=0)
    # The sphere every camera sees whole: distance 3 x sin(20 degrees).
    assert bounds.radius == pytest.approx(3.0 * math.sin(math.radians(20.0)), rel=1e-4)


def test_nearest_neighbour_distance_on_a_grid():
    axis = torch.arange(5.0)
    grid = torch.stack(torch.meshgrid(axis, axis, axis, indexing="ij"), dim=-1).reshape(-1, 3)
    distances = nearest_neighbour_distance(grid, chunk=16)
    assert torch.allclose(distances, torch.ones(len(grid)))


def test_masked_views_need_one_image_of_their_cameras_size_each():
    views = ring_of_views()
    expected = r"rgba must be \(16, 32, 32, 4\) for its cameras, got \(15, 32, 32, 4\)"
    with pytest.raises(ValueError, match=expected):
        MaskedViews(views.cameras, views.rgba[1:])
