"""Initial points from the data: the visual hull carved from the alpha masks at one time.

Voxel centres in the bounding sphere are kept when they project inside the mask
(alpha > threshold) of (almost) every camera that sees them. The surface shell of that
volume (occupied voxels next to an empty one) becomes the initial point set, coloured by the
cameras that face each surface point (outward normal from the occupancy gradient), so a
point on the front of the character does not take colour from a camera behind it.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from avatar4d.raster.cameras import Cameras

MIN_SEEING_CAMERAS = 2


@dataclass(frozen=True)
class MaskedViews:
    """Images at the carving time with their cameras, on the CPU."""

    cameras: Cameras  # (V)
    rgba: torch.Tensor  # (V, H, W, 4) uint8, straight alpha

    def __post_init__(self) -> None:
        cameras = self.cameras
        expected = (len(cameras), cameras.height, cameras.width, 4)
        got = tuple(self.rgba.shape)
        if got != expected:
            raise ValueError(f"rgba must be {expected} for its cameras, got {got}")

    def __len__(self) -> int:
        return len(self.cameras)


@dataclass(frozen=True)
class HullPoints:
    points: torch.Tensor  # (P, 3)
    colors: torch.Tensor  # (P, 3) RGB in [0, 1]
    voxel_size: float
    filled_fraction: float  # occupied share of the sphere: near 1 when the masks carve nothing


def project(points: torch.Tensor, cameras: Cameras, i: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Pixel (row, column) of each point in camera i, clamped to the image, and whether the
    camera sees it."""
    c2w = cameras.c2w[i].to(points)
    local = (points - c2w[:3, 3]) @ c2w[:3, :3]  # camera frame: +X right, +Y up, looks down -Z
    depth = -local[:, 2]
    safe_depth = depth.clamp_min(1e-6)
    u = float(cameras.fl_x[i]) * local[:, 0] / safe_depth + float(cameras.cx[i])
    v = -float(cameras.fl_y[i]) * local[:, 1] / safe_depth + float(cameras.cy[i])
    width, height = cameras.width, cameras.height
    column, row = torch.floor(u), torch.floor(v)
    seen = (depth > 0) & (column >= 0) & (column < width) & (row >= 0) & (row < height)
    pixel = torch.stack([row, column], dim=-1).long().clamp_min(0)
    pixel[:, 0].clamp_(max=height - 1)
    pixel[:, 1].clamp_(max=width - 1)
    return pixel, seen


def grid_in_sphere(center: torch.Tensor, radius: float, resolution: int) -> torch.Tensor:
    """(R, R, R, 3) voxel centres of the cube around the sphere."""
    steps = (torch.arange(resolution, dtype=torch.float32) + 0.5) / resolution * 2.0 - 1.0
    axes = torch.meshgrid(steps, steps, steps, indexing="ij")
    return center.float() + radius * torch.stack(axes, dim=-1)


def carve(
    views: MaskedViews,
    center: torch.Tensor,
    radius: float,
    resolution: int,
    alpha_threshold: float = 0.5,
    miss_fraction: float = 0.1,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Voxel centres (R, R, R, 3), occupancy and in-sphere masks (R, R, R) of the hull."""
    centres = grid_in_sphere(center, radius, resolution)
    flat = centres.reshape(-1, 3)
    in_sphere = (flat - center.float()).norm(dim=-1) <= radius
    seen_count = torch.zeros(len(flat), dtype=torch.int32)
    miss_count = torch.zeros(len(flat), dtype=torch.int32)
    for i in range(len(views)):
        pixel, seen = project(flat, views.cameras, i)
        alpha = views.rgba[i, pixel[:, 0], pixel[:, 1], 3].float() / 255.0
        seen_count += seen.int()
        miss_count += (seen & (alpha <= alpha_threshold)).int()
    allowed_misses = torch.floor(miss_fraction * seen_count.float()).int()
    occupied = in_sphere & (seen_count >= MIN_SEEING_CAMERAS) & (miss_count <= allowed_misses)
    return centres, occupied.reshape(centres.shape[:3]), in_sphere.reshape(centres.shape[:3])


def surface_shell(occupied: torch.Tensor) -> torch.Tensor:
    """Occupied voxels with at least one empty voxel among their 26 neighbours."""
    empty = (~occupied).float()[None, None]
    near_empty = F.max_pool3d(F.pad(empty, (1,) * 6, value=1.0), 3, stride=1)[0, 0] > 0
    return occupied & near_empty


def outward_normals(occupied: torch.Tensor) -> torch.Tensor:
    """(R, R, R, 3) unit vectors pointing out of the volume (minus the occupancy gradient)."""
    kernel = torch.ones(1, 1, 3, 3, 3) / 27.0
    smooth = F.conv3d(F.pad(occupied.float()[None, None], (1,) * 6), kernel)[0, 0]
    gradient = torch.stack(torch.gradient(smooth), dim=-1)
    return F.normalize(-gradient, dim=-1)


def facing_colors(points: torch.Tensor, normals: torch.Tensor, views: MaskedViews) -> torch.Tensor:
    """Colour of each point: the mean over cameras weighted by how squarely they face it."""
    total = torch.zeros(len(points), 3)
    weight_sum = torch.zeros(len(points))
    for i in range(len(views)):
        pixel, seen = project(points, views.cameras, i)
        rgba = views.rgba[i, pixel[:, 0], pixel[:, 1]].float() / 255.0
        to_camera = F.normalize(views.cameras.c2w[i, :3, 3].float() - points, dim=-1)
        facing = (normals * to_camera).sum(dim=-1).clamp_min(0.0) ** 2 + 1e-3
        weight = facing * seen.float() * rgba[:, 3]
        total += weight[:, None] * rgba[:, :3]
        weight_sum += weight
    mean_seen = total.sum(dim=0) / weight_sum.sum().clamp_min(1e-8)
    return torch.where(
        weight_sum[:, None] > 1e-6, total / weight_sum.clamp_min(1e-8)[:, None], mean_seen
    )


def visual_hull_points(
    views: MaskedViews,
    center: torch.Tensor,
    radius: float,
    resolution: int,
    generator: torch.Generator,
) -> HullPoints:
    """Surface points of the visual hull, jittered inside their voxels, with colours."""
    centres, occupied, in_sphere = carve(views, center, radius, resolution)
    shell = surface_shell(occupied)
    voxel_size = 2.0 * radius / resolution
    points = centres[shell]
    normals = outward_normals(occupied)[shell]
    jitter = (torch.rand(points.shape, generator=generator) - 0.5) * voxel_size
    colors = facing_colors(points, normals, views) if len(points) else points.new_zeros(0, 3)
    filled = float(occupied.sum()) / max(1.0, float(in_sphere.sum()))
    return HullPoints(points + jitter, colors, voxel_size, filled_fraction=filled)
