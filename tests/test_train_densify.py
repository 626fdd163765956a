"""Densification through gsplat's DefaultStrategy keeps the motion parameters in step."""

from __future__ import annotations

import pytest
import torch
from gsplat.strategy import DefaultStrategy

from avatar4d.model.deformation import SplineDeformation
from avatar4d.model.gaussians import make_params
from avatar4d.model.render import render_gaussians
from avatar4d.raster.cameras import Cameras
from avatar4d.run.config import TrainConfig, with_settings
from avatar4d.train.densify import is_packed, make_strategy
from avatar4d.train.optimizers import base_learning_rates, make_optimizers

SIZE = 16


def camera_batch():
    c2w = torch.eye(4).repeat(2, 1, 1)
    c2w[:, 2, 3] = 3.0  # looking down -Z at the origin
    c2w[1, 0, 3] = 0.3
    return Cameras(c2w, fl_x=20.0, fl_y=20.0, cx=SIZE / 2, cy=SIZE / 2, width=SIZE, height=SIZE)


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
    return with_settings(TrainConfig(), **{**settings, **overrides})


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


def running_radii(updates: list[dict], count: int) -> torch.Tensor:
    """The radii statistic by hand: each Gaussian's largest radius over every camera that
    saw it and every update, over the image's longer side."""
    largest = torch.zeros(count)
    for info in updates:
        radii = info["radii"].detach().cpu().float()
        visible = (radii > 0).all(dim=-1)
        per_camera = torch.where(visible, radii.amax(dim=-1), 0.0)
        largest = torch.maximum(
            largest, per_camera.amax(dim=0) / max(info["width"], info["height"])
        )
    return largest


def update_both(strategy, params, states, info, monkeypatch) -> None:
    """gsplat's update into states[True], ours into states[False] (gsplat's made to fail
    meanwhile, so ours cannot fall back on it)."""
    DefaultStrategy._update_state(strategy, params, states[True], info, packed=False)

    def refused(*args, **kwargs):
        raise AssertionError("gsplat's statistics ran")

    on_cuda = info["radii"].is_cuda
    with monkeypatch.context() as patch:
        patch.setattr(DefaultStrategy, "_update_state", refused)
        if on_cuda:  # any wait for the GPU in ours fails (gsplat's, above, waits)
            torch.cuda.set_sync_debug_mode("error")
        try:
            strategy._update_state(params, states[False], info, packed=False)
        finally:
            if on_cuda:
                torch.cuda.set_sync_debug_mode(0)


def assert_same_statistics(states, updates, count) -> None:
    ours, gsplats = states[False], states[True]
    torch.testing.assert_close(ours["grad2d"], gsplats["grad2d"])
    torch.testing.assert_close(ours["count"], gsplats["count"])
    assert ours["count"].dtype == torch.float32
    # gsplat writes one camera's radius where several saw a Gaussian (indexed assignment
    # with repeated indices); ours keeps the largest, as its comment intends.
    torch.testing.assert_close(ours["radii"].cpu(), running_radii(updates, count))
    assert bool((gsplats["radii"] <= ours["radii"]).all())


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
def test_screen_gradient_statistics_match_gsplats_without_reading_the_device(device, monkeypatch):
    """The masked sums over the cameras give gsplat's gathered statistics (a real render's
    info, gsplat's rasteriser on CUDA, two cameras at different distances; radii zero where
    a Gaussian is off a camera), over several updates, and on CUDA never wait for it."""
    config = densifying_config()
    deformation, cpu_params, _, strategy, _ = setup(30, config, seed=3)
    params = {
        key: torch.nn.Parameter(value.detach().to(device)) for key, value in cpu_params.items()
    }
    with torch.no_grad():
        params["means"][:4, 0] += 40.0  # off both cameras
        params["means"][4:6, 0] += 2.0  # off one of them
    strategy.refine_scale2d_stop_iter = 1  # the radii statistic too
    states = {flag: strategy.initialize_state(scene_scale=1.0) for flag in (True, False)}
    target = torch.rand(2, SIZE, SIZE, 3, generator=torch.Generator().manual_seed(4))
    c2w = torch.eye(4).repeat(2, 1, 1)
    c2w[:, 2, 3] = torch.tensor([3.0, 4.5])  # radii differ between the two
    c2w[1, 0, 3] = 0.3
    cameras = Cameras(c2w, fl_x=20.0, fl_y=20.0, cx=SIZE / 2, cy=SIZE / 2, width=SIZE, height=SIZE)
    updates = []
    for step in range(3):
        posed = deformation.deform(params, 0.3)
        output = render_gaussians(posed, cameras.to(device), torch.ones(3, device=device))
        strategy.step_pre_backward(params, {}, states[True], step, output.info)
        (output.rgb - target.to(device)).abs().mean().backward()
        radii = output.info["radii"]
        assert bool((radii == 0).any()) and bool((radii[0] != radii[1]).any())
        update_both(strategy, params, states, output.info, monkeypatch)
        updates.append(output.info)
        for param in params.values():
            param.grad = None
    assert float(states[True]["count"].max()) == 6.0
    assert float(states[True]["grad2d"].max()) > 0
    assert_same_statistics(states, updates, 30)


@pytest.mark.parametrize("cameras", [1, 3])
@pytest.mark.parametrize("absgrad", [False, True])
def test_screen_gradient_statistics_with_absgrad_one_camera_and_half_zero_radii(
    cameras, absgrad, monkeypatch
):
    """Made-up info: one radius of a pair zero counts as off the camera (gsplat's rule)."""
    generator = torch.Generator().manual_seed(cameras + 2 * absgrad)
    count = 40
    means2d = torch.zeros(cameras, count, 2)
    means2d.grad = torch.randn(cameras, count, 2, generator=generator)
    means2d.absgrad = means2d.grad.abs() + 0.5  # differs from grad: the flag picks it
    radii = torch.randint(0, 4, (cameras, count, 2), generator=generator, dtype=torch.int32)
    radii[0, :5] = torch.tensor([3, 0], dtype=torch.int32)  # half zero: not seen
    info = {
        "width": 64,
        "height": 48,
        "n_cameras": cameras,
        "radii": radii,
        "gaussian_ids": None,
        "means2d": means2d,
    }
    strategy = make_strategy(densifying_config())
    strategy.absgrad, strategy.refine_scale2d_stop_iter = absgrad, 1
    params = {"means": torch.zeros(count, 3)}
    states = {flag: strategy.initialize_state(scene_scale=1.0) for flag in (True, False)}
    for _ in range(2):
        update_both(strategy, params, states, info, monkeypatch)
    assert float(states[False]["count"][:5].sum()) < 2 * cameras * 5  # the half-zero ones
    assert_same_statistics(states, [info, info], count)
