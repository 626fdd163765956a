"""One RGB or RGBA image to a PNG file, atomically."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from avatar4d.io.atomic import atomic_path


def check_rgb_frame(frame: np.ndarray) -> np.ndarray:
    """Return ``frame`` as a C-contiguous (H, W, 3) uint8 array, or raise ValueError."""
    frame = np.asarray(frame)
    if frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8:
        raise ValueError(f"expected an (H, W, 3) uint8 frame, got {frame.shape} {frame.dtype}")
    return np.ascontiguousarray(frame)


def write_png(path: str | Path, pixels: np.ndarray, force: bool = False) -> Path:
    """Write an (H, W, 3) RGB or (H, W, 4) straight-alpha RGBA uint8 image; an existing file
    is replaced only with ``force``."""
    from PIL import Image

    pixels = np.asarray(pixels)
    if not (pixels.ndim == 3 and pixels.shape[2] == 4 and pixels.dtype == np.uint8):
        pixels = check_rgb_frame(pixels)
    image = Image.fromarray(np.ascontiguousarray(pixels))  # RGB or RGBA, from the shape
    with atomic_path(path, force) as temp_path:
        image.save(temp_path, format="PNG")
    return Path(path)
