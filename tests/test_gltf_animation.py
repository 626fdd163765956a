"""Keyframe sampling (LINEAR, slerp, STEP, CUBICSPLINE), clips, and bounds over a clip."""

from __future__ import annotations

import math

import numpy as np
import pytest
from gltf_handmade import one_triangle

from avatar4d.asset.loader import load_asset
from avatar4d.errors import InputError

TRIANGLE = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0]], np.float32)


def animated_triangle(tmp_path, path, times, values, interpolation="LINEAR", name="Move"):
    gltf = one_triangle()
    gltf.animation(0, path, times, np.asarray(values, np.float32), interpolation, name)
    return load_asset(gltf.write_glb(tmp_path / "anim.glb"))


def positions(asset, clip, seconds):
    return asset.pose(clip, seconds).parts[0].positions


def test_linear_translation_moves_vertices_exactly(tmp_path):
    asset = animated_triangle(tmp_path, "translation", [0, 2], [[0, 0, 0], [4, -2, 6]])
    np.testing.assert_allclose(positions(asset, "Move", 0.5), TRIANGLE + [1, -0.5, 1.5], atol=1e-6)
    np.testing.assert_allclose(positions(asset, "Move", 2.0), TRIANGLE + [4, -2, 6], atol=1e-6)


def test_times_outside_the_keys_clamp(tmp_path):
    asset = animated_triangle(tmp_path, "translation", [1, 2], [[2, 0, 0], [4, 0, 0]])
    np.testing.assert_allclose(positions(asset, "Move", 0.0), TRIANGLE + [2, 0, 0], atol=1e-6)
    np.testing.assert_allclose(positions(asset, "Move", -5.0), TRIANGLE + [2, 0, 0], atol=1e-6)
    np.testing.assert_allclose(positions(asset, "Move", 9.0), TRIANGLE + [4, 0, 0], atol=1e-6)


def test_rest_pose_ignores_the_animation(tmp_path):
    asset = animated_triangle(tmp_path, "translation", [0, 1], [[5, 5, 5], [6, 6, 6]])
    np.testing.assert_array_equal(positions(asset, None, 0.5), TRIANGLE)


@pytest.mark.parametrize("negate_second_key", [False, True])
def test_rotation_slerp_halfway_takes_the_short_path(tmp_path, negate_second_key):
    quarter_turn_y = np.array([0, math.sin(math.pi / 4), 0, math.cos(math.pi / 4)])
    if negate_second_key:  # the same rotation; naive interpolation would pass through 180 deg
        quarter_turn_y = -quarter_turn_y
    asset = animated_triangle(tmp_path, "rotation", [0, 1], [[0, 0, 0, 1], quarter_turn_y])
    c = math.cos(math.pi / 8)  # halfway: 22.5 deg quaternion half-angle = 45 deg about Y
    s = math.sin(math.pi / 8)
    rotated = positions(asset, "Move", 0.5)
    np.testing.assert_allclose(rotated[1], [2 * c * c - 1, 0, -2 * s * c], atol=1e-6)
    np.testing.assert_allclose(rotated[1], [math.sqrt(0.5), 0, -math.sqrt(0.5)], atol=1e-6)
    np.testing.assert_allclose(rotated[2], [0, 1, 0], atol=1e-6)


def test_step_holds_each_key_until_the_next(tmp_path):
    asset = animated_triangle(
        tmp_path, "translation", [0, 1, 2], [[0, 0, 0], [5, 0, 0], [10, 0, 0]], "STEP"
    )
    for seconds, x in [(0.0, 0), (0.99, 0), (1.0, 5), (1.5, 5), (2.0, 10), (3.0, 10)]:
        assert positions(asset, "Move", seconds)[0, 0] == pytest.approx(x), seconds


def test_cubic_spline_matches_a_hand_computed_hermite_value(tmp_path):
    # keys (in-tangent, value, out-tangent); interval 2 s, sampled at s = 0.25:
    # p = h10*2*out0 + h01*v1 + h11*2*in1 = 2*0.140625*1 + 0.15625*1 + 2*(-0.046875)*3 = 0.15625
    keys = [[0, 0, 0], [0, 0, 0], [1, 0, 0], [3, 0, 0], [1, 0, 0], [0, 0, 0]]
    asset = animated_triangle(tmp_path, "translation", [0, 2], keys, "CUBICSPLINE")
    assert positions(asset, "Move", 0.5)[0, 0] == pytest.approx(0.15625, abs=1e-6)
    assert positions(asset, "Move", 2.0)[0, 0] == pytest.approx(1.0)  # the key value itself
    assert positions(asset, "Move", 0.0)[0, 0] == pytest.approx(0.0)


