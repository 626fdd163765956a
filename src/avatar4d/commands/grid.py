"""``avatar4d grid``: render an animated character into a camera x time grid dataset."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import tyro

from avatar4d.capture.rig_settings import RigSettings
from avatar4d.commands.option_checks import check_between
from avatar4d.dataset_format import MAX_TRACK_TIMES, MAX_TRACK_VALUES
from avatar4d.errors import InputError

_GRID_24X60 = RigSettings()
MAX_SAMPLES = 16
MIN_TRAIN_TIMES = 60  # capture/time_choice.py's floor (kept here: --help imports no numpy)
MAX_CHOSEN_TRAIN_TIMES = 600
STEP_PIXELS = 2.0
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

    clip: Annotated[tuple[str, ...], tyro.conf.UseAppendAction]
    """A train clip (see `avatar4d asset info FILE` for the list); repeat --clip for several.
    With several, frames name their clip and their time within it (docs/dataset_format.md)."""

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

    train_times: tuple[int, ...] | None = None
    """Train times i/T over each clip: one count for every clip, or one per --clip. Default:
    chosen from each clip's motion, at least 60 and enough that no surface point moves more
    than 2 pixels at --res between consecutive train times (at most 600; the cap is reported)."""

    novel_times: tuple[int, ...] = (_GRID_24X60.novel_times,)
    """Novel (test) times per clip, half-way between train times: one count for every clip or
    one per --clip then per --novel-clip."""

    novel_clip: Annotated[tuple[str, ...], tyro.conf.UseAppendAction] = ()
    """A clip never trained on, rendered from the novel cameras at --novel-times times: the
    novel_pose test subset; repeat for several."""

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

    def clip_names(self) -> tuple[list[str], list[str]]:
        """(train clips, novel clips); InputError on a repeated clip or a novel one trained."""
        train = [self.clip] if isinstance(self.clip, str) else list(self.clip)
        novel = [self.novel_clip] if isinstance(self.novel_clip, str) else list(self.novel_clip)
        if not train:
            raise InputError("--clip", "name at least one clip to train on")
        for name in novel:
            if name in train:
                raise InputError(
                    "--novel-clip",
                    f'"{name}" is also a --clip: a novel clip must be one never trained on',
                )
        names = train + novel
        for name in names:
            if names.count(name) > 1:
                raise InputError("--clip", f'"{name}" is named twice')
        return train, novel

    def counts(self, option: str, values, clips: int) -> list[int] | None:
        """One count per clip from ``values`` (None, one count, or one per clip)."""
        if values is None:
            return None
        values = [values] if isinstance(values, int) else list(values)
        if len(values) not in (1, clips):
            raise InputError(
                option, f"give one count, or one per clip ({clips}), not {len(values)}"
            )
        for value in values:
            check_between(option, value, 1, MAX_TIMES)
        return values * clips if len(values) == 1 else values

    def settings(self) -> RigSettings:
        """The grid these options ask for; InputError naming the option when one is out of range."""
        check_between("--samples", self.samples, 1, MAX_SAMPLES)
        train, novel = self.clip_names()
        train_counts = self.counts("--train-times", self.train_times, len(train))
        novel_counts = self.counts("--novel-times", self.novel_times, len(train) + len(novel))
        assert novel_counts is not None
        total = sum(train_counts) if train_counts else MIN_TRAIN_TIMES * len(train)
        if total > MAX_TIMES:
            raise InputError(
                "--train-times", f"{total:,} train times in all; at most {MAX_TIMES:,}"
            )
        for name, train_count, novel_count in zip(
            train, train_counts or [MIN_TRAIN_TIMES] * len(train), novel_counts, strict=False
        ):
            if novel_count > train_count:
                raise InputError(
                    "--novel-times",
                    f'{novel_count} novel times of clip "{name}" cannot all lie half-way between '
                    f"its {train_count} train times; use at most {train_count}",
                )
        settings = RigSettings(
            train_azimuths_deg=tuple(self.train_azimuths),
            train_elevations_deg=tuple(self.train_elevations),
            novel_azimuths_deg=tuple(self.novel_azimuths),
            novel_elevations_deg=tuple(self.novel_elevations),
            fov_y_deg=self.fov_y,
            sphere_fraction=self.sphere_fraction,
            train_times=total,
            novel_times=min(novel_counts[: len(train)]),
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
        from avatar4d.asset.loader import load_asset
        from avatar4d.capture.grid_writer import write_grid_for_asset

        started = time.perf_counter()
        settings = self.settings()  # every option checked before the asset is read
        asset = load_asset(self.file)
        clips = self.grid_clips(asset, settings)
        summary = write_grid_for_asset(
            asset, clips.train[0].name, self.out, settings, self.force, True, started, clips
        )
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
        if len(clips.train) + len(clips.novel) > 1:
            listed = ", ".join(
                f"{c.name} {c.train_times}+{c.novel_times} times" for c in clips.train
            )
            novel = ", ".join(f"{c.name} {c.novel_times} times" for c in clips.novel)
            print(
                f"clips: train {listed}"
                + (f"; novel pose {novel} ({summary.novel_pose_images} images)" if novel else "")
            )
        for choice in clips.chosen.values():
            capped = f", capped at {MAX_CHOSEN_TRAIN_TIMES}" if choice.capped else ""
            print(
                f'train times of "{choice.clip}" from its motion: {choice.train_times} '
                f"(a surface point covers {choice.pixels_per_clip:.0f} px per clip; "
                f"{choice.needed} times keep each step within {STEP_PIXELS:g} px{capped}; "
                f"largest step {choice.step_pixels:.2g} px)"
            )
        return 0

    def grid_clips(self, asset, settings: RigSettings):
        """The clips of the grid, with train times chosen from the motion where not given."""
        from avatar4d.capture.grid_plan import ClipTimes
        from avatar4d.capture.grid_writer import GridClips
        from avatar4d.capture.time_choice import choose_train_times, pixels_per_unit

        train, novel = self.clip_names()
        found = {name: asset.find_clip(name) for name in train + novel}
        novel_counts = self.counts("--novel-times", self.novel_times, len(train) + len(novel))
        assert novel_counts is not None
        given = self.counts("--train-times", self.train_times, len(train))
        chosen = {}
        if given is None:
            _, radius = asset.clip_bounds(train[0])
            scale = pixels_per_unit(settings, radius)
            for name in train:
                clip = found[name]

                def positions_at(clip_time: float, clip=clip):
                    return asset.pose(clip.name, clip_time * clip.duration).all_positions()

                chosen[name] = choose_train_times(name, positions_at, scale)
            given = [chosen[name].train_times for name in train]
        total = sum(given)
        if total > MAX_TIMES:
            raise InputError(
                "--train-times", f"{total:,} train times in all; at most {MAX_TIMES:,}"
            )
        if settings.track_points * total * 3 > MAX_TRACK_VALUES or total > MAX_TRACK_TIMES:
            raise InputError(
                "--track-points",
                f"{settings.track_points:,} points at {total:,} train times is more than a "
                "tracks file may hold; use fewer points, or 0 for none",
            )
        return GridClips(
            train=[ClipTimes(n, t, k) for n, t, k in zip(train, given, novel_counts, strict=False)],
            novel=[
                ClipTimes(n, 0, k) for n, k in zip(novel, novel_counts[len(train) :], strict=True)
            ],
            chosen=chosen,
        )
