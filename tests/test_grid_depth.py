"""Depth maps of a grid's train frames: files, JSON keys, encoding and the round trip."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from test_grid_writer import TINY, SlidingQuadAsset, write_tiny

from avatar4d.capture.camera import Camera
from avatar4d.capture.depth_maps import MAX_COUNT, depth_counts, depth_unit_for
from avatar4d.capture.rig import camera_distance
from avatar4d.data.dnerf import load_dataset, load_depth

# The sliding square reaches this far from the centre (see test_grid_writer).
RADIUS = float(np.hypot(0.5 + 0.25 * 1.5, 0.5))
DISTANCE = camera_distance(RADIUS, TINY.fov_y_deg, TINY.sphere_fraction)


@pytest.fixture(scope="module")
def grid(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("depth_grid")
    source = folder / "sliding.glb"
    source.write_bytes(b"not read by the fake")
    out = folder / "grid"
    summary = write_tiny(SlidingQuadAsset(path=source), out)
    assert summary.depth_unit == pytest.approx((DISTANCE + RADIUS) * 1.05 / MAX_COUNT, rel=1e-9)
    return out


def transforms(grid: Path, split: str) -> dict:
    return json.loads((grid / f"transforms_{split}.json").read_text(encoding="utf-8"))


def test_train_frames_name_a_16_bit_depth_map_each(grid):
    train = transforms(grid, "train")
    assert train["depth_unit"] == pytest.approx((DISTANCE + RADIUS) * 1.05 / MAX_COUNT, rel=1e-9)
    paths = [frame["depth_file_path"] for frame in train["frames"]]
    assert paths == [
        "./depth/train/c00_t000.png",
        "./depth/train/c00_t001.png",
        "./depth/train/c01_t000.png",
        "./depth/train/c01_t001.png",
    ]
    for frame in train["frames"]:
        assert frame["depth_file_path"] == f"./depth/{frame['file_path'][2:]}.png"
        with Image.open(grid / frame["depth_file_path"]) as image:
            assert (image.format, image.mode, image.size) == ("PNG", "I;16", (24, 24))
    # Test frames have none, and no other depth map is written.
    for split in ("val", "test"):
        document = transforms(grid, split)
        assert "depth_unit" not in document
        assert not any("depth_file_path" in frame for frame in document["frames"])
    assert sorted(p.relative_to(grid).as_posix() for p in (grid / "depth").rglob("*")) == [
        "depth/train",
        *(path[2:] for path in paths),
    ]


def test_depth_round_trips_through_the_loader(grid):
    dataset = load_dataset(grid)
    unit = transforms(grid, "train")["depth_unit"]
    for frame in dataset.train:
        assert frame.depth_unit == unit
        assert frame.depth_path == (grid / "depth" / "train" / frame.image_path.name).resolve()
        depth = load_depth(frame)
        assert depth.shape == (24, 24) and depth.dtype == np.float32
        counts = np.asarray(Image.open(frame.depth_path)).astype(np.float64)
        np.testing.assert_allclose(depth, counts * unit, rtol=1e-6)
        alpha = np.asarray(Image.open(frame.image_path))[..., 3]
        assert ((depth > 0) == (alpha > 0)).all(), "depth exactly where the image has coverage"
        assert depth.max() < DISTANCE + RADIUS
        assert depth[depth > 0].min() > DISTANCE - RADIUS
    assert all(frame.depth_path is None for frame in dataset.splits["test"])
    # At t = 0 the square is centred on the bounds centre, which the camera looks at: the four
    # pixels around the image centre see it at the camera distance.
    first = load_depth(dataset.train[0])
    assert first[11:13, 11:13].mean() == pytest.approx(DISTANCE, rel=1e-3)


def test_counts_round_clip_and_keep_zero_for_no_surface():
    depth = np.array([[0.0, -1.0, np.nan, 1e-9], [1.0, 1.2344, 1e9, 65.535]])
    counts = depth_counts(depth, 1e-3)
    assert counts.dtype == np.uint16
    np.testing.assert_array_equal(counts, [[0, 0, 0, 1], [1000, 1234, MAX_COUNT, MAX_COUNT]])


def test_depth_unit_covers_the_farthest_camera_plus_the_radius():
    def camera_at(position) -> Camera:
        c2w = np.eye(4)
        c2w[:3, 3] = position
        return Camera(c2w=c2w, width=8, height=8, fl_x=8.0, fl_y=8.0, cx=4.0, cy=4.0)

    cameras = [camera_at([1.0, 3.0, 0.0]), camera_at([1.0, 0.0, 5.0])]
    unit = depth_unit_for(cameras, np.array([1.0, 0.0, 0.0]), 0.5)
    assert unit == pytest.approx(5.5 * 1.05 / 65535)
