"""The JSON files of a grid dataset, exactly as docs/dataset_format.md lays them out."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from avatar4d import __version__
from avatar4d.capture.asset_copy import AssetCopy
from avatar4d.capture.grid_plan import ClipTimes, GridPlan, PlannedFrame
from avatar4d.capture.rig import RigSettings
from avatar4d.capture.surface_tracks import TRACKS_FILE

FORMAT_NAME = "avatar4d-grid"
FORMAT_VERSION = 1


def frame_entry(frame: PlannedFrame) -> dict:
    camera = frame.camera
    entry: dict = {
        "file_path": frame.file_path,
        "transform_matrix": (np.asarray(camera.c2w, dtype=np.float64) + 0.0).tolist(),  # no -0.0
        "time": float(frame.time),
        "camera_index": int(camera.index),
        "time_index": int(frame.time_index),
    }
    if frame.clip is not None and frame.clip_time is not None:  # grids of several clips
        entry["clip"] = frame.clip
        entry["clip_time"] = float(frame.clip_time)
    if frame.subset is not None:
        entry["subset"] = frame.subset
    if frame.depth_file_path is not None:
        entry["depth_file_path"] = frame.depth_file_path
    entry.update(
        w=int(camera.width),
        h=int(camera.height),
        fl_x=float(camera.fl_x),
        fl_y=float(camera.fl_y),
        cx=float(camera.cx),
        cy=float(camera.cy),
    )
    return entry


def transforms_document(
    frames: list[PlannedFrame], camera_angle_x: float, depth_unit: float | None = None
) -> dict:
    document: dict = {"camera_angle_x": float(camera_angle_x)}
    if depth_unit is not None:
        document["depth_unit"] = float(depth_unit)  # world units per depth map count
    document["frames"] = [frame_entry(f) for f in frames]
    return document


def transforms_documents(plan: GridPlan, depth_unit: float) -> dict[str, dict]:
    """``transforms_<split>.json`` contents by split name; train frames carry depth maps."""
    camera_angle_x = plan.train[0].camera.camera_angle_x
    return {
        "train": transforms_document(plan.train, camera_angle_x, depth_unit),
        "val": transforms_document(plan.val, camera_angle_x),
        "test": transforms_document(plan.test, camera_angle_x),
    }


def scene_document(
    *,
    source_file: Path,
    source_sha256: str,
    clip: str,
    clip_duration_s: float,
    settings: RigSettings,
    center: np.ndarray,
    radius: float,
    camera_distance: float,
    track_points: int = 0,
    track_times: int = 0,
    clips: list[ClipTimes] | None = None,
    novel_clips: list[ClipTimes] | None = None,
    durations: dict[str, float] | None = None,
    asset_copy: AssetCopy | None = None,
    chosen_times: dict[str, dict] | None = None,
) -> dict:
    """scene.json; ``clips`` (train) and ``novel_clips`` list every clip with its times (a
    single-clip grid: the one clip), ``asset_copy`` the dataset's own copy of the asset and
    ``chosen_times`` how grid chose each clip's train times from its motion."""
    document = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "software": {"name": "avatar4d", "version": __version__},
        "source": {
            "file": Path(source_file).name,
            "sha256": source_sha256,
            "clip": clip,
            "clip_duration_s": float(clip_duration_s),
        },
        "grid": {
            "train_azimuths_deg": [float(a) for a in settings.train_azimuths_deg],
            "train_elevations_deg": [float(e) for e in settings.train_elevations_deg],
            "novel_azimuths_deg": [float(a) for a in settings.novel_azimuths_deg],
            # One per novel camera (the configured list cycled), so that cameras pair up.
            "novel_elevations_deg": settings.novel_elevations_per_camera(),
            "fov_y_deg": float(settings.fov_y_deg),
            "sphere_fraction": float(settings.sphere_fraction),
            "train_times": sum(c.train_times for c in clips or []) or int(settings.train_times),
            "novel_times": sum(c.novel_times for c in clips or []) or int(settings.novel_times),
            "width": int(settings.width),
            "height": int(settings.height),
            "samples": int(settings.samples),
        },
        "bounds": {"center": [float(x) for x in center], "radius": float(radius)},
        "camera_distance": float(camera_distance),
        "image": {"background": "transparent", "alpha": "straight", "composite_on": "white"},
    }
    durations = durations or {}
    clip_entries = [
        _clip_entry(clip, role, durations.get(clip.name, clip_duration_s), chosen_times)
        for role, listed in (("train", clips or []), ("novel_pose", novel_clips or []))
        for clip in listed
    ]
    if clip_entries:
        document["clips"] = clip_entries
    if asset_copy is not None:
        document["asset"] = {
            "file": asset_copy.file,
            "sha256": asset_copy.sha256,
            **({"resources": asset_copy.resources} if asset_copy.resources else {}),
        }
    if track_points > 0:
        document["tracks"] = {"file": TRACKS_FILE, "points": track_points, "times": track_times}
    return document


def _clip_entry(
    clip: ClipTimes, role: str, duration: float, chosen: dict[str, dict] | None
) -> dict:
    entry: dict = {"name": clip.name, "role": role, "duration_s": float(duration)}
    if role == "train":
        entry["train_times"] = int(clip.train_times)
    entry["novel_times"] = int(clip.novel_times)
    if chosen and clip.name in chosen and role == "train":
        entry["train_times_from_motion"] = chosen[clip.name]
    return entry


def write_json(path: Path, document: dict) -> None:
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
