"""Pinhole intrinsics from the key variants D-NeRF-style files use.

A frame's own keys override the file's top-level keys. The focal length comes from
``fl_x``/``fl_y`` or from ``camera_angle_x``/``camera_angle_y`` (full field of view, radians);
with only one axis given, pixels are taken to be square.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from avatar4d.data.images import MAX_IMAGE_SIDE

INTRINSIC_KEYS = ("camera_angle_x", "camera_angle_y", "fl_x", "fl_y", "cx", "cy", "w", "h")


@dataclass(frozen=True)
class Intrinsics:
    width: int
    height: int
    fl_x: float
    fl_y: float
    cx: float
    cy: float


class IntrinsicsProblem(ValueError):
    """A sentence describing what is wrong; the caller adds which file and frame."""


def _number(keys: Mapping[str, object], name: str) -> float | None:
    value = keys.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise IntrinsicsProblem(f"{name} must be a finite number, got {value!r}")
    return float(value)


def _positive(keys: Mapping[str, object], name: str) -> float | None:
    value = _number(keys, name)
    if value is not None and value <= 0:
        raise IntrinsicsProblem(f"{name} must be positive, got {value!r}")
    return value


def _field_of_view(keys: Mapping[str, object], name: str) -> float | None:
    value = _number(keys, name)
    if value is not None and not 0 < value < math.pi:
        raise IntrinsicsProblem(f"{name} must be an angle in radians between 0 and pi, got {value}")
    return value


def _side(keys: Mapping[str, object], name: str) -> int | None:
    value = _positive(keys, name)
    if value is None:
        return None
    if value != int(value) or value > MAX_IMAGE_SIDE:
        raise IntrinsicsProblem(
            f"{name} must be a whole number of pixels up to {MAX_IMAGE_SIDE}, got {value}"
        )
    return int(value)


def resolve_intrinsics(
    keys: Mapping[str, object], image_size: Callable[[], tuple[int, int]]
) -> Intrinsics:
    """Intrinsics from merged top-level and per-frame keys.

    ``image_size`` is called (it reads the image header) only when ``w`` or ``h`` is missing.
    """
    width, height = _side(keys, "w"), _side(keys, "h")
    if width is None or height is None:
        header_width, header_height = image_size()
        width = header_width if width is None else width
        height = header_height if height is None else height

    fl_x, fl_y = _positive(keys, "fl_x"), _positive(keys, "fl_y")
    angle_x = _field_of_view(keys, "camera_angle_x")
    angle_y = _field_of_view(keys, "camera_angle_y")
    if fl_x is None and angle_x is not None:
        fl_x = 0.5 * width / math.tan(0.5 * angle_x)
    if fl_y is None and angle_y is not None:
        fl_y = 0.5 * height / math.tan(0.5 * angle_y)
    if fl_x is None and fl_y is None:
        raise IntrinsicsProblem(
            "no focal information: expected camera_angle_x, camera_angle_y, fl_x or fl_y"
        )
    fl_x = fl_y if fl_x is None else fl_x
    fl_y = fl_x if fl_y is None else fl_y

    cx, cy = _number(keys, "cx"), _number(keys, "cy")
    return Intrinsics(
        width=width,
        height=height,
        fl_x=fl_x,
        fl_y=fl_y,
        cx=0.5 * width if cx is None else cx,
        cy=0.5 * height if cy is None else cy,
    )
