"""Initial canonical Gaussians from the data itself (never a template).

Points: the visual hull's surface at one train time (see ``visual_hull``), or, when the
masks carve nothing usable (no transparency, inconsistent cameras), random points in the
bounding sphere. (Points lifted from the depth maps measured worse: docs/benchmarks.md.)
Scales: mean distance to the three nearest neighbours. Rotations identity, motion identity
(all offsets zero).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from avatar4d.model.deformation import Deformation
from avatar4d.model.gaussians import identity_quats, rgb_to_f_dc
from avatar4d.model.visual_hull import MaskedViews, visual_hull_points
from avatar4d.raster.cameras import Cameras

MIN_HULL_POINTS = 64
MAX_HULL_FILL = 0.9  # above this share of the sphere the masks did not carve (no transparency)
NEIGHBOURS_FOR_SCALE = 3
FALLBACK_COLOR = 0.5
RANDOM_POINTS = "random points in the bounds"
NO_TRANSPARENCY = (
    "the images have no alpha channel or are fully opaque: no masks for a visual hull, "
    "and the background is learnt as part of the subject"
)
MESH_SURFACE = "the character's mesh (at the anchor time)"


@dataclass(frozen=True)
class SceneBounds:
    center: torch.Tensor  # (3,) float64
    radius: float


@dataclass(frozen=True)
class InitialGaussians:
    tensors: dict[str, torch.Tensor]  # canonical + motion parameters, unwrapped
    source: str  # "visual hull" or "random points in the bounds", with why where known


def bounds_from_cameras(cameras: Cameras) -> SceneBounds:
    """The point nearest every optical axis, and the largest sphere there all cameras see whole."""
    origins = cameras.c2w[:, :3, 3].double()
    directions = -cameras.c2w[:, :3, 2].double()
    directions = directions / directions.norm(dim=-1, keepdim=True)
    # Least squares: sum_i (I - d_i d_i^T) (x - o_i) = 0.
    projectors = torch.eye(3, dtype=torch.float64) - directions[:, :, None] * directions[:, None]
    lhs = projectors.sum(dim=0)
    rhs = (projectors @ origins[:, :, None]).sum(dim=0)
    center = torch.linalg.lstsq(lhs, rhs).solution[:, 0]
    radii = []
    for i, origin in enumerate(origins):
        half_fov = min(
            math.atan(0.5 * cameras.width / float(cameras.fl_x[i])),
            math.atan(0.5 * cameras.height / float(cameras.fl_y[i])),
        )
        radii.append(float((center - origin).norm()) * math.sin(half_fov))
    return SceneBounds(center=center, radius=min(radii))


def nearest_neighbour_distance(points: torch.Tensor, chunk: int = 1024) -> torch.Tensor:
    """Mean distance of each point to its nearest neighbours (excluding itself)."""
    k = min(NEIGHBOURS_FOR_SCALE, len(points) - 1)
    if k < 1:
        return torch.ones(len(points), device=points.device)
    distances = []
    for start in range(0, len(points), chunk):
        block = torch.cdist(points[start : start + chunk], points)
        distances.append(block.topk(k + 1, largest=False).values[:, 1:].mean(dim=-1))
    return torch.cat(distances)


def random_points_in_sphere(
    count: int, bounds: SceneBounds, generator: torch.Generator
) -> torch.Tensor:
    direction = torch.nn.functional.normalize(torch.randn(count, 3, generator=generator), dim=-1)
    distance = bounds.radius * torch.rand(count, 1, generator=generator) ** (1.0 / 3.0)
    return bounds.center.float() + direction * distance


def mean_foreground_color(views: MaskedViews) -> torch.Tensor:
    rgba = views.rgba.reshape(-1, 4).float() / 255.0
    weight = rgba[:, 3:]
    if float(weight.sum()) <= 0:
        return torch.full((3,), FALLBACK_COLOR)
    return (rgba[:, :3] * weight).sum(dim=0) / weight.sum()


def _initial_points(
    views: MaskedViews,
    bounds: SceneBounds,
    max_points: int,
    hull_resolution: int,
    generator: torch.Generator,
) -> tuple[torch.Tensor, torch.Tensor, str]:
    """Points (P, 3), colours (P, 3) and their source, best source first."""
    hull = visual_hull_points(views, bounds.center, bounds.radius, hull_resolution, generator)
    if len(hull.points) >= MIN_HULL_POINTS and hull.filled_fraction <= MAX_HULL_FILL:
        points, colors = hull.points, hull.colors
        if len(points) > max_points:
            keep = torch.randperm(len(points), generator=generator)[:max_points]
            points, colors = points[keep], colors[keep]
        return points, colors, "visual hull"
    points = random_points_in_sphere(max_points, bounds, generator)
    colors = mean_foreground_color(views).expand(max_points, 3)
    if bool((views.rgba[..., 3] == 255).all()):
        return points, colors, f"{RANDOM_POINTS} ({NO_TRANSPARENCY})"
    return points, colors, RANDOM_POINTS


def initial_gaussians(
    views: MaskedViews,
    bounds: SceneBounds,
    deformation: Deformation,
    max_points: int,
    hull_resolution: int,
    init_opacity: float,
    generator: torch.Generator,
) -> InitialGaussians:
    surface = deformation.initial_points(max_points, generator)
    if surface is not None:
        points, source = surface, MESH_SURFACE
        colors = mean_foreground_color(views).expand(len(points), 3)
    else:
        points, colors, source = _initial_points(
            views, bounds, max_points, hull_resolution, generator
        )
    count = len(points)
    log_scales = torch.log(nearest_neighbour_distance(points).clamp_min(1e-7))
    tensors = {
        "means": points,
        "scales": log_scales[:, None].repeat(1, 3),
        "quats": identity_quats(count),
        "opacities": torch.full((count,), math.log(init_opacity / (1.0 - init_opacity))),
        "colors": rgb_to_f_dc(colors.clamp(0.0, 1.0)),
        **deformation.init_motion(points),
    }
    return InitialGaussians(tensors=tensors, source=source)
