"""Validated reads from the glTF JSON: wrong types and dangling indices become InputErrors."""

from __future__ import annotations

import math
from typing import Any, NoReturn

from avatar4d.errors import InputError


class GltfJson:
    """The parsed JSON object of one glTF file plus the name used in error messages."""

    def __init__(self, document: dict[str, Any], where: str) -> None:
        self.document = document
        self.where = where

    def fail(self, problem: str) -> NoReturn:
        raise InputError(self.where, problem)

    def array(self, key: str) -> list[dict[str, Any]]:
        """A top-level array such as ``nodes``; absent means empty; every item must be an object."""
        items = self.document.get(key, [])
        if not isinstance(items, list):
            self.fail(f"'{key}' must be an array")
        for i, item in enumerate(items):
            if not isinstance(item, dict):
                self.fail(f"{key}[{i}] must be an object")
        return items

    def integer(
        self, obj: dict[str, Any], key: str, path: str, default: int | None = None, minimum: int = 0
    ) -> int:
        value = obj.get(key, default)
        if value is None:
            self.fail(f"{path}.{key} is missing")
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            self.fail(f"{path}.{key} must be an integer >= {minimum}, got {value!r}")
        return value

    def optional_integer(self, obj: dict[str, Any], key: str, path: str) -> int | None:
        if obj.get(key) is None:
            return None
        return self.integer(obj, key, path)

    def index(self, obj: dict[str, Any], key: str, path: str, target: str) -> int:
        """A required reference into the top-level array ``target``, range-checked."""
        value = self.integer(obj, key, path)
        size = len(self.array(target))
        if value >= size:
            self.fail(f"{path}.{key} = {value} refers to a missing {target} entry ({size} exist)")
        return value

    def optional_index(self, obj: dict[str, Any], key: str, path: str, target: str) -> int | None:
        if obj.get(key) is None:
            return None
        return self.index(obj, key, path, target)

    def numbers(
        self, obj: dict[str, Any], key: str, path: str, length: int | None, default: list[float]
    ) -> list[float]:
        """A list of finite numbers (exactly ``length`` of them when given)."""
        value = obj.get(key, default)
        if (
            not isinstance(value, list)
            or (length is not None and len(value) != length)
            or not all(_is_finite_number(v) for v in value)
        ):
            size = f"{length} " if length is not None else ""
            self.fail(f"{path}.{key} must be a list of {size}finite numbers")
        return [float(v) for v in value]

    def number(self, obj: dict[str, Any], key: str, path: str, default: float) -> float:
        value = obj.get(key, default)
        if not _is_finite_number(value):
            self.fail(f"{path}.{key} must be a finite number, got {value!r}")
        return float(value)

    def string(self, obj: dict[str, Any], key: str, path: str, default: str = "") -> str:
        value = obj.get(key, default)
        if not isinstance(value, str):
            self.fail(f"{path}.{key} must be a string")
        return value

    def object(self, obj: dict[str, Any], key: str, path: str) -> dict[str, Any]:
        """An optional sub-object (absent -> empty)."""
        value = obj.get(key, {})
        if not isinstance(value, dict):
            self.fail(f"{path}.{key} must be an object")
        return value

    def extensions(self, obj: dict[str, Any], path: str) -> dict[str, Any]:
        return self.object(obj, "extensions", path)


def _is_finite_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
