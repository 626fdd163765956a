"""The rigidity prior and the time curriculum."""

from __future__ import annotations

import math

import pytest
import torch

from avatar4d.model.deformation import SplineDeformation
from avatar4d.model.gaussians import make_params
from avatar4d.train.rigidity import build_neighbour_graph, rigidity_loss
from avatar4d.train.time_sampling import TimeSampler, time_distance


def cloud(count: int = 60) -> dict[str, torch.nn.Parameter]:
    deformation = SplineDeformation(num_control=4, periodic=True)
    generator = torch.Generator().manual_seed(4)
    quats = torch.zeros(count, 4)
    quats[:, 0] = 1
    return make_params(
        {
            "means": torch.randn(count, 3, generator=generator),
            "scales": torch.zeros(count, 3),
            "quats": quats,
            "opacities": torch.zeros(count),
            "colors": torch.zeros(count, 3),
            **deformation.init_motion(torch.zeros(count, 3)),
        }
    )


def test_neighbour_graph_finds_the_nearest_others():
    means = torch.tensor([[0.0, 0, 0], [1.0, 0, 0], [1.1, 0, 0], [5.0, 0, 0]])
    graph = build_neighbour_graph(means, neighbours=1, max_anchors=10)
    assert graph.anchors.tolist() == [0, 1, 2, 3]
    assert graph.neighbours[:, 0].tolist() == [1, 2, 1, 2]
    sampled = build_neighbour_graph(torch.randn(50, 3), neighbours=3, max_anchors=20)
    assert sampled.anchors.shape == (20,) and sampled.neighbours.shape == (20, 3)
    assert len(set(sampled.anchors.tolist())) == 20


def test_rigid_motion_costs_nothing_and_tearing_costs():
    params = cloud()
    deformation = SplineDeformation(num_control=4, periodic=True)
    graph = build_neighbour_graph(params["means"].detach(), neighbours=6, max_anchors=1000)
    angle = 0.7  # every Gaussian turns by the same rotation about +Y, the cloud turns with it
    turn = torch.tensor([math.cos(angle / 2), 0.0, math.sin(angle / 2), 0.0])
    rotation = torch.tensor(
        [[math.cos(angle), 0, math.sin(angle)], [0, 1, 0], [-math.sin(angle), 0, math.cos(angle)]]
    )
    # With the anchor at t = 0, the offset at t = 0.5 is 4/6 of control point 2's value.
    with torch.no_grad():
        params["motion_quats"][:, 2] = 1.5 * (turn - torch.tensor([1.0, 0, 0, 0]))
        turned = params["means"] @ rotation.T + torch.tensor([0.3, -0.2, 0.1])
        params["motion_means"][:, 2] = 1.5 * (turned - params["means"])
    rigid = rigidity_loss(graph, params["means"], deformation.deform(params, 0.5), 1.0)
    assert float(rigid.detach()) < 1e-3
    with torch.no_grad():
        params["motion_means"][::2, 2] += 0.75  # every other Gaussian jumps 0.5 away
    torn = rigidity_loss(graph, params["means"], deformation.deform(params, 0.5), 1.0)
    assert float(torn.detach()) > 0.1


def test_time_curriculum_widens_from_the_anchor_to_every_time():
    times = [i / 8 for i in range(8)]
    sampler = TimeSampler.around(times, anchor=0.25, periodic=True, curriculum_steps=100)
    assert sampler.allowed(0) == [2]
    assert sampler.allowed(50) == [0, 1, 2, 3, 4]  # within 0.25 of t = 0.25
    assert sampler.allowed(100) == list(range(8))
    torch.manual_seed(0)
    assert {sampler.draw(0) for _ in range(20)} == {2}
    assert time_distance(0.05, 0.95, periodic=True) == pytest.approx(0.1)
    assert time_distance(0.05, 0.95, periodic=False) == pytest.approx(0.9)
    no_curriculum = TimeSampler.around(times, anchor=0.0, periodic=False, curriculum_steps=0)
    assert no_curriculum.allowed(0) == list(range(8))
