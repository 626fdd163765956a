"""The character's mesh posed on the device: linear blend skinning of many poses at once.

The asset's skin layout (``avatar4d.asset.skin_layout``) is uploaded once; a pose is then its
bone matrices and morph weights (a few hundred numbers the CPU computes from the node
hierarchy), and the per-vertex work runs where the Gaussians are. It places every vertex as
``skin_layout.skin_positions`` (the NumPy reference) does.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from avatar4d.asset.skin_layout import PoseState, SkinLayout


class MeshSkinner:
    def __init__(self, layout: SkinLayout, device: torch.device | str) -> None:
        self.device = torch.device(device)
        self.rest = torch.from_numpy(layout.rest).to(self.device)
        self.bones = torch.from_numpy(layout.bones.astype(np.int64)).to(self.device)
        self.weights = torch.from_numpy(layout.weights).to(self.device)
        self.morphs = [
            (
                block.first_vertex,
                torch.from_numpy(block.deltas).to(self.device),
                torch.from_numpy(block.slots).to(self.device),
            )
            for block in layout.morphs
        ]

    def positions(self, states: Sequence[PoseState]) -> torch.Tensor:
        """(T, V, 3) float32 world positions of each pose."""
        bones = torch.from_numpy(np.stack([s.bones for s in states])).to(self.device)
        morph = torch.from_numpy(np.stack([s.morph for s in states])).to(self.device)
        return self.skin(bones, morph)

    def skin(self, bones: torch.Tensor, morph: torch.Tensor) -> torch.Tensor:
        """(T, B, 3, 4) bone matrices and (T, M) morph weights -> (T, V, 3) positions."""
        points = self.rest.expand(len(bones), -1, -1)
        if self.morphs:
            points = points.clone()
            for first, deltas, slots in self.morphs:
                end = first + deltas.shape[1]
                points[:, first:end] += torch.einsum("tm,mvc->tvc", morph[:, slots], deltas)
        # One influence at a time: memory T x V x 12, whatever the number of influences.
        positions = torch.zeros_like(points)
        for k in range(self.bones.shape[1]):
            matrices = bones[:, self.bones[:, k]]  # (T, V, 3, 4)
            moved = (matrices[..., :3] @ points[..., None]).squeeze(-1) + matrices[..., 3]
            positions += self.weights[:, k, None] * moved
        return positions
