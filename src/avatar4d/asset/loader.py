"""Public entry point of the glTF half: ``load_asset(path) -> Asset`` (work in progress)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from avatar4d.asset.posed_mesh import PosedMesh


@dataclass(frozen=True)
class Clip:
    name: str
    duration: float  # seconds


class Asset:
    path: Path
    sha256: str
    clips: list[Clip]

    def find_clip(self, name: str) -> Clip:
        raise NotImplementedError

    def pose(self, clip: str | None, seconds: float) -> PosedMesh:
        raise NotImplementedError

    def clip_bounds(self, clip: str | None, samples: int = 120) -> tuple[np.ndarray, float]:
        raise NotImplementedError

    def summary(self):
        raise NotImplementedError


def load_asset(path: str | Path) -> Asset:
    raise NotImplementedError("the glTF loader is being written")
