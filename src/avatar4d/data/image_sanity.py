"""Image checks across all splits: one size everywhere, alpha not empty.

Every header is read (cheap); pixels are decoded for every image, or for a deterministic
evenly spaced sample when there are more than ``max_decoded`` images.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from avatar4d.data.dataset import Dataset, Frame
from avatar4d.data.images import decode_rgba, read_image_size
from avatar4d.errors import InputError

DEFAULT_MAX_DECODED = 400


@dataclass(frozen=True)
class ImageSanity:
    width: int
    height: int
    image_count: int  # distinct image files over all splits
    decoded_count: int
    sampled: bool  # True when only a sample was decoded
    files_with_alpha: int  # among the decoded images
    empty_alpha: list[str] = field(default_factory=list)  # decoded images fully transparent
    no_alpha: list[str] = field(default_factory=list)  # decoded images without an alpha channel


def _distinct_images(dataset: Dataset) -> list[Frame]:
    seen, frames = set(), []
    for frame in dataset.all_frames():
        if frame.image_path not in seen:
            seen.add(frame.image_path)
            frames.append(frame)
    return frames


def _relative(dataset: Dataset, frame: Frame) -> str:
    try:
        return str(frame.image_path.relative_to(dataset.root))
    except ValueError:
        return str(frame.image_path)


def check_images(
    dataset: Dataset,
    max_decoded: int = DEFAULT_MAX_DECODED,
    progress: Callable[[int, int], None] | None = None,
) -> ImageSanity:
    """Image sizes and alpha of the dataset; mixed sizes are bad input (InputError)."""
    frames = _distinct_images(dataset)
    first = frames[0]
    first_size = read_image_size(first.image_path)
    for frame in frames:
        size = read_image_size(frame.image_path)
        if size != (frame.width, frame.height):
            raise InputError(
                frame.image_path,
                f"image is {size[0]}x{size[1]} but {frame.source} says "
                f"{frame.width}x{frame.height}",
            )
        if size != first_size:
            raise InputError(
                frame.image_path,
                f"image is {size[0]}x{size[1]} but {_relative(dataset, first)} is "
                f"{first_size[0]}x{first_size[1]}: all images must have one size",
            )

    sampled = len(frames) > max_decoded
    if sampled:
        picks = np.unique(np.linspace(0, len(frames) - 1, max_decoded).round().astype(int))
        frames_to_decode = [frames[i] for i in picks]
    else:
        frames_to_decode = frames

    empty, without_alpha = [], []
    for done, frame in enumerate(frames_to_decode, start=1):
        rgba, has_alpha = decode_rgba(frame.image_path)
        if not has_alpha:
            without_alpha.append(_relative(dataset, frame))
        if not rgba[..., 3].any():
            empty.append(_relative(dataset, frame))
        if progress is not None:
            progress(done, len(frames_to_decode))

    return ImageSanity(
        width=first_size[0],
        height=first_size[1],
        image_count=len(frames),
        decoded_count=len(frames_to_decode),
        sampled=sampled,
        files_with_alpha=len(frames_to_decode) - len(without_alpha),
        empty_alpha=empty,
        no_alpha=without_alpha,
    )
