"""``--motion nodes``: the motion is carried by shared control nodes (model/node_deformation.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from avatar4d.errors import InputError
from avatar4d.model.motions.control_points import (
    automatic_control_points,
    control_points_disagreement,
)
from avatar4d.model.motions.motion_model import Timing, TrainTimes
from avatar4d.model.motions.structure_checks import (
    MAX_CONTROL_POINTS,
    MAX_NODES,
    known_fields,
    whole,
)
from avatar4d.settings_checks import (
    check_finite,
    check_not_negative,
    check_positive,
    check_spline_points,
)

if TYPE_CHECKING:
    from avatar4d.model.deformation import Deformation

PREFIX = "motion."


@dataclass
class NodeSettings:
    """Control nodes carry the motion, each Gaussian following its nearest ones (skinning
    learned from the data)."""

    name: ClassVar[str] = "nodes"

    nodes: int = 2048
    """Control nodes, spread over the initial points (fewer when there are fewer points)."""
    neighbours: int = 4
    """Nodes each Gaussian follows, blended by distance."""
    control_points: int = 0
    """Control points of each node's motion spline; 0 = one per train time when surface
    tracks supervise the motion (4 to 120), else one per two train times (4 to 32)."""
    residual_points: int = 0
    """Control points of a per-Gaussian translation spline added to the nodes' motion; 0 =
    none."""
    lr_means: float = 0.005
    """Learning rate of the nodes' position control points, in units of the bounds radius."""
    lr_quats: float = 1e-3
    """Learning rate of the nodes' rotation control points."""
    lr_node_means: float = 1.6e-4
    """Learning rate of the nodes' canonical positions, in units of the bounds radius."""
    lr_node_radii: float = 5e-3
    """Learning rate of the nodes' log radii."""
    lr_residual: float = 0.005
    """Learning rate of the residual's control points, in units of the bounds radius."""

    def validate(self) -> None:
        check_positive(self, ("nodes", "neighbours"), PREFIX)
        check_not_negative(self, ("control_points", "residual_points"), PREFIX)
        check_spline_points(self, ("control_points", "residual_points"), PREFIX)
        check_finite(self, PREFIX)


@dataclass(frozen=True)
class NodeStructure:
    name: ClassVar[str] = "nodes"
    nodes: int
    neighbours: int
    control_points: int
    residual_control_points: int


class NodeMotion:
    name = "nodes"
    summary = "shared control nodes carry the motion (skinning learned from the data)"
    settings_type = NodeSettings
    structure_type = NodeStructure
    position_keys = ("node_means", "node_motion_means", "motion_means")
    full_precision_keys = ("node_means",)

    def resolve(self, settings: NodeSettings, times: TrainTimes) -> NodeStructure:
        control_points = settings.control_points or automatic_control_points(
            times.count, times.tracked, per_gaussian=False
        )
        return NodeStructure(
            settings.nodes, settings.neighbours, control_points, settings.residual_points
        )

    def learning_rates(self, settings: NodeSettings, scene_radius: float) -> dict[str, float]:
        return {
            "node_means": settings.lr_node_means * scene_radius,
            "node_log_radii": settings.lr_node_radii,
            "node_motion_means": settings.lr_means * scene_radius,
            "node_motion_quats": settings.lr_quats,
            "motion_means": settings.lr_residual * scene_radius,
        }

    def expected_shapes(self, structure: NodeStructure, count: int) -> dict[str, tuple]:
        nodes, control = structure.nodes, structure.control_points
        shapes: dict[str, tuple] = {
            "binding": (count, structure.neighbours),
            "node_means": (nodes, 3),
            "node_log_radii": (nodes,),
            "node_motion_means": (nodes, control, 3),
            "node_motion_quats": (nodes, control, 4),
        }
        if structure.residual_control_points:
            shapes["motion_means"] = (count, structure.residual_control_points, 3)
        return shapes

    def check_structure(self, values: dict[str, Any], where: str) -> NodeStructure:
        known_fields(values, NodeStructure, where)
        nodes = whole(values, "nodes", where, 1, MAX_NODES)
        residual = whole(values, "residual_control_points", where, 0, MAX_CONTROL_POINTS)
        if 0 < residual < 4:
            raise InputError(where, "model.motion.residual_control_points must be 0 or at least 4")
        return NodeStructure(
            nodes,
            whole(values, "neighbours", where, 1, nodes),
            whole(values, "control_points", where, 4, MAX_CONTROL_POINTS),
            residual,
        )

    def index_tensors(self, structure: NodeStructure) -> dict[str, tuple[str, int]]:
        return {"binding": ("node", structure.nodes)}

    def disagreement(self, structure: NodeStructure, settings: NodeSettings) -> str | None:
        if structure.nodes > settings.nodes:
            return (
                f"model.motion.nodes is {structure.nodes}, above train.motion.nodes "
                f"{settings.nodes}"
            )
        if structure.residual_control_points != settings.residual_points:
            return (
                f"model.motion.residual_control_points is {structure.residual_control_points} "
                f"but train.motion.residual_points is {settings.residual_points}"
            )
        return control_points_disagreement(structure.control_points, settings.control_points)

    def after_init(self, structure: NodeStructure, tensors: dict[str, Any]) -> NodeStructure:
        """Fewer initial points than nodes: as many nodes as points, and neighbours."""
        return NodeStructure(
            len(tensors["node_means"]),
            tensors["binding"].shape[1],
            structure.control_points,
            structure.residual_control_points,
        )

    def build(self, structure: NodeStructure, timing: Timing) -> Deformation:
        from avatar4d.model.node_deformation import NodeDeformation  # torch: to train or render

        return NodeDeformation(
            structure.nodes,
            structure.neighbours,
            structure.control_points,
            timing.periodic,
            timing.anchor_time,
            structure.residual_control_points,
        )
