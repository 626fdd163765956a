"""Motion shared through control nodes (skinning learned from the data, as in SC-GS).

A few hundred to a few thousand nodes sit among the canonical Gaussians. Each node carries
a cubic B-spline over time of a translation and a rotation offset (the same curves and the
same anchor-time pinning as ``SplineDeformation``'s per-Gaussian ones), and a radius. A
Gaussian follows its K nearest nodes (in the canonical pose), blended by Gaussian weights of
its distance to them:

    means_t = sum_k w_k (R_k(t) (means - p_k) + p_k + T_k(t))
    quats_t = normalise(sum_k w_k d_k(t)) * quats,    w = softmax_k(-|means - p_k|^2 / 2 r_k^2)

Neighbouring Gaussians share their nodes, so the motion is tied together in space: it cannot
fit each train time with its own Gaussian, which is what lets held-out times interpolate. The
motion costs a few numbers per node instead of hundreds per Gaussian, so the model is small.

The node tensors (``node_*`` keys) live in the parameter dict beside the per-Gaussian ones,
but are not per Gaussian: densification works on ``per_gaussian(params)`` only. Which nodes a
Gaussian follows is the per-Gaussian integer tensor ``binding`` (N, K), not trained: clones
and splits inherit their parent's, and the trainer refreshes it from the current positions on
a fixed step schedule (``refresh``). Being in the parameters, it is saved in checkpoints (a
resumed run continues exactly) and a loaded model never searches for nearest nodes again.
The blend weights are recomputed at every call from the current positions and radii.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from avatar4d.model.deformation import GaussiansAtTime, SplineDeformation
from avatar4d.model.quaternions import normalize_quat, quat_multiply, quat_to_rotation

BINDING_CHUNK = 65_536  # Gaussians per distance block when finding each one's nearest nodes
IDENTITY_QUAT = (1.0, 0.0, 0.0, 0.0)


def farthest_points(points: torch.Tensor, count: int) -> torch.Tensor:
    """``count`` of the points, each the farthest from those already taken (starting from the
    point nearest the centroid): an even spread over the shape, deterministic."""
    count = min(count, len(points))
    first = int((points - points.mean(dim=0)).norm(dim=-1).argmin())
    chosen = [first]
    nearest = (points - points[first]).norm(dim=-1)
    for _ in range(count - 1):
        index = int(nearest.argmax())
        chosen.append(index)
        nearest = torch.minimum(nearest, (points - points[index]).norm(dim=-1))
    return points[torch.tensor(chosen, device=points.device)].clone()


def nearest_nodes(means: torch.Tensor, node_means: torch.Tensor, k: int) -> torch.Tensor:
    """(N, k) int32 indices of each Gaussian's k nearest nodes, nearest first (no gradient:
    a discrete choice; int32 halves what the model stores for it)."""
    k = min(k, len(node_means))
    with torch.no_grad():
        blocks = [
            torch.cdist(block, node_means).topk(k, dim=-1, largest=False).indices.int()
            for block in means.detach().split(BINDING_CHUNK)
        ]
    if not blocks:
        return torch.zeros(0, k, dtype=torch.int32, device=means.device)
    return torch.cat(blocks)


def gather_rows(table: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """``table[index]`` through index_select, whose backward adds into the few node rows with
    atomics instead of sorting every index as advanced indexing's backward does."""
    rows = table.index_select(0, index.reshape(-1))
    return rows.view(*index.shape, *table.shape[1:])


@dataclass(frozen=True)
class Binding:
    """Which nodes each Gaussian follows, with what weight, and its offsets from them."""

    indices: torch.Tensor  # (N, K) int32
    weights: torch.Tensor  # (N, K), rows sum to 1
    offsets: torch.Tensor  # (N, K, 3) means - node position


