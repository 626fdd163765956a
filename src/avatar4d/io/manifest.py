"""``.avatar4d-manifest.json``: which files avatar4d wrote into one of its output folders.

::

    {"format": "avatar4d-manifest", "tool": "avatar4d", "version": "0.1.0",
     "kind": "grid-dataset", "files": ["scene.json", "train/c00_t000.png", ...]}

``files`` are paths relative to the folder, with ``/``; the manifest does not list itself.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from avatar4d import __version__
from avatar4d.errors import InputError
from avatar4d.io.atomic import write_text_atomic
from avatar4d.io.json_file import read_json_file

MANIFEST_NAME = ".avatar4d-manifest.json"
MANIFEST_FORMAT = "avatar4d-manifest"
MAX_MANIFEST_BYTES = 64 * 2**20  # a 200,000-file dataset lists about 6 MB


@dataclass(frozen=True)
class Manifest:
    kind: str
    files: frozenset[str]


def manifest_path(folder: Path) -> Path:
    return Path(folder) / MANIFEST_NAME


def _is_relative_inside(name: object) -> bool:
    if not isinstance(name, str) or not name or "\\" in name or "\0" in name:
        return False
    path = PurePosixPath(name)
    return not path.is_absolute() and ".." not in path.parts and str(path) == name


def read_manifest(folder: Path) -> Manifest | None:
    """The folder's manifest; None when it has none. InputError when it is damaged."""
    path = manifest_path(folder)
    if not path.is_file():
        return None
    try:
        document = read_json_file(path, max_bytes=MAX_MANIFEST_BYTES)
    except InputError as error:
        raise InputError(path, f"unreadable avatar4d manifest ({error.problem})") from None
    files = document.get("files") if isinstance(document, dict) else None
    if (
        not isinstance(document, dict)
        or document.get("format") != MANIFEST_FORMAT
        or not isinstance(document.get("kind"), str)
        or not isinstance(files, list)
        or not all(_is_relative_inside(name) for name in files)
    ):
        raise InputError(path, "is not a valid avatar4d manifest; remove the folder yourself")
    return Manifest(kind=document["kind"], files=frozenset(files))


def files_under(folder: Path) -> list[str]:
    """Relative paths (with ``/``) of every file below ``folder``, the manifest excepted."""
    names = []
    for parent, _, files in os.walk(folder):
        for name in files:
            relative = (Path(parent) / name).relative_to(folder).as_posix()
            if relative != MANIFEST_NAME:
                names.append(relative)
    return sorted(names)


def write_manifest(folder: Path, kind: str, files: Iterable[str]) -> Path:
    """Write (atomically) the manifest of ``folder`` listing ``files``, plus the files an
    earlier manifest of the same kind listed that still exist (outputs added, not replaced)."""
    listed = set(files)
    previous = read_manifest(folder)
    if previous is not None and previous.kind == kind:
        listed |= {name for name in previous.files if (Path(folder) / name).exists()}
    document = {
        "format": MANIFEST_FORMAT,
        "tool": "avatar4d",
        "version": __version__,
        "kind": kind,
        "files": sorted(listed),
    }
    text = json.dumps(document, indent=1) + "\n"
    return write_text_atomic(manifest_path(folder), text, force=True)
