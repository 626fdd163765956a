"""Read a dataset's surface tracks (``scene.json`` "tracks", written by ``avatar4d grid``).

The file is safetensors: ``times`` (T,) float64 normalised times, ``positions`` (T, P, 3)
float32 world positions of P surface points at each time and, optionally (files of avatar4d
0.1 before them have none), ``normals`` (T, P, 3) their unit surface normals
(docs/dataset_format.md). Shapes are
checked from the header before any tensor is read, so an absurd file is refused before
allocation; every problem is one InputError naming the file.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from avatar4d.data.dataset import Dataset
from avatar4d.dataset_format import MAX_TRACK_POINTS, MAX_TRACK_TIMES, MAX_TRACK_VALUES
from avatar4d.errors import InputError

FLOAT_DTYPES = ("F32", "F64", "F16")


@dataclass(frozen=True)
class SurfaceTracks:
    path: Path
    times: np.ndarray  # (T,) float64, ascending
    positions: np.ndarray  # (T, P, 3) float32
    # (T, P, 3) as stored (float16 from avatar4d grid), when the file has them; not
    # necessarily unit length: users normalise what they take
    normals: np.ndarray | None = None

    @property
    def point_count(self) -> int:
        return self.positions.shape[1]

    def row_of(self, time: float, tolerance: float = 1e-6) -> int | None:
        """Index of the row at ``time``, or None when no row is that close to it."""
        nearest = int(np.argmin(np.abs(self.times - time)))
        return nearest if abs(float(self.times[nearest]) - time) <= tolerance else None


def tracks_path(dataset: Dataset) -> Path | None:
    """The tracks file ``scene.json`` names, inside the dataset folder; None when it names none."""
    scene = dataset.scene or {}
    entry = scene.get("tracks")
    if entry is None:
        return None
    scene_json = dataset.root / "scene.json"
    if not isinstance(entry, dict) or not isinstance(entry.get("file"), str):
        raise InputError(scene_json, '"tracks" must be an object with a "file" name')
    try:
        root = dataset.root.resolve()
        path = (root / entry["file"]).resolve()
    except (OSError, RuntimeError, ValueError) as error:  # NUL byte, symlink loop, ...
        raise InputError(scene_json, f'"tracks" file {entry["file"]!r}: {error}') from None
    if not path.is_relative_to(root):
        raise InputError(scene_json, f'"tracks" file {entry["file"]!r} leaves the dataset folder')
    return path


def read_tracks(dataset: Dataset) -> SurfaceTracks | None:
    """The dataset's surface tracks, checked; None when ``scene.json`` names none."""
    path = tracks_path(dataset)
    if path is None:
        return None
    if not path.is_file():
        raise InputError(path, "not found (scene.json names it as the surface tracks)")
    from safetensors import safe_open

    try:
        with safe_open(str(path), framework="numpy") as file:
            names = set(file.keys())
            if names not in ({"times", "positions"}, {"times", "positions", "normals"}):
                raise InputError(
                    path,
                    f"expected tensors times, positions (and normals), got {sorted(names)}",
                )
            shape = file.get_slice("positions").get_shape()
            _check_shapes(path, file.get_slice("times").get_shape(), shape)
            if "normals" in names and file.get_slice("normals").get_shape() != shape:
                raise InputError(
                    path,
                    f"normals {file.get_slice('normals').get_shape()} must match positions {shape}",
                )
            for name in sorted(names):
                dtype = file.get_slice(name).get_dtype()
                if dtype not in FLOAT_DTYPES:
                    raise InputError(path, f"{name} must be floating point, got {dtype}")
            times = file.get_tensor("times")
            positions = file.get_tensor("positions")
            normals = file.get_tensor("normals") if "normals" in names else None
    except InputError:
        raise
    except Exception as error:  # safetensors raises its own error types for damaged files
        raise InputError(path, f"unreadable surface tracks ({error})") from None
    times = np.asarray(times, dtype=np.float64)
    positions = np.asarray(positions, dtype=np.float32)
    if not (np.isfinite(times).all() and np.isfinite(positions).all()):
        raise InputError(path, "times or positions are not all finite")
    if len(times) > 1 and not (np.diff(times) > 0).all():
        raise InputError(path, "times must be strictly ascending")
    if normals is not None and not np.isfinite(normals).all():
        raise InputError(path, "normals are not all finite")
    return SurfaceTracks(path=path, times=times, positions=positions, normals=normals)


def missing_train_times(tracks: SurfaceTracks, train_times: list[float]) -> list[float]:
    """The train times that ``tracks`` has no row for."""
    return [time for time in train_times if tracks.row_of(time) is None]


def check_covers(tracks: SurfaceTracks, train_times: list[float]) -> None:
    """InputError naming the file when a train time has no row (the trainer needs every one)."""
    missing = missing_train_times(tracks, train_times)
    if missing:
        listed = ", ".join(f"{time:g}" for time in missing[:5])
        more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
        raise InputError(
            tracks.path,
            f"no positions for train time {listed}{more} (train with --track-weight 0 to "
            "ignore the tracks)",
        )


def _check_shapes(path: Path, times_shape: list[int], positions_shape: list[int]) -> None:
    if len(times_shape) != 1 or len(positions_shape) != 3 or positions_shape[2] != 3:
        raise InputError(
            path,
            f"expected times (T,) and positions (T, P, 3), got {times_shape} and {positions_shape}",
        )
    count, points = positions_shape[0], positions_shape[1]
    if times_shape[0] != count:
        raise InputError(path, f"{times_shape[0]} times but positions for {count}")
    if not 1 <= count <= MAX_TRACK_TIMES:
        raise InputError(path, f"{count} times; expected 1 to {MAX_TRACK_TIMES:,}")
    if not 1 <= points <= MAX_TRACK_POINTS:
        raise InputError(path, f"{points} points; expected 1 to {MAX_TRACK_POINTS:,}")
    if math.prod(positions_shape) > MAX_TRACK_VALUES:
        raise InputError(
            path, f"{count} x {points} positions; refusing more than {MAX_TRACK_VALUES:,} values"
        )
