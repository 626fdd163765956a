"""Read a D-NeRF-style dataset: ``transforms_{train,val,test}.json`` + images (+ ``scene.json``).

Accepts avatar4d grids and other D-NeRF sets alike: ``camera_angle_x`` or full intrinsics
(top-level or per frame), PNG or JPEG, ``file_path`` with or without extension, and ``time``
optional. Every malformed input is one InputError naming the file and the problem.

Optional depth maps (avatar4d grids: train frames): a frame's ``depth_file_path`` (relative,
extension included) and the file's top-level ``depth_unit``; ``load_depth`` reads them.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np

from avatar4d.data.camera_identity import cluster_camera_poses
from avatar4d.data.dataset import SPLIT_NAMES, Bounds, Dataset, Frame
from avatar4d.data.depth import load_depth
from avatar4d.data.images import load_image_rgba, read_image_size
from avatar4d.data.intrinsics import INTRINSIC_KEYS, IntrinsicsProblem, resolve_intrinsics
from avatar4d.errors import InputError
from avatar4d.io.json_file import read_json_file

MAX_SCENE_JSON_BYTES = 16 << 20  # an avatar4d grid's scene.json: a few KB of settings

__all__ = ["Dataset", "Frame", "load_dataset", "load_depth", "load_image_rgba"]

MAX_FRAMES = 1_000_000
# Tried in order after the file_path as written already failed to name a file with a suffix.
IMAGE_SUFFIXES_TO_TRY = (".png", "", ".jpg", ".jpeg")


def resolve_image_path(root: Path, file_path: str) -> Path | None:
    """The image a ``file_path`` names: with ``.png`` added, then as written, then JPEG.

    Raises ValueError when the path leaves the dataset folder; None when no file exists.
    """
    real_root = root.resolve()
    candidate = (root / file_path).resolve()
    if not candidate.is_relative_to(real_root):
        raise ValueError("escapes the dataset folder")
    for suffix in IMAGE_SUFFIXES_TO_TRY:
        path = candidate.with_name(candidate.name + suffix)
        if path.is_file():
            if not path.resolve().is_relative_to(real_root):  # a symlink pointing outside
                raise ValueError("escapes the dataset folder")
            return path
    return None


def _depth_path(root: Path, entry: dict) -> Path | None:
    """The depth map a frame's ``depth_file_path`` names, as written (extension included).

    ValueError when the path leaves the dataset folder (symlinks followed). The file need not
    exist: a missing depth map is reported when it is loaded, not when the dataset is read.
    """
    file_path = entry.get("depth_file_path")
    if file_path is None:
        return None
    if not isinstance(file_path, str) or not file_path:
        raise ValueError(f"depth_file_path must be a non-empty string, got {file_path!r}")
    path = (root / file_path).resolve()
    if not path.is_relative_to(root.resolve()):
        raise ValueError(f"depth_file_path {file_path!r} escapes the dataset folder")
    return path


def _depth_unit(document: dict) -> float | None:
    """The top-level ``depth_unit`` when it is a number (load_depth checks its value)."""
    value = document.get("depth_unit")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


SINGULAR_DETERMINANT = 1e-9  # a camera needs three independent axes


def _matrix(value: object) -> np.ndarray:
    try:
        matrix = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError("transform_matrix is not a 4x4 array of numbers") from None
    if matrix.shape != (4, 4):
        raise ValueError(f"transform_matrix has shape {matrix.shape}, expected 4x4")
    if not np.all(np.isfinite(matrix)):
        raise ValueError("transform_matrix has non-finite values")
    if abs(np.linalg.det(matrix[:3, :3])) < SINGULAR_DETERMINANT:
        raise ValueError("transform_matrix is singular (its rotation part has no inverse)")
    return matrix


def _optional_int(entry: dict, key: str) -> int | None:
    value = entry.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{key} must be a whole number, got {value!r}")
    return value


def _frame(
    root: Path,
    entry: object,
    defaults: dict,
    split: str,
    number: int,
    depth_unit: float | None = None,
) -> Frame:
    if not isinstance(entry, dict):
        raise ValueError("is not a JSON object")
    if "file_path" not in entry:
        raise ValueError("has no file_path")
    if "transform_matrix" not in entry:
        raise ValueError("has no transform_matrix")
    file_path = entry["file_path"]
    if not isinstance(file_path, str) or not file_path:
        raise ValueError(f"file_path must be a non-empty string, got {file_path!r}")
    c2w = _matrix(entry["transform_matrix"])

    time = entry.get("time")
    if time is not None and (
        isinstance(time, bool) or not isinstance(time, (int, float)) or not math.isfinite(time)
    ):
        raise ValueError(f"time must be a finite number, got {time!r}")
    if time is not None and not 0.0 <= time <= 1.0:
        raise ValueError(
            f"time {time!r} is outside [0, 1] (D-NeRF times are normalised: 0 the clip's "
            "start, 1 its end); rescale the times"
        )
    subset = entry.get("subset")
    if subset is not None and not isinstance(subset, str):
        raise ValueError(f"subset must be a string, got {subset!r}")
    clip, clip_time = _clip_of(entry)

    try:
        image_path = resolve_image_path(root, file_path)
    except ValueError:
        raise ValueError(f"file_path {file_path!r} escapes the dataset folder") from None
    if image_path is None:
        raise ValueError(f"image {file_path!r} not found (tried .png, as written, .jpg, .jpeg)")

    keys = {**defaults, **{k: entry[k] for k in INTRINSIC_KEYS if k in entry}}
    try:
        intrinsics = resolve_intrinsics(keys, lambda: read_image_size(image_path))
    except IntrinsicsProblem as problem:
        raise ValueError(str(problem)) from None

    return Frame(
        image_path=image_path,
        c2w=c2w,
        time=None if time is None else float(time),
        width=intrinsics.width,
        height=intrinsics.height,
        fl_x=intrinsics.fl_x,
        fl_y=intrinsics.fl_y,
        cx=intrinsics.cx,
        cy=intrinsics.cy,
        camera_index=_optional_int(entry, "camera_index"),
        time_index=_optional_int(entry, "time_index"),
        subset=subset,
        source=f"transforms_{split}.json frame {number}",
        depth_path=_depth_path(root, entry),
        depth_unit=depth_unit,
        clip=clip,
        clip_time=clip_time,
    )


def _clip_of(entry: dict) -> tuple[str | None, float | None]:
    """A frame's ``clip`` and ``clip_time`` (grids of several clips); both or neither."""
    clip, clip_time = entry.get("clip"), entry.get("clip_time")
    if clip is None and clip_time is None:
        return None, None
    if not isinstance(clip, str) or not clip:
        raise ValueError(f"clip must be a non-empty string next to clip_time, got {clip!r}")
    if (
        isinstance(clip_time, bool)
        or not isinstance(clip_time, (int, float))
        or not 0.0 <= clip_time <= 1.0
    ):
        raise ValueError(f"clip_time must be a number in [0, 1] next to clip, got {clip_time!r}")
    return clip, float(clip_time)


