"""Deterministic corruptions of one file: truncation, byte flips and structured edits.

Structured edits parse the file's JSON (a .json file, a GLB's JSON chunk, a safetensors
header, config.yml read as YAML), change one value (an index off by one, a hostile number, a
wrong type, a deleted key, a deep nesting) and write it back well-formed, so that the reader's
validation is reached rather than only its parser. Everything is drawn from the given numpy
Generator: the same seed and clean file give the same mutation.
"""

from __future__ import annotations

import json
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

GLB_HEADER = 12
CHUNK_HEADER = 8
DEEP_NESTING = 3000  # beyond Python's recursion limit
PNG_SIGNATURE = 8
IHDR_DATA = PNG_SIGNATURE + 8  # signature, then the chunk's length and type


@dataclass(frozen=True)
class Mutation:
    file: str  # relative to the corrupted input's folder
    kind: str
    offset: int  # first byte touched (-1 for a structured edit)
    detail: str

    def describe(self) -> str:
        where = f" at byte {self.offset}" if self.offset >= 0 else ""
        return f"{self.file}: {self.kind}{where} ({self.detail})"


# --- raw bytes ---------------------------------------------------------------------------


def truncate(rng: np.random.Generator, data: bytes, hot: int) -> tuple[bytes, int, str]:
    """Cut the file short: often inside its first ``hot`` bytes (headers), else anywhere."""
    limit = min(hot, len(data)) if rng.random() < 0.4 else len(data)
    keep = int(rng.integers(0, max(limit, 1)))
    return data[:keep], keep, f"kept {keep} of {len(data)} bytes"


def flip(rng: np.random.Generator, data: bytes, hot: int) -> tuple[bytes, int, str]:
    """XOR one to four bytes with random non-zero masks (half the time inside the hot part)."""
    changed = bytearray(data)
    limit = min(hot, len(data)) if rng.random() < 0.5 else len(data)
    flips = []
    for _ in range(int(rng.integers(1, 5))):
        at = int(rng.integers(0, max(limit, 1)))
        mask = int(rng.integers(1, 256))
        if at < len(changed):
            changed[at] ^= mask
            flips.append((at, mask))
    first = min((at for at, _ in flips), default=0)
    detail = ", ".join(f"byte {at} ^= 0x{mask:02x}" for at, mask in flips)
    return bytes(changed), first, detail


# --- one edited value in a JSON-like document -----------------------------------------------


def _show_path(path: tuple) -> str:
    return "".join(f"[{key}]" if isinstance(key, int) else f".{key}" for key in path) or "$"


def _short(value: Any) -> str:
    if _is_deep(value):
        return f"<{DEEP_NESTING} nested lists>"
    text = json.dumps(value, allow_nan=True)
    return text if len(text) <= 60 else text[:57] + "..."


class DeepNesting(list):
    """Stands for DEEP_NESTING nested lists until the document is written out."""


def _is_deep(value: Any) -> bool:
    return isinstance(value, DeepNesting)


def _deep() -> list:
    return DeepNesting()


def _replacement(rng: np.random.Generator, old: Any) -> Any:
    """A hostile value for ``old``: near misses of its own type, or another type entirely."""
    if rng.random() < 0.03:
        return _deep()
    if isinstance(old, bool):
        candidates: list = [not old, 1, "true", None]
    elif isinstance(old, int):
        candidates = [old + 1, old - 1, -old - 1, old * 1_000_003, 2**31, 2**63, 0, 10**400]
    elif isinstance(old, float):
        candidates = [float("nan"), float("inf"), -float("inf"), -old, old * 1e300, 0.0, 1e-320]
    elif isinstance(old, str):
        candidates = ["", old + "x", "../../../../etc/passwd", "nan", "\u00e9\x00", old * 1000]
    elif isinstance(old, list):
        candidates = [[], old[:1], old[::-1], old + old, [old]]
    elif isinstance(old, dict):
        candidates = [{}, [old]]
    else:
        candidates = [0, "", [], {}]
    if rng.random() < 0.25:  # a value of another type
        candidates = [None, "abc", [], {}, True, -1, 1.5, [1, 2, 3]]
    return candidates[int(rng.integers(0, len(candidates)))]


