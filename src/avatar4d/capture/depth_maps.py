"""Depth maps of a grid's train frames: 16-bit grayscale PNGs counting ``depth_unit`` steps.

A pixel stores ``round(depth / depth_unit)`` clipped to [1, 65535] where the surface covers it
and 0 where nothing does. ``depth_unit`` (world units per count) is one value per dataset,
chosen so that the farthest point of the bounding sphere seen from the farthest camera, plus a
5 % margin, still fits: (largest camera distance from the bounds centre + radius) x 1.05 / 65535.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np

from avatar4d.capture.camera import Camera

MAX_COUNT = 65535
RANGE_MARGIN = 1.05


def depth_unit_for(cameras: Iterable[Camera], center: np.ndarray, radius: float) -> float:
    """World units per count for depth maps seen from ``cameras`` of a sphere (center, radius)."""
    center = np.asarray(center, dtype=np.float64).reshape(3)
    farthest = max(float(np.linalg.norm(camera.position - center)) for camera in cameras)
    return (farthest + float(radius)) * RANGE_MARGIN / MAX_COUNT


def depth_counts(depth: np.ndarray, depth_unit: float) -> np.ndarray:
    """(H, W) uint16 counts of a float depth map: 0 where depth <= 0 (no surface)."""
    depth = np.asarray(depth, dtype=np.float64)
    surface = depth > 0.0  # False for NaN too
    counts = np.clip(np.rint(np.where(surface, depth, 0.0) / depth_unit), 1, MAX_COUNT)
    return np.where(surface, counts, 0).astype(np.uint16)


def save_depth_png(depth: np.ndarray, depth_unit: float, path: Path, compress_level: int) -> None:
    """Encode ``depth`` (world units) and write it as a 16-bit grayscale PNG."""
    from PIL import Image

    image = Image.fromarray(depth_counts(depth, depth_unit))  # mode "I;16"
    image.save(path, format="PNG", compress_level=compress_level)
