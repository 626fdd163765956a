"""Control-node deformation: identity at the anchor, rigid motion exact, binding and spread."""

from __future__ import annotations

import dataclasses
import math

import pytest
import torch

from avatar4d.model import node_deformation
from avatar4d.model.gaussians import make_params, per_gaussian
from avatar4d.model.node_deformation import NodeDeformation, farthest_points, nearest_nodes
from avatar4d.raster.quaternions import normalize_quat, quat_multiply, quat_to_rotation


def node_params(count: int = 200, nodes: int = 16, seed: int = 0, motion: float = 0.0):
    deformation = NodeDeformation(nodes, neighbours=4, num_control=6, periodic=True)
    generator = torch.Generator().manual_seed(seed)
    means = torch.randn(count, 3, generator=generator)
    tensors = {
        "means": means,
        "scales": torch.randn(count, 3, generator=generator) - 3,
        "quats": torch.randn(count, 4, generator=generator),
        "opacities": torch.randn(count, generator=generator),
        "colors": torch.randn(count, 3, generator=generator),
        **deformation.init_motion(means),
    }
    for key in ("node_motion_means", "node_motion_quats"):
        tensors[key] = motion * torch.randn(tensors[key].shape, generator=generator)
    return deformation, make_params(tensors)


def test_nodes_are_shared_tensors_of_their_own_length():
    deformation, params = node_params(count=200, nodes=16)
    assert params["node_means"].shape == (16, 3)
    assert params["node_log_radii"].shape == (16,)
    assert params["node_motion_means"].shape == (16, 6, 3)
    assert params["node_motion_quats"].shape == (16, 6, 4)
    gaussian_keys = {"means", "scales", "quats", "opacities", "colors", "binding"}
    assert set(per_gaussian(params)) == gaussian_keys
    binding = params["binding"]
    assert binding.shape == (200, 4) and binding.dtype == torch.int32 and not binding.requires_grad
    expected = torch.cdist(params["means"], params["node_means"]).topk(4, largest=False).indices
    assert torch.equal(binding.long().sort(dim=-1).values, expected.sort(dim=-1).values)


def test_refresh_rebinds_moved_gaussians_to_their_new_nearest_nodes():
    deformation, params = node_params(count=50, nodes=8)
    with torch.no_grad():
        params["means"][0] = params["node_means"][5] + 1e-3
    deformation.refresh(params)
    assert int(params["binding"][0, 0]) == 5  # the nearest first


def test_anchor_time_is_the_canonical_pose_whatever_the_motion():
    deformation, params = node_params(motion=0.3)
    posed = deformation.deform(params, deformation.anchor_time)
    torch.testing.assert_close(posed.means, params["means"], atol=1e-5, rtol=0)
    torch.testing.assert_close(posed.quats, normalize_quat(params["quats"]), atol=1e-6, rtol=0)
    moved = deformation.deform(params, 0.4)
    assert (moved.means - params["means"]).norm(dim=-1).mean() > 0.05


def test_the_same_rigid_motion_on_every_node_moves_every_gaussian_rigidly():
    deformation, params = node_params()
    angle = 0.7
    axis = torch.tensor([1.0, 2.0, -0.5])
    axis = axis / axis.norm()
    q = torch.cat([torch.tensor([math.cos(angle / 2)]), math.sin(angle / 2) * axis])
    rotation_matrix = quat_to_rotation(q)
    shift = torch.tensor([0.3, -0.2, 0.5])
    nodes = params["node_means"].detach()
    # Node k maps x -> R (x - p_k) + p_k + T_k; T_k = R p_k + c - p_k makes it x -> R x + c.
    translation = nodes @ rotation_matrix.T + shift - nodes
    rotation = q.expand(len(nodes), 4)
    with torch.no_grad():
        posed = deformation.pose(params, deformation.bind(params), translation, rotation)
    expected = params["means"].detach() @ rotation_matrix.T + shift
    torch.testing.assert_close(posed.means, expected, atol=1e-5, rtol=0)
    expected_quats = normalize_quat(quat_multiply(q.expand_as(params["quats"]), params["quats"]))
    torch.testing.assert_close(posed.quats, expected_quats.detach(), atol=1e-5, rtol=0)


def test_pose_is_the_weighted_sum_of_each_nodes_rigid_map():
    deformation, params = node_params(motion=0.3)
    translation, rotation = deformation.node_motion(params, 0.37)
    with torch.no_grad():
        binding = deformation.bind(params)
        posed = deformation.pose(params, binding, translation, rotation)
        nodes = params["node_means"][binding.indices.long()]  # (N, K, 3)
        matrices = quat_to_rotation(rotation)[binding.indices.long()]
        moved = torch.einsum("nkij,nkj->nki", matrices, params["means"][:, None] - nodes)
        moved = moved + nodes + translation[binding.indices.long()]
        expected = (binding.weights[..., None] * moved).sum(dim=1)
        turn = (binding.weights[..., None] * rotation[binding.indices.long()]).sum(dim=1)
    torch.testing.assert_close(posed.means, expected, atol=1e-5, rtol=0)
    torch.testing.assert_close(posed.rotation_since_canonical, normalize_quat(turn))
    assert (posed.means - params["means"]).norm(dim=-1).mean() > 0.05  # it did move


