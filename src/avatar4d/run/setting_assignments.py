"""``name=value`` assignments to training settings (the benchmarks' ``--set``)."""

from __future__ import annotations

import dataclasses
from typing import Any

from avatar4d.run.config import SECTIONS, TrainConfig, section_of, with_settings


def with_assignments(config: TrainConfig, assignments: list[str]) -> TrainConfig:
    """Each ``name=value`` (``track_weight=0.3``, ``motion.nodes=512``) parsed with the type
    of the setting it replaces; a name no setting has is a ValueError naming it."""
    for assignment in assignments:
        name, _, text = assignment.partition("=")
        if name.startswith("motion."):
            field = name.removeprefix("motion.")
            current = _current(config.motion, field, assignment)
            motion = dataclasses.replace(config.motion, **{field: _parsed(text, current)})
            config = dataclasses.replace(config, motion=motion)
            continue
        section = section_of(name)
        holder = config if section is None else getattr(config, section)
        if name in SECTIONS or name == "motion":
            raise ValueError(f"{assignment}: {name} is a section; assign its settings")
        current = _current(holder, name, assignment)
        config = with_settings(config, **{name: _parsed(text, current)})
    return config


def _current(holder: Any, name: str, assignment: str) -> Any:
    if name not in {field.name for field in dataclasses.fields(holder)}:
        raise ValueError(f"{assignment}: no training setting {name!r}")
    return getattr(holder, name)


def _parsed(text: str, current: Any) -> Any:
    if isinstance(current, bool):
        return text.lower() in ("1", "true", "yes")
    if isinstance(current, (int, float)):
        return type(current)(float(text))
    return text
