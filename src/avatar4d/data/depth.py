"""Depth maps of dataset frames: 16-bit single-channel PNGs, ``count x depth_unit`` world units.

Count 0 means no surface. The encoding is written by ``avatar4d.capture.depth_maps``; see
docs/dataset_format.md.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from avatar4d.errors import InputError

if TYPE_CHECKING:
    from avatar4d.data.dataset import Frame

SIXTEEN_BIT_MODES = ("I;16", "I;16B", "I;16L")  # how Pillow opens a 16-bit grayscale PNG


def checked_depth_unit(frame: Frame) -> float:
    """The frame's ``depth_unit``; InputError naming its depth map unless finite and > 0."""
    where = frame.depth_path if frame.depth_path is not None else frame.image_path
    unit = frame.depth_unit
    if unit is None:
        raise InputError(
            where,
            f"{frame.source}: its transforms file has no valid top-level depth_unit "
            "(world units per depth map count)",
        )
    if not (math.isfinite(unit) and unit > 0.0):
        raise InputError(
            where, f"{frame.source}: depth_unit must be a finite number > 0, got {unit!r}"
        )
    return unit


def load_depth(frame: Frame) -> np.ndarray:
    """(H, W) float32 depth of the frame in world units along its camera's axis; 0 = no surface.

    InputError naming the depth map when the frame has none, the file is missing or not a
    readable image, is not 16-bit single channel, differs in size from the frame, or the
    transforms file gives no valid ``depth_unit``.
    """
    path = frame.depth_path
    if path is None:
        raise InputError(frame.image_path, f"{frame.source} has no depth_file_path")
    unit = checked_depth_unit(frame)
    counts = _decode_counts(frame, path)
    return counts.astype(np.float32) * np.float32(unit)


def _decode_counts(frame: Frame, path: Path) -> np.ndarray:
    from PIL import Image, UnidentifiedImageError

    try:
        image = Image.open(path)
    except FileNotFoundError:
        raise InputError(path, f"depth map of {frame.source} not found") from None
    except UnidentifiedImageError:
        raise InputError(path, "depth map is not a readable image") from None
    except (Image.DecompressionBombError, OSError, SyntaxError) as error:
        raise InputError(path, f"depth map is not a readable image ({error})") from None
    with image:
        if image.mode not in SIXTEEN_BIT_MODES:
            raise InputError(
                path, f"depth map must be a 16-bit single-channel PNG, got mode {image.mode}"
            )
        if image.size != (frame.width, frame.height):
            width, height = image.size
            raise InputError(
                path,
                f"depth map is {width}x{height}, its frame is {frame.width}x{frame.height}",
            )
        try:
            counts = np.asarray(image)
        except (OSError, SyntaxError, ValueError) as error:
            raise InputError(path, f"cannot decode depth map ({error})") from None
    if counts.dtype != np.uint16 or counts.shape != (frame.height, frame.width):
        raise InputError(path, f"depth map decodes to {counts.dtype} {counts.shape}")
    return counts
