"""Cameras as the rasterisers take them: OpenCV world-to-camera matrices plus intrinsics.

Datasets store camera-to-world matrices in the OpenGL / Blender convention (the camera
looks down -Z, +Y is up). gsplat, and therefore both backends here, use the OpenCV
convention (x right, y down, z forward), so the camera's y and z axes are flipped before
the matrix is inverted.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

Intrinsic = float | torch.Tensor  # one value for every camera, or one per camera (C,)


@dataclass(frozen=True)
class RasterCameras:
    viewmats: torch.Tensor  # (C, 4, 4) world-to-camera, OpenCV convention
    Ks: torch.Tensor  # (C, 3, 3) pinhole intrinsics in pixels
    width: int
    height: int

    def __post_init__(self) -> None:
        count = self.viewmats.shape[0]
        if self.viewmats.shape != (count, 4, 4):
            raise ValueError(f"viewmats must be (C, 4, 4), got {tuple(self.viewmats.shape)}")
        if self.Ks.shape != (count, 3, 3):
            raise ValueError(f"Ks must be ({count}, 3, 3), got {tuple(self.Ks.shape)}")
        if self.width <= 0 or self.height <= 0:
            raise ValueError(f"image size must be positive, got {self.width}x{self.height}")

    @property
    def count(self) -> int:
        return self.viewmats.shape[0]

    def to(self, device: torch.device | str, dtype: torch.dtype | None = None) -> RasterCameras:
        return RasterCameras(
            viewmats=self.viewmats.to(device=device, dtype=dtype),
            Ks=self.Ks.to(device=device, dtype=dtype),
            width=self.width,
            height=self.height,
        )


def _per_camera(value: Intrinsic, count: int, like: torch.Tensor) -> torch.Tensor:
    tensor = torch.as_tensor(value, dtype=like.dtype, device=like.device)
    return tensor.expand(count) if tensor.dim() == 0 else tensor.reshape(count)


def intrinsics_matrices(
    fl_x: Intrinsic, fl_y: Intrinsic, cx: Intrinsic, cy: Intrinsic, count: int, like: torch.Tensor
) -> torch.Tensor:
    """(C, 3, 3) pinhole matrices [[fx, 0, cx], [0, fy, cy], [0, 0, 1]]."""
    Ks = torch.zeros(count, 3, 3, dtype=like.dtype, device=like.device)
    Ks[:, 0, 0] = _per_camera(fl_x, count, like)
    Ks[:, 1, 1] = _per_camera(fl_y, count, like)
    Ks[:, 0, 2] = _per_camera(cx, count, like)
    Ks[:, 1, 2] = _per_camera(cy, count, like)
    Ks[:, 2, 2] = 1.0
    return Ks


def opengl_c2w_to_opencv_w2c(c2w: torch.Tensor) -> torch.Tensor:
    """(C, 4, 4) OpenGL camera-to-world -> (C, 4, 4) OpenCV world-to-camera.

    Neither step makes the host wait for a GPU (this runs at every training step): the Y and
    Z axes are flipped by negating columns, not by a matrix built on the host, and the inverse
    is ``inv_ex``, which skips ``inv``'s singularity check (a read of a GPU flag)."""
    flipped = torch.cat((c2w[..., :1], -c2w[..., 1:3], c2w[..., 3:]), dim=-1)
    return torch.linalg.inv_ex(flipped).inverse


def cameras_from_opengl_c2w(
    c2w: torch.Tensor,
    fl_x: Intrinsic,
    fl_y: Intrinsic,
    cx: Intrinsic,
    cy: Intrinsic,
    width: int,
    height: int,
) -> RasterCameras:
    """Cameras from dataset poses (OpenGL camera-to-world, (C, 4, 4) or (4, 4))."""
    if c2w.dim() == 2:
        c2w = c2w[None]
    if c2w.shape[1:] != (4, 4):
        raise ValueError(f"c2w must be (C, 4, 4), got {tuple(c2w.shape)}")
    if not c2w.is_floating_point():
        c2w = c2w.float()
    return RasterCameras(
        viewmats=opengl_c2w_to_opencv_w2c(c2w),
        Ks=intrinsics_matrices(fl_x, fl_y, cx, cy, c2w.shape[0], like=c2w),
        width=int(width),
        height=int(height),
    )
