"""Checks of command-line numbers, each refusal naming the option and the range it allows."""

from __future__ import annotations

import math

from avatar4d.errors import InputError


def check_finite(option: str, value: float) -> None:
    if not math.isfinite(value):
        raise InputError(option, f"must be a finite number, got {value}")


def check_between(
    option: str,
    value: float,
    low: float,
    high: float,
    *,
    open_low: bool = False,
    open_high: bool = False,
    unit: str = "",
) -> None:
    """InputError unless low <= value <= high (a bound excluded where open_*), and finite."""
    check_finite(option, value)
    above = value > low if open_low else value >= low
    below = value < high if open_high else value <= high
    if not (above and below):
        interval = f"{'(' if open_low else '['}{_number(low)}, {_number(high)}"
        interval += ")" if open_high else "]"
        raise InputError(option, f"must be in {interval}{unit}, got {_number(value)}")


def _number(value: float) -> str:
    return f"{value:,}" if isinstance(value, int) else f"{value:g}"


def check_at_least(option: str, value: int | None, low: int) -> None:
    """InputError unless an optional count is None or at least low."""
    if value is not None and value < low:
        raise InputError(option, f"must be at least {low}, got {value}")
