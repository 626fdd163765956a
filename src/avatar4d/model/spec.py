"""What a trained model is, besides its parameters: enough to rebuild it from a checkpoint."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from avatar4d.model.deformation import Deformation
from avatar4d.model.motions.motion_model import Timing
from avatar4d.model.motions.registry import model_of
from avatar4d.model.shading import SHADINGS, ShadedDeformation


@dataclass(frozen=True)
class ModelSpec:
    """Settings resolved when a run starts, saved in the run folder's config.yml."""

    motion: Any  # the motion model's structure (avatar4d.model.motions)
    periodic: bool  # the clip loops: t = 1 is t = 0
    scene_center: list[float]
    scene_radius: float
    anchor_time: float  # the train time the Gaussians were initialised at (canonical pose)
    shading: str = "static"  # colours fixed per Gaussian, or "lambert" (avatar4d.model.shading)

    @property
    def timing(self) -> Timing:
        return Timing(self.periodic, self.anchor_time)

    @property
    def full_precision_keys(self) -> tuple[str, ...]:
        """The tensors kept float32 when the model is stored in half precision (positions)."""
        return ("means", *model_of(self.motion).full_precision_keys)

    def to_dict(self) -> dict[str, Any]:
        values = dataclasses.asdict(self)
        values["motion"] = {"name": self.motion.name, **_plain(values["motion"])}
        return values


def _plain(value: Any) -> Any:
    """Tuples as lists, for YAML."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value


def build_deformation(spec: ModelSpec) -> Deformation:
    motion = model_of(spec.motion).build(spec.motion, spec.timing)
    if spec.shading == "static":
        return motion
    if spec.shading == "lambert":
        return ShadedDeformation(motion)
    raise ValueError(f"unknown shading {spec.shading!r}; known: {SHADINGS}")
