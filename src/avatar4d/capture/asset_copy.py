"""The grid's own copy of its asset, so that a dataset needs nothing outside its folder.

A .glb is copied byte for byte. A .gltf is copied with every file its buffers and images name
by relative URI (data URIs travel inside the JSON), at the same relative paths under
``asset/``, so the copy loads exactly as the original does. Copying keeps the bytes, and so
the sha256, of every file; a GLB repacking would change them and buys nothing here. The
loader has already refused URIs that leave the asset's folder (asset/uris.py); they are
checked again here because this module copies what they name.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

from avatar4d.errors import InputError

ASSET_FOLDER = "asset"


@dataclass(frozen=True)
class AssetCopy:
    file: str  # the copied asset, relative to the dataset folder ("asset/Robot.glb")
    sha256: str  # of that file
    resources: dict[str, str]  # .gltf only: each other copied file -> its sha256


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def copy_asset(source: Path, dataset: Path) -> AssetCopy:
    """Copy ``source`` (and a .gltf's resource files) into ``dataset/asset/``."""
    source = Path(source)
    folder = dataset / ASSET_FOLDER
    folder.mkdir(exist_ok=True)
    target = folder / source.name
    shutil.copyfile(source, target)
    resources = {}
    if source.suffix.lower() == ".gltf":
        for relative in _relative_uris(source):
            copied = folder / relative
            copied.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source.resolve().parent / relative, copied)
            resources[f"{ASSET_FOLDER}/{relative}"] = sha256_of(copied)
    return AssetCopy(f"{ASSET_FOLDER}/{source.name}", sha256_of(target), resources)


def _relative_uris(gltf: Path) -> list[str]:
    """The relative file paths (POSIX, decoded) that a .gltf's buffers and images name."""
    try:
        document = json.loads(gltf.read_text(encoding="utf-8-sig"))
    except (OSError, ValueError) as error:
        raise InputError(gltf, f"cannot read it again to copy it: {error}") from None
    found = []
    for key in ("buffers", "images"):
        for item in document.get(key) or []:
            uri = item.get("uri") if isinstance(item, dict) else None
            if not isinstance(uri, str) or uri.startswith("data:"):
                continue
            parts = urlsplit(uri)
            relative = PurePosixPath(unquote(parts.path))
            if parts.scheme or parts.netloc or relative.is_absolute() or ".." in relative.parts:
                raise InputError(gltf, f'{key}: URI "{uri}" is not a file inside the asset folder')
            found.append(relative.as_posix())
    return sorted(set(found))