def test_deform_many_groups_long_batches_without_changing_them(monkeypatch):
    deformation, params = node_params(motion=0.2)
    deformation = dataclasses.replace(deformation, residual_control=5)
    generator = torch.Generator().manual_seed(4)
    params["motion_means"] = 0.1 * torch.randn(200, 5, 3, generator=generator)
    times = [0.05 * i for i in range(7)]
    with torch.no_grad():
        whole = deformation.deform_many(params, times)
        monkeypatch.setattr(node_deformation, "TIME_GROUP", 3)
        assert deformation.time_group(params) == 3
        grouped = deformation.deform_many(params, times)
        monkeypatch.setattr(node_deformation, "GATHER_ELEMENTS", 200 * 4 * 16 * 2)
        assert deformation.time_group(params) == 2  # two times' gathers fit the budget
        by_memory = deformation.deform_many(params, times)
    torch.testing.assert_close(by_memory.means, whole.means)
    assert grouped.means.shape == (7, 200, 3)
    torch.testing.assert_close(grouped.means, whole.means)
    torch.testing.assert_close(grouped.quats, whole.quats)


def test_deform_many_is_deform_at_each_time():
    deformation, params = node_params(motion=0.2)
    times = [0.0, 0.13, 0.5, 0.91]
    with torch.no_grad():
        batched = deformation.deform_many(params, times)
        for index, t in enumerate(times):
            single = deformation.deform(params, t)
            torch.testing.assert_close(batched.means[index], single.means)
            torch.testing.assert_close(batched.quats[index], single.quats)
    assert batched.log_scales.shape == (4, 200, 3)


def test_gradients_reach_the_node_motion_and_positions():
    deformation, params = node_params(motion=0.1)
    posed = deformation.deform(params, 0.3)
    (posed.means.square().sum() + posed.quats[:, 1:].square().sum()).backward()
    for key in ("node_motion_means", "node_motion_quats", "node_means", "node_log_radii", "means"):
        assert params[key].grad is not None and params[key].grad.abs().sum() > 0, key


def test_nearest_nodes_match_a_full_sort_across_chunks(monkeypatch):
    generator = torch.Generator().manual_seed(1)
    means, nodes = torch.randn(300, 3, generator=generator), torch.randn(40, 3, generator=generator)
    monkeypatch.setattr(node_deformation, "BINDING_CHUNK", 64)
    found = nearest_nodes(means, nodes, 3)
    expected = torch.cdist(means, nodes).argsort(dim=-1)[:, :3]
    assert torch.equal(found.long().sort(dim=-1).values, expected.sort(dim=-1).values)
    assert nearest_nodes(means, nodes[:2], 5).shape == (300, 2)  # never more than there are


def test_a_gaussian_on_a_tight_node_follows_that_node_alone():
    deformation, params = node_params(count=50, nodes=8)
    with torch.no_grad():
        params["means"][0] = params["node_means"][3]
        params["node_log_radii"].fill_(math.log(1e-3))
    deformation.refresh(params)
    binding = deformation.bind(params)
    slot = int((binding.indices[0] == 3).nonzero())
    assert float(binding.weights[0, slot].detach()) == pytest.approx(1.0)
    torch.testing.assert_close(binding.weights.sum(dim=-1), torch.ones(50))


def test_farthest_points_spread_over_the_shape():
    line = torch.stack([torch.arange(11.0), torch.zeros(11), torch.zeros(11)], dim=-1)
    picked = farthest_points(line, 3)[:, 0].tolist()
    assert sorted(picked) == [0.0, 5.0, 10.0]  # the middle one first, then both ends
    assert len(farthest_points(line, 50)) == 11  # never more than the points


def test_a_residual_spline_adds_a_per_gaussian_translation_pinned_at_the_anchor():
    deformation, params = node_params(motion=0.2)
    with_residual = dataclasses.replace(deformation, residual_control=5)
    residual = with_residual.init_motion(params["means"].detach())["motion_means"]
    assert residual.shape == (200, 5, 3) and not residual.any()
    generator = torch.Generator().manual_seed(3)
    params = make_params(
        {
            **{key: value.detach() for key, value in params.items()},
            "motion_means": 0.1 * torch.randn(200, 5, 3, generator=generator),
        }
    )
    assert "motion_means" in per_gaussian(params)  # cloned and pruned with the Gaussians
    times = [deformation.anchor_time, 0.3, 0.7]
    with torch.no_grad():
        plain = deformation.deform_many(params, times)
        corrected = with_residual.deform_many(params, times)
        for index, t in enumerate(times):
            single = with_residual.deform(params, t)
            torch.testing.assert_close(corrected.means[index], single.means)
            expected = with_residual.residual_curves.motion(params, "motion_means", t)
            torch.testing.assert_close(corrected.means[index] - plain.means[index], expected)
    torch.testing.assert_close(corrected.means[0], plain.means[0])  # zero at the anchor
    assert (corrected.means[1] - plain.means[1]).norm(dim=-1).mean() > 0.01
    torch.testing.assert_close(corrected.quats, plain.quats)  # translation only
    smooth = with_residual.smoothness(params, 1.0) - deformation.smoothness(params, 1.0)
    assert float(smooth.detach()) > 0  # the residual's curvature is penalised too
