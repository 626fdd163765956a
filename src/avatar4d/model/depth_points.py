"""Initial points from depth maps: every covered pixel of every view, lifted to 3D.

Where the train frames carry depth (avatar4d grids do), the surface is known exactly at the
carving time, concavities included, which the visual hull cannot see. Only pixels the
surface covers fully are lifted (edge pixels hold a blend of surface and background colour).
"""

from __future__ import annotations

import torch

from avatar4d.model.visual_hull import MaskedView

FULL_COVERAGE = 250  # alpha (of 255) from which a pixel is taken as wholly covered


def lift_view(view: MaskedView) -> tuple[torch.Tensor, torch.Tensor]:
    """World points (P, 3) and RGB colours (P, 3) of the fully covered pixels of one view."""
    if view.depth is None:
        raise ValueError("the view has no depth map")
    depth = view.depth.float()
    covered = (view.rgba[..., 3] >= FULL_COVERAGE) & (depth > 0)
    rows, columns = torch.nonzero(covered, as_tuple=True)
    d = depth[rows, columns]
    # OpenGL camera frame: +X right, +Y up, looking down -Z; pixel centres at +0.5.
    x = (columns.float() + 0.5 - view.cx) / view.fl_x * d
    y = -(rows.float() + 0.5 - view.cy) / view.fl_y * d
    local = torch.stack([x, y, -d], dim=-1)
    c2w = view.c2w.float()
    points = local @ c2w[:3, :3].T + c2w[:3, 3]
    colors = view.rgba[rows, columns, :3].float() / 255.0
    return points, colors


def depth_surface_points(
    views: list[MaskedView], max_points: int, generator: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """Surface points and colours from every view's depth, at most ``max_points`` (a random
    subset, so the density follows how many views see a spot)."""
    lifted = [lift_view(view) for view in views]
    points = torch.cat([p for p, _ in lifted])
    colors = torch.cat([c for _, c in lifted])
    if len(points) > max_points:
        keep = torch.randperm(len(points), generator=generator)[:max_points]
        points, colors = points[keep], colors[keep]
    return points, colors
