"""The motion models, by name: adding one is its module and one line here."""

from __future__ import annotations

from typing import Any, Union

from avatar4d.errors import InputError
from avatar4d.model.motions.motion_model import MotionModel
from avatar4d.model.motions.nodes import NodeMotion
from avatar4d.model.motions.rig import RigMotion
from avatar4d.model.motions.spline import SplineMotion

MOTION_MODELS: dict[str, MotionModel] = {
    model.name: model
    for model in (
        SplineMotion(),
        NodeMotion(),
        RigMotion(),
    )
}


def motion_model(name: str, where: str = "--motion") -> MotionModel:
    model = MOTION_MODELS.get(name)
    if model is None:
        raise InputError(where, f"unknown motion model {name!r}; known: {', '.join(MOTION_MODELS)}")
    return model


def model_of(settings_or_structure: Any) -> MotionModel:
    """The registry entry a settings or structure instance belongs to."""
    return MOTION_MODELS[settings_or_structure.name]


# The type of TrainConfig.motion: one of the models' settings (tyro: a subcommand each).
AnyMotionSettings = Union[tuple(model.settings_type for model in MOTION_MODELS.values())]  # type: ignore[valid-type]  # noqa: UP007
