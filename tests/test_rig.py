"""Camera rig geometry, time lists and test subsets of the grid, computed without rendering."""

from __future__ import annotations

import math

import numpy as np
import pytest

from avatar4d.capture.grid_plan import evenly_spaced_indices, novel_times, plan_grid, train_times
from avatar4d.capture.rig import RigSettings, build_rig, camera_distance
from avatar4d.dataset_format import TEST_SUBSETS
from avatar4d.errors import InputError

SINGLE_CLIP_SUBSETS = TEST_SUBSETS[:3]  # novel_pose needs a --novel-clip

CENTER = np.array([0.3, 1.1, -0.2])
RADIUS = 0.9


@pytest.fixture(scope="module")
def default_rig():
    return build_rig(RigSettings(), CENTER, RADIUS)


@pytest.fixture(scope="module")
def default_plan(default_rig):
    settings = RigSettings()
    return plan_grid(*default_rig, settings.train_times, settings.novel_times)


def recovered_azimuth_elevation(c2w: np.ndarray) -> tuple[float, float]:
    """The camera's azimuth and elevation in degrees, read back from its position."""
    direction = c2w[:3, 3] - CENTER
    direction /= np.linalg.norm(direction)
    elevation = math.degrees(math.asin(direction[1]))
    azimuth = math.degrees(math.atan2(direction[0], direction[2])) % 360.0
    return azimuth, elevation


def test_default_rig_has_grid_24x60_cameras(default_rig):
    train, novel = default_rig
    assert len(train) == 24 and len(novel) == 8
    assert [c.index for c in train + novel] == list(range(32))
    expected_train = [(45.0 * a, e) for e in (-10.0, 15.0, 40.0) for a in range(8)]
    assert [(c.azimuth_deg, c.elevation_deg) for c in train] == expected_train
    expected_novel = [(22.5 + 45.0 * k, (0.0, 25.0)[k % 2]) for k in range(8)]
    assert [(c.azimuth_deg, c.elevation_deg) for c in novel] == expected_novel


def test_cameras_sit_on_the_orbit_and_look_at_the_centre(default_rig):
    train, novel = default_rig
    distance = camera_distance(RADIUS, 40.0, 0.8)
    for camera in train + novel:
        c2w = camera.c2w
        rotation = c2w[:3, :3]
        np.testing.assert_allclose(rotation.T @ rotation, np.eye(3), atol=1e-12)
        assert np.linalg.det(rotation) == pytest.approx(1.0)
        assert np.linalg.norm(camera.position - CENTER) == pytest.approx(distance)
        to_center = (CENTER - camera.position) / distance
        np.testing.assert_allclose(-c2w[:3, 2], to_center, atol=1e-12)  # looks down -Z
        assert c2w[1, 1] > 0.0  # image up points to world +Y
        assert abs(c2w[1, 0]) < 1e-12  # no roll: the image's x axis stays horizontal
        azimuth, elevation = recovered_azimuth_elevation(c2w)
        assert azimuth == pytest.approx(camera.azimuth_deg % 360.0, abs=1e-9)
        assert elevation == pytest.approx(camera.elevation_deg, abs=1e-9)


def test_azimuth_zero_sees_the_front_from_plus_z(default_rig):
    front = default_rig[0][8]  # elevation 15, azimuth 0
    assert front.azimuth_deg == 0.0
    offset = front.position - CENTER
    assert offset[2] > 0.0 and abs(offset[0]) < 1e-12
    np.testing.assert_allclose(front.c2w[:3, 0], [1.0, 0.0, 0.0], atol=1e-12)  # +X to the right


def test_intrinsics_follow_the_vertical_field_of_view(default_rig):
    camera = default_rig[0][0]
    assert (camera.width, camera.height) == (512, 512)
    assert camera.fl_y == pytest.approx(256.0 / math.tan(math.radians(20.0)))
    assert camera.fl_x == camera.fl_y
    assert (camera.cx, camera.cy) == (256.0, 256.0)
    assert camera.camera_angle_x == pytest.approx(math.radians(40.0))


@pytest.mark.parametrize(("fov_y", "fraction", "height"), [(40.0, 0.8, 512), (60.0, 0.5, 96)])
def test_bounding_sphere_spans_the_requested_fraction_of_the_height(fov_y, fraction, height):
    settings = RigSettings(fov_y_deg=fov_y, sphere_fraction=fraction, width=height, height=height)
    train, _ = build_rig(settings, CENTER, RADIUS)
    camera = train[5]
    w2c = np.linalg.inv(camera.c2w)
    # The silhouette's top and bottom lie on the great circle through the view axis and "up".
    theta = np.linspace(0.0, 2.0 * np.pi, 200_001)
    toward_camera, up = camera.c2w[:3, 2], camera.c2w[:3, 1]
    points = CENTER + RADIUS * (
        np.outer(np.cos(theta), toward_camera) + np.outer(np.sin(theta), up)
    )
    in_camera = (w2c[:3, :3] @ points.T).T + w2c[:3, 3]
    v = camera.cy - camera.fl_y * in_camera[:, 1] / -in_camera[:, 2]
    assert (v.max() - v.min()) / camera.height == pytest.approx(fraction, rel=1e-6)
    assert (v.max() + v.min()) / 2.0 == pytest.approx(camera.cy, abs=1e-6)


