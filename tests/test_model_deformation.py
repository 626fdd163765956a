"""The spline deformation: identity at start, offsets and rotations as designed, wrap, priors."""

from __future__ import annotations

import math

import pytest
import torch

from avatar4d.model.deformation import SplineDeformation
from avatar4d.model.gaussians import f_dc_to_rgb, make_params, rgb_to_f_dc
from avatar4d.model.motions.control_points import automatic_control_points
from avatar4d.raster.quaternions import normalize_quat, quat_to_rotation


def random_params(count: int, deformation: SplineDeformation, seed: int = 0, motion: float = 0.0):
    generator = torch.Generator().manual_seed(seed)
    tensors = {
        "means": torch.randn(count, 3, generator=generator),
        "scales": torch.randn(count, 3, generator=generator) - 3,
        "quats": torch.randn(count, 4, generator=generator),
        "opacities": torch.randn(count, generator=generator),
        "colors": torch.randn(count, 3, generator=generator),
        **deformation.init_motion(torch.zeros(count, 3)),
    }
    if motion:
        tensors["motion_means"] = motion * torch.randn(
            tensors["motion_means"].shape, generator=generator
        )
        tensors["motion_quats"] = motion * torch.randn(
            tensors["motion_quats"].shape, generator=generator
        )
    return make_params(tensors)


def test_initial_motion_is_the_identity():
    deformation = SplineDeformation(num_control=6, periodic=True)
    params = random_params(10, deformation)
    posed = deformation.deform(params, 0.37)
    assert torch.equal(posed.means, params["means"])
    expected_quats = params["quats"] / params["quats"].norm(dim=-1, keepdim=True)
    torch.testing.assert_close(posed.quats, expected_quats)
    assert torch.equal(posed.log_scales, params["scales"])
    torch.testing.assert_close(posed.opacities, torch.sigmoid(params["opacities"]))


def test_the_anchor_time_is_the_canonical_pose_whatever_the_motion():
    deformation = SplineDeformation(num_control=6, periodic=True, anchor_time=0.4)
    params = random_params(8, deformation, motion=0.5)
    posed = deformation.deform(params, 0.4)
    assert torch.equal(posed.means, params["means"])
    torch.testing.assert_close(posed.quats, params["quats"] / params["quats"].norm(dim=-1)[:, None])
    # Moving every control point of a Gaussian alike changes nothing: no free drift direction.
    before = deformation.deform(params, 0.75).means
    with torch.no_grad():
        params["motion_means"] += torch.tensor([0.5, -1.0, 2.0])
    torch.testing.assert_close(deformation.deform(params, 0.75).means, before)


def test_offset_is_the_spline_at_t_minus_the_spline_at_the_anchor():
    deformation = SplineDeformation(num_control=6, periodic=True, anchor_time=0.0)
    params = random_params(5, deformation, motion=0.3)
    c = params["motion_means"].detach()
    posed = deformation.deform(params, 2 / 6)  # knot 2: (c1 + 4 c2 + c3) / 6
    at_anchor = (c[:, 5] + 4 * c[:, 0] + c[:, 1]) / 6
    expected = params["means"] + (c[:, 1] + 4 * c[:, 2] + c[:, 3]) / 6 - at_anchor
    torch.testing.assert_close(posed.means, expected)


