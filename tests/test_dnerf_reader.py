"""The D-NeRF-style reader: key variants it accepts, and one clear error for each bad input."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from dataset_builders import FOV_X, frame, look_at, orbit, write_dataset, write_grid, write_image
from PIL import Image

from avatar4d.data.camera_identity import cluster_camera_poses
from avatar4d.data.dnerf import load_dataset, load_image_rgba
from avatar4d.errors import InputError


def small_grid(root: Path) -> Path:
    return write_grid(
        root, azimuths=4, elevations=(0.0, 30.0), times=4, novel_cameras=2, novel_times=2
    )


def test_reads_avatar4d_grid_layout(tmp_path):
    dataset = load_dataset(small_grid(tmp_path))
    assert list(dataset.splits) == ["train", "val", "test"]
    assert len(dataset.train) == 8 * 4
    assert dataset.scene is not None and dataset.bounds is not None
    assert not dataset.camera_index_derived

    first = dataset.train[0]
    assert first.image_path == (tmp_path / "train" / "c00_t000.png").resolve()
    assert first.c2w.shape == (4, 4) and first.c2w.dtype == np.float64
    assert (first.width, first.height) == (8, 8)  # from the image header: no w/h in the file
    assert first.fl_x == pytest.approx(4.0 / math.tan(FOV_X / 2))
    assert first.fl_y == pytest.approx(first.fl_x)
    assert (first.cx, first.cy) == (4.0, 4.0)
    assert (first.camera_index, first.time_index, first.time, first.subset) == (0, 0, 0.0, None)
    subsets = {f.subset for f in dataset.splits["test"]}
    assert subsets == {"novel_view", "novel_time", "novel_both"}


def test_full_intrinsics_top_level_and_per_frame_override(tmp_path):
    top = {"fl_x": 10.0, "fl_y": 11.0, "cx": 3.5, "cy": 2.5, "w": 8, "h": 6}
    frames = [frame("./train/a", 0, 0, 0.0), frame("./train/b", 90, 0, 0.5, fl_x=20.0, cx=4.5)]
    write_dataset(tmp_path, {"train": frames}, top_level=top, size=(8, 6))
    a, b = load_dataset(tmp_path).train
    assert (a.width, a.height, a.fl_x, a.fl_y, a.cx, a.cy) == (8, 6, 10.0, 11.0, 3.5, 2.5)
    assert (b.fl_x, b.fl_y, b.cx, b.cy) == (20.0, 11.0, 4.5, 2.5)


def test_camera_angle_y_alone_gives_square_pixels(tmp_path):
    write_dataset(
        tmp_path, {"train": [frame("./train/a", 0, 0)]}, {"camera_angle_y": 1.0}, size=(8, 6)
    )
    (only,) = load_dataset(tmp_path).train
    assert only.fl_y == pytest.approx(3.0 / math.tan(0.5))
    assert only.fl_x == pytest.approx(only.fl_y)
    assert (only.width, only.height) == (8, 6)


def test_file_path_with_and_without_extension_and_jpeg(tmp_path):
    frames = [frame("./train/plain", 0, 0), frame("./train/dotted.png", 90, 0)]
    frames.append(frame("train/photo.jpg", 180, 0))
    write_dataset(tmp_path, {"train": frames}, write_images=False)
    write_image(tmp_path / "train" / "plain.png")
    write_image(tmp_path / "train" / "dotted.png")
    Image.new("RGB", (8, 8), (10, 200, 30)).save(tmp_path / "train" / "photo.jpg")
    names = [f.image_path.name for f in load_dataset(tmp_path).train]
    assert names == ["plain.png", "dotted.png", "photo.jpg"]


def test_rgb_image_gets_opaque_alpha_and_rgba_keeps_its_alpha(tmp_path):
    write_dataset(tmp_path, {"train": [frame("./train/rgb", 0, 0), frame("./train/rgba", 90, 0)]})
    pixels = np.zeros((8, 8, 3), dtype=np.uint8)
    pixels[..., 1] = 77
    Image.fromarray(pixels, "RGB").save(tmp_path / "train" / "rgb.png")
    rgb_frame, rgba_frame = load_dataset(tmp_path).train

    rgba = load_image_rgba(rgb_frame)
    assert rgba.shape == (8, 8, 4) and rgba.dtype == np.uint8
    assert (rgba[..., 3] == 255).all() and (rgba[..., 1] == 77).all()
    alpha = load_image_rgba(rgba_frame)[..., 3]
    assert alpha[0, 0] == 0 and alpha[4, 4] == 255


def test_no_time_key_and_missing_val_and_test(tmp_path):
    write_dataset(tmp_path, {"train": [frame("./train/a", 0, 0), frame("./train/b", 90, 0)]})
    dataset = load_dataset(tmp_path)
    assert list(dataset.splits) == ["train"]
    assert [f.time for f in dataset.train] == [None, None]
    assert dataset.scene is None and dataset.bounds is None


def test_empty_test_split_counts_as_absent_but_empty_train_is_refused(tmp_path):
    write_dataset(tmp_path, {"train": [frame("./train/a", 0, 0)], "test": []})
    assert list(load_dataset(tmp_path).splits) == ["train"]
    write_dataset(tmp_path, {"train": []})
    with pytest.raises(InputError, match="transforms_train.json: has no frames"):
        load_dataset(tmp_path)


def test_camera_identity_derived_from_identical_poses_across_splits(tmp_path):
    train = [
        frame(f"./train/{i}", azimuth=90 * (i % 3), elevation=10, time=i / 6) for i in range(6)
    ]
    test = [frame("./test/0", azimuth=90, elevation=10, time=0.9), frame("./test/1", 45, 10, 0.9)]
    write_dataset(tmp_path, {"train": train, "test": test})
    dataset = load_dataset(tmp_path)
    assert dataset.camera_index_derived
    assert [f.camera_index for f in dataset.train] == [0, 1, 2, 0, 1, 2]
    assert [f.camera_index for f in dataset.splits["test"]] == [1, 3]


def test_pose_clustering_tolerates_float_noise_but_not_a_turned_camera():
    base = np.array(look_at(orbit(30, 10)))
    noisy = base.copy()
    noisy[:3, 3] += 1e-7
    turned = np.array(look_at(orbit(30, 10), target=(0.5, 1.0, 0.0)))
    far = np.array(look_at(orbit(60, 10)))
    ids = cluster_camera_poses(np.stack([base, noisy, turned, far, base]))
    assert ids.tolist() == [0, 0, 1, 2, 0]


def _write_frames(root: Path, frames, **document) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "transforms_train.json").write_text(json.dumps({**document, "frames": frames}))
    return root / "transforms_train.json"


def _valid(**overrides) -> dict:
    return {**frame("./train/a", 0, 0, 0.0), **overrides}


def _case_missing_train(root: Path) -> Path:
    write_dataset(root, {"test": [frame("./test/a", 0, 0)]})
    return root


def _case_invalid_json(root: Path) -> Path:
    root.mkdir()
    path = root / "transforms_train.json"
    path.write_text('{\n  "camera_angle_x": 0.7,\n  "frames": [,]\n}')
    return path


def _case_no_matrix(root: Path) -> Path:
    entries = [_valid(), _valid(), _valid(), {"file_path": "./train/a", "time": 0.0}]
    write_image(root / "train" / "a.png")
    return _write_frames(root, entries, camera_angle_x=0.7)


def _case_three_by_four(root: Path) -> Path:
    write_image(root / "train" / "a.png")
    return _write_frames(root, [_valid(transform_matrix=[[1, 0, 0, 0]] * 3)], camera_angle_x=0.7)


def _case_non_finite(root: Path) -> Path:
    write_image(root / "train" / "a.png")
    matrix = np.eye(4).tolist()
    matrix[0][3] = float("nan")  # json.dumps writes NaN, which json.loads accepts
    return _write_frames(root, [_valid(transform_matrix=matrix)], camera_angle_x=0.7)


def _case_singular(root: Path) -> Path:
    write_image(root / "train" / "a.png")
    matrix = np.eye(4).tolist()
    matrix[2][2] = 0.0  # no third camera axis
    return _write_frames(root, [_valid(transform_matrix=matrix)], camera_angle_x=0.7)


def _case_missing_image(root: Path) -> Path:
    return _write_frames(root, [_valid()], camera_angle_x=0.7)


def _case_unreadable_image(root: Path) -> Path:
    # Without w/h the reader needs the image header, so the bad image is found on loading.
    (root / "train").mkdir(parents=True)
    (root / "train" / "a.png").write_bytes(b"\x89PNG broken")
    _write_frames(root, [_valid()], camera_angle_x=0.7)
    return root / "train" / "a.png"


def _case_no_focal(root: Path) -> Path:
    write_image(root / "train" / "a.png")
    return _write_frames(root, [_valid()], w=8, h=8)


def _case_too_many_frames(root: Path) -> Path:
    return _write_frames(root, [0] * 1_000_001, camera_angle_x=0.7)


def _case_escaping_path(root: Path) -> Path:
    write_image(root.parent / "outside.png")
    return _write_frames(root, [_valid(file_path="../outside")], camera_angle_x=0.7)


def _case_bad_time(root: Path) -> Path:
    write_image(root / "train" / "a.png")
    return _write_frames(root, [_valid(time="noon")], camera_angle_x=0.7)


def _case_bad_scene_bounds(root: Path) -> Path:
    write_dataset(root, {"train": [frame("./train/a", 0, 0)]}, scene={"bounds": {"center": [0]}})
    return root / "scene.json"


MALFORMED = {
    "missing transforms_train.json": (_case_missing_train, "no transforms_train.json"),
    "invalid JSON": (_case_invalid_json, "invalid JSON at line 3"),
    "no transform_matrix": (_case_no_matrix, "frame 3 has no transform_matrix"),
    "3x4 matrix": (_case_three_by_four, "frame 0 transform_matrix has shape (3, 4)"),
    "non-finite matrix": (_case_non_finite, "non-finite"),
    "singular matrix": (_case_singular, "frame 0 transform_matrix is singular"),
    "missing image": (_case_missing_image, "frame 0 image './train/a' not found"),
    "unreadable image": (_case_unreadable_image, "not a readable image"),
    "no focal": (_case_no_focal, "no focal information"),
    "too many frames": (_case_too_many_frames, "refusing more than 1,000,000"),
    "escaping file_path": (_case_escaping_path, "escapes the dataset folder"),
    "time not a number": (_case_bad_time, "time must be a finite number"),
    "bad scene bounds": (_case_bad_scene_bounds, "bounds"),
}


@pytest.mark.parametrize("case", MALFORMED, ids=list(MALFORMED))
def test_malformed_input_is_one_input_error_naming_the_file(tmp_path, case):
    build, problem = MALFORMED[case]
    root = tmp_path / "data"
    named = build(root)
    with pytest.raises(InputError) as caught:
        load_dataset(root)
    message = str(caught.value)
    assert problem in message
    assert named.name in message
    assert "\n" not in message


@pytest.mark.parametrize("case", MALFORMED, ids=list(MALFORMED))
def test_cli_prints_one_line_and_exits_2_on_malformed_input(tmp_path, capsys, case):
    main = pytest.importorskip("avatar4d.cli").main
    build, problem = MALFORMED[case]
    root = tmp_path / "data"
    build(root)
    code = main(["check", str(root), "--no-figure"])
    captured = capsys.readouterr()
    assert code == 2
    lines = captured.err.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("avatar4d: error: ") and problem in lines[0]
