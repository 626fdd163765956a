"""Shading that turns with the motion: the light polynomial, the turned normals, learning."""

from __future__ import annotations

import math

import pytest
import torch

from avatar4d.model.deformation import GaussiansAtTime, SplineDeformation
from avatar4d.model.gaussians import f_dc_to_rgb, is_per_gaussian, make_params, rgb_to_f_dc
from avatar4d.model.motions.spline import SplineStructure
from avatar4d.model.shading import (
    LIGHT_KEY,
    NORMALS_KEY,
    ShadedDeformation,
    initial_light,
    irradiance,
    irradiance_basis,
    shade,
)
from avatar4d.model.spec import ModelSpec, build_deformation
from avatar4d.raster.quaternions import normalize_quat, quat_to_rotation, rotate_vectors


def quat_about_z(angle: float) -> torch.Tensor:
    return torch.tensor([math.cos(angle / 2), 0.0, 0.0, math.sin(angle / 2)])


def posed(rotation: torch.Tensor, rgb: torch.Tensor) -> GaussiansAtTime:
    count = rgb.shape[-2]
    return GaussiansAtTime(
        means=torch.zeros(*rgb.shape[:-1], 3),
        quats=rotation,
        log_scales=torch.zeros(count, 3),
        opacity_logits=torch.zeros(count),
        f_dc=rgb_to_f_dc(rgb),
        rotation_since_canonical=rotation,
    )


def test_the_basis_and_a_light_from_plus_x():
    normals = torch.tensor([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [-1.0, 0.0, 0.0]])
    expected = torch.tensor(
        [
            [1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, -1.0],
            [1.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 2.0],
            [1.0, -1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, -1.0],
        ]
    )
    assert torch.equal(irradiance_basis(normals), expected)
    light = torch.zeros(3, 9)
    light[:, 0], light[:, 1] = 0.5, 1.0  # ambient 0.5, brighter towards +x, never negative
    assert torch.allclose(irradiance(light, normals)[:, 0], torch.tensor([1.5, 0.5, 0.0]))


def test_the_initial_light_leaves_the_colours_as_they_were():
    inner = SplineDeformation(num_control=4, periodic=True)
    shaded = ShadedDeformation(inner)
    means = torch.randn(50, 3)
    tensors = {
        "means": means,
        "scales": torch.zeros(50, 3),
        "quats": torch.randn(50, 4),
        "opacities": torch.zeros(50),
        "colors": rgb_to_f_dc(torch.rand(50, 3)),
        **shaded.init_motion(means),
    }
    tensors["motion_quats"] = 0.3 * torch.randn(50, 4, 4)  # the Gaussians turn over time
    params = make_params(tensors)
    assert torch.allclose(params[NORMALS_KEY].norm(dim=-1), torch.ones(50))
    assert not is_per_gaussian(LIGHT_KEY) and is_per_gaussian(NORMALS_KEY)
    for t in (0.0, 0.3):
        assert torch.allclose(shaded.deform(params, t).colors, inner.deform(params, t).colors)

    with torch.no_grad():  # a light that shades: the batched path must shade as deform does
        params[LIGHT_KEY] += 0.3 * torch.randn(3, 9)
    many = shaded.deform_many(params, [0.1, 0.6])
    unshaded = inner.deform_many(params, [0.1, 0.6])
    for i, t in enumerate((0.1, 0.6)):
        assert torch.allclose(many.colors[i], shaded.deform(params, t).colors, atol=1e-6)
        assert not torch.allclose(many.colors[i], unshaded.colors[i], atol=1e-3)


def test_a_turned_gaussian_sees_the_light_of_its_turned_normal():
    light = torch.zeros(3, 9)
    light[:, 0], light[:, 2] = 0.2, 1.0  # light from +y
    params = {NORMALS_KEY: torch.tensor([[2.0, 0.0, 0.0]]), LIGHT_KEY: light}  # +x, any length
    white = torch.ones(1, 3)
    facing_side = shade(params, posed(quat_about_z(0.0)[None], white))
    facing_light = shade(params, posed(quat_about_z(math.pi / 2)[None], white))  # +x -> +y
    assert torch.allclose(facing_side.colors, torch.full((1, 3), 0.2), atol=1e-6)
    assert torch.allclose(facing_light.colors, torch.full((1, 3), 1.2), atol=1e-6)


def test_normals_and_light_learn_shading_that_a_fixed_colour_cannot_fit():
    # 40 Gaussians turning about z over 8 times under a light from +y: the true colour of
    # each changes over time; the best fixed colour cannot follow it, the shading can.
    generator = torch.Generator().manual_seed(0)
    count, times = 40, 8
    angles = torch.linspace(0.0, 2 * math.pi, times + 1)[:-1]
    rotation = torch.stack([quat_about_z(float(a)) for a in angles])[:, None].expand(
        times, count, 4
    )
    true_normals = torch.nn.functional.normalize(torch.randn(count, 3, generator=generator), dim=-1)
    true_light = torch.zeros(3, 9)
    true_light[:, 0], true_light[:, 2] = 0.6, 0.4
    albedo = 0.2 + 0.6 * torch.rand(count, 3, generator=generator)
    truth = shade({NORMALS_KEY: true_normals, LIGHT_KEY: true_light}, posed(rotation, albedo))
    target = truth.colors

    static_error = (target - target.mean(dim=0)).square().mean()  # the best fixed colours

    normals = torch.nn.Parameter(true_normals + 0.3 * torch.randn(count, 3, generator=generator))
    light = torch.nn.Parameter(initial_light(albedo))
    colours = torch.nn.Parameter(rgb_to_f_dc(target.mean(dim=0)))
    optimiser = torch.optim.Adam([normals, light, colours], lr=0.02)
    for _ in range(600):
        optimiser.zero_grad()
        start = posed(rotation, f_dc_to_rgb(colours))
        lit = shade({NORMALS_KEY: normals, LIGHT_KEY: light}, start).colors
        loss = (lit - target).square().mean()
        loss.backward()
        optimiser.step()
    final = float(loss.detach())
    assert final < 0.01 * float(static_error), (final, float(static_error))


def test_the_spec_builds_the_shading_it_names():
    spec = ModelSpec(SplineStructure(4), True, [0.0, 0.0, 0.0], 1.0, 0.0)
    assert spec.shading == "static"  # what runs from before the shading were
    assert isinstance(build_deformation(spec), SplineDeformation)
    lambert = build_deformation(
        ModelSpec(SplineStructure(4), True, [0.0] * 3, 1.0, 0.0, shading="lambert")
    )
    assert isinstance(lambert, ShadedDeformation)
    with pytest.raises(ValueError, match="unknown shading 'phong'"):
        build_deformation(ModelSpec(SplineStructure(4), True, [0.0] * 3, 1.0, 0.0, shading="phong"))


def test_turning_vectors_by_quaternions_matches_the_rotation_matrices():
    generator = torch.Generator().manual_seed(7)
    quats = normalize_quat(torch.randn(5, 40, 4, generator=generator))
    vectors = torch.randn(40, 3, generator=generator)  # one per Gaussian, shared over times
    expected = (quat_to_rotation(quats) @ vectors.unsqueeze(-1)).squeeze(-1)
    torch.testing.assert_close(rotate_vectors(quats, vectors), expected, atol=1e-5, rtol=1e-5)
