"""Render a trained model along a camera path with a time per frame; time only the rendering."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from avatar4d.capture.camera import Camera
from avatar4d.model.trained import TrainedModel


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


def render_path(
    model: TrainedModel,
    cameras: Sequence[Camera],
    times: Sequence[float],
    background: Sequence[float] = (1.0, 1.0, 1.0),
    advance: Callable[[], None] | None = None,
) -> RenderedFrames:
    """One frame per (camera, time); frames stay on the device until the clock stops."""
    if len(cameras) != len(times):
        raise ValueError(f"{len(cameras)} cameras but {len(times)} times")
    device = model.device
    background_tensor = torch.tensor(background, dtype=torch.float32, device=device)
    on_device = []
    _synchronize(device)
    started = time.perf_counter()
    with torch.no_grad():
        for camera, t in zip(cameras, times, strict=True):
            out = model.render(
                torch.as_tensor(camera.c2w[None], dtype=torch.float32),
                camera.fl_x,
                camera.fl_y,
                camera.cx,
                camera.cy,
                camera.width,
                camera.height,
                float(t),
                background=background_tensor,
            )
            on_device.append((out.rgb[0].clamp(0.0, 1.0) * 255.0 + 0.5).to(torch.uint8))
            if advance is not None:
                advance()
    _synchronize(device)
    seconds = time.perf_counter() - started
    return RenderedFrames([frame.cpu().numpy() for frame in on_device], seconds)
