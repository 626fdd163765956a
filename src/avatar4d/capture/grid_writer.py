"""Render an animated asset into a camera x time grid dataset (docs/dataset_format.md)."""

from __future__ import annotations

import os
import time
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np

from avatar4d.asset.posed_mesh import PosedMesh
from avatar4d.capture.asset_copy import copy_asset
from avatar4d.capture.clip_motion import ClipLike, MotionMeter, refuse_still_clip
from avatar4d.capture.dataset_files import scene_document, transforms_documents, write_json
from avatar4d.capture.depth_maps import depth_unit_for, save_depth_png
from avatar4d.capture.grid_plan import (
    ClipTimes,
    GridPlan,
    PlannedFrame,
    novel_times,
    plan_clips,
    plan_poses,
    train_times,
)
from avatar4d.capture.rig import RigSettings, build_rig, camera_distance
from avatar4d.capture.staged_folder import check_output_folder, staged_output_folder
from avatar4d.capture.surface_tracks import TRACKS_FILE, TrackRecorder
from avatar4d.capture.time_choice import TimeChoice
from avatar4d.errors import InputError

PNG_COMPRESS_LEVEL = 1  # a little larger than level 6, several times faster to write
MAX_PENDING_WRITES = 8  # PNG encoding overlaps with rendering in worker threads
# Pillow encodes outside the GIL. Measured, Grid-24x60 at 512^2 with depth maps: on a 16-core
# H200 host 1 thread took 21 s, 2 took 12 s, 4 took 7 s (rendering waits on the writers); on a
# 2-core CPU 2 threads were slightly faster than 1.
PNG_WRITER_THREADS = max(2, min(4, (os.cpu_count() or 2) // 2))


class AssetLike(Protocol):
    """What the writer needs from ``avatar4d.asset.loader.Asset``."""

    path: Path
    sha256: str

    def find_clip(self, name: str) -> ClipLike: ...
    def pose(self, clip: str | None, seconds: float) -> PosedMesh: ...
    def clip_bounds(self, clip: str | None, samples: int = 120) -> tuple[np.ndarray, float]: ...


@dataclass(frozen=True)
class GridSummary:
    out_dir: Path
    images: int  # RGBA PNG files written (train + test)
    train_images: int  # each with a depth map
    test_images: int
    val_frames: int  # test frames listed again in transforms_val.json
    poses: int
    seconds: float  # wall-clock of the whole run, loading included
    render_seconds: float  # posing, rendering and writing the images
    center: tuple[float, float, float]
    radius: float
    camera_distance: float
    depth_unit: float  # world units per count of the 16-bit depth maps
    track_points: int  # surface points in tracks.safetensors (0: no tracks written)
    antialiasing: str  # msaa | supersampling | none
    gl_renderer: str
    train_times: int = 0  # of all train clips together
    novel_pose_images: int = 0

    @property
    def images_per_second(self) -> float:
        return self.images / self.render_seconds if self.render_seconds > 0 else 0.0


@dataclass(frozen=True)
class GridClips:
    """The clips of a grid: train clips, novel clips (the novel_pose subset), and for each
    train clip whose train times grid chose from its motion, that choice."""

    train: list[ClipTimes]
    novel: list[ClipTimes] = field(default_factory=list)
    chosen: dict[str, TimeChoice] = field(default_factory=dict)


def write_grid(
    asset_path: Path,
    clip: str,
    out_dir: Path,
    settings: RigSettings | None = None,
    force: bool = False,
    progress: bool = True,
    clips: GridClips | None = None,
) -> GridSummary:
    """Load ``asset_path`` and write the grid dataset of ``clip`` (or of ``clips``, when
    given) into ``out_dir``."""
    from avatar4d.asset.loader import load_asset

    started = time.perf_counter()
    settings = settings or RigSettings()
    settings.validate()
    asset = load_asset(asset_path)
    return write_grid_for_asset(asset, clip, out_dir, settings, force, progress, started, clips)


def write_grid_for_asset(
    asset: AssetLike,
    clip: str,
    out_dir: Path,
    settings: RigSettings | None = None,
    force: bool = False,
    progress: bool = True,
    started: float | None = None,
    clips: GridClips | None = None,
) -> GridSummary:
    started = time.perf_counter() if started is None else started
    settings = settings or RigSettings()
    settings.validate()
    clips = clips or GridClips([ClipTimes(clip, settings.train_times, settings.novel_times)])
    out_dir = Path(out_dir)
    source = Path(asset.path)
    check_clips(source, clips)
    found = {c.name: asset.find_clip(c.name) for c in clips.train + clips.novel}
    check_output_folder(out_dir, force, protected=source)
    plan_times = plan_poses(clips.train, clips.novel)
    center, radius = clips_bounds(asset, [found[c.name] for c in clips.train + clips.novel])
    meters = {c.name: MotionMeter() for c in clips.train}
    for pose in plan_times:
        seconds = pose.clip_time * found[pose.clip].duration
        positions = asset.pose(pose.clip, seconds).all_positions()
        if pose.clip in meters:
            meters[pose.clip].add(positions)
        if len(positions):
            radius = max(radius, float(np.linalg.norm(positions - center, axis=1).max()))
    for c in clips.train:
        refuse_still_clip(source, found[c.name], meters[c.name].largest, radius)
    with staged_output_folder(out_dir, force, protected=source) as staging:
        train_cameras, novel_cameras = build_rig(settings, center, radius)
        plan = plan_clips(train_cameras, novel_cameras, clips.train, clips.novel)
        distance = camera_distance(radius, settings.fov_y_deg, settings.sphere_fraction)
        depth_unit = depth_unit_for(train_cameras, center, radius)
        for split, document in transforms_documents(plan, depth_unit).items():
            write_json(staging / f"transforms_{split}.json", document)
        tracks = TrackRecorder(settings.track_points) if settings.track_points > 0 else None
        render_started = time.perf_counter()
        antialiasing, gl_renderer = _render_images(
            asset, found, plan, settings, staging, progress, depth_unit, tracks
        )
        render_seconds = time.perf_counter() - render_started
        if tracks is not None:
            tracks.write(staging / TRACKS_FILE)
        first = found[clips.train[0].name]
        scene = scene_document(
            source_file=source,
            source_sha256=asset.sha256,
            clip=first.name,
            clip_duration_s=first.duration,
            settings=settings,
            center=center,
            radius=radius,
            camera_distance=distance,
            track_points=settings.track_points,
            track_times=len(plan.train_times) if tracks is not None else 0,
            clips=clips.train,
            novel_clips=clips.novel,
            durations={name: c.duration for name, c in found.items()},
            asset_copy=copy_asset(source, staging),
            chosen_times={name: choice.to_json() for name, choice in clips.chosen.items()},
        )
        # scene.json last; staged_output_folder then lists every file in the manifest.
        write_json(staging / "scene.json", scene)
    return GridSummary(
        out_dir=out_dir,
        images=plan.image_count,
        train_images=len(plan.train),
        test_images=len(plan.test),
        val_frames=len(plan.val),
        poses=len(plan.frames_by_time_index()),
        seconds=time.perf_counter() - started,
        render_seconds=render_seconds,
        center=(float(center[0]), float(center[1]), float(center[2])),
        radius=radius,
        camera_distance=distance,
        depth_unit=depth_unit,
        track_points=settings.track_points,
        antialiasing=antialiasing,
        gl_renderer=gl_renderer,
        train_times=len(plan.train_times),
        novel_pose_images=sum(1 for frame in plan.test if frame.subset == "novel_pose"),
    )


def check_clips(source: Path, clips: GridClips) -> None:
    """InputError on a clip named twice, a novel clip that is also trained, or counts that
    cannot make a grid."""
    names = [c.name for c in clips.train + clips.novel]
    if not clips.train:
        raise InputError(source, "a grid needs at least one train clip")
    for c in clips.novel:
        if c.name in {t.name for t in clips.train}:
            raise InputError(
                source,
                f'clip "{c.name}" is both a train clip and a novel clip: a novel '
                "clip must be one the model never sees",
            )
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise InputError(source, f'clip "{repeated[0]}" is named twice')
    for c in clips.train:
        if not 1 <= c.novel_times <= c.train_times:
            raise InputError(
                source,
                f'clip "{c.name}": {c.novel_times} novel times cannot all lie half-way between '
                f"{c.train_times} train times; use 1 to {c.train_times}",
            )
    for c in clips.novel:
        if c.novel_times < 1:
            raise InputError(source, f'novel clip "{c.name}" needs at least 1 time')


def clips_bounds(asset: AssetLike, clips: list[ClipLike]) -> tuple[np.ndarray, float]:
    """A sphere around every clip's bounding sphere, centred on the first clip's."""
    center, radius = asset.clip_bounds(clips[0].name)
    center = np.asarray(center, dtype=np.float64).reshape(3)
    radius = float(radius)
    for clip in clips[1:]:
        other_center, other_radius = asset.clip_bounds(clip.name)
        reach = float(np.linalg.norm(np.asarray(other_center, np.float64).reshape(3) - center))
        radius = max(radius, reach + float(other_radius))
    return center, radius


def dataset_bounds(
    asset: AssetLike,
    clip: ClipLike,
    settings: RigSettings,
    motion: MotionMeter | None = None,
) -> tuple[np.ndarray, float]:
    """The clip's bounding sphere, grown (same centre) to hold the pose at every dataset time;
    each pose is also added to ``motion`` when one is given."""
    center, radius = asset.clip_bounds(clip.name)
    center = np.asarray(center, dtype=np.float64).reshape(3)
    radius = float(radius)
    for t in train_times(settings.train_times) + novel_times(
        settings.train_times, settings.novel_times
    ):
        positions = asset.pose(clip.name, t * clip.duration).all_positions()
        if motion is not None:
            motion.add(positions)
        if len(positions):
            radius = max(radius, float(np.linalg.norm(positions - center, axis=1).max()))
    return center, radius


def _render_images(
    asset: AssetLike,
    clips: dict[str, ClipLike],
    plan: GridPlan,
    settings: RigSettings,
    staging: Path,
    show_progress: bool,
    depth_unit: float,
    tracks: TrackRecorder | None = None,
) -> tuple[str, str]:
    """Render every frame; train frames also get their depth map, and train times are given
    to ``tracks``. Returns the GL's names."""
    from avatar4d.capture.gl_renderer import GroundTruthRenderer
    from avatar4d.capture.progress import image_progress

    for folder in _output_folders(plan):
        (staging / folder).mkdir(parents=True, exist_ok=True)
    pending: deque[Future[None]] = deque()
    renderer = GroundTruthRenderer(settings.width, settings.height, settings.samples)
    try:
        with (
            ThreadPoolExecutor(max_workers=PNG_WRITER_THREADS) as png_writer,
            image_progress(plan.image_count, show_progress) as advance,
        ):
            for time_index, frames in plan.frames_by_time_index().items():
                pose = plan.poses[time_index]
                mesh = asset.pose(pose.clip, pose.clip_time * clips[pose.clip].duration)
                if tracks is not None and pose.role == "train":
                    try:
                        tracks.record(pose.time, mesh)
                    except ValueError as error:  # no surface, or the topology changed
                        raise InputError(
                            asset.path, f"surface tracks: {error} (--track-points 0 writes none)"
                        ) from None
                for frame in frames:
                    if frame.depth_file_path is None:
                        rgba, depth = renderer.render(mesh, frame.camera), None
                    else:
                        rgba, depth = renderer.render_with_depth(mesh, frame.camera)
                    job = png_writer.submit(_save_frame, frame, rgba, depth, depth_unit, staging)
                    pending.append(job)
                    while len(pending) > MAX_PENDING_WRITES:
                        pending.popleft().result()
                        advance()
            while pending:
                pending.popleft().result()
                advance()
        return renderer.antialiasing, renderer.gl_renderer_name
    finally:
        renderer.release()


def _output_folders(plan: GridPlan) -> set[Path]:
    frames = plan.train + plan.test
    images = {Path(frame.file_path).parent for frame in frames}
    depths = {Path(f.depth_file_path).parent for f in frames if f.depth_file_path is not None}
    return images | depths


def _save_frame(
    frame: PlannedFrame,
    rgba: np.ndarray,
    depth: np.ndarray | None,
    depth_unit: float,
    staging: Path,
) -> None:
    """Write a frame's image and, when it has one, its depth map (inside the staging folder)."""
    _save_png(rgba, staging / f"{frame.file_path}.png")
    if depth is not None and frame.depth_file_path is not None:
        save_depth_png(depth, depth_unit, staging / frame.depth_file_path, PNG_COMPRESS_LEVEL)


def _save_png(rgba: np.ndarray, path: Path) -> None:
    from PIL import Image

    Image.fromarray(rgba).save(path, format="PNG", compress_level=PNG_COMPRESS_LEVEL)
