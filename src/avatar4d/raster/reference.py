"""Pure-PyTorch rasteriser with gsplat 1.5.3's maths (classic mode, pinhole, packed=False).

Runs on any device and dtype, differentiable by autograd with respect to every input. Its
``info`` carries the same keys gsplat's does for its densification strategies; ``means2d`` is
the tensor the pixel weights are computed from, so ``info["means2d"].grad`` after backward is
the true image-plane gradient that ``DefaultStrategy`` reads.
"""

from __future__ import annotations

from typing import Any

import torch

from avatar4d.raster.cameras import Cameras
from avatar4d.raster.compositing import composite
from avatar4d.raster.constants import EPS2D, FAR_PLANE, NEAR_PLANE
from avatar4d.raster.projection import project_gaussians


def rasterize_reference(
    means: torch.Tensor,
    quats: torch.Tensor,
    scales: torch.Tensor,
    opacities: torch.Tensor,
    colors: torch.Tensor,
    cameras: Cameras,
    background: torch.Tensor,
    with_depth: bool = False,
) -> tuple[torch.Tensor, torch.Tensor, dict[str, Any]]:
    """-> rgb (C, H, W, D), alpha (C, H, W, 1), info (gsplat-style meta).

    With ``with_depth``, rgb has D + 1 channels, the last the accumulated depth (gsplat's
    "RGB+D")."""
    projected = project_gaussians(
        means, quats, scales, opacities, cameras, EPS2D, NEAR_PLANE, FAR_PLANE
    )
    rgb, alpha = composite(
        projected, opacities, colors, background, cameras.width, cameras.height, with_depth
    )
    info: dict[str, Any] = {
        "batch_ids": None,
        "camera_ids": None,
        "gaussian_ids": None,
        "radii": projected.radii,
        "means2d": projected.means2d,
        "depths": projected.depths,
        "conics": projected.conics,
        "opacities": opacities[None].expand(len(cameras), -1),
        "width": cameras.width,
        "height": cameras.height,
        "n_batches": 1,
        "n_cameras": len(cameras),
    }
    return rgb, alpha, info
