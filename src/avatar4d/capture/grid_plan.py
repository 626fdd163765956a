"""Which camera sees which time: the train, test and val frames of a camera x time grid.

Times are normalised clip times in [0, 1). Train times are ``i / T``; novel times sit half-way
between two consecutive train times, spread evenly over the clip (``(5k + 2.5) / 60`` for
T = 60, K = 12). Time indices are 0..T-1 for train times and T..T+K-1 for novel times.

Test subsets (generalising Grid-24x60's "every 5th train time" and "every 3rd train camera"):
  novel_view: novel cameras x K train times spread evenly (``floor(k T / K)``);
  novel_time: M train cameras spread evenly (``floor(m N / M)``) x novel times;
  novel_both: novel cameras x novel times.
  novel_pose (grids with --novel-clip): novel cameras x each novel clip at its K times
  ``(k + 0.5) / K``; no train frame shows that clip.
val holds two frames of each subset, picked at a third and two thirds through it.

Several train clips (docs/dataset_format.md, "Several clips"): each clip k has its own T_k
train and K_k novel times, planned as above within the clip (its ``clip_time``). The clips are
laid end to end on one timeline of sum(T) train times: a frame's ``time`` is
``(S_k + T_k * clip_time) / sum(T)`` with S_k the train times of the clips before it, so train
times stay ``i / sum(T)`` and every time names one pose. A novel-pose frame's ``time`` is its
``clip_time`` (its clip is on no train timeline). One train clip and no novel clip: ``time`` is
the clip time, exactly as before. Time indices: train poses in timeline order, then novel poses
clip by clip, then novel-clip poses.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from avatar4d.capture.camera import Camera
from avatar4d.dataset_format import TEST_SUBSETS


@dataclass(frozen=True)
class ClipTimes:
    """A clip of the grid and how many train and novel times it gets (train 0: a novel clip)."""

    name: str
    train_times: int
    novel_times: int


@dataclass(frozen=True)
class PlannedPose:
    """The pose shown at one time index: a clip at a normalised time within it."""

    clip: str
    clip_time: float  # in [0, 1) within the clip
    time: float  # the frames' "time" (see the module docstring)
    role: str  # "train" | "novel" (a train clip's novel time) | "novel_pose"


@dataclass(frozen=True)
class PlannedFrame:
    """One image of the dataset: a camera at a time, and where it is stored."""

    split: str  # "train" or "test" (val frames are test frames listed again)
    subset: str | None  # test frames only: novel_view | novel_time | novel_both | novel_pose
    camera: Camera
    time_index: int
    time: float
    clip: str | None = None  # grids of several clips only (None: a single-clip grid)
    clip_time: float | None = None

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
    poses: list[PlannedPose]  # by time index
    train: list[PlannedFrame]
    test: list[PlannedFrame]
    val: list[PlannedFrame]

    @property
    def train_times(self) -> list[float]:
        return [pose.time for pose in self.poses if pose.role == "train"]

    @property
    def novel_times(self) -> list[float]:
        return [pose.time for pose in self.poses if pose.role == "novel"]

    @property
    def image_count(self) -> int:
        """Images to render (val frames reuse test images)."""
        return len(self.train) + len(self.test)

    def time_of(self, time_index: int) -> float:
        return self.poses[time_index].time

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


def novel_clip_times(count: int) -> list[float]:
    """A novel clip's times: ``count`` spread evenly, each in the middle of its share."""
    return [(k + 0.5) / count for k in range(count)]


def evenly_spaced_indices(count: int, wanted: int) -> list[int]:
    """``wanted`` indices into ``range(count)`` spread evenly from 0 (fewer if wanted > count)."""
    return sorted({(k * count) // wanted for k in range(wanted)})


def plan_grid(
    train_cameras: list[Camera], novel_cameras: list[Camera], train_count: int, novel_count: int
) -> GridPlan:
    """The plan of a single-clip grid (its frames carry no clip name)."""
    return plan_clips(train_cameras, novel_cameras, [ClipTimes("", train_count, novel_count)])


def plan_poses(clips: list[ClipTimes], novel_clips: Sequence[ClipTimes] = ()) -> list[PlannedPose]:
    """Every pose of the grid by time index (module docstring)."""
    total = sum(clip.train_times for clip in clips)
    single = len(clips) == 1
    train, novel = [], []
    start = 0
    for clip in clips:
        count = clip.train_times
        for i, clip_time in enumerate(train_times(count)):
            time = clip_time if single else (start + i) / total
            train.append(PlannedPose(clip.name, clip_time, time, "train"))
        for clip_time in novel_times(count, clip.novel_times):
            time = clip_time if single else (start + clip_time * count) / total
            novel.append(PlannedPose(clip.name, clip_time, time, "novel"))
        start += count
    posed = [
        PlannedPose(clip.name, clip_time, clip_time, "novel_pose")
        for clip in novel_clips
        for clip_time in novel_clip_times(clip.novel_times)
    ]
    return train + novel + posed


def plan_clips(
    train_cameras: list[Camera],
    novel_cameras: list[Camera],
    clips: list[ClipTimes],
    novel_clips: Sequence[ClipTimes] = (),
) -> GridPlan:
    """Frames of a grid of ``clips`` (train) and ``novel_clips`` (the novel_pose subset); frames
    name their clip when the grid has more than one."""
    poses = plan_poses(clips, novel_clips)
    labelled = len(clips) + len(novel_clips) > 1

    def frames(
        split: str, subset: str | None, cameras: list[Camera], time_indices: Iterable[int]
    ) -> list[PlannedFrame]:
        return [
            PlannedFrame(
                split,
                subset,
                camera,
                t,
                poses[t].time,
                poses[t].clip if labelled else None,
                poses[t].clip_time if labelled else None,
            )
            for camera in cameras
            for t in time_indices
        ]

    train_indices = [t for t, pose in enumerate(poses) if pose.role == "train"]
    novel_indices = [t for t, pose in enumerate(poses) if pose.role == "novel"]
    pose_indices = [t for t, pose in enumerate(poses) if pose.role == "novel_pose"]
    view_times, start = [], 0
    for clip in clips:
        view_times += [start + i for i in evenly_spaced_indices(clip.train_times, clip.novel_times)]
        start += clip.train_times
    time_cameras = [
        train_cameras[i] for i in evenly_spaced_indices(len(train_cameras), len(novel_cameras))
    ]
    subsets = {
        "novel_view": frames("test", "novel_view", novel_cameras, view_times),
        "novel_time": frames("test", "novel_time", time_cameras, novel_indices),
        "novel_both": frames("test", "novel_both", novel_cameras, novel_indices),
    }
    if pose_indices:
        subsets["novel_pose"] = frames("test", "novel_pose", novel_cameras, pose_indices)
    train = frames("train", None, train_cameras, train_indices)
    test = [frame for name in TEST_SUBSETS if name in subsets for frame in subsets[name]]
    val = [frame for name in TEST_SUBSETS if name in subsets for frame in _two_of(subsets[name])]
    return GridPlan(poses, train, test, val)


def _two_of(frames: list[PlannedFrame]) -> list[PlannedFrame]:
    picks = sorted({len(frames) // 3, (2 * len(frames)) // 3})
    return [frames[i] for i in picks if i < len(frames)]
