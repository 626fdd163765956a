"""A grid loads the way the original D-NeRF data loader reads a dataset, with nothing extra.

That loader (and 4DGaussians / Deformable-3DGS, which copy its logic) only reads
``camera_angle_x``, and per frame ``file_path`` + ".png", ``transform_matrix`` and ``time``;
the focal length is 0.5 * W / tan(0.5 * camera_angle_x). This test reads a real grid with
exactly that logic and checks the result against our own reader and the rig.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
from PIL import Image

from avatar4d.capture.grid_writer import write_grid
from avatar4d.capture.rig_settings import RigSettings
from avatar4d.data.dnerf import load_dataset

SMALL = RigSettings(width=24, height=24, train_times=4, novel_times=2, samples=1)


def read_like_dnerf(root: Path, split: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    meta = json.loads((root / f"transforms_{split}.json").read_text())
    images, poses, times = [], [], []
    for frame in meta["frames"]:
        images.append(np.asarray(Image.open(root / (frame["file_path"] + ".png"))))
        poses.append(np.array(frame["transform_matrix"], dtype=np.float32))
        times.append(frame["time"])
    width = images[0].shape[1]
    focal = 0.5 * width / math.tan(0.5 * meta["camera_angle_x"])
    return np.stack(images), np.stack(poses), np.array(times), focal


def test_grid_reads_with_the_original_dnerf_logic(soldier_glb, tmp_path):
    root = tmp_path / "grid"
    write_grid(soldier_glb, "Walk", root, SMALL, progress=False)
    ours = load_dataset(root)
    for split in ("train", "val", "test"):
        images, poses, times, focal = read_like_dnerf(root, split)
        frames = ours.splits[split]
        assert images.shape == (len(frames), 24, 24, 4)  # RGBA, as D-NeRF's loader expects
        np.testing.assert_allclose(poses, np.stack([f.c2w for f in frames]), atol=1e-6)
        np.testing.assert_allclose(times, [f.time for f in frames])
        assert all(0.0 <= t < 1.0 for t in times)
        assert math.isclose(focal, frames[0].fl_x, rel_tol=1e-6)
    train_images, _, train_times, _ = read_like_dnerf(root, "train")
    assert len(train_images) == 24 * 4
    assert sorted(set(np.round(train_times, 6))) == [0.0, 0.25, 0.5, 0.75]
