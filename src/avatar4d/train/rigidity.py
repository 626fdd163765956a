"""Local rigidity prior: neighbouring Gaussians move together (as in Dynamic 3D Gaussians).

For a Gaussian i and each neighbour j (nearest in the canonical pose), the offset between them
at time t should be the canonical offset turned by i's own rotation since the canonical pose:
``(x_j(t) - x_i(t)) ~ R_i(t) (x_j - x_i)``; and neighbours should turn alike,
``q_j(t) ~ q_i(t)``. A part that the images move (the base of a waving arm) then drags its
neighbours along, so motion spreads over a limb instead of only its edge following the
pixels. The neighbour graph is built on a random subset of "anchor" Gaussians (all of them
when few) and rebuilt whenever densification changes the Gaussians.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from avatar4d.model.deformation import GaussiansAtTime
from avatar4d.model.nearest import nearest_k
from avatar4d.raster.quaternions import quat_to_rotation

NORM_EPS = 1e-9  # keeps the gradient of a norm finite where the motion is still exactly rigid


@dataclass(frozen=True)
class NeighbourGraph:
    anchors: torch.Tensor  # (S,) long: Gaussians the prior is evaluated at
    neighbours: torch.Tensor  # (S, k) long: each anchor's nearest Gaussians (not itself)
    weights: torch.Tensor  # (S, k) float: closer neighbours count more

    def as_tensors(self) -> dict[str, torch.Tensor]:
        return {"anchors": self.anchors, "neighbours": self.neighbours, "weights": self.weights}

    @classmethod
    def from_tensors(cls, tensors: dict[str, torch.Tensor]) -> NeighbourGraph:
        return cls(tensors["anchors"], tensors["neighbours"], tensors["weights"])


@torch.no_grad()
def build_neighbour_graph(means: torch.Tensor, neighbours: int, max_anchors: int) -> NeighbourGraph:
    """k nearest neighbours of up to ``max_anchors`` random Gaussians (global torch RNG)."""
    count = len(means)
    k = min(neighbours, count - 1)
    if count > max_anchors:
        anchors = torch.randperm(count)[:max_anchors].to(means.device)
    else:
        anchors = torch.arange(count, device=means.device)
    distance, found = nearest_k(means[anchors], means, k + 1)
    distance, found = distance[:, 1:], found[:, 1:]  # the first is the anchor itself
    typical = distance.median().clamp_min(1e-12)
    weights = torch.exp(-0.5 * (distance / typical) ** 2)
    return NeighbourGraph(anchors, found, weights)


def rigidity_loss(
    graph: NeighbourGraph,
    canonical_means: torch.Tensor,
    posed: GaussiansAtTime,
    length_scale: float,
) -> torch.Tensor:
    """Weighted mean deviation from local rigidity (in units of ``length_scale``) plus the
    weighted mean difference of neighbours' rotations."""
    if posed.rotation_since_canonical is None:
        raise ValueError("the deformation does not report rotations; rigidity needs them")
    anchors, neighbours, weights = graph.anchors, graph.neighbours, graph.weights
    rotation = posed.rotation_since_canonical
    canonical_offsets = canonical_means[neighbours] - canonical_means[anchors][:, None]
    posed_offsets = posed.means[neighbours] - posed.means[anchors][:, None]
    turned = torch.einsum("sij,skj->ski", quat_to_rotation(rotation[anchors]), canonical_offsets)
    deviation = ((posed_offsets - turned).square().sum(-1) + NORM_EPS).sqrt() / length_scale
    turn = (rotation[neighbours] - rotation[anchors][:, None]).square().sum(-1)
    turn_difference = (turn + NORM_EPS).sqrt()
    total_weight = weights.sum()
    return ((weights * deviation).sum() + (weights * turn_difference).sum()) / total_weight
