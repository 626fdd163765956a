"""rasterize(): one entry point over the gsplat (CUDA) and reference (PyTorch) backends."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import torch

from avatar4d.raster.cameras import Cameras
from avatar4d.raster.gsplat_backend import rasterize_gsplat, rasterize_gsplat_per_camera
from avatar4d.raster.reference import rasterize_reference

Backend = Literal["auto", "gsplat", "reference"]


@dataclass
class RasterOutput:
    rgb: torch.Tensor  # (C, H, W, 3) composited over the background
    alpha: torch.Tensor  # (C, H, W, 1) accumulated opacity, 1 - final transmittance
    # gsplat-style meta for densification strategies: means2d (C, N, 2) in pixels (call
    # .retain_grad() before backward), radii (C, N, 2) int32 (0 = culled), depths, conics,
    # opacities, width, height, n_cameras, gaussian_ids (None: not packed).
    info: dict[str, Any]
    # (C, H, W, 1) accumulated camera-space depth sum_i w_i z_i when asked for (else None);
    # the expected depth of a pixel is depth / alpha.
    depth: torch.Tensor | None = None

    def expected_depth(self, min_alpha: float = 1e-3) -> torch.Tensor:
        """(C, H, W, 1) alpha-normalised depth (0 where nothing was drawn)."""
        if self.depth is None:
            raise ValueError("rendered without depth (rasterize(..., with_depth=True))")
        return self.depth / self.alpha.clamp_min(min_alpha)


def _check_shapes(
    means: torch.Tensor,
    quats: torch.Tensor,
    scales: torch.Tensor,
    opacities: torch.Tensor,
    colors: torch.Tensor,
    background: torch.Tensor,
) -> None:
    count = means.shape[0]
    expected = {
        "means": (means, (count, 3)),
        "quats": (quats, (count, 4)),
        "scales": (scales, (count, 3)),
        "opacities": (opacities, (count,)),
        "colors": (colors, (count, 3)),
        "background": (background, (3,)),
    }
    for name, (tensor, shape) in expected.items():
        if tuple(tensor.shape) != shape:
            raise ValueError(f"{name} must have shape {shape}, got {tuple(tensor.shape)}")


def resolve_backend(backend: Backend, device: torch.device) -> Literal["gsplat", "reference"]:
    if backend == "auto":
        return "gsplat" if device.type == "cuda" else "reference"
    if backend not in ("gsplat", "reference"):
        raise ValueError(f"unknown rasteriser backend {backend!r}")
    return backend


def rasterize(
    means: torch.Tensor,
    quats: torch.Tensor,
    scales: torch.Tensor,
    opacities: torch.Tensor,
    colors: torch.Tensor,
    cameras: Cameras,
    background: torch.Tensor,
    backend: Backend = "auto",
    with_depth: bool = False,
) -> RasterOutput:
    """Render N Gaussians into C cameras.

    means (N, 3) world; quats (N, 4) w x y z, any norm; scales (N, 3) linear (already exp'd);
    opacities (N,) in [0, 1]; colors (N, 3) RGB; background (3,). "auto" picks gsplat when
    the tensors are on CUDA and the reference rasteriser otherwise. ``with_depth`` also
    renders the accumulated depth (``RasterOutput.depth``).
    """
    _check_shapes(means, quats, scales, opacities, colors, background)
    chosen = resolve_backend(backend, means.device)
    render = rasterize_gsplat if chosen == "gsplat" else rasterize_reference
    rgb, alpha, info = render(
        means, quats, scales, opacities, colors, cameras, background, with_depth
    )
    if not with_depth:
        return RasterOutput(rgb=rgb, alpha=alpha, info=info)
    return RasterOutput(rgb=rgb[..., :-1], alpha=alpha, info=info, depth=rgb[..., -1:])


def rasterize_per_camera(
    means: torch.Tensor,
    quats: torch.Tensor,
    scales: torch.Tensor,
    opacities: torch.Tensor,
    colors: torch.Tensor,
    cameras: Cameras,
    background: torch.Tensor,
    backend: Backend = "auto",
) -> RasterOutput:
    """Render C frames, camera c seeing its own Gaussians: every Gaussian tensor has a
    leading (C,) axis (e.g. the Gaussians at C different times). gsplat renders them in one
    call; the reference renders one camera at a time. ``info`` is empty (not for training).
    """
    count = len(cameras)
    if means.dim() != 3 or means.shape[0] != count:
        raise ValueError(f"means must be ({count}, N, 3) for {count} cameras")
    leading = {tuple(t.shape[:1]) for t in (means, quats, scales, opacities, colors)}
    if leading != {(count,)}:
        raise ValueError(f"every Gaussian tensor needs a leading axis of {count} (one per camera)")
    _check_shapes(means[0], quats[0], scales[0], opacities[0], colors[0], background)
    chosen = resolve_backend(backend, means.device)
    if chosen == "gsplat":
        rgb, alpha = rasterize_gsplat_per_camera(
            means, quats, scales, opacities, colors, cameras, background
        )
        return RasterOutput(rgb=rgb, alpha=alpha, info={})
    frames = [
        rasterize_reference(
            means[c],
            quats[c],
            scales[c],
            opacities[c],
            colors[c],
            cameras[c],
            background,
        )
        for c in range(count)
    ]
    return RasterOutput(
        rgb=torch.cat([rgb for rgb, _, _ in frames]),
        alpha=torch.cat([alpha for _, alpha, _ in frames]),
        info={},
    )
