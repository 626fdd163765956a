"""The orbit camera rig of the Grid-24x60 benchmark: train and novel cameras around the bounds.

A camera at azimuth ``az`` and elevation ``el`` sits at
``center + d * (cos(el) sin(az), sin(el), cos(el) cos(az))`` (azimuth 0 sees the character's
front, +Z) and looks at the centre with +Y up. ``d`` is chosen so that the bounding sphere's
silhouette spans exactly ``sphere_fraction`` of the image height.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from avatar4d.capture.camera import Camera
from avatar4d.capture.rig_settings import RigSettings
from avatar4d.errors import InputError

__all__ = [
    "RigSettings",
    "build_rig",
    "camera_distance",
    "look_at_c2w",
    "orbit_camera",
    "orbit_direction",
]

WORLD_UP = np.array([0.0, 1.0, 0.0])


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
