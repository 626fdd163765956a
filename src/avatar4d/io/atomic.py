"""Atomic file writes: write to a temporary file in the same folder, then ``os.replace``.

A reader never sees a half-written output, and an interrupted write leaves the previous file
(if any) untouched. Existing outputs are only replaced when the caller passes ``force``.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator
from pathlib import Path

from avatar4d.errors import InputError
from avatar4d.io.permissions import file_mode


def refuse_existing(path: Path, force: bool) -> None:
    """Raise InputError when ``path`` exists and ``force`` is not set."""
    if path.exists() and not force:
        raise InputError(path, "already exists; use --force to overwrite it")


def refuse_non_folder(path: Path) -> None:
    """Raise InputError when ``path`` exists but is not a folder (an output folder is wanted)."""
    if path.exists() and not path.is_dir():
        raise InputError(path, "exists and is not a folder")


def _create_temp_file(path: Path) -> Path:
    # Not tempfile.mkstemp: its 0600 mode would survive the rename; os.open honours the umask.
    for _ in range(100):
        temp_path = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
        try:
            os.close(os.open(temp_path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))
        except FileExistsError:
            continue
        return temp_path
    raise FileExistsError(f"could not create a temporary file next to {path}")


@contextlib.contextmanager
def atomic_path(path: str | Path, force: bool = False) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; on success it is renamed onto ``path``.

    On an exception the temporary file is removed and ``path`` is left as it was.
    """
    path = Path(path)
    refuse_existing(path, force)
    path.parent.mkdir(parents=True, exist_ok=True)
    temp_path = _create_temp_file(path)
    try:
        yield temp_path
        # Checked again: another process may have created the output while we were writing.
        refuse_existing(path, force)
        # Writers that replace the file (safetensors) leave it owner-only: back to the umask's.
        os.chmod(temp_path, file_mode())
        os.replace(temp_path, path)
    finally:
        temp_path.unlink(missing_ok=True)


def write_bytes_atomic(path: str | Path, data: bytes, force: bool = False) -> Path:
    with atomic_path(path, force) as temp_path:
        temp_path.write_bytes(data)
    return Path(path)


def write_text_atomic(path: str | Path, text: str, force: bool = False) -> Path:
    return write_bytes_atomic(path, text.encode("utf-8"), force)