def test_cubic_spline_rotation_is_normalised(tmp_path):
    half = [0, math.sin(math.pi / 4), 0, math.cos(math.pi / 4)]
    zero = [0, 0, 0, 0]
    keys = [zero, [0, 0, 0, 1], zero, zero, half, zero]  # zero tangents: a smoothstep blend
    asset = animated_triangle(tmp_path, "rotation", [0, 1], keys, "CUBICSPLINE")
    rotated = positions(asset, "Move", 0.5)
    assert np.linalg.norm(rotated[1]) == pytest.approx(1.0, abs=1e-6)  # no scaling from |q| != 1
    assert rotated[1, 2] < -0.3  # turned about +Y, part of the way


def test_scale_channel(tmp_path):
    asset = animated_triangle(tmp_path, "scale", [0, 1], [[1, 1, 1], [3, 1, 1]])
    np.testing.assert_allclose(positions(asset, "Move", 0.5)[1], [2, 0, 0], atol=1e-6)


def test_clip_names_durations_and_lookup(tmp_path):
    gltf = one_triangle()
    gltf.animation(0, "translation", [0, 1], np.zeros((2, 3)), name="Idle")
    second = gltf.animation(0, "translation", [0, 1.5], np.zeros((2, 3)))
    extra = gltf.animation(0, "scale", [0, 3], np.ones((2, 3)))  # merged into the unnamed clip
    gltf.doc["animations"][second]["samplers"].append(gltf.doc["animations"][extra]["samplers"][0])
    gltf.doc["animations"][second]["channels"].append(
        {"sampler": 1, "target": {"node": 0, "path": "scale"}}
    )
    del gltf.doc["animations"][extra]
    path = gltf.write_glb(tmp_path / "x.glb")
    asset = load_asset(path)
    assert [(c.name, c.duration) for c in asset.clips] == [("Idle", 1.0), ("animation_1", 3.0)]
    assert asset.find_clip("animation_1").duration == 3.0
    with pytest.raises(InputError) as caught:
        asset.find_clip("Jog")
    assert caught.value.problem == (
        'clip "Jog" not found in x.glb; clips: Idle (1.00 s), animation_1 (3.00 s)'
    )
    with pytest.raises(InputError, match='clip "Jog" not found'):
        asset.pose("Jog", 0.0)


def test_non_finite_time_is_refused(tmp_path):
    asset = animated_triangle(tmp_path, "translation", [0, 1], [[0, 0, 0], [1, 0, 0]])
    with pytest.raises(InputError, match="not a finite number"):
        asset.pose("Move", float("nan"))


def test_clip_bounds_cover_every_sampled_pose(tmp_path):
    asset = animated_triangle(tmp_path, "translation", [0, 2], [[0, 0, 0], [4, 0, 0]])
    center, radius = asset.clip_bounds("Move", samples=3)
    np.testing.assert_allclose(center, [2.5, 0.5, 0.0])
    assert radius == pytest.approx(math.sqrt(6.5))
    center, radius = asset.clip_bounds(None)
    np.testing.assert_allclose(center, [0.5, 0.5, 0.0])
    assert radius == pytest.approx(math.sqrt(0.5))
    with pytest.raises(InputError, match="at least 1 sample"):
        asset.clip_bounds("Move", samples=0)


def test_bad_sampler_data_is_refused(tmp_path):
    gltf = one_triangle()
    gltf.animation(0, "translation", [1, 0], np.zeros((2, 3)), name="Backwards")
    with pytest.raises(InputError, match="times must be finite and non-decreasing"):
        load_asset(gltf.write_glb(tmp_path / "a.glb"))
    gltf = one_triangle()
    gltf.animation(0, "translation", [0, 1], np.zeros((3, 3)), name="Short")
    with pytest.raises(InputError, match="output has 9 numbers, expected 2 keyframes"):
        load_asset(gltf.write_glb(tmp_path / "b.glb"))
