"""Motion supervision from surface tracks: each Gaussian moves as the surface under it does.

A dataset's surface tracks (``avatar4d.data.tracks``) give the positions of fixed surface
points at every train time. Each Gaussian is bound to its nearest track points in the
canonical pose (the anchor time), and its displacement from the canonical pose at a train time
is pulled towards theirs, blended by inverse distance. Colour alone says little about motion
where the texture is flat; the tracks say it everywhere, occluded parts included. Gaussians
farther than ``MAX_BIND_DISTANCE`` from every track point (floaters) are left to the images.
The binding is redone whenever densification changes the Gaussians and every
``REBIND_EVERY`` steps, and saved in checkpoints so a resumed run continues exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from avatar4d.data.tracks import SurfaceTracks
from avatar4d.errors import InputError

NEIGHBOURS = 4
MAX_BIND_DISTANCE = 0.05  # in bounds radii
REBIND_EVERY = 500
CHUNK = 2048  # Gaussians per distance block: 2048 x 32,768 track points is 256 MB


@dataclass
class TrackBinding:
    index: torch.Tensor  # (N, k) long: each Gaussian's track points
    weights: torch.Tensor  # (N, k) float: their blend weights, rows sum to 1 (0 when unbound)
    bound: torch.Tensor  # (N,) float: 1 where the Gaussian has track points near it

    def as_tensors(self) -> dict[str, torch.Tensor]:
        return {"index": self.index, "weights": self.weights, "bound": self.bound}

    @classmethod
    def from_tensors(cls, tensors: dict[str, torch.Tensor]) -> TrackBinding:
        return cls(tensors["index"], tensors["weights"], tensors["bound"])


class TrackSupervision:
    """The tracks at the train times, on the device, and the Gaussians' binding to them."""

    def __init__(
        self, displacements: torch.Tensor, anchor_positions: torch.Tensor, radius: float
    ) -> None:
        self.displacements = displacements  # (S, P, 3): from the anchor time, per train slot
        self.anchor_positions = anchor_positions  # (P, 3)
        self.radius = radius
        self.binding: TrackBinding | None = None

    @classmethod
    def for_train_times(
        cls,
        tracks: SurfaceTracks,
        time_values: list[float],
        anchor_time: float,
        radius: float,
        device: torch.device,
    ) -> TrackSupervision:
        """InputError naming the tracks file when a train time has no row."""
        rows = []
        for time in time_values:
            row = tracks.row_of(time)
            if row is None:
                raise InputError(tracks.path, f"no positions for train time {time:g}")
            rows.append(row)
        anchor_row = tracks.row_of(anchor_time)
        if anchor_row is None:
            raise InputError(tracks.path, f"no positions for the anchor time {anchor_time:g}")
        positions = torch.from_numpy(tracks.positions)
        anchor = positions[anchor_row]
        displacements = positions[rows] - anchor
        return cls(displacements.to(device), anchor.to(device), radius)

    @torch.no_grad()
    def bind(self, canonical_means: torch.Tensor) -> None:
        """Bind every Gaussian to its nearest track points in the canonical pose."""
        k = min(NEIGHBOURS, len(self.anchor_positions))
        indices, distances = [], []
        for start in range(0, len(canonical_means), CHUNK):
            block = torch.cdist(canonical_means[start : start + CHUNK], self.anchor_positions)
            nearest = block.topk(k, largest=False)
            indices.append(nearest.indices)
            distances.append(nearest.values)
        if not indices:  # no Gaussians
            empty = canonical_means.new_zeros(0, k)
            self.binding = TrackBinding(empty.long(), empty, canonical_means.new_zeros(0))
            return
        distance = torch.cat(distances)
        bound = (distance[:, 0] <= MAX_BIND_DISTANCE * self.radius).float()
        inverse = 1.0 / (distance + 1e-3 * MAX_BIND_DISTANCE * self.radius)
        weights = inverse / inverse.sum(dim=1, keepdim=True) * bound[:, None]
        self.binding = TrackBinding(torch.cat(indices), weights, bound)

    def needs_rebind(self, count: int) -> bool:
        return self.binding is None or len(self.binding.bound) != count

    def loss(
        self, slot: int, canonical_means: torch.Tensor, posed_means: torch.Tensor
    ) -> torch.Tensor:
        """Mean |displacement - tracked displacement| (L1 over x, y, z) of the bound Gaussians,
        in bounds radii."""
        if self.needs_rebind(len(canonical_means)):
            self.bind(canonical_means.detach())
        binding = self.binding
        assert binding is not None
        tracked = self.displacements[slot][binding.index]  # (N, k, 3)
        target = (tracked * binding.weights[..., None]).sum(dim=1)
        error = (posed_means - canonical_means - target).abs().sum(dim=-1)
        return (error * binding.bound).sum() / binding.bound.sum().clamp_min(1.0) / self.radius
