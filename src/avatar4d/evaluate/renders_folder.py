"""A folder of renders made by anything: one PNG per test frame, checked before scoring.

Layout: the render of a test frame is ``DIR/<its image's path in the dataset>.png``, e.g.
``DIR/test/novel_view_c24_t000.png`` for ``"file_path": "./test/novel_view_c24_t000"``
(``render_name``); ``avatar4d render RUN --path test --out DIR`` writes exactly that. Each PNG
is the frame's size, RGBA with straight alpha (composited on white when scored) or RGB on
white; grey, grey + alpha, palette and 16-bit PNGs are read as the dataset's own images are
(data/images.py). The folder is refused, in one line and before anything is scored, when a
test frame has no render, when it holds an image that is no test frame's, or when an image
is not a PNG of its frame's size. Other files (notes, the manifest) are left alone, as are
the evaluation's own output folder and any other avatar4d evaluation inside the folder.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import torch

from avatar4d.data.dataset import Dataset, Frame
from avatar4d.data.images import decode_rgba, read_image_header
from avatar4d.errors import InputError
from avatar4d.evaluate.scoring import as_prediction
from avatar4d.io.manifest import read_manifest
from avatar4d.io.output_kinds import EVALUATION

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".gif", ".tif", ".tiff", ".exr")
LISTED_NAMES = 3  # names quoted in a refusal before "..."
_HASH_CHUNK = 2**20


def render_name(dataset: Dataset, frame: Frame) -> str:
    """The frame's render, relative to a renders folder: its image's dataset path as .png."""
    relative = PurePosixPath(frame.image_path.relative_to(dataset.root.resolve()).as_posix())
    return str(relative.with_suffix(".png"))


@dataclass(frozen=True)
class RendersFolder:
    folder: Path
    paths: dict[str, Path]  # render name -> file, one per test frame, in dataset order
    modes: dict[str, int]  # "RGBA" | "RGB" -> count


def _listed(names: Sequence[str]) -> str:
    shown = ", ".join(names[:LISTED_NAMES])
    return shown + (", ..." if len(names) > LISTED_NAMES else "")


def _skipped_folder(path: Path, out: Path | None) -> bool:
    if out is not None and path.resolve() == out.resolve():
        return True
    try:
        manifest = read_manifest(path)
    except InputError:
        return False
    return manifest is not None and manifest.kind == EVALUATION.name


def _images_under(folder: Path, out: Path | None) -> list[str]:
    """Relative paths of every image file below ``folder``, outside evaluation folders."""
    names = []
    for parent, subfolders, files in os.walk(folder):
        subfolders[:] = sorted(
            name for name in subfolders if not _skipped_folder(Path(parent) / name, out)
        )
        for name in files:
            if Path(name).suffix.lower() in IMAGE_SUFFIXES:
                names.append((Path(parent) / name).relative_to(folder).as_posix())
    return sorted(names)


def check_renders_folder(folder: Path, dataset: Dataset, out: Path | None) -> RendersFolder:
    """The renders of the dataset's test frames; InputError naming the first problem."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(folder, "is not a folder of renders")
    test = dataset.splits.get("test", [])
    expected = {render_name(dataset, frame): frame for frame in test}
    found = set(_images_under(folder, out))
    example = next(iter(expected), "test/r_000.png")
    missing = [name for name in expected if name not in found]
    if missing:
        raise InputError(
            folder,
            f"{len(missing)} of {len(expected)} test frames have no render: {_listed(missing)} "
            f"(one PNG per test frame, named after its file_path, e.g. {example})",
        )
    extra = sorted(found - set(expected))
    if extra:
        raise InputError(
            folder,
            f"holds {len(extra)} image(s) that render no test frame of {dataset.root}: "
            f"{_listed(extra)} (one PNG per test frame, named after its file_path, e.g. "
            f"{example})",
        )
    modes = {"RGBA": 0, "RGB": 0}
    for name, frame in expected.items():
        header = read_image_header(folder / name)
        if header.format != "PNG":
            raise InputError(folder / name, f"is a {header.format} file, not a PNG")
        if (header.width, header.height) != (frame.width, frame.height):
            raise InputError(
                folder / name,
                f"image is {header.width}x{header.height}, but its test frame "
                f"({frame.source or name}) is {frame.width}x{frame.height}",
            )
        modes["RGBA" if header.has_alpha else "RGB"] += 1
    return RendersFolder(
        folder, {name: folder / name for name in expected}, {k: v for k, v in modes.items() if v}
    )


def images_digest(renders: RendersFolder) -> str:
    """sha256 over each image's relative path and the sha256 of its bytes, in name order."""
    digest = hashlib.sha256()
    for name in sorted(renders.paths):
        file_digest = hashlib.sha256()
        with open(renders.paths[name], "rb") as handle:
            while chunk := handle.read(_HASH_CHUNK):
                file_digest.update(chunk)
        digest.update(f"{name}\0{file_digest.hexdigest()}\n".encode())
    return digest.hexdigest()


def read_renders(
    renders: RendersFolder, dataset: Dataset, frames: Sequence[Frame], device: str
) -> Iterator[tuple[Frame, torch.Tensor]]:
    """(frame, its render as an 8-bit prediction on ``device``) for ``frames``, in order."""
    for frame in frames:
        pixels, has_alpha = decode_rgba(renders.paths[render_name(dataset, frame)])
        yield frame, as_prediction(pixels, has_alpha, device)
