"""Dataset frames resident on the training device: uint8 images, depth maps, cameras, times.

Images are decoded once and kept as one (F, H, W, 4) uint8 tensor; a batch is converted to
float only when it is used. Depth maps, when every frame has one, are one (F, H, W) float32
tensor in world units (0 = no surface). Train frames are grouped by time so a step can take several
cameras that saw the same moment.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from avatar4d.data.dataset import Frame
from avatar4d.data.dnerf import load_depth, load_image_rgba
from avatar4d.data.image_limits import check_decoded_fits, check_header_size, memory_bytes
from avatar4d.errors import InputError
from avatar4d.raster.cameras import Cameras

DECODE_THREADS = 4
# The frames share the GPU with the model, its optimiser state and the rasteriser's buffers.
FRAMES_SHARE_OF_FREE_MEMORY = 0.75


@dataclass(frozen=True)
class FrameStack:
    """Frames of one image size, stacked on a device."""

    rgba: torch.Tensor  # (F, H, W, 4) uint8, straight alpha
    cameras: Cameras  # (F) float32, on the same device
    times: list[float]  # per frame
    camera_indices: list[int | None]  # per frame: which physical camera took it
    depth: torch.Tensor | None = None  # (F, H, W) float32 world units, 0 = no surface

    def __len__(self) -> int:
        return self.rgba.shape[0]

    def images(self, index: torch.Tensor) -> torch.Tensor:
        """(B, H, W, 4) float RGBA in [0, 1] of the frames at ``index``."""
        return self.rgba[index].float() / 255.0

    def depths(self, index: torch.Tensor) -> torch.Tensor | None:
        """(B, H, W, 1) float32 depth in world units of the frames at ``index``; None without."""
        if self.depth is None:
            return None
        return self.depth[index].unsqueeze(-1)


def frame_time(frame: Frame) -> float:
    if frame.time is None:
        raise InputError(frame.image_path, f"{frame.source} has no time; a 4D model needs times")
    return frame.time


def stack_frames(
    frames: list[Frame],
    device: torch.device,
    on_image: Callable[[], None] | None = None,
) -> FrameStack:
    """Decode every image (a few threads) and move everything to ``device``.

    Depth maps are loaded too when every frame has one; only some having one is an InputError
    naming the folder.
    """
    sizes = {(frame.width, frame.height) for frame in frames}
    if len(sizes) != 1:
        listed = ", ".join(f"{w}x{h}" for w, h in sorted(sizes))
        raise InputError(frames[0].image_path.parent, f"images differ in size ({listed})")
    width, height = sizes.pop()
    with_depth = frames_have_depth(frames)
    if device.type == "cuda":
        free = torch.cuda.mem_get_info(device)[0]
        check_fits(len(frames), width, height, with_depth, device, free, frames[0].image_path)
    else:  # decoded, then stacked: twice the frames' bytes at the peak
        needed = 2 * frame_bytes(len(frames), width, height, with_depth)
        where = frames[0].image_path.parent
        check_decoded_fits(needed, len(frames), width, height, where, memory_bytes())

    def decode(frame: Frame) -> tuple[np.ndarray, np.ndarray | None]:
        check_header_size(frame.image_path, width, height)
        image = load_image_rgba(frame)
        if image.shape[:2] != (height, width):
            raise InputError(frame.image_path, f"image is not {width}x{height} as its frame says")
        depth = load_depth(frame) if with_depth else None  # load_depth checks its size
        if on_image is not None:
            on_image()
        return image, depth

    with ThreadPoolExecutor(max_workers=DECODE_THREADS) as pool:
        decoded = list(pool.map(decode, frames))
    images = [image for image, _ in decoded]
    depth = None
    if with_depth:
        depth = torch.from_numpy(np.stack([d for _, d in decoded if d is not None])).to(device)

    return FrameStack(
        rgba=torch.from_numpy(np.stack(images)).to(device),
        cameras=Cameras.from_frames(frames, device),
        times=[frame_time(frame) for frame in frames],
        camera_indices=[frame.camera_index for frame in frames],
        depth=depth,
    )


def frame_bytes(count: int, width: int, height: int, with_depth: bool) -> int:
    """Device memory of ``count`` stacked frames: RGBA uint8, plus float32 depth."""
    return count * width * height * (4 + (4 if with_depth else 0))


def check_fits(
    count: int,
    width: int,
    height: int,
    with_depth: bool,
    device: torch.device,
    free_bytes: int,
    where: Path,
) -> None:
    """InputError (naming the folder of ``where``, one of the frames' images) when the frames
    would take more than their share of the device's free memory: refused before decoding,
    not an out-of-memory error after it."""
    needed = frame_bytes(count, width, height, with_depth)
    if needed > FRAMES_SHARE_OF_FREE_MEMORY * free_bytes:
        raise InputError(
            where.parent,
            f"the {count:,} frames at {width}x{height} need {needed / 1e9:.1f} GB on {device}, "
            f"which has {free_bytes / 1e9:.1f} GB free (at most "
            f"{FRAMES_SHARE_OF_FREE_MEMORY:.0%} of it is for the frames); train on a smaller "
            "grid (avatar4d grid --res) or with --device cpu",
        )


def frames_have_depth(frames: list[Frame]) -> bool:
    """True when every frame has a depth map, False when none has; InputError when some do."""
    having = sum(frame.depth_path is not None for frame in frames)
    if having in (0, len(frames)):
        return having > 0
    lacking = next(frame for frame in frames if frame.depth_path is None)
    raise InputError(
        frames[0].image_path.parent,
        f"{having} of {len(frames)} frames have a depth map but not all "
        f"({lacking.source} has none); give every frame a depth_file_path or none",
    )


def group_by_time(frames: list[Frame]) -> tuple[list[float], list[list[int]]]:
    """Distinct train times (sorted) and, for each, the indices of the frames taken then."""
    groups: dict[object, list[int]] = {}
    values: dict[object, float] = {}
    use_index = all(frame.time_index is not None for frame in frames)
    for i, frame in enumerate(frames):
        time = frame_time(frame)
        key = frame.time_index if use_index else round(time, 9)
        groups.setdefault(key, []).append(i)
        values.setdefault(key, time)
    keys = sorted(groups, key=lambda key: values[key])
    return [values[key] for key in keys], [groups[key] for key in keys]


def validation_frames(splits: dict[str, list[Frame]], count: int) -> list[Frame]:
    """The val split, else an evenly spread fixed sample of the test split (at most ``count``)."""
    frames = splits.get("val") or splits.get("test") or []
    if len(frames) <= count:
        return list(frames)
    picks = np.linspace(0, len(frames) - 1, count).round().astype(int)
    return [frames[i] for i in picks]
