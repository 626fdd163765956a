"""Pinhole camera in the OpenGL / Blender convention (camera looks down -Z, +Y up)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np


class PinholeLike(Protocol):
    """One camera's values as the torch-free layers hold them: a ``Camera``, or a dataset frame
    (``avatar4d.data.dataset.Frame``). ``avatar4d.raster.cameras.Cameras`` batches them."""

    c2w: np.ndarray  # (4, 4) camera-to-world, OpenGL convention
    fl_x: float
    fl_y: float
    cx: float
    cy: float
    width: int
    height: int


@dataclass(frozen=True)
class Camera:
    c2w: np.ndarray  # (4, 4) float64 camera-to-world, OpenGL convention
    width: int
    height: int
    fl_x: float  # focal length in pixels
    fl_y: float
    cx: float  # principal point in pixels, from the top-left corner of the image
    cy: float
    index: int = 0  # unique within a dataset: train cameras first, then novel ones
    azimuth_deg: float = 0.0
    elevation_deg: float = 0.0

    @property
    def position(self) -> np.ndarray:
        return self.c2w[:3, 3]

    @property
    def camera_angle_x(self) -> float:
        """Horizontal field of view in radians (the D-NeRF ``camera_angle_x``)."""
        return float(2.0 * np.arctan(0.5 * self.width / self.fl_x))