@dataclass(frozen=True)
class NodeDeformation:
    num_nodes: int
    neighbours: int
    num_control: int
    periodic: bool
    anchor_time: float = 0.0

    @property
    def curves(self) -> SplineDeformation:
        return SplineDeformation(self.num_control, self.periodic, self.anchor_time)

    def init_motion(self, means: torch.Tensor) -> dict[str, torch.Tensor]:
        """Nodes spread over the initial points, radius the mean spacing, identity motion."""
        nodes = farthest_points(means, self.num_nodes)
        count = len(nodes)
        spacing = torch.ones(count, device=means.device)
        if count > 1:
            k = min(self.neighbours, count - 1)
            distances = torch.cdist(nodes, nodes).topk(k + 1, dim=-1, largest=False).values
            spacing = distances[:, 1:].mean(dim=-1).clamp_min(1e-6)
        return {
            "binding": nearest_nodes(means, nodes, self.neighbours),
            "node_means": nodes,
            "node_log_radii": torch.log(spacing),
            "node_motion_means": torch.zeros(count, self.num_control, 3, device=means.device),
            "node_motion_quats": torch.zeros(count, self.num_control, 4, device=means.device),
        }

    def refresh(self, params: dict[str, torch.Tensor]) -> None:
        """Rebind every Gaussian to its nearest nodes now (in place, no gradient)."""
        with torch.no_grad():
            params["binding"].copy_(
                nearest_nodes(params["means"], params["node_means"], self.neighbours)
            )

    def bind(self, params: dict[str, torch.Tensor]) -> Binding:
        means, node_means = params["means"], params["node_means"]
        indices = params["binding"]
        offsets = means[:, None, :] - gather_rows(node_means, indices)
        radii_sq = gather_rows(torch.exp(2.0 * params["node_log_radii"]), indices)
        weights = torch.softmax(-offsets.square().sum(dim=-1) / (2.0 * radii_sq), dim=-1)
        return Binding(indices, weights, offsets)

    def node_motion(
        self, params: dict[str, torch.Tensor], t: float
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """(P, 3) translations and (P, 4) unit rotation offsets of the nodes at time t."""
        translation = self.curves.motion(params, "node_motion_means", t)
        offset = self.curves.motion(params, "node_motion_quats", t)
        return translation, normalize_quat(offset + offset.new_tensor(IDENTITY_QUAT))

    def pose(
        self,
        params: dict[str, torch.Tensor],
        binding: Binding,
        translation: torch.Tensor,
        rotation: torch.Tensor,
    ) -> GaussiansAtTime:
        index = binding.indices
        matrices = gather_rows(quat_to_rotation(rotation), index)
        rotated = torch.einsum("nkij,nkj->nki", matrices, binding.offsets)
        moved = rotated + gather_rows(params["node_means"] + translation, index)
        weights = binding.weights[..., None]
        blended = normalize_quat((weights * gather_rows(rotation, index)).sum(dim=1))
        return GaussiansAtTime(
            means=(weights * moved).sum(dim=1),
            quats=normalize_quat(quat_multiply(blended, params["quats"])),
            log_scales=params["scales"],
            opacity_logits=params["opacities"],
            f_dc=params["colors"],
            rotation_since_canonical=blended,
        )

    def deform(self, params: dict[str, torch.Tensor], t: float) -> GaussiansAtTime:
        translation, rotation = self.node_motion(params, t)
        return self.pose(params, self.bind(params), translation, rotation)

    def deform_many(self, params: dict[str, torch.Tensor], times: list[float]) -> GaussiansAtTime:
        """The Gaussians at several times (a leading (T,) axis); the weights are found once."""
        binding = self.bind(params)
        posed = [self.pose(params, binding, *self.node_motion(params, t)) for t in times]
        return GaussiansAtTime(
            means=torch.stack([p.means for p in posed]),
            quats=torch.stack([p.quats for p in posed]),
            log_scales=params["scales"].expand(len(times), -1, -1),
            opacity_logits=params["opacities"].expand(len(times), -1),
            f_dc=params["colors"].expand(len(times), -1, -1),
            rotation_since_canonical=torch.stack([p.rotation_since_canonical for p in posed]),
        )

    def smoothness(self, params: dict[str, torch.Tensor], length_scale: float) -> torch.Tensor:
        return self.curves.smoothness(params, length_scale, prefix="node_")
