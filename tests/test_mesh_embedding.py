"""Triangle frames and Gaussians bound to triangles: they follow the mesh, and stay finite."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch

from avatar4d.asset.loader import load_asset
from avatar4d.asset.rig_mesh import RigPoser, embeddable_faces
from avatar4d.model.mesh_embedding import (
    barycentric_from_logits,
    children_on_parent_faces,
    embed,
    initial_embedding,
    logits_from_barycentric,
    project_onto_faces,
)
from avatar4d.model.triangle_frames import MIN_SCALE, triangle_frames
from avatar4d.raster.quaternions import quat_multiply, quat_to_rotation, rotation_to_quat


def _random_rotation(generator: torch.Generator) -> torch.Tensor:
    q = torch.randn(4, generator=generator, dtype=torch.float64)
    return quat_to_rotation(q / q.norm())


def _mesh(generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """A bumpy grid of 5 x 5 vertices, 32 triangles, float64."""
    x, z = torch.meshgrid(torch.arange(5.0), torch.arange(5.0), indexing="ij")
    y = 0.3 * torch.rand(5, 5, generator=generator)
    vertices = torch.stack((x, y, z), dim=-1).reshape(-1, 3).double()
    faces = []
    for i in range(4):
        for j in range(4):
            a, b, c, d = i * 5 + j, i * 5 + j + 1, (i + 1) * 5 + j, (i + 1) * 5 + j + 1
            faces += [[a, b, c], [b, d, c]]
    return vertices, torch.tensor(faces)


def _params(count: int, faces: int, generator: torch.Generator) -> dict[str, torch.Tensor]:
    return {
        "face": torch.randint(0, faces, (count,), generator=generator),
        "bary_logits": torch.randn(count, 2, generator=generator, dtype=torch.float64),
        "offsets": 0.2 * torch.randn(count, generator=generator, dtype=torch.float64),
        "quats": torch.randn(count, 4, generator=generator, dtype=torch.float64),
        "log_scales": torch.randn(count, 3, generator=generator, dtype=torch.float64) - 2,
    }


def _same_rotation(a: torch.Tensor, b: torch.Tensor) -> None:
    torch.testing.assert_close((a * b).sum(-1).abs(), torch.ones(a.shape[:-1], dtype=a.dtype))


def test_frames_are_orthonormal_right_handed_and_follow_the_winding() -> None:
    vertices = torch.tensor([[0.0, 0, 0], [2, 0, 0], [0, 2, 0]])
    frames = triangle_frames(vertices[None], torch.tensor([[0, 1, 2], [0, 2, 1]]))
    torch.testing.assert_close(frames.rotations[0, 0], torch.eye(3))
    torch.testing.assert_close(frames.normals[0, 1], torch.tensor([0.0, 0, -1]))
    torch.testing.assert_close(frames.origins[0, 0], torch.tensor([2 / 3, 2 / 3, 0]))
    torch.testing.assert_close(frames.scales[0], torch.full((2,), 2.0))  # sqrt(2 x area 2)
    torch.testing.assert_close(quat_to_rotation(frames.quats), frames.rotations)
    generator = torch.Generator().manual_seed(0)
    many = triangle_frames(
        torch.randn(3, 40, 3, generator=generator),
        torch.randint(0, 40, (50, 3), generator=generator),
    )
    rotations = many.rotations
    eye = torch.eye(3).expand_as(rotations)
    torch.testing.assert_close(rotations.transpose(-1, -2) @ rotations, eye, atol=1e-5, rtol=0)
    torch.testing.assert_close(torch.linalg.det(rotations), torch.ones(3, 50), atol=1e-5, rtol=0)


def test_rotation_to_quat_round_trips_including_half_turns() -> None:
    generator = torch.Generator().manual_seed(1)
    q = torch.randn(500, 4, generator=generator, dtype=torch.float64)
    q = torch.cat(
        (
            q,
            torch.tensor(
                [[0.0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1], [1e-9, 0.6, 0.8, 0]]
            ).double(),
        )
    )
    q = q / q.norm(dim=-1, keepdim=True)
    back = rotation_to_quat(quat_to_rotation(q))
    _same_rotation(back, q)
    assert (back[:, 0] >= 0).all()


def test_embedded_point_lies_on_its_triangle() -> None:
    generator = torch.Generator().manual_seed(2)
    vertices, faces = _mesh(generator)
    params = _params(200, len(faces), generator)
    params["offsets"] = torch.zeros(200, dtype=torch.float64)
    placed = embed(vertices[None], faces, **params)
    corners = vertices[faces[params["face"]]]
    weights = barycentric_from_logits(params["bary_logits"])
    assert (weights > 0).all()
    torch.testing.assert_close(weights.sum(-1), torch.ones(200, dtype=torch.float64))
    torch.testing.assert_close(placed.means[0], (weights[..., None] * corners).sum(-2))
    normal = torch.linalg.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0])
    distance = ((placed.means[0] - corners[:, 0]) * normal).sum(-1)
    torch.testing.assert_close(distance, torch.zeros(200, dtype=torch.float64))


def test_gaussians_move_rigidly_with_a_rigidly_moved_mesh_and_scale_with_it() -> None:
    generator = torch.Generator().manual_seed(3)
    vertices, faces = _mesh(generator)
    params = _params(300, len(faces), generator)
    rotation = _random_rotation(generator)
    shift = torch.tensor([0.5, -2.0, 3.0], dtype=torch.float64)
    factor = 2.5
    poses = torch.stack((vertices, vertices @ rotation.T + shift, factor * vertices))
    placed = embed(poses, faces, **params)
    torch.testing.assert_close(placed.means[1], placed.means[0] @ rotation.T + shift)
    turn = rotation_to_quat(rotation).expand(300, 4)
    _same_rotation(placed.quats[1], quat_multiply(turn, placed.quats[0]))
    torch.testing.assert_close(placed.log_scales[1], placed.log_scales[0])
    torch.testing.assert_close(placed.means[2], factor * placed.means[0])
    _same_rotation(placed.quats[2], placed.quats[0])
    torch.testing.assert_close(placed.log_scales[2], placed.log_scales[0] + math.log(factor))


def test_cached_frames_give_the_same_gaussians_as_fresh_ones() -> None:
    generator = torch.Generator().manual_seed(4)
    vertices, faces = _mesh(generator)
    poses = torch.stack(
        [
            vertices + 0.1 * k * torch.randn(25, 3, generator=generator, dtype=torch.float64)
            for k in range(4)
        ]
    )
    params = _params(50, len(faces), generator)
    frames = triangle_frames(poses, faces)
    chosen = torch.tensor([3, 1])
    cached = embed(poses[chosen], faces, **params, frames=frames.select(chosen))
    fresh = embed(poses[chosen], faces, **params)
    for a, b in zip(
        (cached.means, cached.quats, cached.log_scales),
        (fresh.means, fresh.quats, fresh.log_scales),
        strict=True,
    ):
        torch.testing.assert_close(a, b)


def test_gradients_reach_every_per_gaussian_parameter() -> None:
    generator = torch.Generator().manual_seed(5)
    vertices, faces = _mesh(generator)
    params = _params(64, len(faces), generator)
    trained = {k: v.requires_grad_() for k, v in params.items() if k != "face"}
    placed = embed(vertices[None].expand(2, -1, -1), faces, face=params["face"], **trained)
    target = torch.randn(placed.quats.shape, generator=generator, dtype=torch.float64)
    loss = placed.means.square().sum() + (placed.quats * target).sum() + placed.log_scales.sum()
    loss.backward()
    for name, value in trained.items():
        assert value.grad is not None and torch.isfinite(value.grad).all(), name
        assert (value.grad.abs().sum(dim=-1 if value.ndim > 1 else 0) > 0).all(), name


def test_degenerate_triangles_give_finite_frames_gaussians_and_gradients() -> None:
    vertices = torch.tensor(
        [[0.0, 0, 0], [1, 0, 0], [2, 0, 0], [0, 1, 0], [0, 0, 0], [1, 1e-12, 0]],
        dtype=torch.float32,
    )
    # repeated corner, collinear, all three corners at one point, a needle, and a good one
    faces = torch.tensor([[0, 1, 1], [0, 1, 2], [0, 4, 0], [0, 2, 5], [0, 1, 3]])
    frames = triangle_frames(vertices[None], faces)
    for value in (frames.origins, frames.rotations, frames.quats, frames.scales):
        assert torch.isfinite(value).all()
    rotations = frames.rotations[0]
    torch.testing.assert_close(
        rotations.transpose(-1, -2) @ rotations, torch.eye(3).expand(5, 3, 3), atol=1e-6, rtol=0
    )
    assert frames.scales[0, 2] == MIN_SCALE
    generator = torch.Generator().manual_seed(6)
    params = _params(40, 5, generator)
    trained = {k: v.float().requires_grad_() for k, v in params.items() if k != "face"}
    placed = embed(vertices[None], faces, face=params["face"], **trained)
    (placed.means.sum() + placed.quats.sum() + placed.log_scales.sum()).backward()
    for value in (
        placed.means,
        placed.quats,
        placed.log_scales,
        *(v.grad for v in trained.values()),
    ):
        assert torch.isfinite(value).all()


def test_initial_embedding_is_area_weighted_seeded_and_skips_unembeddable_faces() -> None:
    # Two triangles of area 0.5 and 4.5, and a third (degenerate) one that is excluded.
    vertices = torch.tensor(
        [[0.0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1], [3, 0, 1], [0, 3, 1], [5, 5, 5]]
    )
    faces = torch.tensor([[0, 1, 2], [3, 4, 5], [6, 6, 0]])
    embeddable = torch.tensor([True, True, False])
    first = initial_embedding(vertices, faces, embeddable, 4000, seed=7)
    again = initial_embedding(vertices, faces, embeddable, 4000, seed=7)
    other = initial_embedding(vertices, faces, embeddable, 4000, seed=8)
    assert torch.equal(first.face, again.face) and torch.equal(first.bary_logits, again.bary_logits)
    assert not torch.equal(first.bary_logits, other.bary_logits)
    counts = torch.bincount(first.face, minlength=3)
    assert counts[2] == 0 and abs(counts[1] / 4000 - 0.9) < 0.02
    placed = embed(
        vertices[None],
        faces,
        first.face,
        first.bary_logits,
        first.offsets,
        first.quats,
        first.log_scales,
    )
    # Every point on its triangle, spread over it (the mean near its centroid).
    big = placed.means[0][first.face == 1]
    assert (
        torch.allclose(big[:, 2], torch.ones(len(big)))
        and (big[:, :2] >= -1e-6).all()
        and (big[:, :2].sum(-1) <= 3 + 1e-5).all()
    )
    torch.testing.assert_close(big.mean(0), torch.tensor([1.0, 1.0, 1.0]), atol=0.06, rtol=0)
    # Isotropic world size from the density: sqrt(total area / (pi N)), whichever triangle.
    expected = math.log(math.sqrt(5.0 / (math.pi * 4000)))
    torch.testing.assert_close(
        placed.log_scales[0], torch.full((4000, 3), expected), atol=1e-5, rtol=0
    )
    torch.testing.assert_close(placed.quats[0], torch.tensor([1.0, 0, 0, 0]).expand(4000, 4))
    with pytest.raises(ValueError, match="no visible surface"):
        initial_embedding(vertices, faces, torch.tensor([False, False, True]), 10)


def test_children_stay_inside_their_parents_triangles() -> None:
    generator = torch.Generator().manual_seed(9)
    face = torch.tensor([4, 7, 1])
    weights = torch.tensor([[0.98, 0.01, 0.01], [0.2, 0.3, 0.5], [1 / 3, 1 / 3, 1 / 3]])
    logits = logits_from_barycentric(weights)
    torch.testing.assert_close(barycentric_from_logits(logits), weights)
    parents = torch.tensor([0, 0, 1, 2, 2, 2] * 50)
    child_face, child_logits = children_on_parent_faces(face, logits, parents, 0.3, generator)
    assert torch.equal(child_face, face[parents])
    child_weights = barycentric_from_logits(child_logits)
    assert torch.isfinite(child_logits).all() and (child_weights > 0).all()
    assert not torch.allclose(child_weights, weights[parents], atol=1e-3)
    still_face, still = children_on_parent_faces(face, logits, parents[:3], torch.zeros(3))
    assert torch.equal(still_face, face[parents[:3]])
    torch.testing.assert_close(
        barycentric_from_logits(still), weights[parents[:3]], atol=1e-6, rtol=0
    )


def test_projection_inverts_embedding() -> None:
    generator = torch.Generator().manual_seed(10)
    vertices, faces = _mesh(generator)
    params = _params(100, len(faces), generator)
    placed = embed(vertices[None], faces, **params)
    logits, offsets = project_onto_faces(placed.means[0], vertices, faces, params["face"])
    torch.testing.assert_close(offsets, params["offsets"])
    torch.testing.assert_close(
        barycentric_from_logits(logits),
        barycentric_from_logits(params["bary_logits"]),
        atol=1e-4,
        rtol=0,
    )


def test_gaussians_on_a_real_character_follow_its_clip(robot_glb: Path) -> None:
    poser = RigPoser(load_asset(robot_glb))
    faces = torch.from_numpy(poser.mesh.faces)
    times = [0.0, 0.8, 1.6]
    posed = torch.from_numpy(poser.pose("Dance", times))
    embeddable = embeddable_faces(poser.mesh, posed[0].numpy())
    assert (~embeddable).sum() == 3  # the asset's zero-area faces
    start = initial_embedding(posed[0], faces, embeddable, 5000, seed=0)
    assert embeddable[start.face.numpy()].all()
    frames = triangle_frames(posed, faces)
    for value in (frames.rotations, frames.quats, frames.scales):
        assert torch.isfinite(value).all()
    placed = embed(
        posed,
        faces,
        start.face,
        start.bary_logits,
        start.offsets,
        start.quats,
        start.log_scales,
        frames=frames,
    )
    weights = barycentric_from_logits(start.bary_logits)
    for row in range(len(times)):
        corners = posed[row][faces[start.face]]
        expected = (weights[..., None] * corners).sum(-2)
        torch.testing.assert_close(placed.means[row], expected, atol=1e-5, rtol=0)
    assert (placed.means[1] - placed.means[0]).norm(dim=-1).max() > 0.1  # the dance moved them
