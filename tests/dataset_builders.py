"""Tiny synthetic D-NeRF-style datasets written by tests (images of a few pixels)."""

from __future__ import annotations

import io
import json
import math
from functools import cache
from pathlib import Path

import numpy as np
from PIL import Image

CENTRE = np.array([0.0, 1.0, 0.0])
DISTANCE = 4.0
FOV_X = 0.6981317


@cache
def png_bytes(width: int, height: int, mode: str = "RGBA", empty_alpha: bool = False) -> bytes:
    """A small image: an opaque square in the middle of a transparent (or black) background."""
    pixels = np.zeros((height, width, len(mode)), dtype=np.uint8)
    pixels[..., 0] = 200
    if mode == "RGBA" and not empty_alpha:
        pixels[height // 4 : height - height // 4, width // 4 : width - width // 4, 3] = 255
    buffer = io.BytesIO()
    Image.fromarray(pixels, mode).save(buffer, format="PNG")
    return buffer.getvalue()


def write_image(path: Path, width: int = 8, height: int = 8, **kwargs) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(png_bytes(width, height, **kwargs))


def look_at(position, target=CENTRE, up=(0.0, 1.0, 0.0)) -> list[list[float]]:
    """Camera-to-world, OpenGL convention (the camera looks down its -Z)."""
    position, target, up = (np.asarray(v, dtype=np.float64) for v in (position, target, up))
    back = position - target
    back /= np.linalg.norm(back)
    right = np.cross(up, back)
    right /= np.linalg.norm(right)
    c2w = np.eye(4)
    c2w[:3, 0], c2w[:3, 1], c2w[:3, 2], c2w[:3, 3] = right, np.cross(back, right), back, position
    return c2w.tolist()


def orbit(azimuth_deg: float, elevation_deg: float, distance: float = DISTANCE) -> np.ndarray:
    """Position on a sphere around CENTRE; +Y up, azimuth 0 on +Z, 90 on +X."""
    az, el = math.radians(azimuth_deg), math.radians(elevation_deg)
    offset = distance * np.array(
        [math.cos(el) * math.sin(az), math.sin(el), math.cos(el) * math.cos(az)]
    )
    return CENTRE + offset


def frame(
    file_path: str,
    azimuth: float,
    elevation: float,
    time: float | None = None,
    **extra,
) -> dict:
    entry = {"file_path": file_path, "transform_matrix": look_at(orbit(azimuth, elevation))}
    if time is not None:
        entry["time"] = time
    entry.update(extra)
    return entry


def write_dataset(
    root: Path,
    splits: dict[str, list[dict]],
    top_level: dict | None = None,
    scene: dict | None = None,
    size: tuple[int, int] = (8, 8),
    write_images: bool = True,
) -> Path:
    """Write transforms_<split>.json for each split and one image per distinct file_path.

    A file_path without an extension gets a ``.png`` file, as D-NeRF loaders expect.
    """
    root.mkdir(parents=True, exist_ok=True)
    for split, frames in splits.items():
        document = {"camera_angle_x": FOV_X} if top_level is None else dict(top_level)
        document["frames"] = frames
        (root / f"transforms_{split}.json").write_text(json.dumps(document))
        if not write_images:
            continue
        for entry in frames:
            path = root / entry["file_path"]
            if not path.suffix:
                path = path.with_name(path.name + ".png")
            if not path.exists():
                write_image(path, *size)
    if scene is not None:
        (root / "scene.json").write_text(json.dumps(scene))
    return root


def grid_splits(
    azimuths: int = 8,
    elevations: tuple[float, ...] = (-10.0, 15.0, 40.0),
    times: int = 60,
    novel_cameras: int = 8,
    novel_times: int = 12,
) -> dict[str, list[dict]]:
    """Splits shaped like Grid-24x60 (GRID_BENCHMARK.md), scaled by the arguments."""
    train_views = [(360.0 * k / azimuths, el) for el in elevations for k in range(azimuths)]
    novel_views = [
        (360.0 * (k + 0.5) / novel_cameras, 0.0 if k % 2 == 0 else 25.0)
        for k in range(novel_cameras)
    ]
    every = max(1, times // novel_times)
    train_times = [i / times for i in range(times)]
    # Half-way between two train times: (5k + 2.5) / 60 for Grid-24x60.
    test_times = [(every * k + every // 2 + 0.5) / times for k in range(novel_times)]
    shown_train_times = train_times[::every][:novel_times]
    shown_train_cameras = list(range(0, len(train_views), 3))[:novel_cameras]

    def entry(folder, subset, camera, az_el, time_index, time):
        name = f"{subset + '_' if subset else ''}c{camera:02d}_t{time_index:03d}"
        extra = {"camera_index": camera, "time_index": time_index}
        if subset:
            extra["subset"] = subset
        return frame(f"./{folder}/{name}", *az_el, time=time, **extra)

    train = [
        entry("train", None, c, view, t, time)
        for c, view in enumerate(train_views)
        for t, time in enumerate(train_times)
    ]
    first_novel = len(train_views)
    test = []
    for k, view in enumerate(novel_views):
        for time in shown_train_times:
            t = train_times.index(time)
            test.append(entry("test", "novel_view", first_novel + k, view, t, time))
    for c in shown_train_cameras:
        for k, time in enumerate(test_times):
            test.append(entry("test", "novel_time", c, train_views[c], times + k, time))
    for k, view in enumerate(novel_views):
        for j, time in enumerate(test_times):
            test.append(entry("test", "novel_both", first_novel + k, view, times + j, time))
    val = [
        next(f for f in test if f["subset"] == s)
        for s in ("novel_view", "novel_time", "novel_both")
    ]
    return {"train": train, "val": val, "test": test}


def grid_scene(radius: float = 1.0) -> dict:
    return {
        "format": "avatar4d-grid",
        "format_version": 1,
        "bounds": {"center": CENTRE.tolist(), "radius": radius},
    }


def write_grid(root: Path, size: tuple[int, int] = (8, 8), **grid_args) -> Path:
    return write_dataset(root, grid_splits(**grid_args), scene=grid_scene(), size=size)


def write_few_views_one_time(root: Path, cameras: int = 10) -> Path:
    """Failure pattern (a): a handful of views, all at t = 0."""
    train = [frame(f"./train/r_{c:03d}", 360.0 * c / cameras, 20.0, 0.0) for c in range(cameras)]
    test = [frame("./test/r_000", 18.0, 10.0, 0.0)]
    return write_dataset(root, {"train": train, "test": test})


def write_motion_under_one_camera(root: Path, views: int = 10, motion_frames: int = 121) -> Path:
    """Failure pattern (b): views at t = 0 plus one fixed camera filming the motion."""
    train = [frame(f"./train/v_{c:03d}", 360.0 * c / views, 20.0, 0.0) for c in range(views)]
    train += [
        frame(f"./train/m_{i:03d}", 10.0, 5.0, (i + 1) / (motion_frames + 1))
        for i in range(motion_frames)
    ]
    test = [frame("./test/r_000", 18.0, 10.0, 0.5)]
    return write_dataset(root, {"train": train, "test": test})