def test_rotation_offset_is_a_world_frame_product():
    deformation = SplineDeformation(num_control=4, periodic=True, anchor_time=0.0)
    params = random_params(3, deformation)
    half = math.pi / 4  # a 90 degree turn about +Z
    turn = torch.tensor([math.cos(half), 0.0, 0.0, math.sin(half)])
    with torch.no_grad():  # S(0.5) - S(0) = (4/6) c2 when only c2 is set
        params["motion_quats"][:, 2] = 1.5 * (turn - torch.tensor([1.0, 0.0, 0.0, 0.0]))
    posed = deformation.deform(params, 0.5)
    rotation_z = torch.tensor([[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    expected = rotation_z @ quat_to_rotation(normalize_quat(params["quats"].detach()))
    rotation = quat_to_rotation(normalize_quat(posed.quats))
    torch.testing.assert_close(rotation, expected, atol=1e-5, rtol=0)
    torch.testing.assert_close(posed.rotation_since_canonical, turn.expand(3, 4), atol=1e-6, rtol=0)


def test_periodic_deformation_wraps_and_is_continuous():
    deformation = SplineDeformation(num_control=6, periodic=True)
    params = random_params(20, deformation, motion=0.5)
    start, end = deformation.deform(params, 0.0), deformation.deform(params, 1.0)
    assert torch.equal(start.means, end.means) and torch.equal(start.quats, end.quats)
    just_before = deformation.deform(params, 1.0 - 1e-5)
    assert (just_before.means - start.means).abs().max() < 1e-3
    # Between samples: a small step in time is a small move (no jumps inside segments either).
    for t in torch.linspace(0.0, 0.99, 23).tolist():
        step = deformation.deform(params, t + 1e-4).means - deformation.deform(params, t).means
        assert step.abs().max() < 1e-2


def test_gradients_reach_only_the_control_points_active_at_t_and_at_the_anchor():
    deformation = SplineDeformation(num_control=8, periodic=True, anchor_time=0.0)
    params = random_params(3, deformation, motion=0.1)
    posed = deformation.deform(params, 0.5)  # knot 4: points 3, 4, 5; the anchor: 7, 0, 1
    (posed.means.sum() + posed.quats.sum()).backward()
    touched = params["motion_means"].grad.abs().sum(dim=(0, 2)) > 0
    assert touched.tolist() == [True, True, False, True, True, True, False, True]


def test_smoothness_prior_is_zero_for_constant_or_straight_motion():
    periodic = SplineDeformation(num_control=6, periodic=True)
    params = random_params(4, periodic)
    with torch.no_grad():
        params["motion_means"][:] = 0.7
    assert float(periodic.smoothness(params, length_scale=1.0).detach()) == pytest.approx(0.0)
    with torch.no_grad():
        params["motion_means"][:, ::2] = -0.7  # zig-zag
    assert float(periodic.smoothness(params, length_scale=1.0).detach()) > 1.0

    open_spline = SplineDeformation(num_control=6, periodic=False)
    params = random_params(4, open_spline)
    with torch.no_grad():
        params["motion_means"][:] = torch.arange(6.0)[None, :, None]  # a straight line
    assert float(open_spline.smoothness(params, length_scale=1.0).detach()) == pytest.approx(0.0)
    # Measured in units of the scene: twice the scale, a quarter of the (squared) prior.
    with torch.no_grad():
        params["motion_means"][:, ::2] += 1.0
    unit = float(open_spline.smoothness(params, length_scale=1.0).detach())
    assert float(open_spline.smoothness(params, length_scale=2.0).detach()) == pytest.approx(
        unit / 4
    )


def test_color_conversion_round_trip_and_automatic_control_points():
    rgb = torch.tensor([[0.0, 0.5, 1.0]])
    torch.testing.assert_close(f_dc_to_rgb(rgb_to_f_dc(rgb)), rgb)
    assert automatic_control_points(12) == 6
    assert automatic_control_points(60) == 30
    assert automatic_control_points(200) == 32
    assert automatic_control_points(3) == 4
    assert automatic_control_points(60, tracked=True) == 60
    assert automatic_control_points(500, tracked=True) == 120
    assert automatic_control_points(500, tracked=True, per_gaussian=True) == 60
    assert automatic_control_points(40, tracked=True, per_gaussian=True) == 40
    assert automatic_control_points(2, tracked=True) == 4


@pytest.mark.parametrize("periodic", [True, False])
def test_deform_many_matches_deform_at_each_time(periodic):
    deformation = SplineDeformation(num_control=7, periodic=periodic, anchor_time=0.3)
    params = random_params(12, deformation, seed=3, motion=0.2)
    times = [0.0, 0.3, 0.41, 0.77, 0.99]
    many = deformation.deform_many(params, times)
    for index, t in enumerate(times):
        one = deformation.deform(params, t)
        for name in ("means", "quats", "log_scales", "opacity_logits", "f_dc"):
            assert torch.allclose(getattr(many, name)[index], getattr(one, name), atol=1e-6), name
