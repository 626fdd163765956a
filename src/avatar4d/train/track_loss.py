"""Motion supervision from surface tracks: each Gaussian moves as the surface under it does.

A dataset's surface tracks (``avatar4d.data.tracks``) give the positions of fixed surface
points at every train time. Each Gaussian is bound to its nearest track points in the
canonical pose (the anchor time), and its displacement from the canonical pose at a train time
is pulled towards theirs, blended by inverse distance. Colour alone says little about motion
where the texture is flat; the tracks say it everywhere, occluded parts included. Gaussians
farther than ``MAX_BIND_DISTANCE`` from every track point (floaters) are left to the images.
The binding is redone whenever densification changes the Gaussians and every
``REBIND_EVERY`` steps, and saved in checkpoints so a resumed run continues exactly (a saved
binding that does not fit the tracks or the Gaussians is redone instead).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from avatar4d.data.tracks import SurfaceTracks, check_covers
from avatar4d.errors import InputError
from avatar4d.model.nearest import nearest_k
from avatar4d.raster.quaternions import rotate_vectors

NEIGHBOURS = 4
MAX_BIND_DISTANCE = 0.05  # in bounds radii
REBIND_EVERY = 500
MIN_BLENDED_NORMAL = 0.5  # length of the blend of unit normals below which it is not used
BINDING_KEYS = ("index", "weights", "bound")


@dataclass
class TrackBinding:
    index: torch.Tensor  # (N, k) long: each Gaussian's track points
    weights: torch.Tensor  # (N, k) float: their blend weights, rows sum to 1 (0 when unbound)
    bound: torch.Tensor  # (N,) float: 1 where the Gaussian has track points near it

    def as_tensors(self) -> dict[str, torch.Tensor]:
        return {"index": self.index, "weights": self.weights, "bound": self.bound}


def blend(table: torch.Tensor, binding: TrackBinding) -> torch.Tensor:
    """(N, 3): each Gaussian's rows of the (P, 3) ``table`` of its track points, weighted."""
    return (table[binding.index].float() * binding.weights[..., None]).sum(dim=1)


