"""The initialisation time is the medoid pose: the one whose silhouettes differ least."""

from __future__ import annotations

import torch

from avatar4d.raster.cameras import Cameras
from avatar4d.train.anchor_time import representative_time
from avatar4d.train.frames import FrameStack


def stack_of_squares(offsets_by_time: list[int], cameras: list[int | None]) -> FrameStack:
    """One frame per (time, camera): a 6-pixel square shifted right by the time's offset."""
    frames = []
    for offset in offsets_by_time:
        for _ in cameras:
            rgba = torch.zeros(32, 32, 4, dtype=torch.uint8)
            rgba[10:16, 4 + offset : 10 + offset, 3] = 255
            frames.append(rgba)
    count = len(frames)
    values = torch.ones(count)
    return FrameStack(
        rgba=torch.stack(frames),
        cameras=Cameras(torch.eye(4).repeat(count, 1, 1), values, values, values, values, 32, 32),
        times=[0.0] * count,
        camera_indices=cameras * len(offsets_by_time),
    )


def groups_of(times: int, cameras: int) -> list[torch.Tensor]:
    return [torch.arange(k * cameras, (k + 1) * cameras) for k in range(times)]


def test_the_pose_in_the_middle_of_the_motion_is_chosen():
    # The square rests at offset 12 for most of the clip and visits 0 once.
    offsets = [0, 12, 12, 13, 12, 11]
    stack = stack_of_squares(offsets, cameras=[0, 1, 2])
    assert representative_time(stack, groups_of(len(offsets), 3)) in (1, 2, 4)
    offsets = [0, 2, 4, 6, 8]  # a steady slide: the middle time
    stack = stack_of_squares(offsets, cameras=[0, 1])
    assert representative_time(stack, groups_of(len(offsets), 2)) == 2


def test_without_shared_cameras_the_time_with_most_frames_is_used():
    stack = stack_of_squares([0, 2, 4], cameras=[None])  # monocular: no camera identity
    groups = [torch.tensor([0]), torch.tensor([1, 2])]
    assert representative_time(stack, groups) == 1