def _with_single_clip(splits: dict[str, list[Frame]], scene: dict | None) -> dict:
    """Frames of a single-clip avatar4d grid name its clip (scene.json), at clip time = time."""
    source = (scene or {}).get("source")
    clip = source.get("clip") if isinstance(source, dict) else None
    frames = [frame for split_frames in splits.values() for frame in split_frames]
    if not isinstance(clip, str) or any(frame.clip is not None for frame in frames):
        return splits
    return {
        split: [dataclasses.replace(f, clip=clip, clip_time=f.time) for f in split_frames]
        for split, split_frames in splits.items()
    }


def read_transforms(root: Path, split: str) -> list[Frame]:
    """Frames of one ``transforms_<split>.json``."""
    path = root / f"transforms_{split}.json"
    document = read_json_file(path)
    if not isinstance(document, dict):
        raise InputError(path, "expected a JSON object with a 'frames' list")
    entries = document.get("frames")
    if not isinstance(entries, list):
        raise InputError(path, "has no 'frames' list")
    if len(entries) > MAX_FRAMES:
        raise InputError(path, f"{len(entries):,} frames; refusing more than {MAX_FRAMES:,}")
    if not entries and split == "train":
        raise InputError(path, "has no frames")
    defaults = {k: document[k] for k in INTRINSIC_KEYS if k in document}
    depth_unit = _depth_unit(document)
    frames = []
    for number, entry in enumerate(entries):
        try:
            frames.append(_frame(root, entry, defaults, split, number, depth_unit))
        except ValueError as problem:
            raise InputError(path, f"frame {number} {problem}") from None
    return frames


