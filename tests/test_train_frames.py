"""Frames stacked on the training device, with depth maps when every frame has one."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from dataset_builders import frame, write_dataset
from test_depth_loading import COUNTS, UNIT, dataset_with_depth

from avatar4d.data.dnerf import load_dataset
from avatar4d.errors import InputError
from avatar4d.train.frames import stack_frames

CPU = torch.device("cpu")


def test_stack_holds_depth_in_world_units_when_every_frame_has_it(tmp_path):
    frames = load_dataset(dataset_with_depth(tmp_path)).train
    loaded = []
    stack = stack_frames(frames, CPU, on_image=lambda: loaded.append(1))
    assert len(loaded) == 2
    assert stack.depth is not None
    assert stack.depth.shape == (2, 8, 8) and stack.depth.dtype == torch.float32
    expected = np.stack([COUNTS, COUNTS // 2]).astype(np.float64) * UNIT
    np.testing.assert_allclose(stack.depth.numpy(), expected, rtol=1e-6)
    batch = stack.depths(torch.tensor([1, 0, 1]))
    assert batch is not None and batch.shape == (3, 8, 8, 1)
    np.testing.assert_allclose(batch[0, 1, 1, 0].item(), 1.5, rtol=1e-6)  # frame 1
    np.testing.assert_allclose(batch[1, 1, 1, 0].item(), 3.0, rtol=1e-6)  # frame 0
    assert stack.images(torch.tensor([0])).shape == (1, 8, 8, 4)


def test_stack_without_depth_maps_has_none(tmp_path):
    write_dataset(tmp_path, {"train": [frame("./train/a", 0, 0, 0.0), frame("./train/b", 9, 0, 1)]})
    stack = stack_frames(load_dataset(tmp_path).train, CPU)
    assert stack.depth is None
    assert stack.depths(torch.tensor([0, 1])) is None
    assert stack.rgba.shape == (2, 8, 8, 4)


def test_only_some_frames_with_depth_is_an_error_naming_the_folder(tmp_path):
    root = dataset_with_depth(tmp_path)
    frames = load_dataset(root).train
    extra = frame("./train/c", 180, 0, 0.25)
    write_dataset(tmp_path / "plain", {"train": [extra]})
    plain = load_dataset(tmp_path / "plain").train
    with pytest.raises(InputError) as raised:
        stack_frames([*frames, *plain], CPU)
    assert raised.value.where == str(frames[0].image_path.parent)
    assert "2 of 3 frames have a depth map" in raised.value.problem


def test_a_bad_depth_map_fails_the_stack_naming_its_file(tmp_path):
    root = dataset_with_depth(tmp_path)
    (root / "depth" / "b.png").unlink()
    with pytest.raises(InputError) as raised:
        stack_frames(load_dataset(root).train, CPU)
    assert raised.value.where == str((root / "depth" / "b.png").resolve())
