"""Sizes of a camera path checked before any camera is made or any frame rendered.

Every rendered frame is held in memory until the video or PNGs are written, so the frame count
and image size are bounded alone and together. No real video comes near these limits.
"""

from __future__ import annotations

from avatar4d.errors import InputError

MAX_PATH_CAMERAS = 100_000  # frames in one path: about 55 minutes at 30 frames/s
MAX_RENDER_SIDE = 4096  # pixels, width or height: above 4K UHD (3840x2160)
MAX_PATH_PIXELS = 1 << 32  # all frames together: 4.3 G pixels, 12 GiB of RGB frames in memory


def check_path_size(where: str, cameras: int, pixels_per_frame: list[int] | int) -> None:
    """Refuse a path of ``cameras`` frames whose pixels (per frame, or one size for all) exceed
    the limits above; ``where`` names the path or option in the error."""
    if cameras > MAX_PATH_CAMERAS:
        raise InputError(
            where, f"{cameras:,} cameras, more than the {MAX_PATH_CAMERAS:,} a path may hold"
        )
    if isinstance(pixels_per_frame, int):
        total = cameras * pixels_per_frame
    else:
        total = sum(pixels_per_frame)
    if total > MAX_PATH_PIXELS:
        raise InputError(
            where,
            f"{cameras:,} frames of {total / cameras / 1e6:.1f} M pixels are {total / 1e9:.1f} G "
            f"pixels ({total * 3 / 2**30:.1f} GiB of frames held in memory), more than the "
            f"{MAX_PATH_PIXELS / 1e9:.1f} G allowed; use fewer frames or smaller images",
        )


def check_render_side(where: str, width: int, height: int) -> None:
    """Refuse an image side above MAX_RENDER_SIDE."""
    if width > MAX_RENDER_SIDE or height > MAX_RENDER_SIDE:
        raise InputError(
            where, f"{width}x{height} pixels, more than the {MAX_RENDER_SIDE} allowed per side"
        )