def _pick_path(rng: np.random.Generator, document: Any) -> tuple:
    """A random descent from the root, so that each key of a level is as likely as a long
    list's (a checkpoint's RNG state would otherwise draw nearly every edit)."""
    path: tuple = ()
    node = document
    while True:
        keys = list(node) if isinstance(node, dict) else list(range(len(node)))
        key = keys[int(rng.integers(0, len(keys)))]
        path, node = (*path, key), node[key]
        container = isinstance(node, (dict, list)) and len(node) > 0
        if not container or rng.random() < 0.3:
            return path


def edit_document(rng: np.random.Generator, document: Any) -> tuple[Any, str]:
    """Change, delete or replace one value of ``document`` (modified in place)."""
    if not isinstance(document, (dict, list)) or not document:
        return _deep(), f"whole document replaced by {DEEP_NESTING} nested lists"
    path = _pick_path(rng, document)
    parent = document
    for key in path[:-1]:
        parent = parent[key]
    key, old = path[-1], parent[path[-1]]
    if rng.random() < 0.15:
        del parent[key]
        return document, f"deleted {_show_path(path)} (was {_short(old)})"
    new = _replacement(rng, old)
    while _same(new, old):  # a no-op edit would test nothing
        new = _replacement(rng, old)
    parent[key] = new
    return document, f"{_show_path(path)}: {_short(old)} -> {_short(new)}"


def _same(new: Any, old: Any) -> bool:
    return type(new) is type(old) and not _is_deep(new) and new == old


def _dump_json(document: Any) -> bytes:
    return json.dumps(document, allow_nan=True, separators=(",", ":")).encode()


def _dump_deep_safely(document: Any) -> bytes:
    """JSON text with each DeepNesting written out as DEEP_NESTING nested lists."""
    marker = "\u0000DEEP\u0000"
    return _dump_json(_swap_deep(document, marker)).replace(
        json.dumps(marker).encode(), b"[" * DEEP_NESTING + b"]" * DEEP_NESTING
    )


def _swap_deep(node: Any, marker: str) -> Any:
    if _is_deep(node):
        return marker
    if isinstance(node, dict):
        return {key: _swap_deep(value, marker) for key, value in node.items()}
    if isinstance(node, list):
        return [_swap_deep(value, marker) for value in node]
    return node


def edit_json_bytes(rng: np.random.Generator, data: bytes) -> tuple[bytes, str]:
    edited, detail = edit_document(rng, json.loads(data))
    return _dump_deep_safely(edited), detail


# --- container formats ----------------------------------------------------------------------


def edit_glb_json(rng: np.random.Generator, data: bytes) -> tuple[bytes, str]:
    """Edit the GLB's JSON chunk and rebuild the container with consistent lengths."""
    json_length = struct.unpack_from("<I", data, GLB_HEADER)[0]
    json_start = GLB_HEADER + CHUNK_HEADER
    rest = data[json_start + json_length :]
    text, detail = edit_json_bytes(rng, data[json_start : json_start + json_length])
    text += b" " * (-len(text) % 4)
    chunk = struct.pack("<I4s", len(text), b"JSON") + text
    header = struct.pack("<4sII", b"glTF", 2, GLB_HEADER + len(chunk) + len(rest))
    return header + chunk + rest, detail


def glb_hot_bytes(data: bytes) -> int:
    """The header and JSON chunk: where a flipped byte changes meaning, not just a texel."""
    return GLB_HEADER + CHUNK_HEADER + struct.unpack_from("<I", data, GLB_HEADER)[0]


def edit_safetensors_header(rng: np.random.Generator, data: bytes) -> tuple[bytes, str]:
    header_length = struct.unpack_from("<Q", data, 0)[0]
    text, detail = edit_json_bytes(rng, data[8 : 8 + header_length])
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + data[8 + header_length :], detail


def safetensors_hot_bytes(data: bytes) -> int:
    return 8 + struct.unpack_from("<Q", data, 0)[0]


