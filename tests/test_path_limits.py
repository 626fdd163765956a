"""Camera paths, render sizes and the hull resolution are bounded before any allocation."""

from __future__ import annotations

import dataclasses
import json
import time

import numpy as np
import pytest
from cli_output import one_error_line
from dataset_builders import write_grid
from test_train_end_to_end import TINY
from test_train_synthetic import write_moving_blobs_dataset

from avatar4d.cli import main
from avatar4d.errors import InputError
from avatar4d.output.camera_paths import dataset_path, load_nerfstudio_camera_path, orbit_path
from avatar4d.output.path_limits import MAX_PATH_CAMERAS, MAX_PATH_PIXELS, MAX_RENDER_SIDE
from avatar4d.run.config import with_settings
from avatar4d.run.config_sections import MAX_INIT_HULL_RESOLUTION
from avatar4d.train.trainer import train

CAMERA = {"camera_to_world": np.eye(4).reshape(-1).tolist(), "fov": 40.0}


def write_path(tmp_path, cameras: list, width: int = 64, height: int = 48):
    path = tmp_path / "camera_path.json"
    document = {"render_width": width, "render_height": height, "camera_path": cameras}
    path.write_text(json.dumps(document))
    return path


def test_200000_cameras_are_refused_before_any_is_parsed(tmp_path):
    path = write_path(tmp_path, [{}] * 200_000)  # not even valid cameras: never looked at
    started = time.perf_counter()
    with pytest.raises(InputError) as raised:
        load_nerfstudio_camera_path(path)
    assert time.perf_counter() - started < 2.0
    assert str(raised.value) == (
        f"{path}: 200,000 cameras, more than the {MAX_PATH_CAMERAS:,} a path may hold"
    )


def test_render_width_of_100000_is_refused(tmp_path):
    path = write_path(tmp_path, [CAMERA], width=100_000)
    with pytest.raises(InputError) as raised:
        load_nerfstudio_camera_path(path)
    assert str(raised.value) == (
        f"{path}: 100000x48 pixels, more than the {MAX_RENDER_SIDE} allowed per side"
    )


def test_total_pixels_of_a_path_are_bounded(tmp_path):
    side = MAX_RENDER_SIDE
    frames = MAX_PATH_PIXELS // (side * side)  # 256 frames of 4096² is exactly the limit
    assert len(orbit_path([0, 0, 0], 3.0, 10.0, frames, 40.0, side, side)) == frames
    with pytest.raises(InputError) as raised:
        orbit_path([0, 0, 0], 3.0, 10.0, frames + 1, 40.0, side, side)
    assert str(raised.value) == (
        "orbit camera path: 257 frames of 16.8 M pixels are 4.3 G pixels (12.0 GiB of frames "
        "held in memory), more than the 4.3 G allowed; use fewer frames or smaller images"
    )
    path = write_path(tmp_path, [CAMERA] * (frames + 1), side, side)
    with pytest.raises(InputError, match="257 frames of 16.8 M pixels"):
        load_nerfstudio_camera_path(path)


def test_dataset_paths_count_every_frame():
    @dataclasses.dataclass
    class Frame:
        c2w = np.eye(4)
        fl_x = fl_y = 100.0
        cx = cy = 50.0
        width: int = 4096
        height: int = 4096

    assert len(dataset_path([Frame()] * 3)) == 3
    with pytest.raises(InputError, match="^dataset camera path: 257 frames"):
        dataset_path([Frame()] * 257)


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    data = write_moving_blobs_dataset(tmp_path_factory.mktemp("blobs") / "data")
    run = tmp_path_factory.mktemp("runs") / "run"
    train(data, run, with_settings(TINY, steps=2, val_every=0), quiet=True)
    return run


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (["--res", "8192"], f"--res: must be 8 .. {MAX_RENDER_SIDE}, got 8192"),
        (["--frames", "200000"], f"--frames: must be 1 .. {MAX_PATH_CAMERAS}, got 200000"),
        (
            ["--res", "4096", "--frames", "300"],
            "orbit camera path: 300 frames of 16.8 M pixels are 5.0 G pixels",
        ),
    ],
)
def test_render_sizes_are_one_line_refusals(run_dir, tmp_path, capsys, args, line):
    out = tmp_path / "video.mp4"
    assert main(["render", str(run_dir), "--out", str(out), *args]) == 2
    assert one_error_line(capsys).startswith(f"avatar4d: error: {line}")
    assert not out.exists()


def test_render_refuses_a_huge_camera_path_file(run_dir, tmp_path, capsys):
    path = write_path(tmp_path, [CAMERA], width=100_000)
    assert (
        main(["render", str(run_dir), "--out", str(tmp_path / "v.mp4"), "--path", str(path)]) == 2
    )
    assert one_error_line(capsys).endswith("100000x48 pixels, more than the 4096 allowed per side")


def test_train_refuses_a_hull_resolution_of_100000(tmp_path, capsys):
    data = write_grid(tmp_path / "data")
    out = tmp_path / "run"
    args = ["train", str(data), "--out", str(out), "--init-hull-resolution", "100000"]
    assert main(args) == 2
    assert one_error_line(capsys) == (
        "avatar4d: error: --init-hull-resolution: must be at most "
        f"{MAX_INIT_HULL_RESOLUTION} voxels per axis, got 100000"
    )
    assert not out.exists()
