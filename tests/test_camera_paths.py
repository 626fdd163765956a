"""Camera paths (orbit, dataset, nerfstudio camera_path.json) and time mappings."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from avatar4d.data.dataset import Frame
from avatar4d.errors import InputError
from avatar4d.output.camera_paths import dataset_path, load_nerfstudio_camera_path, orbit_path
from avatar4d.output.time_mapping import time_mapping

CENTER = np.array([0.5, 1.0, -0.25])


def test_orbit_geometry():
    cameras = orbit_path(CENTER, 3.0, 20.0, 8, fov_y_deg=40.0, width=64, height=48)
    assert len(cameras) == 8
    for i, camera in enumerate(cameras):
        offset = camera.position - CENTER
        assert np.linalg.norm(offset) == pytest.approx(3.0)
        assert math.degrees(math.asin(offset[1] / 3.0)) == pytest.approx(20.0)
        # OpenGL: the camera looks down its -Z axis, straight at the centre.
        forward = -camera.c2w[:3, 2]
        assert forward == pytest.approx(-offset / 3.0)
        rotation = camera.c2w[:3, :3]
        assert rotation.T @ rotation == pytest.approx(np.eye(3))
        assert np.linalg.det(rotation) == pytest.approx(1.0)
        assert camera.c2w[:3, 0][1] == pytest.approx(0.0)  # no roll: right vector is level
        assert camera.azimuth_deg == pytest.approx(45.0 * i)
        assert (camera.width, camera.height, camera.cx, camera.cy) == (64, 48, 32.0, 24.0)
        assert camera.fl_y == pytest.approx(24.0 / math.tan(math.radians(20.0)))
        assert camera.fl_x == camera.fl_y
    # Azimuth 0 sits on +Z of the centre (the rig's convention); azimuth 90 on +X.
    assert cameras[0].position[[0, 2]] - CENTER[[0, 2]] == pytest.approx(
        [0.0, 3.0 * math.cos(math.radians(20.0))]
    )
    assert cameras[2].position[0] - CENTER[0] == pytest.approx(3.0 * math.cos(math.radians(20.0)))


def test_orbit_start_and_turns():
    cameras = orbit_path(CENTER, 2.0, 0.0, 4, 40.0, 16, 16, start_azimuth_deg=30.0, turns=0.5)
    assert [c.azimuth_deg for c in cameras] == pytest.approx([30.0, 75.0, 120.0, 165.0])


@pytest.mark.parametrize(
    ("kwargs", "problem"),
    [
        ({"frames": 0}, "at least 1 frame"),
        ({"distance": -1.0}, "distance"),
        ({"elevation_deg": 90.0}, "elevation"),
        ({"fov_y_deg": 180.0}, "field of view"),
        ({"width": 0}, "image size"),
    ],
)
def test_orbit_rejects_bad_settings(kwargs, problem):
    settings = dict(
        center=CENTER, distance=2.0, elevation_deg=0.0, frames=4, fov_y_deg=40.0, width=8, height=8
    )
    with pytest.raises(InputError, match=problem):
        orbit_path(**{**settings, **kwargs})


def test_dataset_path_keeps_frame_cameras(tmp_path):
    c2w = np.eye(4)
    c2w[:3, 3] = [1.0, 2.0, 3.0]
    frame = Frame(
        image_path=tmp_path / "a.png",
        c2w=c2w,
        time=0.25,
        width=40,
        height=30,
        fl_x=50.0,
        fl_y=51.0,
        cx=19.5,
        cy=14.5,
        camera_index=7,
        time_index=3,
        subset="novel_view",
    )
    (camera,) = dataset_path([frame])
    assert camera.c2w == pytest.approx(c2w) and camera.c2w is not c2w
    assert (camera.width, camera.height, camera.fl_x, camera.fl_y) == (40, 30, 50.0, 51.0)
    assert (camera.cx, camera.cy, camera.index) == (19.5, 14.5, 7)
    with pytest.raises(InputError, match="no frames"):
        dataset_path([])


def nerfstudio_path(**overrides):
    c2w = np.eye(4)
    c2w[:3, 3] = [0.0, 1.0, 4.0]
    data = {
        "camera_type": "perspective",
        "render_height": 120,
        "render_width": 160,
        "camera_path": [
            {"camera_to_world": c2w.reshape(-1).tolist(), "fov": 60, "aspect": 4 / 3},
            {"camera_to_world": c2w.reshape(-1).tolist(), "fov": 30, "aspect": 4 / 3},
        ],
        "fps": 24,
        "seconds": 2,
    }
    data.update(overrides)
    return data


def write_json(tmp_path, data, name="camera_path.json"):
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return path


def test_load_nerfstudio_camera_path(tmp_path):
    data = nerfstudio_path()
    # Row-major: a translation in the last column, not the last row.
    data["camera_path"][0]["camera_to_world"][3] = 2.5
    loaded = load_nerfstudio_camera_path(write_json(tmp_path, data))
    assert (loaded.fps, loaded.seconds, loaded.times) == (24.0, 2.0, None)
    first, second = loaded.cameras
    assert first.c2w[0, 3] == 2.5 and first.c2w[1, 3] == 1.0 and first.c2w[3, 3] == 1.0
    assert (first.width, first.height, first.cx, first.cy) == (160, 120, 80.0, 60.0)
    assert first.fl_y == pytest.approx(60.0 / math.tan(math.radians(30.0)))  # vertical fov 60
    assert second.fl_x == second.fl_y == pytest.approx(60.0 / math.tan(math.radians(15.0)))


def test_nerfstudio_render_time_only_when_all_cameras_have_it(tmp_path):
    data = nerfstudio_path()
    del data["fps"], data["seconds"]
    data["camera_path"][0]["render_time"] = 0.1
    loaded = load_nerfstudio_camera_path(write_json(tmp_path, data, "a.json"))
    assert loaded.times is None and loaded.fps is None
    data["camera_path"][1]["render_time"] = 0.6
    loaded = load_nerfstudio_camera_path(write_json(tmp_path, data, "b.json"))
    assert loaded.times.tolist() == [0.1, 0.6]


def _with_camera(key, value):
    data = nerfstudio_path()
    data["camera_path"][1][key] = value
    return data


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("{not json", "invalid JSON at line 1 column 2"),
        ([1, 2], "expected a JSON object"),
        (nerfstudio_path(camera_path=[]), "non-empty list"),
        (nerfstudio_path(camera_type="fisheye"), "'fisheye' is not supported"),
        (nerfstudio_path(render_width=0), '"render_width" must be a positive integer'),
        (nerfstudio_path(render_height=10.5), '"render_height" must be a positive integer'),
        (nerfstudio_path(fps=-1), '"fps" must be a positive number'),
        (_with_camera("camera_to_world", [1.0] * 12), r"camera_path\[1\]: .*16 finite numbers"),
        (_with_camera("camera_to_world", [1.0] * 16), "last row must be 0 0 0 1"),
        (_with_camera("fov", 0), r"camera_path\[1\]: \"fov\""),
        (_with_camera("fov", "wide"), '"fov" must be'),
    ],
)
def test_malformed_nerfstudio_paths(tmp_path, content, problem):
    path = write_json(tmp_path, content if isinstance(content, str) else json.dumps(content))
    with pytest.raises(InputError, match=problem) as raised:
        load_nerfstudio_camera_path(path)
    assert raised.value.where == str(path)


def test_missing_nerfstudio_file(tmp_path):
    with pytest.raises(InputError, match="not found"):
        load_nerfstudio_camera_path(tmp_path / "nope.json")


def test_time_mappings():
    assert time_mapping("loop", 4).tolist() == [0.0, 0.25, 0.5, 0.75]
    assert time_mapping("loop", 4, cycles=2).tolist() == [0.0, 0.5, 0.0, 0.5]
    assert time_mapping("pingpong", 4).tolist() == [0.0, 0.5, 1.0, 0.5]
    assert time_mapping("pingpong", 4, t0=0.2, t1=0.6).tolist() == pytest.approx(
        [0.2, 0.4, 0.6, 0.4]
    )
    assert time_mapping("hold", 3, t=0.3).tolist() == [0.3, 0.3, 0.3]
    assert time_mapping("range", 5, t0=0.0, t1=0.5).tolist() == [0.0, 0.125, 0.25, 0.375, 0.5]
    assert time_mapping("range", 1, t0=0.4, t1=0.9).tolist() == [0.4]


@pytest.mark.parametrize(
    ("kind", "kwargs", "problem"),
    [
        ("bounce", {}, "unknown kind; use one of loop, pingpong, hold, range"),
        ("loop", {"frames": 0}, "at least 1 frame"),
        ("loop", {"cycles": 0.0}, "cycles must be positive"),
        ("hold", {"t": 1.5}, "t = 1.5 is outside"),
        ("range", {"t1": -0.1}, "t1 = -0.1 is outside"),
    ],
)
def test_bad_time_mappings(kind, kwargs, problem):
    frames = kwargs.pop("frames", 4)
    with pytest.raises(InputError, match=problem):
        time_mapping(kind, frames, **kwargs)
