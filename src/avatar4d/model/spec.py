"""What a trained model is, besides its parameters: enough to rebuild it from a checkpoint."""

from __future__ import annotations

from dataclasses import dataclass

from avatar4d.model.deformation import Deformation, SplineDeformation
from avatar4d.model.node_deformation import NodeDeformation
from avatar4d.model.shading import SHADINGS, ShadedDeformation


@dataclass(frozen=True)
class ModelSpec:
    """Settings resolved when a run starts, saved in the run folder's config.yml."""

    deformation: str  # "spline" (per Gaussian) or "nodes" (shared through control nodes)
    control_points: int
    periodic: bool  # the clip loops: t = 1 is t = 0
    scene_center: list[float]
    scene_radius: float
    anchor_time: float  # the train time the Gaussians were initialised at (canonical pose)
    nodes: int = 0  # control nodes ("nodes" only)
    node_neighbours: int = 0  # nodes each Gaussian follows ("nodes" only)
    residual_control_points: int = 0  # per-Gaussian residual translation spline ("nodes" only)
    shading: str = "static"  # colours fixed per Gaussian, or "lambert" (avatar4d.model.shading)


DEFORMATIONS = ("spline", "nodes")


def build_deformation(spec: ModelSpec) -> Deformation:
    motion = build_motion(spec)
    if spec.shading == "static":
        return motion
    if spec.shading == "lambert":
        return ShadedDeformation(motion)
    raise ValueError(f"unknown shading {spec.shading!r}; known: {SHADINGS}")


def build_motion(spec: ModelSpec) -> Deformation:
    if spec.deformation == "spline":
        return SplineDeformation(spec.control_points, spec.periodic, spec.anchor_time)
    if spec.deformation == "nodes":
        return NodeDeformation(
            spec.nodes,
            spec.node_neighbours,
            spec.control_points,
            spec.periodic,
            spec.anchor_time,
            spec.residual_control_points,
        )
    raise ValueError(f"unknown deformation {spec.deformation!r}; known: {DEFORMATIONS}")
