"""The orbit camera rig of the Grid-24x60 benchmark: train and novel cameras around the bounds.

A camera at azimuth ``az`` and elevation ``el`` sits at
``center + d * (cos(el) sin(az), sin(el), cos(el) cos(az))`` (azimuth 0 sees the character's
front, +Z) and looks at the centre with +Y up. ``d`` is chosen so that the bounding sphere's
silhouette spans exactly ``sphere_fraction`` of the image height.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np

from avatar4d.capture.camera import Camera
from avatar4d.errors import InputError

WORLD_UP = np.array([0.0, 1.0, 0.0])
MAX_ABS_ELEVATION_DEG = 89.0  # at +-90 deg the look-at frame with +Y up is undefined


@dataclass(frozen=True)
class RigSettings:
    """Everything that defines a camera x time grid; the defaults are Grid-24x60."""

    train_azimuths_deg: tuple[float, ...] = tuple(45.0 * k for k in range(8))
    train_elevations_deg: tuple[float, ...] = (-10.0, 15.0, 40.0)
    novel_azimuths_deg: tuple[float, ...] = tuple(22.5 + 45.0 * k for k in range(8))
    # Cycled over the novel azimuths: novel camera k uses elevation k % len (0, 25, 0, 25, ...).
    novel_elevations_deg: tuple[float, ...] = (0.0, 25.0)
    fov_y_deg: float = 40.0
    sphere_fraction: float = 0.8
    train_times: int = 60
    novel_times: int = 12
    width: int = 512
    height: int = 512
    samples: int = 4

    @property
    def train_camera_count(self) -> int:
        return len(self.train_azimuths_deg) * len(self.train_elevations_deg)

    @property
    def novel_camera_count(self) -> int:
        return len(self.novel_azimuths_deg)

    def novel_elevations_per_camera(self) -> list[float]:
        """One elevation per novel azimuth (the configured list, cycled)."""
        elevations = self.novel_elevations_deg
        return [float(elevations[k % len(elevations)]) for k in range(self.novel_camera_count)]

    def validate(self) -> None:
        """Raise InputError on settings that cannot make a sensible grid."""
        where = "grid settings"
        if not self.train_azimuths_deg or not self.train_elevations_deg:
            raise InputError(where, "need at least one train azimuth and one train elevation")
        if not self.novel_azimuths_deg or not self.novel_elevations_deg:
            raise InputError(where, "need at least one novel azimuth and one novel elevation")
        all_elevations = (
            *self.train_elevations_deg,
            *self.novel_elevations_deg,
        )
        for elevation in all_elevations:
            if not abs(elevation) <= MAX_ABS_ELEVATION_DEG:
                raise InputError(
                    where,
                    f"elevation {elevation} deg is outside "
                    f"[-{MAX_ABS_ELEVATION_DEG:g}, {MAX_ABS_ELEVATION_DEG:g}]",
                )
        if not 1.0 <= self.fov_y_deg <= 170.0:
            raise InputError(where, f"fov_y {self.fov_y_deg} deg is outside [1, 170]")
        if not 0.0 < self.sphere_fraction <= 1.0:
            raise InputError(where, f"sphere fraction {self.sphere_fraction} is outside (0, 1]")
        if self.train_times < 1 or self.novel_times < 1:
            raise InputError(where, "train and novel time counts must be at least 1")
        if self.novel_times > self.train_times:
            raise InputError(
                where,
                f"{self.novel_times} novel times cannot all lie half-way between "
                f"{self.train_times} train times; use at most {self.train_times}",
            )
        if self.samples < 1:
            raise InputError(where, f"samples must be at least 1, got {self.samples}")
        for name, size in (("width", self.width), ("height", self.height)):
            if not 8 <= size <= 8192:
                raise InputError(where, f"image {name} {size} is outside [8, 8192]")


def camera_distance(radius: float, fov_y_deg: float, sphere_fraction: float) -> float:
    """Distance at which a sphere of ``radius`` spans ``sphere_fraction`` of the image height."""
    half_fov = math.radians(fov_y_deg) / 2.0
    half_angle = math.atan(sphere_fraction * math.tan(half_fov))
    return radius / math.sin(half_angle)


def look_at_c2w(position: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Camera-to-world (OpenGL: camera looks down -Z, +Y up) at ``position`` facing ``target``."""
    forward = target - position
    forward = forward / np.linalg.norm(forward)
    right = np.cross(forward, WORLD_UP)
    right = right / np.linalg.norm(right)
    up = np.cross(right, forward)
    c2w = np.eye(4)
    c2w[:3, 0] = right
    c2w[:3, 1] = up
    c2w[:3, 2] = -forward
    c2w[:3, 3] = position
    return c2w


def orbit_direction(azimuth_deg: float, elevation_deg: float) -> np.ndarray:
    """Unit vector from the centre towards a camera at this azimuth and elevation."""
    az, el = math.radians(azimuth_deg), math.radians(elevation_deg)
    return np.array([math.cos(el) * math.sin(az), math.sin(el), math.cos(el) * math.cos(az)])


def orbit_camera(
    settings: RigSettings,
    center: np.ndarray,
    distance: float,
    azimuth_deg: float,
    elevation_deg: float,
    index: int,
) -> Camera:
    position = center + distance * orbit_direction(azimuth_deg, elevation_deg)
    focal = 0.5 * settings.height / math.tan(math.radians(settings.fov_y_deg) / 2.0)
    return Camera(
        c2w=look_at_c2w(position, center),
        width=settings.width,
        height=settings.height,
        fl_x=focal,
        fl_y=focal,  # square pixels
        cx=settings.width / 2.0,
        cy=settings.height / 2.0,
        index=index,
        azimuth_deg=float(azimuth_deg),
        elevation_deg=float(elevation_deg),
    )


def build_rig(
    settings: RigSettings, center: np.ndarray, radius: float
) -> tuple[list[Camera], list[Camera]]:
    """Train cameras (elevation-major, azimuth-minor; indices 0..N-1) and novel ones (N..N+M-1)."""
    settings.validate()
    if not (math.isfinite(radius) and radius > 0.0):
        raise InputError("bounds", f"radius must be positive and finite, got {radius}")
    center = np.asarray(center, dtype=np.float64).reshape(3)
    distance = camera_distance(radius, settings.fov_y_deg, settings.sphere_fraction)
    train_directions = itertools.product(settings.train_elevations_deg, settings.train_azimuths_deg)
    train = [
        orbit_camera(settings, center, distance, azimuth, elevation, index=i)
        for i, (elevation, azimuth) in enumerate(train_directions)
    ]
    novel = [
        orbit_camera(settings, center, distance, azimuth, elevation, index=len(train) + k)
        for k, (azimuth, elevation) in enumerate(
            zip(settings.novel_azimuths_deg, settings.novel_elevations_per_camera(), strict=True)
        )
    ]
    return train, novel
