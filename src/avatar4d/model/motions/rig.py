"""``--motion rig``: the character's own mesh drives the Gaussians (model/rig_deformation.py).

Needs a dataset that carries its character (an avatar4d grid keeps a copy of the asset): each
Gaussian follows one triangle of the mesh posed at the frame's clip and time, so the model
can perform any clip of the asset, trained on or not (``render --clip``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from avatar4d.asset.loader import load_asset
from avatar4d.asset.rig_mesh import RigPoser
from avatar4d.data.clip_timeline import train_segments
from avatar4d.errors import InputError
from avatar4d.model.motions.motion_model import Timing, TrainTimes
from avatar4d.model.motions.structure_checks import MAX_CONTROL_POINTS, known_fields, whole
from avatar4d.settings_checks import check_finite, check_not_negative, check_spline_points

if TYPE_CHECKING:
    from avatar4d.model.deformation import Deformation

PREFIX = "motion."
SHA256 = re.compile("[0-9a-f]{64}")
MAX_SEGMENTS = 10_000
MAX_MESH = 100_000_000


@dataclass
class RigSettings:
    """The character's own mesh drives the Gaussians: each follows one triangle of it, posed
    at any clip and time (needs a dataset that carries its asset: avatar4d grids do)."""

    name: ClassVar[str] = "rig"

    residual_points: int = 0
    """Control points of a per-Gaussian translation spline over the trained timeline, added
    to what the mesh gives (cloth, what the mesh cannot explain); 0 = none."""
    lr_residual: float = 0.005
    """Learning rate of the residual's control points, in units of the bounds radius."""

    def validate(self) -> None:
        check_not_negative(self, ("residual_points",), PREFIX)
        check_spline_points(self, ("residual_points",), PREFIX)
        check_finite(self, PREFIX)


@dataclass(frozen=True)
class RigStructure:
    name: ClassVar[str] = "rig"
    asset: str  # the dataset's copy of the character, as trained on
    asset_sha256: str
    vertices: int
    faces: int
    segments: tuple  # ((clip, start, length), ...): the train clips on the timeline
    residual_control_points: int


class RigMotion:
    name = "rig"
    summary = "the character's own mesh drives the Gaussians (any clip, any pose)"
    settings_type = RigSettings
    structure_type = RigStructure
    position_keys = ("motion_means",)
    full_precision_keys: tuple[str, ...] = ()

    def resolve(self, settings: RigSettings, times: TrainTimes) -> RigStructure:
        dataset = times.dataset
        asset_file = None if dataset is None else dataset.asset_file
        if asset_file is None:
            where = "--motion" if dataset is None else dataset.root
            raise InputError(
                where,
                "--motion rig needs a dataset that carries its character (scene.json "
                '"asset"; avatar4d grid writes one); use --motion nodes or spline',
            )
        asset = load_asset(asset_file)
        mesh = RigPoser(asset).mesh
        segments = train_segments(dataset.train, dataset.root / "transforms_train.json")
        return RigStructure(
            str(Path(asset_file).resolve()),
            asset.sha256,
            mesh.vertex_count,
            len(mesh.faces),
            tuple(tuple(segment) for segment in segments),
            settings.residual_points,
        )

    def learning_rates(self, settings: RigSettings, scene_radius: float) -> dict[str, float]:
        return {"motion_means": settings.lr_residual * scene_radius}

    def expected_shapes(self, structure: RigStructure, count: int) -> dict[str, tuple]:
        shapes: dict[str, tuple] = {"face": (count,)}
        if structure.residual_control_points:
            shapes["motion_means"] = (count, structure.residual_control_points, 3)
        return shapes

    def index_tensors(self, structure: RigStructure) -> dict[str, tuple[str, int]]:
        return {"face": ("triangle", structure.faces)}

    def check_structure(self, values: dict[str, Any], where: str) -> RigStructure:
        known_fields(values, RigStructure, where)
        asset, digest = values["asset"], values["asset_sha256"]
        if not isinstance(asset, str) or not asset:
            raise InputError(where, "model.motion.asset must be the asset file's path")
        if not isinstance(digest, str) or not SHA256.fullmatch(digest):
            raise InputError(where, "model.motion.asset_sha256 must be 64 hexadecimal digits")
        residual = whole(values, "residual_control_points", where, 0, MAX_CONTROL_POINTS)
        if 0 < residual < 4:
            raise InputError(where, "model.motion.residual_control_points must be 0 or at least 4")
        return RigStructure(
            asset,
            digest,
            whole(values, "vertices", where, 3, MAX_MESH),
            whole(values, "faces", where, 1, MAX_MESH),
            _segments(values["segments"], where),
            residual,
        )

    def disagreement(self, structure: RigStructure, settings: RigSettings) -> str | None:
        if structure.residual_control_points != settings.residual_points:
            return (
                f"model.motion.residual_control_points is {structure.residual_control_points} "
                f"but train.motion.residual_points is {settings.residual_points}"
            )
        return None

    def after_init(self, structure: RigStructure, tensors: dict[str, Any]) -> RigStructure:
        return structure

    def build(self, structure: RigStructure, timing: Timing) -> Deformation:
        from avatar4d.model.rig_deformation import RigDeformation, Segment  # torch

        asset = load_asset(structure.asset)
        if asset.sha256 != structure.asset_sha256:
            raise InputError(
                structure.asset,
                f"is not the character the run was trained on (sha256 {asset.sha256[:12]}, "
                f"the run's {structure.asset_sha256[:12]})",
            )
        poser = RigPoser(asset)
        if (poser.mesh.vertex_count, len(poser.mesh.faces)) != (
            structure.vertices,
            structure.faces,
        ):
            raise InputError(structure.asset, "its mesh is not the one the run was trained on")
        return RigDeformation(
            poser,
            tuple(Segment(*segment) for segment in structure.segments),
            timing.periodic,
            timing.anchor_time,
            structure.residual_control_points,
        )


def _segments(values: object, where: str) -> tuple:
    if not isinstance(values, (list, tuple)) or not 0 < len(values) <= MAX_SEGMENTS:
        raise InputError(where, "model.motion.segments must list the train clips")
    segments = []
    for value in values:
        if (
            not isinstance(value, (list, tuple))
            or len(value) != 3
            or not isinstance(value[0], str)
            or not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in value[1:])
            or not value[2] > 0
        ):
            raise InputError(
                where, f"model.motion.segments: each is [clip, start, length > 0], got {value!r}"
            )
        segments.append((value[0], float(value[1]), float(value[2])))
    return tuple(segments)
