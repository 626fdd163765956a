"""The rig model's optional residual (``--motion.residual-points``): a per-Gaussian translation
spline over the trained timeline added to what the mesh gives, zero at the anchor, trained
(finite, non-zero gradient), off when the model performs a clip (render --clip, novel_pose)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from fuzz_inputs import write_small_skinned_glb

from avatar4d.asset.loader import load_asset
from avatar4d.asset.rig_mesh import RigPoser
from avatar4d.model.rig_deformation import RigDeformation, Segment

POINTS = 6
ANCHOR = 0.0


@pytest.fixture(scope="module")
def poser(tmp_path_factory) -> RigPoser:
    glb = write_small_skinned_glb(Path(tmp_path_factory.mktemp("residual")) / "small.glb")
    return RigPoser(load_asset(glb))


def model(poser: RigPoser, points: int) -> RigDeformation:
    return RigDeformation(poser, (Segment("wave", 0.0, 1.0),), False, ANCHOR, points)


def gaussians(deformation: RigDeformation, count: int = 5) -> dict[str, torch.Tensor]:
    generator = torch.Generator().manual_seed(3)
    means = deformation.initial_points(count, generator)
    params = {
        "means": means,
        "quats": torch.tensor([[1.0, 0.0, 0.0, 0.0]]).repeat(count, 1),
        "scales": torch.full((count, 3), -3.0),
        "opacities": torch.zeros(count),
        "colors": torch.zeros(count, 3),
        **deformation.init_motion(means),
    }
    params["motion_means"] = torch.randn(count, POINTS, 3, generator=generator) * 0.1
    return params


def test_the_residual_adds_its_curve_less_its_anchor_value_to_the_mesh_motion(poser):
    with_residual, mesh_only = model(poser, POINTS), model(poser, 0)
    params = gaussians(with_residual)
    assert params["motion_means"].shape == (5, POINTS, 3)
    anchor = with_residual.deform(params, ANCHOR).means
    assert torch.allclose(anchor, params["means"], atol=1e-5)  # nothing moves at the anchor
    curves = with_residual.residual_curves
    for t in (0.3, 0.55, 1.0):
        expected = (
            mesh_only.deform(params, t).means
            + curves.spline(params["motion_means"], t)
            - curves.spline(params["motion_means"], ANCHOR)
        )
        moved = with_residual.deform(params, t).means
        assert torch.allclose(moved, expected, atol=1e-5)
        assert (moved - mesh_only.deform(params, t).means).abs().max() > 1e-3


def test_the_residual_is_trained_its_gradient_finite_and_not_zero(poser):
    deformation = model(poser, POINTS)
    params = gaussians(deformation)
    points = params["motion_means"].requires_grad_(True)
    posed = deformation.deform_many(params, [0.25, 0.5, 0.75])
    loss = posed.means.square().sum() + deformation.smoothness(params, 1.0)
    loss.backward()
    assert points.grad is not None and torch.isfinite(points.grad).all()
    assert points.grad.abs().sum(dim=(1, 2)).min() > 0  # every Gaussian's curve gets a gradient


def test_a_performed_clip_ignores_the_residual(poser):
    deformation = model(poser, POINTS)
    params = gaussians(deformation)
    performing = deformation.performing("wave")
    without = model(poser, 0).performing("wave")
    for t in (0.3, 0.8):
        assert torch.equal(performing.deform(params, t).means, without.deform(params, t).means)
    assert not performing.uses_residual and deformation.uses_residual