def _bounds(scene: dict, path: Path) -> Bounds | None:
    bounds = scene.get("bounds")
    if bounds is None:
        return None
    try:
        center = np.asarray(bounds["center"], dtype=np.float64)
        radius = float(bounds["radius"])
    except (TypeError, KeyError, ValueError):
        raise InputError(path, "bounds must be {'center': [x, y, z], 'radius': r}") from None
    if center.shape != (3,) or not np.all(np.isfinite(center)):
        raise InputError(path, "bounds.center must be three finite numbers")
    if not (math.isfinite(radius) and radius > 0):
        raise InputError(path, f"bounds.radius must be a positive number, got {radius}")
    return Bounds(center=center, radius=radius)


def _with_derived_camera_indices(splits: dict[str, list[Frame]]) -> dict[str, list[Frame]]:
    """Fill missing camera_index by clustering identical poses across all splits."""
    frames = [frame for split_frames in splits.values() for frame in split_frames]
    missing = [i for i, frame in enumerate(frames) if frame.camera_index is None]
    known = [frame.camera_index for frame in frames if frame.camera_index is not None]
    first_free = max(known, default=-1) + 1
    ids = cluster_camera_poses(np.stack([frames[i].c2w for i in missing])) + first_free
    for i, camera in zip(missing, ids.tolist(), strict=True):
        frames[i] = dataclasses.replace(frames[i], camera_index=camera)
    result, start = {}, 0
    for split, split_frames in splits.items():
        result[split] = frames[start : start + len(split_frames)]
        start += len(split_frames)
    return result


def read_scene(root: Path) -> dict | None:
    """The dataset's scene.json (avatar4d grids write one), or None when it has none."""
    scene_path = root / "scene.json"
    if not scene_path.is_file():
        return None
    scene = read_json_file(scene_path, max_bytes=MAX_SCENE_JSON_BYTES, max_values=1_000_000)
    if not isinstance(scene, dict):
        raise InputError(scene_path, "expected a JSON object")
    return scene


def load_dataset(root: Path) -> Dataset:
    """Read the dataset in ``root``; ``transforms_train.json`` is required, val/test optional.

    ``camera_index`` missing from any frame is derived for those frames by clustering identical
    poses across all splits (``Dataset.camera_index_derived`` is then True).
    """
    root = Path(root)
    if not root.is_dir():
        raise InputError(root, "not a folder" if root.exists() else "folder not found")
    if not (root / "transforms_train.json").is_file():
        raise InputError(root, "no transforms_train.json: not a D-NeRF-style dataset folder")

    files = {
        split: root / f"transforms_{split}.json"
        for split in SPLIT_NAMES
        if (root / f"transforms_{split}.json").is_file()
    }
    splits = {split: read_transforms(root, split) for split in files}
    # An empty val or test file holds out nothing: treated as absent (check warns on no test).
    splits = {split: frames for split, frames in splits.items() if frames}
    total = sum(len(frames) for frames in splits.values())
    if total > MAX_FRAMES:
        raise InputError(root, f"{total:,} frames in all splits; refusing more than {MAX_FRAMES:,}")

    derived = any(frame.camera_index is None for frames in splits.values() for frame in frames)
    if derived:
        splits = _with_derived_camera_indices(splits)

    scene = read_scene(root)
    bounds = None if scene is None else _bounds(scene, root / "scene.json")
    splits = _with_single_clip(splits, scene)

    return Dataset(
        root=root,
        splits=splits,
        scene=scene,
        bounds=bounds,
        camera_index_derived=derived,
        transforms_files=files,
    )
