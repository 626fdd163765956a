"""Camera paths for rendering: an orbit, the dataset's own cameras, or a nerfstudio path.

A camera path is a list of ``avatar4d.capture.camera.Camera`` (camera-to-world 4 x 4 in the
OpenGL convention, pinhole intrinsics in pixels, image size), one per output frame. Orbits use
the capture rig's conventions: azimuth 0 looks at the character's front from +Z, +Y is up.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from avatar4d.capture.camera import Camera, PinholeLike
from avatar4d.capture.rig import look_at_c2w, orbit_direction
from avatar4d.errors import InputError
from avatar4d.io.json_file import read_json_file
from avatar4d.output.path_limits import check_path_size, check_render_side

MAX_ABS_ELEVATION_DEG = 89.0  # at +-90 deg a look-at frame with +Y up is undefined
MAX_CAMERA_PATH_BYTES = 256 << 20  # a camera_path.json: 100,000 cameras take about 50 MB


def _check_image_size(where: str, width: int, height: int) -> None:
    for size in (width, height):
        if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 1:
            raise InputError(where, f"image size must be positive integers, got {width}x{height}")
    check_render_side(where, int(width), int(height))


def focal_from_fov_y(fov_y_deg: float, height: int) -> float:
    """Focal length in pixels for a vertical field of view over ``height`` pixels."""
    return 0.5 * height / math.tan(math.radians(fov_y_deg) / 2.0)


def orbit_path(
    center: Sequence[float] | np.ndarray,
    distance: float,
    elevation_deg: float,
    frames: int,
    fov_y_deg: float,
    width: int,
    height: int,
    start_azimuth_deg: float = 0.0,
    turns: float = 1.0,
) -> list[Camera]:
    """``frames`` cameras circling ``center`` at a fixed elevation, all looking at it.

    Frame i sits at azimuth ``start + 360 * turns * i / frames``: a full turn ends one step
    short of the start, so the video loops without a repeated frame.
    """
    where = "orbit camera path"
    center = np.asarray(center, dtype=np.float64).reshape(3)
    if frames < 1:
        raise InputError(where, f"needs at least 1 frame, got {frames}")
    if not (math.isfinite(distance) and distance > 0.0):
        raise InputError(where, f"distance must be positive, got {distance}")
    if not abs(elevation_deg) <= MAX_ABS_ELEVATION_DEG:
        raise InputError(
            where, f"elevation {elevation_deg} deg is outside ±{MAX_ABS_ELEVATION_DEG:g} deg"
        )
    if not 0.0 < fov_y_deg < 180.0:
        raise InputError(where, f"vertical field of view {fov_y_deg} deg is outside (0, 180)")
    if not (np.all(np.isfinite(center)) and math.isfinite(start_azimuth_deg + turns)):
        raise InputError(where, "centre, start azimuth and turns must be finite numbers")
    _check_image_size(where, width, height)
    check_path_size(where, frames, int(width) * int(height))

    focal = focal_from_fov_y(fov_y_deg, height)
    cameras = []
    for i in range(frames):
        azimuth = start_azimuth_deg + 360.0 * turns * i / frames
        position = center + distance * orbit_direction(azimuth, elevation_deg)
        cameras.append(
            Camera(
                c2w=look_at_c2w(position, center),
                width=int(width),
                height=int(height),
                fl_x=focal,
                fl_y=focal,
                cx=width / 2.0,
                cy=height / 2.0,
                index=i,
                azimuth_deg=azimuth,
                elevation_deg=float(elevation_deg),
            )
        )
    return cameras


def dataset_path(frames: Sequence[PinholeLike]) -> list[Camera]:
    """The cameras of dataset frames, in order (e.g. to re-render a test split)."""
    if not frames:
        raise InputError("dataset camera path", "no frames to take cameras from")
    check_path_size(
        "dataset camera path", len(frames), [int(f.width) * int(f.height) for f in frames]
    )
    cameras = []
    for i, frame in enumerate(frames):
        camera_index = getattr(frame, "camera_index", None)
        cameras.append(
            Camera(
                c2w=np.asarray(frame.c2w, dtype=np.float64).reshape(4, 4).copy(),
                width=int(frame.width),
                height=int(frame.height),
                fl_x=float(frame.fl_x),
                fl_y=float(frame.fl_y),
                cx=float(frame.cx),
                cy=float(frame.cy),
                index=i if camera_index is None else int(camera_index),
            )
        )
    return cameras


@dataclass(frozen=True)
class NerfstudioCameraPath:
    cameras: list[Camera]
    times: np.ndarray | None  # per-camera "render_time" when every camera has one
    fps: float | None
    seconds: float | None


def _finite_number(value: object) -> bool:
    return (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and math.isfinite(float(value))
    )


def _optional_positive(path: Path, data: dict, key: str) -> float | None:
    if key not in data or data[key] is None:
        return None
    value = data[key]
    if not (_finite_number(value) and value > 0):
        raise InputError(path, f'"{key}" must be a positive number, got {value!r}')
    return float(value)


def _render_size(path: Path, data: dict, key: str) -> int:
    value = data.get(key)
    if not (_finite_number(value) and float(value).is_integer() and value >= 1):
        raise InputError(path, f'"{key}" must be a positive integer, got {value!r}')
    return int(value)


def _parse_nerfstudio_camera(
    path: Path, index: int, entry: object, width: int, height: int
) -> tuple[Camera, float | None]:
    where = f"camera_path[{index}]"
    if not isinstance(entry, dict):
        raise InputError(path, f"{where} is not an object")
    matrix = entry.get("camera_to_world")
    if not (
        isinstance(matrix, list) and len(matrix) == 16 and all(_finite_number(v) for v in matrix)
    ):
        raise InputError(path, f'{where}: "camera_to_world" must be 16 finite numbers')
    c2w = np.array(matrix, dtype=np.float64).reshape(4, 4)  # row-major
    if not np.allclose(c2w[3], [0.0, 0.0, 0.0, 1.0], atol=1e-6):
        raise InputError(path, f'{where}: "camera_to_world" last row must be 0 0 0 1')
    fov = entry.get("fov")
    if not (_finite_number(fov) and 0.0 < fov < 180.0):
        raise InputError(path, f'{where}: "fov" must be a vertical field of view in (0, 180) deg')
    render_time = entry.get("render_time")
    if render_time is not None and not _finite_number(render_time):
        raise InputError(path, f'{where}: "render_time" must be a number')
    # As nerfstudio does: the vertical fov over render_height sets a square-pixel focal
    # length; "aspect" is not used, the render size decides the image shape.
    focal = focal_from_fov_y(float(fov), height)
    camera = Camera(
        c2w=c2w,
        width=width,
        height=height,
        fl_x=focal,
        fl_y=focal,
        cx=width / 2.0,
        cy=height / 2.0,
        index=index,
    )
    return camera, None if render_time is None else float(render_time)


def load_nerfstudio_camera_path(path: str | Path) -> NerfstudioCameraPath:
    """Read a nerfstudio ``camera_path.json`` (perspective cameras only).

    Poses are used as written, in this dataset's world coordinates (OpenGL camera axes, as
    nerfstudio uses too).
    """
    path = Path(path)
    data = read_json_file(path, max_bytes=MAX_CAMERA_PATH_BYTES)
    if not isinstance(data, dict):
        raise InputError(path, 'expected a JSON object with a "camera_path" list')
    camera_type = data.get("camera_type", "perspective")
    if camera_type != "perspective":
        raise InputError(path, f"camera_type {camera_type!r} is not supported; use perspective")
    entries = data.get("camera_path")
    if not isinstance(entries, list) or not entries:
        raise InputError(path, '"camera_path" must be a non-empty list of cameras')
    width = _render_size(path, data, "render_width")
    height = _render_size(path, data, "render_height")
    check_render_side(str(path), width, height)
    check_path_size(str(path), len(entries), width * height)

    parsed = [
        _parse_nerfstudio_camera(path, i, entry, width, height) for i, entry in enumerate(entries)
    ]
    times = [time for _, time in parsed]
    # nerfstudio's rule: times only when every camera has one.
    has_times = all(time is not None for time in times)
    return NerfstudioCameraPath(
        cameras=[camera for camera, _ in parsed],
        times=np.array(times, dtype=np.float64) if has_times else None,
        fps=_optional_positive(path, data, "fps"),
        seconds=_optional_positive(path, data, "seconds"),
    )
