"""JSON read with a size, a value-count and a nesting-depth limit: every refusal is one
InputError.

The depth and the number of values are measured by a cheap scan of the brackets and commas
outside strings before ``json.loads`` runs, so a file nested a million deep is refused in one
line instead of a RecursionError, and ``[[],[],...]`` (each value some 60 bytes in Python for 3
in the file) is refused before it takes gigabytes.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np

from avatar4d.errors import InputError

MAX_JSON_BYTES = 256 << 20  # one JSON file; a 100,000-frame transforms file is about 40 MB
MAX_JSON_DEPTH = 64  # nested arrays / objects; real files use under 10, Python fails near 1,000
# Values (roughly: items of arrays and objects); a 100,000-frame transforms file has 2.5 M.
MAX_JSON_VALUES = 8_000_000

_ESCAPE = re.compile(rb"\\.", re.DOTALL)  # an escape pair, e.g. \" inside a string
_STRING = re.compile(rb'"[^"]*"')  # a string once its escapes are gone
_NOT_STRUCTURE = re.compile(rb"[^\[\]{},]+")
_OPENING = np.frombuffer(b"[{", np.uint8)
_SCAN_CHUNK = 1 << 22  # brackets per numpy step, to bound the scan's own memory


def read_json_file(
    path: str | Path,
    max_bytes: int = MAX_JSON_BYTES,
    max_depth: int = MAX_JSON_DEPTH,
    max_values: int = MAX_JSON_VALUES,
) -> Any:
    """The parsed JSON of the file at ``path``; size checked before reading, depth before
    parsing."""
    path = Path(path)
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise InputError(path, "file not found") from None
    except OSError as error:
        raise InputError(path, f"cannot read ({error.strerror})") from None
    if not path.is_file():
        raise InputError(path, "not a file")
    if size > max_bytes:
        raise InputError(path, f"file is {size:,} bytes, more than the {max_bytes:,} allowed")
    try:
        data = path.read_bytes()
    except OSError as error:
        raise InputError(path, f"cannot read ({error.strerror})") from None
    return parse_json_bytes(data, path, max_bytes, max_depth, max_values)


def parse_json_bytes(
    data: bytes,
    where: str | Path,
    max_bytes: int = MAX_JSON_BYTES,
    max_depth: int = MAX_JSON_DEPTH,
    max_values: int = MAX_JSON_VALUES,
) -> Any:
    """Parse UTF-8 JSON bytes (a BOM is allowed); ``where`` names them in errors."""
    if len(data) > max_bytes:
        raise InputError(where, f"JSON is {len(data):,} bytes, more than the {max_bytes:,} allowed")
    structure = _structure(data)
    values = structure.count(b",") + structure.count(b"[") + structure.count(b"{")
    if values > max_values:
        raise InputError(
            where, f"JSON holds about {values:,} values, more than the {max_values:,} allowed"
        )
    depth = _depth(structure.replace(b",", b""), stop_above=max_depth)
    if depth > max_depth:
        raise InputError(
            where, f"JSON nested more than {max_depth} levels deep (arrays / objects); refused"
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(where, "not a UTF-8 text file") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise InputError(
            where, f"invalid JSON at line {error.lineno} column {error.colno}: {error.msg}"
        ) from None
    except (ValueError, RecursionError) as error:  # e.g. a number with too many digits
        raise InputError(where, f"invalid JSON ({error})") from None


def nesting_depth(data: bytes, stop_above: int | None = None) -> int:
    """Deepest nesting of ``[`` / ``{`` outside strings (0 for a bare value).

    Linear in the size. Stops early once ``stop_above`` is exceeded (the result is then above
    it).
    """
    return _depth(_structure(data).replace(b",", b""), stop_above)


def _structure(data: bytes) -> bytes:
    """The brackets and commas of ``data`` outside strings. Escapes are dropped first, so every
    remaining quote opens or closes a string."""
    return _NOT_STRUCTURE.sub(b"", _STRING.sub(b"", _ESCAPE.sub(b"", data)))


def _depth(brackets: bytes, stop_above: int | None) -> int:
    deepest, level = 0, 0
    for start in range(0, len(brackets), _SCAN_CHUNK):
        chunk = np.frombuffer(brackets[start : start + _SCAN_CHUNK], np.uint8)
        steps = np.where(np.isin(chunk, _OPENING), 1, -1).astype(np.int64)
        levels = level + np.cumsum(steps)
        deepest = max(deepest, int(levels.max()))
        level = int(levels[-1])
        if stop_above is not None and deepest > stop_above:
            break
    return deepest
