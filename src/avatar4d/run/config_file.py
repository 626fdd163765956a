"""A TrainConfig to and from config.yml's ``train`` mapping, every value checked."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from avatar4d.errors import InputError
from avatar4d.model.motions.registry import MOTION_MODELS
from avatar4d.run.config import SECTION_TYPES, TrainConfig
from avatar4d.run.flat_config import is_flat, nested_from_flat


def config_to_dict(config: TrainConfig) -> dict[str, Any]:
    values = dataclasses.asdict(config)
    values["motion"] = {"name": config.motion.name, **values["motion"]}
    return values


def config_from_dict(values: object, where: str | Path) -> TrainConfig:
    """A TrainConfig from saved values (this version's nested mapping, or an earlier
    version's flat one); unknown keys or wrong types are an InputError naming the setting."""
    if not isinstance(values, dict):
        raise InputError(where, "config must be a mapping of setting names to values")
    if is_flat(values):
        values = nested_from_flat(values, where)
    missing = [name for name in (*SECTION_TYPES, "motion", "steps") if name not in values]
    if missing:
        raise InputError(where, f"settings missing: {', '.join(missing)}; the file is damaged")
    sections = {name: values[name] for name in SECTION_TYPES}
    own = {name: value for name, value in values.items() if name not in (*SECTION_TYPES, "motion")}
    built = {
        name: settings_from_dict(SECTION_TYPES[name], section, where, f"{name}.")
        for name, section in sections.items()
    }
    motion = motion_from_dict(values.get("motion"), where)
    own_fields = [
        f for f in dataclasses.fields(TrainConfig) if f.name not in built and f.name != "motion"
    ]
    top = settings_values(own_fields, own, TrainConfig(), where, "")
    return TrainConfig(**top, **built, motion=motion)


def motion_from_dict(values: object, where: str | Path) -> Any:
    if not isinstance(values, dict) or not isinstance(values.get("name"), str):
        raise InputError(where, "motion must be a mapping with the motion model's name")
    model = MOTION_MODELS.get(values["name"])
    if model is None:
        raise InputError(
            where,
            f"motion.name must be one of {', '.join(MOTION_MODELS)}, got {values['name']!r}",
        )
    rest = {name: value for name, value in values.items() if name != "name"}
    return settings_from_dict(model.settings_type, rest, where, "motion.")


def settings_from_dict(kind: type, values: object, where: str | Path, prefix: str) -> Any:
    if not isinstance(values, dict):
        raise InputError(where, f"{prefix.rstrip('.')} must be a mapping of settings")
    return kind(**settings_values(dataclasses.fields(kind), values, kind(), where, prefix))


def settings_values(
    fields: Any, values: dict, defaults: Any, where: str | Path, prefix: str
) -> dict[str, Any]:
    """The values, each of its field's type (an int where a float is expected is taken)."""
    known = {field.name for field in fields}
    unknown = sorted(map(str, set(values) - known))
    if unknown:
        raise InputError(where, f"unknown settings: {', '.join(prefix + name for name in unknown)}")
    checked = {}
    for name, value in values.items():
        expected = type(getattr(defaults, name))
        accepts_int_as_float = expected is float and type(value) is int
        if type(value) is not expected and not accepts_int_as_float:
            raise InputError(where, f"{prefix}{name} must be {expected.__name__}, got {value!r}")
        checked[name] = float(value) if expected is float else value
    return checked