def test_default_time_lists():
    train = train_times(60)
    novel = novel_times(60, 12)
    assert train == [i / 60 for i in range(60)]
    assert novel == pytest.approx([(5 * k + 2.5) / 60 for k in range(12)])
    for t in novel:  # exactly half-way between two train times
        assert min(abs(t - s) for s in train) == pytest.approx(0.5 / 60)


@pytest.mark.parametrize(("train_count", "novel_count"), [(4, 2), (7, 3), (5, 5), (1, 1)])
def test_novel_times_are_half_way_for_any_counts(train_count, novel_count):
    novel = novel_times(train_count, novel_count)
    assert len(set(novel)) == novel_count
    assert all(0.0 < t < 1.0 for t in novel)
    for t in novel:
        assert (t * train_count) % 1.0 == pytest.approx(0.5)


def test_default_plan_counts(default_plan):
    plan = default_plan
    assert len(plan.train) == 1440
    assert plan.image_count == 1440 + 3 * 96
    assert not any(f.subset == "novel_pose" for f in plan.test)
    for subset in SINGLE_CLIP_SUBSETS:
        assert sum(f.subset == subset for f in plan.test) == 96
        assert sum(f.subset == subset for f in plan.val) == 2
    assert len(plan.val) == 6
    paths = [f.file_path for f in plan.train + plan.test]
    assert len(set(paths)) == len(paths)
    assert {f.file_path for f in plan.val} <= {f.file_path for f in plan.test}
    assert len(plan.frames_by_time_index()) == 72  # one pose per dataset time


def test_default_subsets_follow_the_benchmark(default_plan):
    by_subset = {s: [f for f in default_plan.test if f.subset == s] for s in SINGLE_CLIP_SUBSETS}
    view = by_subset["novel_view"]
    assert {f.camera.index for f in view} == set(range(24, 32))
    assert {f.time_index for f in view} == set(range(0, 60, 5))  # every 5th train time
    time = by_subset["novel_time"]
    assert {f.camera.index for f in time} == set(range(0, 24, 3))  # every 3rd train camera
    assert {f.time_index for f in time} == set(range(60, 72))
    both = by_subset["novel_both"]
    assert {(f.camera.index, f.time_index) for f in both} == {
        (c, t) for c in range(24, 32) for t in range(60, 72)
    }
    for frame in default_plan.test:
        assert frame.time == pytest.approx(default_plan.time_of(frame.time_index))


def test_file_paths_name_split_subset_camera_and_time(default_plan):
    assert default_plan.train[0].file_path == "./train/c00_t000"
    assert default_plan.train[61].file_path == "./train/c01_t001"
    assert default_plan.test[0].file_path == "./test/novel_view_c24_t000"
    novel_time = next(f for f in default_plan.test if f.subset == "novel_time")
    assert novel_time.file_path == "./test/novel_time_c00_t060"


def test_small_custom_grid_generalises_the_subsets():
    settings = RigSettings(
        train_azimuths_deg=(0.0, 120.0, 240.0),
        train_elevations_deg=(10.0, 30.0),
        novel_azimuths_deg=(60.0, 180.0, 300.0),
        novel_elevations_deg=(5.0,),
        train_times=10,
        novel_times=3,
        width=16,
        height=16,
    )
    train, novel = build_rig(settings, CENTER, RADIUS)
    assert [c.elevation_deg for c in novel] == [5.0, 5.0, 5.0]
    plan = plan_grid(train, novel, settings.train_times, settings.novel_times)
    assert len(plan.train) == 6 * 10
    counts = {s: sum(f.subset == s for f in plan.test) for s in SINGLE_CLIP_SUBSETS}
    assert counts == {"novel_view": 9, "novel_time": 9, "novel_both": 9}
    view_times = {f.time_index for f in plan.test if f.subset == "novel_view"}
    assert view_times == {0, 3, 6}
    time_cameras = {f.camera.index for f in plan.test if f.subset == "novel_time"}
    assert time_cameras == {0, 2, 4}
    assert evenly_spaced_indices(3, 5) == [0, 1, 2]  # fewer when more are wanted than exist


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"train_elevations_deg": (90.0,)}, "train_elevations_deg"),
        ({"novel_azimuths_deg": ()}, "novel_azimuths_deg"),
        ({"novel_times": 61}, "novel_times"),
        ({"train_times": 0}, "train_times"),
        ({"sphere_fraction": 1.5}, "sphere_fraction"),
        ({"fov_y_deg": 0.0}, "fov_y_deg"),
        ({"width": 4}, "width"),
    ],
)
def test_bad_settings_are_refused_naming_the_field(change, field):
    with pytest.raises(InputError) as raised:
        build_rig(RigSettings(**change), CENTER, RADIUS)
    assert raised.value.where == field


def test_degenerate_bounds_are_refused():
    with pytest.raises(InputError, match="radius"):
        build_rig(RigSettings(), CENTER, 0.0)
