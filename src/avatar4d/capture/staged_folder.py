"""Write a whole output folder atomically: build it in a hidden sibling, then swap it in.

A run that is killed or fails leaves at most a hidden ``.NAME.partial-*`` folder, never a half
dataset under NAME, and a good dataset that is being replaced stays in place until the new one
is complete.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from avatar4d.errors import InputError

# With --force we only replace what this tool wrote: a typo such as --out ~ must not wipe a home.
DATASET_MARKER = "scene.json"


def check_output_folder(out_dir: Path, force: bool, protected: Path | None = None) -> None:
    """Raise InputError unless ``out_dir`` may be (re)written."""
    if out_dir.exists() and not out_dir.is_dir():
        raise InputError(out_dir, "exists and is not a folder")
    if protected is not None and _is_inside(protected.resolve(), out_dir.resolve()):
        raise InputError(out_dir, f"contains the input {protected}; choose another output folder")
    if not _is_non_empty_dir(out_dir):
        return
    if not force:
        raise InputError(out_dir, "already exists and is not empty; add --force to replace it")
    if not (out_dir / DATASET_MARKER).is_file():
        raise InputError(
            out_dir,
            f"is not empty and has no {DATASET_MARKER}, so it does not look like a dataset "
            "written by avatar4d; --force only replaces those. Remove it yourself if you mean it",
        )


@contextmanager
def staged_output_folder(
    out_dir: Path, force: bool, protected: Path | None = None
) -> Iterator[Path]:
    """Yield an empty folder to fill; on success it replaces ``out_dir``, on error it vanishes."""
    out_dir = Path(out_dir)
    check_output_folder(out_dir, force, protected)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.partial-", dir=out_dir.parent))
    try:
        yield staging
        check_output_folder(out_dir, force, protected)  # it may have appeared meanwhile
        _swap_into_place(staging, out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _swap_into_place(staging: Path, out_dir: Path) -> None:
    if not out_dir.exists():
        os.replace(staging, out_dir)
        return
    if not _is_non_empty_dir(out_dir):
        out_dir.rmdir()
        os.replace(staging, out_dir)
        return
    retired = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.old-", dir=out_dir.parent))
    retired.rmdir()  # only its unique name is needed; os.replace wants it absent
    os.replace(out_dir, retired)
    try:
        os.replace(staging, out_dir)
    except BaseException:
        os.replace(retired, out_dir)  # put the previous dataset back
        raise
    shutil.rmtree(retired, ignore_errors=True)


def _is_non_empty_dir(path: Path) -> bool:
    return path.is_dir() and any(path.iterdir())


def _is_inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents
