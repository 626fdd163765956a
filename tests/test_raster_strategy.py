"""gsplat's DefaultStrategy runs on the reference backend's info, on CPU."""

from __future__ import annotations

import math

import torch
from gsplat.strategy import DefaultStrategy

from avatar4d.raster import Cameras, rasterize

SIZE, FOCAL, DEPTH = 32, 60.0, 2.0


def _at_pixel(u: float, v: float, depth: float = DEPTH) -> list[float]:
    return [(u - SIZE / 2) * depth / FOCAL, (v - SIZE / 2) * depth / FOCAL, depth]


def _params_and_optimizers() -> tuple[dict, dict]:
    # 0: small, in the loss's region     -> high gradient -> duplicated
    # 1: large, in the loss's region     -> high gradient -> split
    # 2: small, outside the loss's region -> zero gradient -> kept as is
    # 3: behind the camera                -> never visible -> kept as is
    # 4: outside the region, opacity 0.0045 (visible, < prune_opa 0.005) -> pruned
    means = [
        _at_pixel(8, 8),
        _at_pixel(24, 8),
        _at_pixel(8, 25),
        [0.0, 0.0, -1.0],
        _at_pixel(24, 25),
    ]
    scales = [0.008, 0.05, 0.008, 0.05, 0.03]
    opacities = [0.8, 0.8, 0.8, 0.8, 0.0045]
    params = {
        "means": torch.tensor(means),
        "scales": torch.log(torch.tensor(scales))[:, None].repeat(1, 3),
        "quats": torch.tensor([[1.0, 0.2, -0.1, 0.3]]).repeat(5, 1),
        "opacities": torch.logit(torch.tensor(opacities)),
        "colors": torch.tensor([[0.9, 0.2, 0.1]]).repeat(5, 1),
    }
    params = {name: torch.nn.Parameter(value) for name, value in params.items()}
    optimizers = {name: torch.optim.Adam([param], lr=1e-3) for name, param in params.items()}
    return params, optimizers


def _render(params: dict):
    looking_down_plus_z = torch.diag(torch.tensor([1.0, -1.0, -1.0, 1.0]))  # OpenCV identity
    cameras = Cameras(looking_down_plus_z, FOCAL, FOCAL, SIZE / 2, SIZE / 2, SIZE, SIZE)
    return rasterize(
        means=params["means"],
        quats=params["quats"],
        scales=torch.exp(params["scales"]),
        opacities=torch.sigmoid(params["opacities"]),
        colors=params["colors"],
        cameras=cameras,
        background=torch.ones(3),
        backend="reference",
    )


def test_default_strategy_grows_and_prunes_as_the_gradients_dictate() -> None:
    torch.manual_seed(0)
    params, optimizers = _params_and_optimizers()
    strategy = DefaultStrategy(refine_start_iter=0, refine_every=1, reset_every=10**6)
    strategy.check_sanity(params, optimizers)
    state = strategy.initialize_state(scene_scale=1.0)

    # One ordinary optimiser step first, so that Adam has state the strategy must resize.
    _render(params).rgb.mean().backward()
    for optimizer in optimizers.values():
        optimizer.step()
        optimizer.zero_grad()
    means_before = params["means"].detach().clone()
    scales_before = params["scales"].detach().clone()

    out = _render(params)
    strategy.step_pre_backward(params, optimizers, state, step=1, info=out.info)
    top_half = torch.zeros(1, SIZE, SIZE, 1)
    top_half[:, : SIZE // 2] = 1.0
    (out.rgb * top_half).sum().backward()

    # What the strategy should conclude, computed here from the image-plane gradient.
    visible = (out.info["radii"] > 0).all(-1)[0]
    assert visible.tolist() == [True, True, True, False, True]
    grad = out.info["means2d"].grad[0] * torch.tensor([SIZE / 2.0, SIZE / 2.0])
    grad_norm = grad.norm(dim=-1) * visible
    assert grad_norm[2].item() == 0.0 and grad_norm[4].item() == 0.0
    grows = grad_norm > strategy.grow_grad2d
    small = torch.exp(scales_before).max(dim=-1).values <= strategy.grow_scale3d
    pruned = torch.sigmoid(params["opacities"].detach()) < strategy.prune_opa
    assert grows.tolist() == [True, True, False, False, False]
    assert pruned.tolist() == [False, False, False, False, True]
    expected_count = (
        5 + int((grows & small).sum()) + int((grows & ~small).sum()) - int(pruned.sum())
    )

    strategy.step_post_backward(params, optimizers, state, step=1, info=out.info, packed=False)

    assert len(params["means"]) == expected_count == 6
    means_after = params["means"].detach()
    matches = lambda point: int((means_after == point).all(-1).sum())  # noqa: E731
    assert matches(means_before[0]) == 2  # the original and its duplicate
    assert matches(means_before[1]) == 0  # replaced by two samples around it
    assert matches(means_before[2]) == 1 and matches(means_before[3]) == 1
    assert matches(means_before[4]) == 0  # pruned
    split_scale = scales_before[1] - math.log(1.6)  # gsplat divides a split's scale by 1.6
    assert int((params["scales"] - split_scale).abs().lt(1e-6).all(-1).sum()) == 2
    for name, optimizer in optimizers.items():
        adam_state = optimizer.state[params[name]]
        assert adam_state["exp_avg"].shape == params[name].shape
    assert state["grad2d"].shape == (6,)
