"""In-memory form of a D-NeRF-style dataset: frames grouped by split."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

SPLIT_NAMES = ("train", "val", "test")


def scene_asset_file(root: Path, scene: dict | None) -> Path | None:
    """The asset copy scene.json names (``"asset": {"file": ...}``) when it is a file inside
    ``root``; None otherwise."""
    entry = (scene or {}).get("asset")
    if not isinstance(entry, dict) or not isinstance(entry.get("file"), str):
        return None
    path = (root / entry["file"]).resolve()
    return path if path.is_relative_to(root.resolve()) and path.is_file() else None


@dataclass(frozen=True)
class Frame:
    """One image with its camera and time, as read from a ``transforms_<split>.json``."""

    image_path: Path  # resolved, inside the dataset folder
    c2w: np.ndarray  # (4, 4) float64 camera-to-world, OpenGL convention
    time: float | None  # normalised time; None when the file has no "time" key
    width: int
    height: int
    fl_x: float  # focal length in pixels
    fl_y: float
    cx: float  # principal point in pixels from the top-left corner
    cy: float
    camera_index: int | None  # from the file, or derived from identical poses (see Dataset)
    time_index: int | None
    subset: str | None  # test and val frames of avatar4d grids: novel_view | novel_time | ...
    source: str = ""  # "transforms_train.json frame 3": where the frame came from, for messages
    depth_path: Path | None = None  # its depth map (16-bit PNG), resolved inside the dataset
    depth_unit: float | None = None  # world units per depth map count, as the file gives it
    # The clip shown and the normalised time within it: a frame's "clip" and "clip_time" (grids
    # of several clips), or for a single-clip avatar4d grid its scene.json clip and "time".
    clip: str | None = None
    clip_time: float | None = None

    @property
    def position(self) -> np.ndarray:
        return self.c2w[:3, 3]


@dataclass(frozen=True)
class Bounds:
    """Bounding sphere of the subject, from ``scene.json``."""

    center: np.ndarray  # (3,) float64
    radius: float


@dataclass(frozen=True)
class Dataset:
    root: Path
    splits: dict[str, list[Frame]]  # only the splits present, in train/val/test order
    scene: dict | None = None  # scene.json when present
    bounds: Bounds | None = None  # scene.json "bounds" when present
    camera_index_derived: bool = False  # True when camera_index came from clustering poses
    transforms_files: dict[str, Path] = field(default_factory=dict)

    @property
    def train(self) -> list[Frame]:
        return self.splits["train"]

    @property
    def asset_file(self) -> Path | None:
        """The dataset's own copy of its asset (scene.json "asset"), when it has one."""
        return scene_asset_file(self.root, self.scene)

    def all_frames(self) -> list[Frame]:
        return [frame for frames in self.splits.values() for frame in frames]
