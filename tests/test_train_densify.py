"""Densification through gsplat's DefaultStrategy keeps the motion parameters in step."""

from __future__ import annotations

import pytest
import torch

from avatar4d.model.deformation import SplineDeformation
from avatar4d.model.gaussians import make_params
from avatar4d.model.render import render_gaussians
from avatar4d.raster.cameras import cameras_from_opengl_c2w
from avatar4d.train.config import TrainConfig
from avatar4d.train.densify import is_packed, make_strategy
from avatar4d.train.optimizers import base_learning_rates, make_optimizers

SIZE = 16


def camera_batch():
    c2w = torch.eye(4).repeat(2, 1, 1)
    c2w[:, 2, 3] = 3.0  # looking down -Z at the origin
    c2w[1, 0, 3] = 0.3
    return cameras_from_opengl_c2w(c2w, 20.0, 20.0, SIZE / 2, SIZE / 2, SIZE, SIZE)


def setup(count: int, config: TrainConfig, seed: int = 0):
    deformation = SplineDeformation(num_control=5, periodic=True)
    generator = torch.Generator().manual_seed(seed)
    params = make_params(
        {
            "means": 0.4 * torch.randn(count, 3, generator=generator),
            "scales": torch.full((count, 3), -2.0)
            + 0.5 * torch.rand(count, 3, generator=generator),
            "quats": torch.randn(count, 4, generator=generator),
            "opacities": torch.randn(count, generator=generator),
            "colors": torch.randn(count, 3, generator=generator),
            **deformation.init_motion(torch.zeros(count, 3)),
        }
    )
    optimizers = make_optimizers(params, base_learning_rates(config, 1.0))
    strategy = make_strategy(config)
    strategy.check_sanity(params, optimizers)
    return deformation, params, optimizers, strategy, strategy.initialize_state(scene_scale=1.0)


def train_steps(config: TrainConfig, count: int, steps: int):
    torch.manual_seed(0)
    deformation, params, optimizers, strategy, state = setup(count, config)
    target = torch.rand(2, SIZE, SIZE, 3, generator=torch.Generator().manual_seed(9))
    cameras, background = camera_batch(), torch.ones(3)
    counts = []
    for step in range(steps):
        output = render_gaussians(deformation.deform(params, step / steps), cameras, background)
        strategy.step_pre_backward(params, optimizers, state, step, output.info)
        (output.rgb - target).abs().mean().backward()
        for optimizer in optimizers.values():
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
        strategy.step_post_backward(
            params, optimizers, state, step, output.info, packed=is_packed(output.info)
        )
        counts.append(len(params["means"]))
    return params, optimizers, state, counts


def densifying_config(**overrides) -> TrainConfig:
    settings = dict(
        steps=100,
        refine_every=2,
        refine_start_fraction=0.0,
        refine_stop_fraction=1.0,
        grow_grad2d=1e-7,  # every visible Gaussian grows
        grow_scale3d=0.1,  # half of them clone, half split
    )
    return TrainConfig(**{**settings, **overrides})


def test_growth_keeps_every_parameter_and_optimizer_state_consistent():
    params, optimizers, state, counts = train_steps(densifying_config(), count=40, steps=5)
    count = len(params["means"])
    assert count > 40 and counts[-1] == count
    expected = {
        "means": (count, 3),
        "scales": (count, 3),
        "quats": (count, 4),
        "opacities": (count,),
        "colors": (count, 3),
        "motion_means": (count, 5, 3),
        "motion_quats": (count, 5, 4),
    }
    assert {name: tuple(param.shape) for name, param in params.items()} == expected
    for name, optimizer in optimizers.items():
        assert optimizer.param_groups[0]["params"][0] is params[name]
        adam = optimizer.state[params[name]]
        assert adam["exp_avg"].shape == params[name].shape
        assert adam["exp_avg_sq"].shape == params[name].shape
    assert state["grad2d"].shape == (count,) and state["count"].shape == (count,)


def test_the_cap_removes_the_least_opaque():
    params, _, state, counts = train_steps(densifying_config(max_gaussians=50), count=40, steps=5)
    assert max(counts[2::2]) <= 50  # after every densification step
    assert len(params["means"]) == 50 and state["grad2d"].shape == (50,)


def test_opacity_reset_happens_when_asked():
    config = densifying_config(grow_grad2d=1.0, reset_opacity_every=4, prune_opacity=0.05)
    params, _, _, _ = train_steps(config, count=30, steps=5)
    # The last step (4) clamped every opacity to 2 x prune_opacity.
    assert float(torch.sigmoid(params["opacities"].detach()).max()) <= 0.1 + 1e-6
    untouched, _, _, _ = train_steps(densifying_config(grow_grad2d=1.0), count=30, steps=5)
    assert float(torch.sigmoid(untouched["opacities"].detach()).max()) > 0.5


@pytest.mark.parametrize(
    "device",
    [
        "cpu",
        pytest.param(
            "cuda",
            marks=pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA"),
        ),
    ],
)
def test_screen_gradient_statistics_match_gsplats_without_reading_the_device(device):
    """The masked sums over the cameras give gsplat's gathered statistics (a real render's
    info, gsplat's rasteriser on CUDA; radii zero where a Gaussian is off a camera), over
    several updates."""
    config = densifying_config()
    deformation, cpu_params, _, strategy, _ = setup(30, config, seed=3)
    params = {
        key: torch.nn.Parameter(value.detach().to(device)) for key, value in cpu_params.items()
    }
    with torch.no_grad():
        params["means"][:4, 0] += 40.0  # off both cameras
        params["means"][4:6, 0] += 2.0  # off one of them
    strategy.refine_scale2d_stop_iter = 1  # the radii statistic too
    states = {True: strategy.initialize_state(scene_scale=1.0)}
    states[False] = strategy.initialize_state(scene_scale=1.0)
    target = torch.rand(2, SIZE, SIZE, 3, generator=torch.Generator().manual_seed(4))
    cameras = camera_batch().to(device)
    for step in range(3):
        posed = deformation.deform(params, 0.3)
        output = render_gaussians(posed, cameras, torch.ones(3, device=device))
        strategy.step_pre_backward(params, {}, states[True], step, output.info)
        (output.rgb - target.to(device)).abs().mean().backward()
        assert bool((output.info["radii"] == 0).any()) and bool((output.info["radii"] > 0).any())
        for gsplat_statistics, state in states.items():
            strategy.gsplat_statistics = gsplat_statistics
            strategy._update_state(params, state, output.info, packed=False)
        for param in params.values():
            param.grad = None
    ours, gsplats = states[False], states[True]
    assert float(gsplats["count"].max()) == 6.0 and float(gsplats["grad2d"].max()) > 0
    for key in ("grad2d", "count", "radii"):
        torch.testing.assert_close(ours[key], gsplats[key])
