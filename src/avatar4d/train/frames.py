"""Dataset frames resident on the training device: uint8 images, cameras, times.

Images are decoded once and kept as one (F, H, W, 4) uint8 tensor; a batch is converted to
float only when it is used. Train frames are grouped by time so a step can take several
cameras that saw the same moment.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import torch

from avatar4d.data.dataset import Frame
from avatar4d.data.dnerf import load_image_rgba
from avatar4d.errors import InputError
from avatar4d.raster.cameras import RasterCameras, cameras_from_opengl_c2w

DECODE_THREADS = 4


@dataclass(frozen=True)
class FrameStack:
    """Frames of one image size, stacked on a device."""

    rgba: torch.Tensor  # (F, H, W, 4) uint8, straight alpha
    c2w: torch.Tensor  # (F, 4, 4) float32, OpenGL camera-to-world
    fl_x: torch.Tensor  # (F,) float32 pixels
    fl_y: torch.Tensor
    cx: torch.Tensor
    cy: torch.Tensor
    times: list[float]  # per frame
    camera_indices: list[int | None]  # per frame: which physical camera took it
    width: int
    height: int

    def __len__(self) -> int:
        return self.rgba.shape[0]

    def cameras(self, index: torch.Tensor) -> RasterCameras:
        """The cameras of the frames at ``index`` (a 1D tensor on the stack's device)."""
        return cameras_from_opengl_c2w(
            self.c2w[index],
            self.fl_x[index],
            self.fl_y[index],
            self.cx[index],
            self.cy[index],
            self.width,
            self.height,
        )

    def images(self, index: torch.Tensor) -> torch.Tensor:
        """(B, H, W, 4) float RGBA in [0, 1] of the frames at ``index``."""
        return self.rgba[index].float() / 255.0


def frame_time(frame: Frame) -> float:
    if frame.time is None:
        raise InputError(frame.image_path, f"{frame.source} has no time; a 4D model needs times")
    return frame.time


def stack_frames(
    frames: list[Frame],
    device: torch.device,
    on_image: Callable[[], None] | None = None,
) -> FrameStack:
    """Decode every image (a few threads) and move everything to ``device``."""
    sizes = {(frame.width, frame.height) for frame in frames}
    if len(sizes) != 1:
        listed = ", ".join(f"{w}x{h}" for w, h in sorted(sizes))
        raise InputError(frames[0].image_path.parent, f"images differ in size ({listed})")
    width, height = sizes.pop()

    def decode(frame: Frame) -> np.ndarray:
        image = load_image_rgba(frame)
        if image.shape[:2] != (height, width):
            raise InputError(frame.image_path, f"image is not {width}x{height} as its frame says")
        if on_image is not None:
            on_image()
        return image

    with ThreadPoolExecutor(max_workers=DECODE_THREADS) as pool:
        images = list(pool.map(decode, frames))

    def column(name: str) -> torch.Tensor:
        values = [getattr(frame, name) for frame in frames]
        return torch.tensor(values, dtype=torch.float32, device=device)

    return FrameStack(
        rgba=torch.from_numpy(np.stack(images)).to(device),
        c2w=torch.tensor(np.stack([f.c2w for f in frames]), dtype=torch.float32, device=device),
        fl_x=column("fl_x"),
        fl_y=column("fl_y"),
        cx=column("cx"),
        cy=column("cy"),
        times=[frame_time(frame) for frame in frames],
        camera_indices=[frame.camera_index for frame in frames],
        width=width,
        height=height,
    )


def group_by_time(frames: list[Frame]) -> tuple[list[float], list[list[int]]]:
    """Distinct train times (sorted) and, for each, the indices of the frames taken then."""
    groups: dict[object, list[int]] = {}
    values: dict[object, float] = {}
    use_index = all(frame.time_index is not None for frame in frames)
    for i, frame in enumerate(frames):
        time = frame_time(frame)
        key = frame.time_index if use_index else round(time, 9)
        groups.setdefault(key, []).append(i)
        values.setdefault(key, time)
    keys = sorted(groups, key=lambda key: values[key])
    return [values[key] for key in keys], [groups[key] for key in keys]


def validation_frames(splits: dict[str, list[Frame]], count: int) -> list[Frame]:
    """The val split, else an evenly spread fixed sample of the test split (at most ``count``)."""
    frames = splits.get("val") or splits.get("test") or []
    if len(frames) <= count:
        return list(frames)
    picks = np.linspace(0, len(frames) - 1, count).round().astype(int)
    return [frames[i] for i in picks]
