"""Image access for dataset frames: header-only size reads and RGBA decoding."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from avatar4d.data.image_limits import check_image_pixels
from avatar4d.errors import InputError

if TYPE_CHECKING:
    from avatar4d.data.dataset import Frame

# Refused before decoding: no dataset image is this large, and decoding one would exhaust memory.
MAX_IMAGE_SIDE = 32768


def _open(path: Path):
    from PIL import Image, UnidentifiedImageError

    # Pillow's own warning is off: the size is checked against our limits instead. Set for
    # the process, not in a catch_warnings block: frames are decoded on several threads, and
    # catch_warnings restores the filters of whichever thread entered it last.
    warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)
    try:
        return Image.open(path)
    except FileNotFoundError:
        raise InputError(path, "image file not found") from None
    except UnidentifiedImageError:
        raise InputError(path, "not a readable image (unknown or corrupt format)") from None
    except (Image.DecompressionBombError, OSError, SyntaxError) as error:
        raise InputError(path, f"not a readable image ({error})") from None


def _check_side_lengths(path: Path, width: int, height: int) -> None:
    if not (0 < width <= MAX_IMAGE_SIDE and 0 < height <= MAX_IMAGE_SIDE):
        raise InputError(path, f"image size {width}x{height} is outside 1..{MAX_IMAGE_SIDE} pixels")
    check_image_pixels(path, width, height)


def read_image_size(path: Path) -> tuple[int, int]:
    """(width, height) from the image header; the pixels are not decoded."""
    with _open(path) as image:
        width, height = image.size
    _check_side_lengths(path, width, height)
    return width, height


@dataclass(frozen=True)
class ImageHeader:
    format: str  # Pillow's name of the file format: "PNG", "JPEG", ...
    width: int
    height: int
    has_alpha: bool  # whether decoding gives alpha of the file's own (see decode_rgba)


def read_image_header(path: Path) -> ImageHeader:
    """Format, size and whether the image stores alpha, from the header only."""
    with _open(path) as image:
        header = ImageHeader(str(image.format), *image.size, _stores_alpha(image))
    _check_side_lengths(path, header.width, header.height)
    return header


SIXTEEN_BIT_GREY_MODES = ("I;16", "I;16B", "I;16L", "I")  # Pillow's modes for 16-bit grey PNGs


def _stores_alpha(image) -> bool:
    return image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info


def _sixteen_bit_grey_rgba(image) -> np.ndarray:
    """(H, W, 4) uint8 from 16-bit grey: 65535 is white (convert("RGBA") clips at 255)."""
    grey16 = np.asarray(image).astype(np.int64)
    rgba = np.empty((*grey16.shape, 4), dtype=np.uint8)
    rgba[..., :3] = np.rint(np.clip(grey16, 0, 65535) / 257.0).astype(np.uint8)[..., None]
    transparent = image.info.get("transparency")
    rgba[..., 3] = (
        255 if not isinstance(transparent, int) else np.where(grey16 == transparent, 0, 255)
    )
    return rgba


def decode_rgba(path: Path) -> tuple[np.ndarray, bool]:
    """(H, W, 4) uint8 pixels and whether the file stores alpha (if not, alpha is 255).

    Every PNG colour type is read at its own scale: grey, grey + alpha, palette (with a tRNS
    transparency chunk), RGB and RGBA, 8 or 16 bits (16-bit values are scaled by 255/65535).
    """
    from PIL import Image

    with _open(path) as image:
        _check_side_lengths(path, *image.size)
        has_alpha = _stores_alpha(image)
        if image.mode == "F":  # 32-bit float pixels: no PNG holds them, no scale is implied
            raise InputError(path, "32-bit float pixels cannot be read; save it as an 8-bit PNG")
        try:
            if image.mode in SIXTEEN_BIT_GREY_MODES:
                return _sixteen_bit_grey_rgba(image), has_alpha
            rgba = image.convert("RGBA")
        except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as error:
            raise InputError(path, f"cannot decode image ({error})") from None
    return np.asarray(rgba, dtype=np.uint8), has_alpha


def load_image_rgba_file(path: Path) -> np.ndarray:
    """Decode an image as (H, W, 4) uint8; images without alpha get alpha 255."""
    return decode_rgba(path)[0]


def load_image_rgba(frame: Frame) -> np.ndarray:
    """The frame's image as (H, W, 4) uint8, straight alpha (RGB images get alpha 255)."""
    return load_image_rgba_file(frame.image_path)
