"""Write a whole output folder atomically: build it in a hidden sibling, then swap it in.

A run that is killed or fails leaves at most a hidden ``.NAME.partial-*`` folder, never a half
dataset under NAME, and a good dataset that is being replaced stays in place until the new one
is complete. The new folder gets a manifest of every file in it; ``--force`` replaces only a
folder whose every file is avatar4d's (io/ownership.py), so a typo such as --out ~ wipes
nothing.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from avatar4d.errors import InputError
from avatar4d.io.manifest import files_under, write_manifest
from avatar4d.io.output_kinds import GRID_DATASET, OutputKind
from avatar4d.io.ownership import Survey, avatar4d_files, delete_surveyed, refuse_other_kind
from avatar4d.io.permissions import make_readable_as_umask_allows


def check_output_folder(
    out_dir: Path, force: bool, protected: Path | None = None, kind: OutputKind = GRID_DATASET
) -> Survey | None:
    """Raise InputError unless ``out_dir`` may be (re)written; the survey of what --force
    would delete (None when there is nothing to replace)."""
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise InputError(out_dir, "exists and is not a folder")
    if out_dir.is_symlink():
        raise InputError(out_dir, "is a symbolic link; give the folder it points to instead")
    if protected is not None and _is_inside(protected.resolve(), out_dir.resolve()):
        raise InputError(out_dir, f"contains the input {protected}; choose another output folder")
    if out_dir.is_dir() and _is_inside(Path.cwd().resolve(), out_dir.resolve()):
        raise InputError(
            out_dir,
            "is the current folder or holds it, and replacing it would leave this shell in a "
            "deleted folder; run avatar4d from another folder",
        )
    if not _is_non_empty_dir(out_dir):
        return None
    refuse_other_kind(out_dir, kind)
    if not force:
        raise InputError(out_dir, "already exists and is not empty; add --force to replace it")
    return avatar4d_files(out_dir, kind)


@contextmanager
def staged_output_folder(
    out_dir: Path, force: bool, protected: Path | None = None, kind: OutputKind = GRID_DATASET
) -> Iterator[Path]:
    """Yield an empty folder to fill; on success it replaces ``out_dir``, on error it vanishes."""
    out_dir = Path(os.path.abspath(out_dir))
    check_output_folder(out_dir, force, protected, kind)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.partial-", dir=out_dir.parent))
    try:
        make_readable_as_umask_allows(staging)  # mkdtemp makes it owner-only
        yield staging
        write_manifest(staging, kind.name, files_under(staging))
        previous = check_output_folder(out_dir, force, protected, kind)  # it may have changed
        _swap_into_place(staging, out_dir, previous)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _swap_into_place(staging: Path, out_dir: Path, previous: Survey | None) -> None:
    if not out_dir.exists():
        os.replace(staging, out_dir)
        return
    if previous is None:  # an empty folder
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
    delete_surveyed(retired, previous)
    with contextlib.suppress(OSError):  # a file that appeared after the check stays there
        retired.rmdir()


def _is_non_empty_dir(path: Path) -> bool:
    return path.is_dir() and any(path.iterdir())


def _is_inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents
