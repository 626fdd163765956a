"""What a trained model is, besides its parameters: enough to rebuild it from a checkpoint."""

from __future__ import annotations

from dataclasses import dataclass

from avatar4d.model.deformation import SplineDeformation


@dataclass(frozen=True)
class ModelSpec:
    """Settings resolved when a run starts, saved in the run folder's config.yml."""

    deformation: str  # "spline"
    control_points: int
    periodic: bool  # the clip loops: t = 1 is t = 0
    scene_center: list[float]
    scene_radius: float
    anchor_time: float  # the train time the Gaussians were initialised at (canonical pose)


DEFORMATIONS = ("spline",)


def build_deformation(spec: ModelSpec) -> SplineDeformation:
    if spec.deformation != "spline":
        raise ValueError(f"unknown deformation {spec.deformation!r}; known: {DEFORMATIONS}")
    return SplineDeformation(spec.control_points, spec.periodic, spec.anchor_time)
