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

from dataclasses import dataclass, replace

import torch

from avatar4d.model.constants import identity_quat
from avatar4d.model.deformation import GaussiansAtTime, SplineDeformation
from avatar4d.raster.quaternions import normalize_quat, quat_multiply, quat_to_rotation

BINDING_CHUNK = 65_536  # Gaussians per distance block when finding each one's nearest nodes
NODE_FEATURES = 16  # per node and time: rotation matrix (9), affine shift (3), quaternion (4)
TIME_GROUP = 16  # most times posed together by deform_many
# and at most this many gathered numbers at once: 512 MB in fp32, and as much again for the
# weighted product that blends them
GATHER_ELEMENTS = 1 << 27


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
    """Which nodes each Gaussian follows, and with what weight."""

    indices: torch.Tensor  # (N, K) int32
    weights: torch.Tensor  # (N, K), rows sum to 1


@dataclass(frozen=True)
class NodeDeformation:
    num_nodes: int
    neighbours: int
    num_control: int
    periodic: bool
    anchor_time: float = 0.0
    # Control points of a per-Gaussian translation spline added to the nodes' motion (0: none):
    # a few, so it can correct a Gaussian's path smoothly but not fit each train time alone.
    residual_control: int = 0

    @property
    def curves(self) -> SplineDeformation:
        return SplineDeformation(self.num_control, self.periodic, self.anchor_time)

    @property
    def residual_curves(self) -> SplineDeformation:
        return SplineDeformation(self.residual_control, self.periodic, self.anchor_time)

    def initial_points(self, count: int, generator: torch.Generator) -> torch.Tensor | None:
        return None  # the surface is not known: carved from the masks

    def init_motion(self, means: torch.Tensor) -> dict[str, torch.Tensor]:
        """Nodes spread over the initial points, radius the mean spacing, identity motion."""
        nodes = farthest_points(means, self.num_nodes)
        count = len(nodes)
        spacing = torch.ones(count, device=means.device)
        if count > 1:
            k = min(self.neighbours, count - 1)
            distances = torch.cdist(nodes, nodes).topk(k + 1, dim=-1, largest=False).values
            spacing = distances[:, 1:].mean(dim=-1).clamp_min(1e-6)
        residual = {}
        if self.residual_control > 0:
            residual["motion_means"] = torch.zeros(len(means), self.residual_control, 3).to(means)
        return {
            **residual,
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
        return Binding(indices, weights)

    def node_motion(
        self, params: dict[str, torch.Tensor], t: float
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """(P, 3) translations and (P, 4) unit rotation offsets of the nodes at time t."""
        translation, rotation = self.node_motion_many(params, [t])
        return translation[0], rotation[0]

    def node_motion_many(
        self, params: dict[str, torch.Tensor], times: list[float]
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """(T, P, 3) translations and (T, P, 4) unit rotation offsets of the nodes."""
        curves = self.curves
        motions = []
        for key in ("node_motion_means", "node_motion_quats"):
            at_anchor = curves.spline(params[key], self.anchor_time)
            motions.append(curves.spline_many(params[key], times) - at_anchor)
        translation, offset = motions
        return translation, normalize_quat(offset + identity_quat(offset))

    def pose(
        self,
        params: dict[str, torch.Tensor],
        binding: Binding,
        translation: torch.Tensor,
        rotation: torch.Tensor,
    ) -> GaussiansAtTime:
        """The Gaussians moved by the nodes' (P, 3) translations and (P, 4) rotations."""
        posed = self.pose_many(params, binding, translation[None], rotation[None])
        return GaussiansAtTime(
            means=posed.means[0],
            quats=posed.quats[0],
            log_scales=params["scales"],
            opacity_logits=params["opacities"],
            f_dc=params["colors"],
            rotation_since_canonical=posed.rotation_since_canonical[0],
        )

    def pose_many(
        self,
        params: dict[str, torch.Tensor],
        binding: Binding,
        translation: torch.Tensor,
        rotation: torch.Tensor,
    ) -> GaussiansAtTime:
        """The Gaussians moved by (T, P, 3) translations and (T, P, 4) rotations.

        Node k maps x to R_k (x - p_k) + p_k + T_k, an affine map R_k x + b_k; the weighted
        sum of a Gaussian's node maps is again affine, so the nodes' 12 affine numbers and
        their rotation (16 per node and time) are blended in one gather for all times.
        """
        count = translation.shape[0]
        node_means = params["node_means"]
        matrices = quat_to_rotation(rotation)  # (T, P, 3, 3)
        shifts = node_means + translation - torch.einsum("tpij,pj->tpi", matrices, node_means)
        table = torch.cat((matrices.flatten(-2), shifts, rotation), dim=-1)  # (T, P, 16)
        table = table.permute(1, 0, 2).reshape(len(node_means), count * NODE_FEATURES)
        gathered = gather_rows(table, binding.indices)  # (N, K, T * 16)
        # Broadcast products, not einsum: einsum ran these as batched (1 x 4) and (3 x 3)
        # products per Gaussian, part of the top GPU cost in the step's profile (the batched
        # products, with the old SSIM blur; docs/benchmarks.md).
        blended = (binding.weights.unsqueeze(-1) * gathered).sum(dim=1)
        blended = blended.reshape(-1, count, NODE_FEATURES).transpose(0, 1)  # (T, N, 16)
        linear = blended[..., :9].unflatten(-1, (3, 3))
        means = (linear * params["means"].unsqueeze(1)).sum(dim=-1) + blended[..., 9:12]
        turned = normalize_quat(blended[..., 12:])
        return GaussiansAtTime(
            means=means,
            quats=normalize_quat(quat_multiply(turned, params["quats"].expand_as(turned))),
            log_scales=params["scales"].expand(count, -1, -1),
            opacity_logits=params["opacities"].expand(count, -1),
            f_dc=params["colors"].expand(count, -1, -1),
            rotation_since_canonical=turned,
        )

    def time_group(self, params: dict[str, torch.Tensor]) -> int:
        """How many times ``deform_many`` poses at once: bounded memory for many Gaussians."""
        per_time = max(1, params["binding"].numel() * NODE_FEATURES)
        return max(1, min(TIME_GROUP, GATHER_ELEMENTS // per_time))

    def residual_motion(self, params: dict[str, torch.Tensor], times: list[float]) -> torch.Tensor:
        """(T, N, 3) per-Gaussian residual translations, zero at the anchor time."""
        curves, points = self.residual_curves, params["motion_means"]
        return curves.spline_many(points, times) - curves.spline(points, self.anchor_time)

    def deform(self, params: dict[str, torch.Tensor], t: float) -> GaussiansAtTime:
        translation, rotation = self.node_motion(params, t)
        posed = self.pose(params, self.bind(params), translation, rotation)
        if self.residual_control == 0:
            return posed
        return replace(posed, means=posed.means + self.residual_motion(params, [t])[0])

    def deform_many(self, params: dict[str, torch.Tensor], times: list[float]) -> GaussiansAtTime:
        """The Gaussians at several times (a leading (T,) axis); the weights are found once,
        the times posed in groups (``time_group``: bounded memory for long batches)."""
        binding = self.bind(params)
        groups = []
        size = self.time_group(params)
        for start in range(0, len(times), size):
            group = times[start : start + size]
            posed = self.pose_many(params, binding, *self.node_motion_many(params, group))
            if self.residual_control > 0:
                posed = replace(posed, means=posed.means + self.residual_motion(params, group))
            groups.append(posed)
        if len(groups) == 1:
            return groups[0]
        count = len(times)
        return GaussiansAtTime(
            means=torch.cat([g.means for g in groups]),
            quats=torch.cat([g.quats for g in groups]),
            log_scales=params["scales"].expand(count, -1, -1),
            opacity_logits=params["opacities"].expand(count, -1),
            f_dc=params["colors"].expand(count, -1, -1),
            rotation_since_canonical=torch.cat([g.rotation_since_canonical for g in groups]),
        )

    def smoothness(self, params: dict[str, torch.Tensor], length_scale: float) -> torch.Tensor:
        total = self.curves.smoothness(params, length_scale, prefix="node_")
        if self.residual_control > 0 and len(params["motion_means"]) > 0:
            total = total + self.residual_curves.curve_smoothness(
                params["motion_means"] / length_scale
            )
        return total
