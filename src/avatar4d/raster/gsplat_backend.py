"""The CUDA backend: gsplat.rasterization with the settings the reference backend matches."""

from __future__ import annotations

from typing import Any

import torch

from avatar4d.raster.cameras import Cameras
from avatar4d.raster.constants import EPS2D, FAR_PLANE, NEAR_PLANE

# What the reference backend matches: the classic (not anti-aliased) 3DGS rasterisation.
SETTINGS = {
    "near_plane": NEAR_PLANE,
    "far_plane": FAR_PLANE,
    "eps2d": EPS2D,
    "packed": False,
    "render_mode": "RGB",
    "rasterize_mode": "classic",
}


def rasterize_gsplat(
    means: torch.Tensor,
    quats: torch.Tensor,
    scales: torch.Tensor,
    opacities: torch.Tensor,
    colors: torch.Tensor,
    cameras: Cameras,
    background: torch.Tensor,
    with_depth: bool = False,
) -> tuple[torch.Tensor, torch.Tensor, dict[str, Any]]:
    """-> rgb (C, H, W, D), alpha (C, H, W, 1), gsplat's meta dict.

    With ``with_depth``, rgb has D + 1 channels, the last the accumulated depth ("RGB+D")."""
    # Imported here: gsplat compiles its CUDA code on first use and is an optional dependency.
    from gsplat import rasterization

    return rasterization(
        means=means,
        quats=quats,
        scales=scales,
        opacities=opacities,
        colors=colors,
        viewmats=cameras.viewmats,
        Ks=cameras.Ks,
        width=cameras.width,
        height=cameras.height,
        backgrounds=background.expand(len(cameras), colors.shape[-1]).contiguous(),
        **(SETTINGS | {"render_mode": "RGB+D"} if with_depth else SETTINGS),
    )


def rasterize_gsplat_per_camera(
    means: torch.Tensor,
    quats: torch.Tensor,
    scales: torch.Tensor,
    opacities: torch.Tensor,
    colors: torch.Tensor,
    cameras: Cameras,
    background: torch.Tensor,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Camera c sees its own Gaussians (index c of each (C, N, ...) tensor), in one call
    (gsplat's batch dimension). -> rgb (C, H, W, D), alpha (C, H, W, 1)."""
    from gsplat import rasterization

    count = len(cameras)
    rgb, alpha, _ = rasterization(
        means=means,
        quats=quats,
        scales=scales,
        opacities=opacities,
        colors=colors,
        viewmats=cameras.viewmats[:, None],
        Ks=cameras.Ks[:, None],
        width=cameras.width,
        height=cameras.height,
        backgrounds=background.expand(count, 1, colors.shape[-1]).contiguous(),
        **SETTINGS,
    )
    return rgb[:, 0], alpha[:, 0]
