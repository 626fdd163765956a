"""``Cameras``: a batch of pinhole cameras, from the dataset's frames to the rasterisers.

A batch holds what the datasets store: OpenGL / Blender camera-to-world matrices (the camera
looks down -Z, +Y is up) and intrinsics in pixels, for cameras of one image size. gsplat, and
therefore both backends here, want OpenCV world-to-camera matrices (x right, y down, z
forward) and 3 x 3 pinhole matrices: ``viewmats`` and ``Ks`` derive them, once per batch.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import torch

from avatar4d.capture.camera import PinholeLike
from avatar4d.raster.host_copy import to_device

INTRINSICS = ("fl_x", "fl_y", "cx", "cy")
DERIVED = ("viewmats", "Ks")
Index = int | slice | Sequence[int] | torch.Tensor


@dataclass(frozen=True)
class Cameras:
    """N cameras of one image size. Built with a (4, 4) ``c2w`` it holds one camera; an
    intrinsic given as a number (or a 0-d tensor) is every camera's. Intrinsics take the
    dtype and device of ``c2w``."""

    c2w: torch.Tensor  # (N, 4, 4) camera-to-world, OpenGL convention
    fl_x: torch.Tensor  # (N,) focal lengths in pixels
    fl_y: torch.Tensor
    cx: torch.Tensor  # (N,) principal point in pixels from the top-left corner of the image
    cy: torch.Tensor
    width: int
    height: int

    def __post_init__(self) -> None:
        c2w = torch.as_tensor(self.c2w)
        if not c2w.is_floating_point():
            c2w = c2w.float()
        if c2w.shape[-2:] != (4, 4) or c2w.dim() not in (2, 3):
            raise ValueError(f"c2w must be (N, 4, 4), got {tuple(c2w.shape)}")
        if c2w.dim() == 2:
            c2w = c2w[None]
        object.__setattr__(self, "c2w", c2w)
        for name in INTRINSICS:
            object.__setattr__(self, name, _per_camera(name, getattr(self, name), c2w))
        if self.width <= 0 or self.height <= 0:
            raise ValueError(f"image size must be positive, got {self.width}x{self.height}")
        object.__setattr__(self, "width", int(self.width))
        object.__setattr__(self, "height", int(self.height))

    @classmethod
    def from_frames(
        cls, frames: Sequence[PinholeLike], device: torch.device | str = "cpu"
    ) -> Cameras:
        """The cameras of dataset frames or camera-path cameras (float32), of one image size."""
        sizes = {(int(frame.width), int(frame.height)) for frame in frames}
        if len(sizes) != 1:
            raise ValueError(f"cameras of one image size needed, got {sorted(sizes)}")
        width, height = sizes.pop()
        c2w = torch.tensor(np.stack([f.c2w for f in frames]), dtype=torch.float32, device=device)
        intrinsics = {
            name: torch.tensor(
                [getattr(f, name) for f in frames], dtype=torch.float32, device=device
            )
            for name in INTRINSICS
        }
        return cls(c2w, **intrinsics, width=width, height=height)

    def __len__(self) -> int:
        return self.c2w.shape[0]

    def __getitem__(self, index: Index) -> Cameras:
        """The cameras at ``index`` (an int keeps the batch axis: one camera)."""
        if isinstance(index, int):
            if not -len(self) <= index < len(self):
                raise IndexError(f"camera {index} of {len(self)}")
            index = slice(index, index + 1 if index != -1 else None)
        return self._map(lambda tensor: tensor[index])

    def to(self, device: torch.device | str, dtype: torch.dtype | None = None) -> Cameras:
        return self._map(lambda tensor: to_device(tensor, device, dtype))

    def _map(self, change: Callable[[torch.Tensor], torch.Tensor]) -> Cameras:
        """The cameras with ``change`` applied to every tensor, the derived matrices included
        when they exist (they are derived once, not again for each part of a batch)."""
        changed = Cameras(
            change(self.c2w),
            *(change(getattr(self, name)) for name in INTRINSICS),
            width=self.width,
            height=self.height,
        )
        for name in DERIVED:
            if name in self.__dict__:
                changed.__dict__[name] = change(self.__dict__[name])
        return changed

    @cached_property
    def viewmats(self) -> torch.Tensor:
        """(N, 4, 4) world-to-camera matrices, OpenCV convention."""
        return opengl_c2w_to_opencv_w2c(self.c2w)

    @cached_property
    def Ks(self) -> torch.Tensor:
        """(N, 3, 3) pinhole matrices [[fx, 0, cx], [0, fy, cy], [0, 0, 1]]."""
        Ks = torch.zeros(len(self), 3, 3, dtype=self.c2w.dtype, device=self.c2w.device)
        Ks[:, 0, 0] = self.fl_x
        Ks[:, 1, 1] = self.fl_y
        Ks[:, 0, 2] = self.cx
        Ks[:, 1, 2] = self.cy
        Ks[:, 2, 2] = 1.0
        return Ks


def _per_camera(name: str, value: float | torch.Tensor, c2w: torch.Tensor) -> torch.Tensor:
    count = c2w.shape[0]
    tensor = torch.as_tensor(value, dtype=c2w.dtype, device=c2w.device)
    if tensor.dim() == 0:
        return tensor.expand(count)
    if tensor.shape != (count,):
        raise ValueError(f"{name} must be one number or ({count},), got {tuple(tensor.shape)}")
    return tensor


def opengl_c2w_to_opencv_w2c(c2w: torch.Tensor) -> torch.Tensor:
    """(C, 4, 4) OpenGL camera-to-world -> (C, 4, 4) OpenCV world-to-camera.

    Neither step makes the host wait for a GPU (this runs at every training step): the Y and
    Z axes are flipped by negating columns, not by a matrix built on the host, and the inverse
    is ``inv_ex``, which skips ``inv``'s singularity check (a read of a GPU flag)."""
    flipped = torch.cat((c2w[..., :1], -c2w[..., 1:3], c2w[..., 3:]), dim=-1)
    return torch.linalg.inv_ex(flipped).inverse
