"""EWA projection of 3D Gaussians into pinhole cameras, following gsplat 1.5.3's conventions.

Every output is (C, N, ...) over cameras x Gaussians. A Gaussian that is culled in a camera
(centre outside [near, far], opacity below the alpha threshold, or its box entirely off the
image) has radii (0, 0) and zero means2d / conics / depth there, as in gsplat.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from avatar4d.raster.cameras import Cameras
from avatar4d.raster.constants import ALPHA_THRESHOLD, EPS2D, FAR_PLANE, NEAR_PLANE
from avatar4d.raster.covariance import covariance_from_quat_scale

# gsplat caps the bounding box at 3.33 sigma; the opacity-aware bound below is always tighter.
MAX_EXTENT_SIGMAS = 3.33
# Limits the perspective Jacobian of centres far outside the image (fraction of the half-FOV).
JACOBIAN_GUARD_BAND = 0.3


@dataclass(frozen=True)
class ProjectedGaussians:
    means2d: torch.Tensor  # (C, N, 2) pixel coordinates; pixel (i, j) has centre (j+0.5, i+0.5)
    conics: torch.Tensor  # (C, N, 3) inverse 2D covariance as (a, b, c) of [[a, b], [b, c]]
    depths: torch.Tensor  # (C, N) camera-space z
    radii: torch.Tensor  # (C, N, 2) int32 half-extent of the bounding box in px; 0 = culled

    @property
    def visible(self) -> torch.Tensor:
        return (self.radii > 0).all(dim=-1)


def _clamp_for_jacobian(
    coord: torch.Tensor, z: torch.Tensor, focal: torch.Tensor, centre: torch.Tensor, size: int
) -> torch.Tensor:
    """z * clamp(coord / z) with gsplat's guard band, so J stays bounded far off-screen."""
    guard = JACOBIAN_GUARD_BAND * 0.5 * size / focal
    upper = (size - centre) / focal + guard
    lower = -(centre / focal + guard)
    return z * torch.clamp(coord / z, min=lower, max=upper)


def _bounding_radii(
    covar_xx: torch.Tensor, covar_yy: torch.Tensor, opacities: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Opacity-aware box: outside it the alpha is below ALPHA_THRESHOLD (gsplat 1.5.3)."""
    ratio = (opacities / ALPHA_THRESHOLD).clamp_min(1.0)
    extent = torch.sqrt(2.0 * torch.log(ratio)).clamp_max(MAX_EXTENT_SIGMAS)
    return torch.ceil(extent * covar_xx.sqrt()), torch.ceil(extent * covar_yy.sqrt())


def project_gaussians(
    means: torch.Tensor,
    quats: torch.Tensor,
    scales: torch.Tensor,
    opacities: torch.Tensor,
    cameras: Cameras,
    eps2d: float = EPS2D,
    near_plane: float = NEAR_PLANE,
    far_plane: float = FAR_PLANE,
) -> ProjectedGaussians:
    rotation = cameras.viewmats[:, None, :3, :3]  # (C, 1, 3, 3)
    translation = cameras.viewmats[:, None, :3, 3]  # (C, 1, 3)
    means_cam = (rotation @ means[None, :, :, None]).squeeze(-1) + translation  # (C, N, 3)
    covars_cam = rotation @ covariance_from_quat_scale(quats, scales)[None] @ rotation.mT

    x, y, z = means_cam.unbind(-1)
    in_depth_range = (z >= near_plane) & (z <= far_plane)
    z = torch.where(in_depth_range, z, torch.ones_like(z))  # keeps culled entries finite
    Ks = cameras.Ks
    fx, fy = Ks[:, 0, 0, None], Ks[:, 1, 1, None]
    cx, cy = Ks[:, 0, 2, None], Ks[:, 1, 2, None]

    tx = _clamp_for_jacobian(x, z, fx, cx, cameras.width)
    ty = _clamp_for_jacobian(y, z, fy, cy, cameras.height)
    zeros = torch.zeros_like(z)
    jacobian = torch.stack(
        [
            torch.stack([fx / z, zeros, -fx * tx / (z * z)], dim=-1),
            torch.stack([zeros, fy / z, -fy * ty / (z * z)], dim=-1),
        ],
        dim=-2,
    )  # (C, N, 2, 3)
    covars2d = jacobian @ covars_cam @ jacobian.mT
    covar_xx = covars2d[..., 0, 0] + eps2d
    covar_xy = covars2d[..., 0, 1]
    covar_yy = covars2d[..., 1, 1] + eps2d
    det = covar_xx * covar_yy - covar_xy * covar_xy
    means2d = torch.stack([fx * x / z + cx, fy * y / z + cy], dim=-1)

    with torch.no_grad():
        radius_x, radius_y = _bounding_radii(covar_xx, covar_yy, opacities[None])
        u, v = means2d.unbind(-1)
        on_image = (
            (u + radius_x > 0)
            & (u - radius_x < cameras.width)
            & (v + radius_y > 0)
            & (v - radius_y < cameras.height)
        )
        visible = (
            in_depth_range
            & (det > 0)
            & (opacities[None] >= ALPHA_THRESHOLD)
            & ((radius_x > 0) | (radius_y > 0))
            & on_image
        )
        radii = torch.stack([radius_x, radius_y], dim=-1) * visible[..., None]

    safe_det = torch.where(visible, det, torch.ones_like(det))
    conics = torch.stack([covar_yy, -covar_xy, covar_xx], dim=-1) / safe_det[..., None]
    return ProjectedGaussians(
        means2d=torch.where(visible[..., None], means2d, 0.0),
        conics=torch.where(visible[..., None], conics, 0.0),
        depths=torch.where(visible, means_cam[..., 2], 0.0),
        radii=radii.to(torch.int32),
    )
