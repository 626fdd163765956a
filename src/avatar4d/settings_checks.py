"""Checks shared by every settings dataclass: each names the option that cannot work."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from avatar4d.errors import InputError


def option_name(prefix: str, field_name: str) -> str:
    """``--name`` (or ``--prefix.name``) as the command line spells a setting."""
    return "--" + prefix + field_name.replace("_", "-")


def check_finite(settings: Any, prefix: str = "") -> None:
    """Every float is finite, and every ``lr_*`` positive."""
    for field in dataclasses.fields(settings):
        value = getattr(settings, field.name)
        if isinstance(value, float) and not math.isfinite(value):
            raise InputError(
                option_name(prefix, field.name), f"must be a finite number, got {value}"
            )
        if field.name.startswith("lr_") and not value > 0:
            raise InputError(option_name(prefix, field.name), "learning rates must be positive")


def check_positive(settings: Any, names: tuple[str, ...], prefix: str = "") -> None:
    for name in names:
        if getattr(settings, name) <= 0:
            raise InputError(
                option_name(prefix, name), f"must be positive, got {getattr(settings, name)}"
            )


def check_not_negative(settings: Any, names: tuple[str, ...], prefix: str = "") -> None:
    for name in names:
        if getattr(settings, name) < 0:
            raise InputError(
                option_name(prefix, name), f"must not be negative, got {getattr(settings, name)}"
            )


def check_spline_points(settings: Any, names: tuple[str, ...], prefix: str = "") -> None:
    """Control-point counts: 0 (automatic, or none) or at least the 4 a cubic spline needs."""
    for name in names:
        if 0 < getattr(settings, name) < 4:
            raise InputError(option_name(prefix, name), "a cubic spline needs at least 4 (or 0)")
