"""Render a trained model along a camera path with a time per frame; time only the rendering."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from avatar4d.capture.camera import Camera
from avatar4d.raster.cameras import Cameras
from avatar4d.run.trained import TrainedModel


@dataclass
class RenderedFrames:
    frames: list[np.ndarray]  # (H, W, 3) uint8, composited on the background
    render_seconds: float  # rendering only (deformation included, encoding excluded)

    @property
    def frames_per_second(self) -> float:
        return len(self.frames) / self.render_seconds if self.render_seconds > 0 else float("inf")


def _synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _same_image_size(cameras: Sequence[Camera]) -> bool:
    return len({(camera.width, camera.height) for camera in cameras}) <= 1


def render_path(
    model: TrainedModel,
    cameras: Sequence[Camera],
    times: Sequence[float],
    background: Sequence[float] = (1.0, 1.0, 1.0),
    advance: Callable[[], None] | None = None,
    batch: int = 8,
) -> RenderedFrames:
    """One frame per (camera, time); frames stay on the device until the clock stops.

    Up to ``batch`` consecutive frames of one image size are posed and rasterised together
    (one gsplat call on a GPU), which removes most of the per-frame overhead.
    """
    if len(cameras) != len(times):
        raise ValueError(f"{len(cameras)} cameras but {len(times)} times")
    if batch < 1:
        raise ValueError(f"batch must be at least 1, got {batch}")
    device = model.device
    background_tensor = torch.tensor(background, dtype=torch.float32, device=device)
    on_device = []
    _synchronize(device)
    started = time.perf_counter()
    with torch.no_grad():
        for start in range(0, len(cameras), batch):
            group = cameras[start : start + batch]
            group_times = [float(t) for t in times[start : start + batch]]
            if not _same_image_size(group):
                for camera, t in zip(group, group_times, strict=True):
                    on_device.append(_render_group(model, [camera], [t], background_tensor)[0])
            else:
                on_device.extend(_render_group(model, group, group_times, background_tensor))
            if advance is not None:
                for _ in group:
                    advance()
    _synchronize(device)
    seconds = time.perf_counter() - started
    return RenderedFrames([frame.cpu().numpy() for frame in on_device], seconds)


def _render_group(
    model: TrainedModel,
    cameras: Sequence[Camera],
    times: list[float],
    background: torch.Tensor,
) -> torch.Tensor:
    """(G, H, W, 3) uint8 frames of cameras of one image size, each at its own time."""
    out = model.render_times(Cameras.from_frames(cameras), times, background=background)
    return (out.rgb.clamp(0.0, 1.0) * 255.0 + 0.5).to(torch.uint8)
