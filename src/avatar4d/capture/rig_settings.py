"""Settings of a camera x time grid; the defaults are the Grid-24x60 benchmark.

Kept free of numpy so that the command line can show these defaults in --help quickly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from avatar4d.dataset_format import MAX_TRACK_POINTS, MAX_TRACK_TIMES, MAX_TRACK_VALUES
from avatar4d.errors import InputError

MAX_ABS_ELEVATION_DEG = 89.0  # at +-90 deg the look-at frame with +Y up is undefined
MIN_FOV_DEG, MAX_FOV_DEG = 1.0, 170.0
MIN_IMAGE_SIZE, MAX_IMAGE_SIZE = 8, 8192


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
    # Surface points whose positions at every train time go to tracks.safetensors; 0 = none.
    track_points: int = 32_768

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
        """Raise InputError, naming the field, on settings that cannot make a sensible grid."""
        for name in (
            "train_azimuths_deg",
            "train_elevations_deg",
            "novel_azimuths_deg",
            "novel_elevations_deg",
        ):
            angles = getattr(self, name)
            if not angles:
                raise InputError(name, "needs at least one angle")
            if not all(math.isfinite(angle) for angle in angles):
                raise InputError(name, f"angles must be finite numbers, got {list(angles)}")
        for name in ("train_elevations_deg", "novel_elevations_deg"):
            for elevation in getattr(self, name):
                if abs(elevation) > MAX_ABS_ELEVATION_DEG:
                    raise InputError(
                        name,
                        f"elevation {elevation:g} deg is outside "
                        f"[-{MAX_ABS_ELEVATION_DEG:g}, {MAX_ABS_ELEVATION_DEG:g}]",
                    )
        if not MIN_FOV_DEG <= self.fov_y_deg <= MAX_FOV_DEG:
            raise InputError(
                "fov_y_deg", f"{self.fov_y_deg:g} deg is outside [{MIN_FOV_DEG:g}, {MAX_FOV_DEG:g}]"
            )
        if not 0.0 < self.sphere_fraction <= 1.0:
            raise InputError("sphere_fraction", f"{self.sphere_fraction:g} is outside (0, 1]")
        for name in ("train_times", "novel_times", "samples"):
            if getattr(self, name) < 1:
                raise InputError(name, f"must be at least 1, got {getattr(self, name)}")
        if self.novel_times > self.train_times:
            raise InputError(
                "novel_times",
                f"{self.novel_times} novel times cannot all lie half-way between "
                f"{self.train_times} train times; use at most {self.train_times}",
            )
        if not 0 <= self.track_points <= MAX_TRACK_POINTS:
            raise InputError(
                "track_points",
                f"{self.track_points} is outside [0, {MAX_TRACK_POINTS:,}] (0 writes no tracks)",
            )
        if self.track_points > 0 and (
            self.train_times > MAX_TRACK_TIMES
            or self.train_times * self.track_points * 3 > MAX_TRACK_VALUES
        ):
            raise InputError(
                "track_points",
                f"{self.track_points:,} points at {self.train_times:,} train times is more than "
                f"a tracks file may hold ({MAX_TRACK_TIMES:,} times, {MAX_TRACK_VALUES:,} "
                "values); use fewer points, or 0 for none",
            )
        for name in ("width", "height"):
            size = getattr(self, name)
            if not MIN_IMAGE_SIZE <= size <= MAX_IMAGE_SIZE:
                raise InputError(
                    name, f"{size} pixels is outside [{MIN_IMAGE_SIZE}, {MAX_IMAGE_SIZE}]"
                )
