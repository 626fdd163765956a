"""``--motion spline``: every Gaussian carries its own motion spline (model/deformation.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from avatar4d.model.motions.control_points import (
    automatic_control_points,
    control_points_disagreement,
)
from avatar4d.model.motions.motion_model import Timing, TrainTimes
from avatar4d.model.motions.structure_checks import MAX_CONTROL_POINTS, known_fields, whole
from avatar4d.settings_checks import check_finite, check_not_negative, check_spline_points

if TYPE_CHECKING:
    from avatar4d.model.deformation import Deformation

PREFIX = "motion."


@dataclass
class SplineSettings:
    """Every Gaussian carries its own cubic B-spline of a position and a rotation offset."""

    name: ClassVar[str] = "spline"

    control_points: int = 0
    """Control points of each Gaussian's motion spline; 0 = one per train time when surface
    tracks supervise the motion (4 to 60), else one per two train times (4 to 32)."""
    lr_means: float = 0.005
    """Learning rate of the position control points, in units of the bounds radius: 30 times
    the canonical positions', since the motion starts at zero and must travel as far as the
    character moves (higher drifts on long runs)."""
    lr_quats: float = 1e-3
    """Learning rate of the rotation control points."""

    def validate(self) -> None:
        check_not_negative(self, ("control_points",), PREFIX)
        check_spline_points(self, ("control_points",), PREFIX)
        check_finite(self, PREFIX)


@dataclass(frozen=True)
class SplineStructure:
    name: ClassVar[str] = "spline"
    control_points: int


class SplineMotion:
    name = "spline"
    summary = "every Gaussian carries its own motion spline"
    settings_type = SplineSettings
    structure_type = SplineStructure
    position_keys = ("motion_means",)
    full_precision_keys: tuple[str, ...] = ()

    def resolve(self, settings: SplineSettings, times: TrainTimes) -> SplineStructure:
        return SplineStructure(
            settings.control_points
            or automatic_control_points(times.count, times.tracked, per_gaussian=True)
        )

    def learning_rates(self, settings: SplineSettings, scene_radius: float) -> dict[str, float]:
        return {
            "motion_means": settings.lr_means * scene_radius,
            "motion_quats": settings.lr_quats,
        }

    def expected_shapes(self, structure: SplineStructure, count: int) -> dict[str, tuple]:
        return {
            "motion_means": (count, structure.control_points, 3),
            "motion_quats": (count, structure.control_points, 4),
        }

    def check_structure(self, values: dict[str, Any], where: str) -> SplineStructure:
        known_fields(values, SplineStructure, where)
        return SplineStructure(whole(values, "control_points", where, 4, MAX_CONTROL_POINTS))

    def index_tensors(self, structure: SplineStructure) -> dict[str, tuple[str, int]]:
        return {}

    def disagreement(self, structure: SplineStructure, settings: SplineSettings) -> str | None:
        return control_points_disagreement(structure.control_points, settings.control_points)

    def after_init(self, structure: SplineStructure, tensors: dict[str, Any]) -> SplineStructure:
        return structure

    def build(self, structure: SplineStructure, timing: Timing) -> Deformation:
        from avatar4d.model.deformation import SplineDeformation  # torch: only to train or render

        return SplineDeformation(structure.control_points, timing.periodic, timing.anchor_time)
