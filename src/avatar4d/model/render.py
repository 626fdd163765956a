"""Render posed Gaussians through the rasteriser (gsplat on CUDA, the reference on CPU)."""

from __future__ import annotations

import torch

from avatar4d.model.deformation import GaussiansAtTime
from avatar4d.raster.api import Backend, RasterOutput, rasterize
from avatar4d.raster.cameras import Cameras


def render_gaussians(
    gaussians: GaussiansAtTime,
    cameras: Cameras,
    background: torch.Tensor,
    backend: Backend = "auto",
    with_depth: bool = False,
) -> RasterOutput:
    return rasterize(
        gaussians.means,
        gaussians.quats,
        gaussians.scales,
        gaussians.opacities,
        gaussians.colors,
        cameras,
        background,
        backend=backend,
        with_depth=with_depth,
    )