class TrackSupervision:
    """The tracks at the train times, on the device, and the Gaussians' binding to them."""

    def __init__(
        self,
        displacements: torch.Tensor,
        anchor_positions: torch.Tensor,
        radius: float,
        anchor_normals: torch.Tensor | None = None,
        slot_normals: torch.Tensor | None = None,
    ) -> None:
        self.displacements = displacements  # (S, P, 3): from the anchor time, per train slot
        self.anchor_positions = anchor_positions  # (P, 3)
        self.radius = radius
        self.anchor_normals = anchor_normals  # (P, 3) unit, when the tracks have normals
        self.slot_normals = slot_normals  # (S, P, 3) float16, per train slot, likewise
        self.binding: TrackBinding | None = None
        # Fraction of the Gaussians whose normal set_normals wrote (None: it did not run)
        self.normals_set: float | None = None
        self._canonical_normals: tuple[TrackBinding, torch.Tensor, torch.Tensor] | None = None

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
        check_covers(tracks, time_values)
        rows = [tracks.row_of(time) for time in time_values]
        anchor_row = tracks.row_of(anchor_time)
        if anchor_row is None:
            raise InputError(tracks.path, f"no positions for the anchor time {anchor_time:g}")
        positions = torch.from_numpy(tracks.positions)
        anchor = positions[anchor_row]
        displacements = positions[rows] - anchor
        normals = slot_normals = None
        if tracks.normals is not None:
            anchor_normals = torch.from_numpy(tracks.normals[anchor_row].astype("float32"))
            normals = torch.nn.functional.normalize(anchor_normals, dim=-1).to(device)
            slot_normals = torch.from_numpy(tracks.normals[rows].astype("float16")).to(device)
        return cls(displacements.to(device), anchor.to(device), radius, normals, slot_normals)

    @torch.no_grad()
    def bind(self, canonical_means: torch.Tensor) -> None:
        """Bind every Gaussian to its nearest track points in the canonical pose."""
        distance, index = nearest_k(canonical_means, self.anchor_positions, NEIGHBOURS)
        bound = (distance[:, 0] <= MAX_BIND_DISTANCE * self.radius).float()
        inverse = 1.0 / (distance + 1e-3 * MAX_BIND_DISTANCE * self.radius)
        weights = inverse / inverse.sum(dim=1, keepdim=True) * bound[:, None]
        self.binding = TrackBinding(index, weights, bound)

    def restore(self, tensors: dict[str, torch.Tensor], count: int) -> bool:
        """Take a checkpoint's binding of ``count`` Gaussians; False (nothing taken) when it is
        absent or does not fit these tracks and Gaussians."""
        if set(tensors) != set(BINDING_KEYS):
            return False
        index, weights, bound = (tensors[key] for key in BINDING_KEYS)
        k = min(NEIGHBOURS, len(self.anchor_positions))
        fits = (
            index.shape == weights.shape == (count, k)
            and bound.shape == (count,)
            and not index.is_floating_point()
            and (
                count == 0 or 0 <= int(index.min()) <= int(index.max()) < len(self.anchor_positions)
            )
        )
        if fits:
            self.binding = TrackBinding(index.long(), weights.float(), bound.float())
        return fits

    @torch.no_grad()
    def set_normals(self, normals: torch.Tensor) -> int:
        """Write into ``normals`` (N, 3), for each bound Gaussian, the blend of its track
        points' surface normals in the canonical pose; -> how many were set (0 when the tracks
        have no normals)."""
        if self.anchor_normals is None or self.binding is None:
            return 0
        # Near-opposite normals (both sides of a thin part) blend to a short vector: no
        # direction to trust there, so those Gaussians keep theirs.
        unit, usable = self.canonical_normals(self.current_binding(len(normals)))
        normals[usable] = unit[usable]
        count = int(usable.sum())
        self.normals_set = count / max(len(normals), 1)
        return count

    def normal_loss(self, slot: int, rotation_since_canonical: torch.Tensor) -> torch.Tensor:
        """Mean 1 - cos between each bound Gaussian's surface normal in the canonical pose
        (blended from its track points), turned by its rotation since the canonical pose, and
        the surface normal of its track points at the slot's time: the Gaussians turn as the
        surface under them does. Blends that nearly cancel are left out."""
        if self.anchor_normals is None or self.slot_normals is None:
            raise RuntimeError("these tracks have no normals")
        binding = self.current_binding(len(rotation_since_canonical))
        start, start_usable = self.canonical_normals(binding)
        target = blend(self.slot_normals[slot], binding)
        length = target.norm(dim=-1)
        usable = start_usable & (length > MIN_BLENDED_NORMAL)
        turned = rotate_vectors(rotation_since_canonical, start)
        cosine = (turned * target).sum(dim=-1) / length.clamp_min(MIN_BLENDED_NORMAL)
        return torch.where(usable, 1.0 - cosine, 0.0).sum() / usable.sum().clamp_min(1)

    def flat_loss(self, quats: torch.Tensor, log_scales: torch.Tensor) -> torch.Tensor:
        """Mean, over the Gaussians bound to the surface (with a usable canonical normal), of
        1 - |cos| between each one's shortest axis and the surface normal under it, plus its
        shortest scale over its middle one (held fixed: the loss thins a Gaussian, it does not
        widen it): flat discs lying on the surface, whose geometry holds from views between
        the train cameras (canonical pose: ``normal_loss`` turns them with the surface)."""
        if self.anchor_normals is None:
            raise RuntimeError("these tracks have no normals")
        normals, usable = self.canonical_normals(self.current_binding(len(quats)))
        ordered = log_scales.sort(dim=-1)
        thinnest = torch.nn.functional.one_hot(ordered.indices[:, 0], 3).to(quats.dtype)
        axis = rotate_vectors(torch.nn.functional.normalize(quats, dim=-1), thinnest)
        misalignment = 1.0 - (axis * normals).sum(dim=-1).abs()
        thickness = torch.exp(ordered.values[:, 0] - ordered.values[:, 1].detach())
        per_gaussian = torch.where(usable, misalignment + thickness, 0.0)
        return per_gaussian.sum() / usable.sum().clamp_min(1)

    @torch.no_grad()
    def canonical_normals(self, binding: TrackBinding) -> tuple[torch.Tensor, torch.Tensor]:
        """Each Gaussian's unit surface normal in the canonical pose, blended from its track
        points, and whether it is usable (bound, and the blend did not nearly cancel); the
        same for every step until the next binding, so computed once per binding."""
        if self._canonical_normals is None or self._canonical_normals[0] is not binding:
            assert self.anchor_normals is not None
            blended = blend(self.anchor_normals, binding)
            usable = (binding.bound > 0) & (blended.norm(dim=-1) > MIN_BLENDED_NORMAL)
            unit = torch.nn.functional.normalize(blended, dim=-1)
            self._canonical_normals = (binding, unit, usable)
        return self._canonical_normals[1], self._canonical_normals[2]

    def current_binding(self, count: int) -> TrackBinding:
        """The binding, which must be of ``count`` Gaussians (the trainer rebinds whenever
        densification changes them)."""
        if self.binding is None or len(self.binding.bound) != count:
            raise RuntimeError("the track binding is stale: bind after densification")
        return self.binding

    def bound_fraction(self) -> float:
        """Fraction of the Gaussians bound to track points (reads the device)."""
        if self.binding is None or len(self.binding.bound) == 0:
            return 0.0
        return float(self.binding.bound.mean())

    def loss(
        self, slot: int, canonical_means: torch.Tensor, posed_means: torch.Tensor
    ) -> torch.Tensor:
        """Mean |displacement - tracked displacement| (L1 over x, y, z) of the bound Gaussians,
        in bounds radii. The trainer rebinds whenever densification changes the Gaussians."""
        binding = self.current_binding(len(canonical_means))
        target = blend(self.displacements[slot], binding)
        error = (posed_means - canonical_means - target).abs().sum(dim=-1)
        return (error * binding.bound).sum() / binding.bound.sum().clamp_min(1.0) / self.radius
