"""The result of a coverage check: numbers per concern, and findings in plain sentences."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Literal

import numpy as np

from avatar4d.data.image_sanity import ImageSanity

# Times closer than this are one time (files round-trip floats through text).
TIME_TOLERANCE = 1e-6
NOVEL_VIEW_SUBSETS = ("novel_view", "novel_both")
NOVEL_TIME_SUBSETS = ("novel_time", "novel_both")


@dataclass(frozen=True)
class Finding:
    severity: Literal["warning", "info"]
    message: str  # a plain sentence the user can act on


@dataclass
class TrainCoverage:
    camera_ids: list[int]
    times: list[float | None]  # distinct train times, sorted; None: frames without "time"
    matrix: np.ndarray | None  # (cameras, times) images per cell; None when too large
    frames_per_camera: np.ndarray
    frames_per_time: np.ndarray
    cameras_per_time: np.ndarray
    filled_cells: int
    crowded_cells: int  # cells holding more than one image
    frame_count: int


@dataclass
class CameraPlacement:
    camera_id: int
    role: Literal["train", "test"]  # a test camera that is also a train camera is "train"
    subsets: list[str]  # test subsets the camera appears in
    azimuth_deg: float
    elevation_deg: float
    distance: float


@dataclass
class CameraSpread:
    centre: list[float]
    centre_source: str
    up_axis: str  # "+y", "+z", ... or "estimated" when no world axis is close
    largest_azimuth_gap_deg: float
    elevation_min_deg: float
    elevation_max_deg: float
    cameras: list[CameraPlacement]
    bounds_radius: float | None


@dataclass
class NovelCamera:
    camera_id: int
    nearest_train_camera: int
    angle_deg: float


@dataclass
class HeldOutSanity:
    frame_count: int
    subset_counts: dict[str, int]  # "untagged" for frames without a subset
    novel_cameras: list[NovelCamera]  # cameras of novel_view / novel_both frames
    novel_times: list[float]  # times of novel_time / novel_both frames
    novel_times_equal_to_train: list[float]
    closest_novel_time_gap: float | None
    untagged_cameras: list[NovelCamera]  # test cameras of frames without a subset tag
    untagged_times_equal_to_train: int
    test_duplicates_of_train: list[str]  # test images also in train (same file or camera+time)
    val_duplicates_of_train: list[str]


@dataclass
class CoverageReport:
    root: str
    split_counts: dict[str, int]
    camera_index_derived: bool
    train: TrainCoverage
    spread: CameraSpread
    test: HeldOutSanity | None
    images: ImageSanity | None
    # camera_index values whose frames do not share one pose (the index names no fixed camera)
    cameras_with_mixed_poses: list[int] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    clips: list = field(default_factory=list)  # ClipCoverage (coverage/clips.py), per clip
    motion: list = field(default_factory=list)  # ClipMotion, per clip (datasets with tracks)

    @property
    def warnings(self) -> list[Finding]:
        return [finding for finding in self.findings if finding.severity == "warning"]

    def to_dict(self) -> dict:
        """Plain JSON-ready form (numpy arrays become lists)."""
        return _plain(asdict(self))


def _plain(value):
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value
