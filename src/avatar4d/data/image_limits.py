"""Dataset image sizes checked from the file headers before any pixel is decoded."""

from __future__ import annotations

import os
from pathlib import Path

from avatar4d.errors import InputError

MAX_DATASET_IMAGE_PIXELS = 8192 * 8192  # one image: 256 MiB once decoded to RGBA
FRAMES_SHARE_OF_MEMORY = 0.5  # of the machine's memory, for the frames decoded on the CPU


def check_image_pixels(path: Path, width: int, height: int) -> None:
    """Refuse an image above MAX_DATASET_IMAGE_PIXELS (sizes from its header)."""
    if width * height > MAX_DATASET_IMAGE_PIXELS:
        raise InputError(
            path,
            f"image is {width}x{height} = {width * height:,} pixels, more than the "
            f"{MAX_DATASET_IMAGE_PIXELS:,} allowed for a dataset image",
        )


def check_header_size(path: Path, width: int, height: int) -> None:
    """Refuse an image whose header disagrees with the size its frame declares, before the
    pixels are decoded (a frame may declare 800x800 for a far larger file)."""
    from avatar4d.data.images import read_image_size  # checks the pixel limit too

    actual = read_image_size(path)
    if actual != (width, height):
        raise InputError(
            path, f"image is {actual[0]}x{actual[1]}, not {width}x{height} as its frame says"
        )


def memory_bytes() -> int | None:
    """The machine's physical memory, or None where the system does not say."""
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def check_decoded_fits(
    needed: int, count: int, width: int, height: int, where: Path, memory: int | None
) -> None:
    """Refuse ``needed`` bytes of decoded frames above FRAMES_SHARE_OF_MEMORY of ``memory``."""
    if memory is None or needed <= FRAMES_SHARE_OF_MEMORY * memory:
        return
    raise InputError(
        where,
        f"the {count:,} frames at {width}x{height} need {needed / 1e9:.1f} GB decoded; this "
        f"machine has {memory / 1e9:.1f} GB of memory, at most {FRAMES_SHARE_OF_MEMORY:.0%} of "
        "it is for the frames; use a smaller grid (avatar4d grid --res)",
    )
