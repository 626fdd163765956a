"""Bytes behind a glTF URI: base64 data URIs and files inside the asset's own folder only."""

from __future__ import annotations

import base64
import binascii
from pathlib import Path
from urllib.parse import unquote, urlsplit

from avatar4d.asset.limits import MAX_FILE_BYTES
from avatar4d.errors import InputError


def read_uri(uri: str, folder: Path, where: str, what: str) -> bytes:
    """Bytes of ``uri`` for ``what`` (e.g. "buffer 0"); never reads outside ``folder``."""
    if uri.startswith("data:"):
        return _read_data_uri(uri, where, what)
    return _read_relative_file(uri, folder, where, what)


def _read_data_uri(uri: str, where: str, what: str) -> bytes:
    header, comma, payload = uri.partition(",")
    if not comma or not header.endswith(";base64"):
        raise InputError(where, f"{what}: only base64 data URIs are supported")
    if len(payload) * 3 // 4 > MAX_FILE_BYTES:
        raise InputError(where, f"{what}: data URI is larger than {MAX_FILE_BYTES:,} bytes")
    try:
        return base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise InputError(where, f"{what}: data URI is not valid base64") from None


def _read_relative_file(uri: str, folder: Path, where: str, what: str) -> bytes:
    parts = urlsplit(uri)
    if parts.scheme or parts.netloc:
        raise InputError(where, f'{what}: URI "{uri}" is not a relative file path (refused)')
    relative = unquote(parts.path)
    root = folder.resolve()
    if not relative or Path(relative).is_absolute() or relative.startswith(("/", "\\")):
        raise InputError(where, f'{what}: URI "{uri}" is an absolute path (refused)')
    target = (root / relative).resolve()  # follows symlinks, so escaping links are caught too
    if not target.is_relative_to(root):
        raise InputError(where, f'{what}: URI "{uri}" points outside the asset folder (refused)')
    if not target.is_file():
        raise InputError(where, f'{what}: file "{uri}" not found next to the asset')
    size = target.stat().st_size
    if size > MAX_FILE_BYTES:
        raise InputError(where, f'{what}: file "{uri}" is {size:,} bytes, too large')
    return target.read_bytes()
