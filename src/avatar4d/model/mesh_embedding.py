"""Gaussians bound to the triangles of a posed mesh (SplattingAvatar / GaussianAvatars style).

Each Gaussian names one triangle (``face``, an integer, not trained) and holds, relative to that
triangle's frame (``avatar4d.model.triangle_frames``):

- ``bary_logits`` (N, 2): its point on the triangle, barycentric weights
  ``softmax(0, l1, l2)`` (always inside the triangle, never exactly on an edge);
- ``offsets`` (N,): its distance from that point along the normal, in units of the
  triangle's scale;
- ``quats`` (N, 4): its rotation in the triangle's frame (w x y z, not normalised);
- ``log_scales`` (N, 3): its log standard deviations, less the log of the triangle's scale.

Any pose of the mesh then places every Gaussian (``embed``): the point moves with the corners,
the rotation turns with the frame, the size grows with the triangle. Everything is
differentiable in the per-Gaussian parameters; the posed vertices are data.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from avatar4d.asset.topology import sample_triangles, triangle_areas
from avatar4d.model.triangle_frames import TriangleFrames, triangle_frames
from avatar4d.raster.quaternions import normalize_quat, quat_multiply

MIN_BARYCENTRIC = 1e-4  # weights read back into logits are kept this far inside the triangle


@dataclass(frozen=True)
class PlacedGaussians:
    means: torch.Tensor  # (T, N, 3) world positions
    quats: torch.Tensor  # (T, N, 4) w x y z, unit
    log_scales: torch.Tensor  # (T, N, 3) log standard deviations in world units


def barycentric_from_logits(logits: torch.Tensor) -> torch.Tensor:
    """(..., 2) free parameters -> (..., 3) positive weights summing to 1."""
    return torch.softmax(torch.cat((torch.zeros_like(logits[..., :1]), logits), dim=-1), dim=-1)


def logits_from_barycentric(barycentric: torch.Tensor) -> torch.Tensor:
    """(..., 3) weights (clamped MIN_BARYCENTRIC inside the triangle) -> (..., 2) logits."""
    weights = barycentric.clamp_min(MIN_BARYCENTRIC)
    weights = weights / weights.sum(dim=-1, keepdim=True)
    log = weights.log()
    return log[..., 1:] - log[..., :1]


def embed(
    vertices: torch.Tensor,
    faces: torch.Tensor,
    face: torch.Tensor,
    bary_logits: torch.Tensor,
    offsets: torch.Tensor,
    quats: torch.Tensor,
    log_scales: torch.Tensor,
    frames: TriangleFrames | None = None,
) -> PlacedGaussians:
    """World Gaussians on the mesh posed as ``vertices`` (T, V, 3), ``faces`` (F, 3).

    ``frames`` are ``triangle_frames(vertices, faces)`` when already computed (e.g. cached for
    the train times and ``select``-ed); computed here otherwise.
    """
    if frames is None:
        frames = triangle_frames(vertices, faces)
    face = face.long()
    corner_index = faces.long()[face].reshape(-1)
    corners = vertices.index_select(1, corner_index).unflatten(1, (-1, 3))  # (T, N, 3, 3)
    weights = barycentric_from_logits(bary_logits)
    on_surface = (weights[None, :, :, None] * corners).sum(dim=-2)
    scale = frames.scales[:, face]  # (T, N)
    normal = frames.rotations[:, face, :, 2]  # (T, N, 3)
    means = on_surface + (offsets[None, :] * scale)[..., None] * normal
    world_quats = quat_multiply(frames.quats[:, face], normalize_quat(quats)[None])
    world_log_scales = log_scales[None] + scale.log()[..., None]
    return PlacedGaussians(means, world_quats, world_log_scales)


@dataclass(frozen=True)
class InitialEmbedding:
    face: torch.Tensor  # (N,) int64
    bary_logits: torch.Tensor  # (N, 2)
    offsets: torch.Tensor  # (N,) zeros
    quats: torch.Tensor  # (N, 4) identity
    log_scales: torch.Tensor  # (N, 3) relative to each triangle's scale


def initial_embedding(
    vertices: torch.Tensor,
    faces: torch.Tensor,
    embeddable: torch.Tensor | np.ndarray,
    count: int,
    seed: int = 0,
) -> InitialEmbedding:
    """``count`` Gaussians spread uniformly by area over the ``embeddable`` (F,) faces of the
    anchor pose ``vertices`` (V, 3), on the surface, unrotated, each as wide as the disc its
    share of the area makes (sqrt(area / (pi count))), isotropic. Deterministic in ``seed``."""
    positions = vertices.detach().cpu().double().numpy()
    face_array = faces.detach().cpu().numpy().astype(np.int64)
    allowed = torch.as_tensor(embeddable).detach().cpu().numpy().astype(bool)
    areas = triangle_areas(positions, face_array) * allowed
    picks, barycentric = sample_triangles(areas, count, seed)
    radius = float(np.sqrt(areas.sum() / (np.pi * count)))
    face = torch.from_numpy(picks).to(vertices.device)
    triangle_scale = triangle_frames(vertices.detach(), faces).scales[face]
    log_scale = (radius / triangle_scale.double()).log().float()
    return InitialEmbedding(
        face=face,
        bary_logits=logits_from_barycentric(torch.from_numpy(barycentric).to(vertices)),
        offsets=torch.zeros(count, dtype=vertices.dtype, device=vertices.device),
        quats=torch.tensor([1.0, 0.0, 0.0, 0.0], dtype=vertices.dtype, device=vertices.device)
        .expand(count, 4)
        .clone(),
        log_scales=log_scale[:, None].expand(count, 3).contiguous().to(vertices.dtype),
    )


def children_on_parent_faces(
    face: torch.Tensor,
    bary_logits: torch.Tensor,
    parents: torch.Tensor,
    jitter: torch.Tensor | float,
    generator: torch.Generator | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """(face, bary_logits) for one child of each of ``parents`` (M,): on its parent's
    triangle, its barycentric weights moved by Gaussian noise of std ``jitter`` (float or
    (M,)) and clamped back inside the triangle."""
    parents = parents.long()
    weights = barycentric_from_logits(bary_logits[parents].detach())
    noise = torch.randn(weights.shape, generator=generator, dtype=weights.dtype, device="cpu").to(
        weights.device
    )
    noise = noise - noise.mean(dim=-1, keepdim=True)  # stays on the triangle's plane
    spread = torch.as_tensor(jitter, dtype=weights.dtype, device=weights.device)
    moved = weights + noise * (spread[..., None] if spread.ndim else spread)
    return face[parents].clone(), logits_from_barycentric(moved.clamp_min(0.0))


def project_onto_faces(
    points: torch.Tensor,
    vertices: torch.Tensor,
    faces: torch.Tensor,
    face: torch.Tensor,
    frames: TriangleFrames | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """(bary_logits (M, 2), offsets (M,)) of world ``points`` (M, 3) on the given ``face``s
    of one pose ``vertices`` (V, 3): the inverse of ``embed`` for points that lie over their
    triangle, else the nearest point of the triangle's plane clamped inside it. For
    densification that samples children in world space (as gsplat's split does)."""
    if frames is None:
        frames = triangle_frames(vertices, faces)
    face = face.long()
    first, second, third = vertices[faces.long()[face]].unbind(-2)
    normal = frames.rotations[face, :, 2]
    scale = frames.scales[face]
    offsets = ((points - first) * normal).sum(dim=-1) / scale
    # Barycentric weights of the projection onto the plane (least squares in the edges).
    e1, e2, d = second - first, third - first, points - first
    d11, d12, d22 = (e1 * e1).sum(-1), (e1 * e2).sum(-1), (e2 * e2).sum(-1)
    r1, r2 = (d * e1).sum(-1), (d * e2).sum(-1)
    determinant = (d11 * d22 - d12 * d12).clamp_min(1e-30)
    u = (d22 * r1 - d12 * r2) / determinant
    v = (d11 * r2 - d12 * r1) / determinant
    weights = torch.stack((1.0 - u - v, u, v), dim=-1).clamp_min(0.0)
    weights = weights / weights.sum(dim=-1, keepdim=True).clamp_min(1e-12)
    return logits_from_barycentric(weights), offsets
