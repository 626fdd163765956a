"""``avatar4d grid``: render an animated character into a camera x time grid dataset."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import tyro

from avatar4d.capture.rig_settings import RigSettings
from avatar4d.commands.option_checks import check_between
from avatar4d.errors import InputError

_GRID_24X60 = RigSettings()
MAX_SAMPLES = 16
MAX_TIMES = 10_000  # train times; each is a full set of train images
OPTION_OF_SETTING = {
    "train_azimuths_deg": "--train-azimuths",
    "train_elevations_deg": "--train-elevations",
    "novel_azimuths_deg": "--novel-azimuths",
    "novel_elevations_deg": "--novel-elevations",
    "fov_y_deg": "--fov-y",
    "sphere_fraction": "--sphere-fraction",
    "train_times": "--train-times",
    "novel_times": "--novel-times",
    "samples": "--samples",
    "track_points": "--track-points",
    "width": "--res",
    "height": "--res",
}


@dataclass
class GridCommand:
    """Render an animated glTF character into a balanced camera x time grid dataset.

    The defaults are the Grid-24x60 benchmark: 24 train cameras (8 azimuths x 3 elevations)
    x 60 times, plus three 96-image test subsets (novel view, novel time, both). Writes RGBA
    PNGs (straight alpha, transparent background), a 16-bit depth map PNG per train frame,
    surface tracks at the train times (tracks.safetensors), D-NeRF
    transforms_{train,val,test}.json and scene.json (provenance). Never replaces an
    existing dataset without --force.
    """

    file: Annotated[tyro.conf.Positional[Path], tyro.conf.arg(metavar="FILE")]
    """The animated character: a .glb or .gltf file."""

    clip: str
    """Name of the animation clip to sample (see `avatar4d asset info FILE` for the list)."""

    out: Path
    """Output dataset folder; must be absent or empty unless --force."""

    res: int = _GRID_24X60.width
    """Image width and height in pixels (square images), 8 to 8192."""

    samples: int = _GRID_24X60.samples
    """Anti-aliasing samples per pixel, rounded up to a square grid (4: 2x2 supersampling)."""

    train_azimuths: tuple[float, ...] = _GRID_24X60.train_azimuths_deg
    """Train camera azimuths in degrees (0 sees the character's front, +Z)."""

    train_elevations: tuple[float, ...] = _GRID_24X60.train_elevations_deg
    """Train camera elevations in degrees; every azimuth is used at every elevation."""

    novel_azimuths: tuple[float, ...] = _GRID_24X60.novel_azimuths_deg
    """Novel (test) camera azimuths in degrees, one camera each."""

    novel_elevations: tuple[float, ...] = _GRID_24X60.novel_elevations_deg
    """Novel camera elevations in degrees, cycled over the novel azimuths (0 25 alternates)."""

    train_times: int = _GRID_24X60.train_times
    """Number of train times i/T over the clip."""

    novel_times: int = _GRID_24X60.novel_times
    """Number of novel (test) times, half-way between train times (at most --train-times)."""

    fov_y: float = _GRID_24X60.fov_y_deg
    """Vertical field of view in degrees."""

    sphere_fraction: float = _GRID_24X60.sphere_fraction
    """Fraction of the image height that the character's bounding sphere spans."""

    track_points: int = _GRID_24X60.track_points
    """Surface points whose position at every train time is written to tracks.safetensors
    (the trainer can supervise its motion with them); 0 writes none."""

    force: tyro.conf.FlagCreatePairsOff[bool] = False
    """Replace a dataset avatar4d wrote in --out (swapped in only once the new one is complete;
    a folder holding anything else is refused)."""

    def settings(self) -> RigSettings:
        """The grid these options ask for; InputError naming the option when one is out of range."""
        check_between("--samples", self.samples, 1, MAX_SAMPLES)
        check_between("--train-times", self.train_times, 1, MAX_TIMES)
        settings = RigSettings(
            train_azimuths_deg=tuple(self.train_azimuths),
            train_elevations_deg=tuple(self.train_elevations),
            novel_azimuths_deg=tuple(self.novel_azimuths),
            novel_elevations_deg=tuple(self.novel_elevations),
            fov_y_deg=self.fov_y,
            sphere_fraction=self.sphere_fraction,
            train_times=self.train_times,
            novel_times=self.novel_times,
            width=self.res,
            height=self.res,
            samples=self.samples,
            track_points=self.track_points,
        )
        try:
            settings.validate()
        except InputError as error:
            raise InputError(
                OPTION_OF_SETTING.get(error.where, error.where), error.problem
            ) from None
        return settings

    def run(self) -> int:
        from avatar4d.capture.grid_writer import write_grid

        summary = write_grid(self.file, self.clip, self.out, self.settings(), force=self.force)
        print(
            f"wrote {summary.images} images ({summary.train_images} train with depth maps, "
            f"{summary.test_images} test, {summary.val_frames} val frames) "
            f"at {self.res}x{self.res} in {summary.seconds:.1f} s "
            f"({summary.images_per_second:.1f} images/s rendering) -> {summary.out_dir}"
        )
        print(
            f"bounds radius {summary.radius:.4g}, camera distance {summary.camera_distance:.4g}, "
            f"anti-aliasing {summary.antialiasing}, renderer {summary.gl_renderer}"
            + (f", {summary.track_points:,} surface tracks" if summary.track_points else "")
        )
        return 0
