"""Which camera sees which time: the train, test and val frames of a camera x time grid.

Times are normalised clip times in [0, 1). Train times are ``i / T``; novel times sit half-way
between two consecutive train times, spread evenly over the clip (``(5k + 2.5) / 60`` for
T = 60, K = 12). Time indices are 0..T-1 for train times and T..T+K-1 for novel times.

Test subsets (generalising Grid-24x60's "every 5th train time" and "every 3rd train camera"):
  novel_view: novel cameras x K train times spread evenly (``floor(k T / K)``);
  novel_time: M train cameras spread evenly (``floor(m N / M)``) x novel times;
  novel_both: novel cameras x novel times.
val holds two frames of each subset, picked at a third and two thirds through it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from avatar4d.capture.camera import Camera
from avatar4d.dataset_format import TEST_SUBSETS


@dataclass(frozen=True)
class PlannedFrame:
    """One image of the dataset: a camera at a time, and where it is stored."""

    split: str  # "train" or "test" (val frames are test frames listed again)
    subset: str | None  # test frames only: novel_view | novel_time | novel_both
    camera: Camera
    time_index: int
    time: float

    @property
    def file_path(self) -> str:
        """Path relative to the dataset folder, without extension (the D-NeRF convention)."""
        name = f"c{self.camera.index:02d}_t{self.time_index:03d}"
        if self.subset is None:
            return f"./{self.split}/{name}"
        return f"./{self.split}/{self.subset}_{name}"

    @property
    def depth_file_path(self) -> str | None:
        """Train frames: their depth map, relative to the dataset folder, WITH extension."""
        if self.split != "train":
            return None
        return f"./depth/{self.file_path.removeprefix('./')}.png"


@dataclass(frozen=True)
class GridPlan:
    train_times: list[float]
    novel_times: list[float]
    train: list[PlannedFrame]
    test: list[PlannedFrame]
    val: list[PlannedFrame]

    @property
    def image_count(self) -> int:
        """Images to render (val frames reuse test images)."""
        return len(self.train) + len(self.test)

    def time_of(self, time_index: int) -> float:
        times = self.train_times + self.novel_times
        return times[time_index]

    def frames_by_time_index(self) -> dict[int, list[PlannedFrame]]:
        """Every image to render, grouped by time so that each pose is computed once."""
        groups: dict[int, list[PlannedFrame]] = defaultdict(list)
        for frame in self.train + self.test:
            groups[frame.time_index].append(frame)
        return dict(sorted(groups.items()))


def train_times(count: int) -> list[float]:
    return [i / count for i in range(count)]


def novel_times(train_count: int, novel_count: int) -> list[float]:
    """Half-way between train times ``j`` and ``j + 1``, with ``j`` spread evenly over the clip."""
    lower_train_indices = [
        ((2 * k + 1) * train_count) // (2 * novel_count) for k in range(novel_count)
    ]
    return [(j + 0.5) / train_count for j in lower_train_indices]


def evenly_spaced_indices(count: int, wanted: int) -> list[int]:
    """``wanted`` indices into ``range(count)`` spread evenly from 0 (fewer if wanted > count)."""
    return sorted({(k * count) // wanted for k in range(wanted)})


def plan_grid(
    train_cameras: list[Camera], novel_cameras: list[Camera], train_count: int, novel_count: int
) -> GridPlan:
    train_t = train_times(train_count)
    novel_t = novel_times(train_count, novel_count)
    novel_indices = range(train_count, train_count + novel_count)

    all_times = train_t + novel_t

    def frames(
        split: str, subset: str | None, cameras: list[Camera], time_indices: Iterable[int]
    ) -> list[PlannedFrame]:
        return [
            PlannedFrame(split, subset, camera, t, all_times[t])
            for camera in cameras
            for t in time_indices
        ]

    train = frames("train", None, train_cameras, range(train_count))
    view_times = evenly_spaced_indices(train_count, novel_count)
    time_cameras = [
        train_cameras[i] for i in evenly_spaced_indices(len(train_cameras), len(novel_cameras))
    ]
    subsets = {
        "novel_view": frames("test", "novel_view", novel_cameras, view_times),
        "novel_time": frames("test", "novel_time", time_cameras, novel_indices),
        "novel_both": frames("test", "novel_both", novel_cameras, novel_indices),
    }
    test = [frame for name in TEST_SUBSETS for frame in subsets[name]]
    val = [frame for name in TEST_SUBSETS for frame in _two_of(subsets[name])]
    return GridPlan(train_t, novel_t, train, test, val)


def _two_of(frames: list[PlannedFrame]) -> list[PlannedFrame]:
    picks = sorted({len(frames) // 3, (2 * len(frames)) // 3})
    return [frames[i] for i in picks if i < len(frames)]
