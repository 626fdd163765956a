"""Reading depth maps of dataset frames: values, path safety and one clear error per bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from dataset_builders import frame, write_dataset
from PIL import Image

from avatar4d.data.dnerf import load_dataset, load_depth
from avatar4d.errors import InputError

UNIT = 0.001
COUNTS = np.array(
    [[0, 0, 0, 0, 0, 0, 0, 0], *[[0, 3000, 3500, 4000, 4500, 5000, 65535, 0]] * 6, [0] * 8],
    np.uint16,
)


def write_depth_png(path: Path, counts: np.ndarray = COUNTS) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(counts).save(path, format="PNG")


def dataset_with_depth(root: Path, top_level: dict | None = None) -> Path:
    """Two 8x8 train frames with depth maps depth/a.png (COUNTS) and depth/b.png (COUNTS // 2)."""
    frames = [
        frame("./train/a", 0, 0, 0.0, depth_file_path="./depth/a.png"),
        frame("./train/b", 90, 0, 0.5, depth_file_path="./depth/b.png"),
    ]
    top = {"camera_angle_x": 0.7, "depth_unit": UNIT} if top_level is None else top_level
    write_dataset(root, {"train": frames}, top_level=top)
    write_depth_png(root / "depth" / "a.png")
    write_depth_png(root / "depth" / "b.png", COUNTS // 2)
    return root


def test_depth_is_counts_times_the_unit_in_world_units(tmp_path):
    first, second = load_dataset(dataset_with_depth(tmp_path)).train
    assert first.depth_path == (tmp_path / "depth" / "a.png").resolve()
    assert first.depth_unit == UNIT
    depth = load_depth(first)
    assert depth.shape == (8, 8) and depth.dtype == np.float32
    np.testing.assert_allclose(depth[1], [0.0, 3.0, 3.5, 4.0, 4.5, 5.0, 65.535, 0.0], rtol=1e-6)
    assert not depth[0].any() and not depth[:, 0].any()
    np.testing.assert_allclose(load_depth(second)[1, 1], 1.5, rtol=1e-6)


def test_frames_without_depth_keys_have_none(tmp_path):
    write_dataset(tmp_path, {"train": [frame("./train/a", 0, 0, 0.0)]})
    (only,) = load_dataset(tmp_path).train
    assert only.depth_path is None and only.depth_unit is None
    with pytest.raises(InputError, match="no depth_file_path"):
        load_depth(only)


def test_depth_path_that_leaves_the_dataset_is_refused_when_reading(tmp_path):
    root = tmp_path / "data"
    frames = [frame("./train/a", 0, 0, 0.0, depth_file_path="../outside.png")]
    write_dataset(root, {"train": frames}, top_level={"camera_angle_x": 0.7, "depth_unit": UNIT})
    write_depth_png(tmp_path / "outside.png")
    with pytest.raises(InputError) as raised:
        load_dataset(root)
    assert raised.value.where == str(root / "transforms_train.json")
    assert "escapes the dataset folder" in raised.value.problem


def test_depth_symlink_pointing_outside_is_refused(tmp_path):
    root = dataset_with_depth(tmp_path / "data")
    write_depth_png(tmp_path / "outside.png")
    (root / "depth" / "a.png").unlink()
    (root / "depth" / "a.png").symlink_to(tmp_path / "outside.png")
    with pytest.raises(InputError, match="escapes the dataset folder"):
        load_dataset(root)


def first_frame(root: Path):
    return load_dataset(root).train[0]


def assert_names_depth_file(root: Path, match: str) -> None:
    with pytest.raises(InputError, match=match) as raised:
        load_depth(first_frame(root))
    assert raised.value.where == str((root / "depth" / "a.png").resolve())


def test_missing_depth_file(tmp_path):
    root = dataset_with_depth(tmp_path)
    (root / "depth" / "a.png").unlink()
    assert_names_depth_file(root, "not found")


def test_depth_file_that_is_not_an_image(tmp_path):
    root = dataset_with_depth(tmp_path)
    (root / "depth" / "a.png").write_bytes(b"\x89PNG but not really")
    assert_names_depth_file(root, "not a readable image")


def test_truncated_depth_file(tmp_path):
    root = dataset_with_depth(tmp_path)
    path = root / "depth" / "a.png"
    path.write_bytes(path.read_bytes()[:60])  # the header survives, the pixels do not
    assert_names_depth_file(root, "cannot decode depth map")


def test_depth_map_of_the_wrong_size(tmp_path):
    root = dataset_with_depth(tmp_path)
    write_depth_png(root / "depth" / "a.png", np.zeros((6, 8), np.uint16))
    assert_names_depth_file(root, "depth map is 8x6, its frame is 8x8")


@pytest.mark.parametrize(
    ("pixels", "mode"),
    [(np.zeros((8, 8), np.uint8), "L"), (np.zeros((8, 8, 3), np.uint8), "RGB")],
)
def test_depth_map_that_is_not_16_bit_single_channel(tmp_path, pixels, mode):
    root = dataset_with_depth(tmp_path)
    Image.fromarray(pixels).save(root / "depth" / "a.png", format="PNG")
    assert_names_depth_file(root, f"16-bit single-channel PNG, got mode {mode}")


@pytest.mark.parametrize(
    ("depth_unit", "match"),
    [
        (None, "no valid top-level depth_unit"),
        ("0.001", "no valid top-level depth_unit"),
        (True, "no valid top-level depth_unit"),
        (0, "finite number > 0, got 0.0"),
        (-0.5, "finite number > 0, got -0.5"),
        (float("inf"), "finite number > 0, got inf"),
    ],
)
def test_bad_depth_unit(tmp_path, depth_unit, match):
    top = {"camera_angle_x": 0.7}
    if depth_unit is not None:
        top["depth_unit"] = depth_unit
    root = dataset_with_depth(tmp_path, top_level=top)
    assert json.loads((root / "transforms_train.json").read_text()).get("depth_unit") == (
        depth_unit
    )
    assert_names_depth_file(root, match)
