"""Reading a motion structure back from config.yml: whole numbers in range, named."""

from __future__ import annotations

import dataclasses
from typing import Any

from avatar4d.errors import InputError

MAX_CONTROL_POINTS = 10_000
MAX_NODES = 10_000_000


def is_whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def whole(values: dict[str, Any], name: str, where: str, low: int, high: int) -> int:
    value = values.get(name)
    if not is_whole(value) or not low <= value <= high:
        raise InputError(
            where, f"model.motion.{name} must be a whole number in {low}..{high}, got {value!r}"
        )
    return value


def known_fields(values: dict[str, Any], structure_type: type, where: str) -> None:
    """No setting the structure does not have, none of the ones it needs missing."""
    fields = dataclasses.fields(structure_type)
    unknown = sorted(map(str, set(values) - {f.name for f in fields} - {"name"}))
    if unknown:
        raise InputError(where, f"unknown model.motion settings: {', '.join(unknown)}")
    missing = [f.name for f in fields if f.name not in values]
    if missing:
        raise InputError(where, f"model.motion settings missing: {', '.join(missing)}")