def edit_png_header(rng: np.random.Generator, data: bytes) -> tuple[bytes, str]:
    """Rewrite one IHDR field (size, bit depth or colour type) with a valid CRC."""
    width, height, depth, colour = struct.unpack_from(">IIBB", data, IHDR_DATA)
    field = ["width", "height", "size", "bit depth", "colour type"][int(rng.integers(0, 5))]
    sizes = [0, 1, 7, 65535, 100_000, 2**31 - 1]
    if field in ("width", "size"):
        width = sizes[int(rng.integers(0, len(sizes)))]
    if field in ("height", "size"):
        height = sizes[int(rng.integers(0, len(sizes)))]
    if field == "bit depth":
        depth = [1, 2, 4, 8, 16, 3][int(rng.integers(0, 6))]
    if field == "colour type":
        colour = [0, 2, 3, 4, 6, 5][int(rng.integers(0, 6))]
    rest_of_ihdr = data[IHDR_DATA + 10 : IHDR_DATA + 13]  # compression, filter, interlace
    fields = struct.pack(">IIBB", width, height, depth, colour) + rest_of_ihdr
    crc = struct.pack(">I", zlib.crc32(b"IHDR" + fields))
    end = IHDR_DATA + 13
    detail = f"IHDR {width}x{height}, bit depth {depth}, colour type {colour}"
    return data[:IHDR_DATA] + fields + crc + data[end + 4 :], detail


def edit_yaml(rng: np.random.Generator, data: bytes) -> tuple[bytes, str]:
    edited, detail = edit_document(rng, yaml.safe_load(data))
    if _is_deep(edited) or any(_is_deep(value) for value in _values(edited)):
        return _dump_deep_safely(edited), detail + " (written as JSON, which is YAML)"
    return yaml.safe_dump(edited, sort_keys=False).encode(), detail


def _values(node: Any) -> list:
    if isinstance(node, dict):
        return [v for value in node.values() for v in (value, *_values(value))]
    if isinstance(node, list):
        return [v for value in node for v in (value, *_values(value))]
    return []


# --- choosing and applying one mutation -----------------------------------------------------

# Per file type: (kind, weight); the edit kinds reach the readers' validation.
KINDS = {
    ".glb": [("truncate", 0.2), ("flip", 0.25), ("edit-json-chunk", 0.55)],
    ".json": [("truncate", 0.2), ("flip", 0.2), ("edit-json", 0.6)],
    ".yml": [("truncate", 0.2), ("flip", 0.2), ("edit-yaml", 0.6)],
    ".safetensors": [("truncate", 0.3), ("flip", 0.3), ("edit-header", 0.4)],
    ".png": [("truncate", 0.35), ("flip", 0.35), ("edit-ihdr", 0.3)],
}
EDITS = {
    "edit-json-chunk": edit_glb_json,
    "edit-json": edit_json_bytes,
    "edit-yaml": edit_yaml,
    "edit-header": edit_safetensors_header,
    "edit-ihdr": edit_png_header,
}


def hot_bytes(suffix: str, data: bytes) -> int:
    if suffix == ".glb" and len(data) >= GLB_HEADER + CHUNK_HEADER:
        return glb_hot_bytes(data)
    if suffix == ".safetensors" and len(data) >= 8:
        return safetensors_hot_bytes(data)
    return 64 if suffix == ".png" else len(data)


def mutate_file(rng: np.random.Generator, root: Path, relative: str) -> Mutation:
    """Corrupt ``root/relative`` in place with one mutation drawn from ``rng``."""
    path = root / relative
    data = path.read_bytes()
    kinds, weights = zip(*KINDS[path.suffix], strict=True)
    kind = kinds[int(rng.choice(len(kinds), p=np.asarray(weights) / sum(weights)))]
    if kind == "truncate":
        changed, offset, detail = truncate(rng, data, hot_bytes(path.suffix, data))
    elif kind == "flip":
        changed, offset, detail = flip(rng, data, hot_bytes(path.suffix, data))
    else:
        (changed, detail), offset = EDITS[kind](rng, data), -1
    path.write_bytes(changed)
    return Mutation(relative, kind, offset, detail)


def pick_and_mutate(rng: np.random.Generator, root: Path, files: dict[str, float]) -> Mutation:
    """Corrupt one of ``files`` (relative path -> weight), chosen by weight."""
    names = sorted(files)
    weights = np.asarray([files[name] for name in names])
    return mutate_file(rng, root, names[int(rng.choice(len(names), p=weights / weights.sum()))])
