"""Clips and pose coverage of a dataset: per clip its train times, novel times and cameras,
and how far its surface moves between consecutive train times (from tracks.safetensors).

A frame's clip is its ``clip`` (grids of several clips) or, for a single-clip avatar4d grid,
scene.json's clip (data/dnerf.py); frames of a plain D-NeRF set name none and form one
unnamed clip here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from avatar4d.capture.time_choice import STEP_PERCENTILE, STEP_PIXELS
from avatar4d.data.coverage.report import Finding
from avatar4d.data.dataset import Dataset, Frame
from avatar4d.data.tracks import SurfaceTracks

NOVEL_TIME_SUBSETS = ("novel_time", "novel_both")


@dataclass
class ClipCoverage:
    name: str
    train_times: int
    train_cameras: int
    novel_times: int  # of the novel_time / novel_both frames
    novel_pose_times: int  # of the novel_pose frames (a clip never trained)
    novel_pose_cameras: int


@dataclass
class ClipMotion:
    """Surface motion between consecutive train times of one clip, in pixels."""

    name: str
    steps: int  # consecutive train-time pairs measured
    over: int  # pairs where a surface point moves more than STEP_PIXELS
    largest_px: float
    between: tuple[float, float]  # the clip times of the largest step
    limit_px: float = STEP_PIXELS


def _clip_time(frame: Frame) -> float | None:
    return frame.clip_time if frame.clip_time is not None else frame.time


def clip_coverage(dataset: Dataset) -> list[ClipCoverage]:
    """Per named clip (train clips first, in the order met); empty when no frame names one."""
    frames = dataset.all_frames()
    if all(frame.clip is None for frame in frames):
        return []
    test = dataset.splits.get("test", [])
    names = list(dict.fromkeys(f.clip for f in dataset.train + test if f.clip is not None))

    def distinct(values) -> int:
        return len({round(v, 6) for v in values if v is not None})

    result = []
    for name in names:
        train = [f for f in dataset.train if f.clip == name]
        novel = [f for f in test if f.clip == name and f.subset in NOVEL_TIME_SUBSETS]
        posed = [f for f in test if f.clip == name and f.subset == "novel_pose"]
        result.append(
            ClipCoverage(
                name=name,
                train_times=distinct(_clip_time(f) for f in train),
                train_cameras=len({f.camera_index for f in train}),
                novel_times=distinct(_clip_time(f) for f in novel),
                novel_pose_times=distinct(_clip_time(f) for f in posed),
                novel_pose_cameras=len({f.camera_index for f in posed}),
            )
        )
    return result


def pixels_per_unit(dataset: Dataset, centre: np.ndarray) -> float:
    """Pixels per world unit at ``centre`` seen from the closest train camera."""
    return max(
        max(frame.fl_x, frame.fl_y) / max(float(np.linalg.norm(frame.position - centre)), 1e-12)
        for frame in dataset.train
    )


def clip_motion(dataset: Dataset, tracks: SurfaceTracks, centre: np.ndarray) -> list[ClipMotion]:
    """Per clip with at least two train times that the tracks hold, the surface motion
    between consecutive ones (STEP_PERCENTILE of the points, as grid measures it)."""
    scale = pixels_per_unit(dataset, centre)
    by_clip: dict[str | None, dict[float, float]] = {}
    for frame in dataset.train:
        clip_time = _clip_time(frame)
        if frame.time is not None and clip_time is not None:
            by_clip.setdefault(frame.clip, {})[round(clip_time, 9)] = frame.time
    result = []
    for name, times in by_clip.items():
        ordered = [times[t] for t in sorted(times)]
        rows = [tracks.row_of(time) for time in ordered]
        pairs = [
            (i, rows[i], rows[i + 1])
            for i in range(len(rows) - 1)
            if rows[i] is not None and rows[i + 1] is not None
        ]
        if not pairs:
            continue
        steps = [
            float(
                np.percentile(
                    np.linalg.norm(tracks.positions[b] - tracks.positions[a], axis=1),
                    STEP_PERCENTILE,
                )
            )
            * scale
            for _, a, b in pairs
        ]
        largest = int(np.argmax(steps))
        clip_times = sorted(times)
        at = pairs[largest][0]
        result.append(
            ClipMotion(
                name=name or "(unnamed)",
                steps=len(steps),
                over=sum(step > STEP_PIXELS for step in steps),
                largest_px=steps[largest],
                between=(clip_times[at], clip_times[at + 1]),
            )
        )
    return result


def clip_lines(clips: list[ClipCoverage], motion: list[ClipMotion]) -> list[tuple[str, str]]:
    lines = []
    for clip in clips:
        if clip.train_times:
            text = (
                f"{clip.name}: {clip.train_times} train times x {clip.train_cameras} cameras, "
                f"{clip.novel_times} novel times"
            )
        else:
            text = (
                f"{clip.name} (novel pose, never trained): {clip.novel_pose_times} times x "
                f"{clip.novel_pose_cameras} novel cameras"
            )
        lines.append(("clip", text))
    for item in motion:
        lines.append(
            (
                "motion",
                f"{item.name}: a surface point moves up to {item.largest_px:.2f} px between "
                f"consecutive train times ({item.over} of {item.steps} steps over "
                f"{item.limit_px:g} px)",
            )
        )
    return lines


def motion_findings(motion: list[ClipMotion]) -> list[Finding]:
    findings = []
    for item in motion:
        if item.over:
            start, end = item.between
            findings.append(
                Finding(
                    "warning",
                    f"Clip {item.name}: a surface point moves up to {item.largest_px:.1f} px "
                    f"between consecutive train times (clip times {start:.4g} and {end:.4g}); "
                    f"{item.over} of {item.steps} steps exceed {item.limit_px:g} px, so poses "
                    "between them are guesses. Grid it again with more --train-times, or "
                    "without --train-times to let grid choose them from the motion.",
                )
            )
        else:
            findings.append(
                Finding(
                    "info",
                    f"Clip {item.name}: no surface point moves more than {item.limit_px:g} px "
                    f"between consecutive train times (largest {item.largest_px:.2f} px).",
                )
            )
    return findings
