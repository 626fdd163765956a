"""``avatar4d render``: a trained avatar along a camera path, as an MP4 or PNG frames."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

import tyro

from avatar4d.commands.extras import require_extra
from avatar4d.errors import InputError
from avatar4d.output.path_limits import MAX_PATH_CAMERAS as MAX_FRAMES
from avatar4d.output.path_limits import MAX_RENDER_SIDE as MAX_SIZE

MIN_FPS, MAX_FPS = 0.1, 1000.0  # an MP4 time base of at most 1/1001 s holds these
MAX_DISTANCE_SCALE = 1000.0


@dataclass
class RenderCommand:
    """Render a trained run along a camera path with time running, to MP4 (H.264) or PNGs.

    Camera paths: an orbit around the subject (--path orbit), the dataset's own cameras
    (--path train / --path test), or a nerfstudio camera_path.json (--path FILE.json). Into a
    folder, --path train|test writes each frame's render as straight-alpha RGBA named after the
    frame's file_path (OUT/test/r_000.png), which `avatar4d eval --renders OUT DATA` scores
    with exactly the numbers of `avatar4d eval RUN`; other paths write frame_00000.png, ... Time
    mappings: loop the clip, ping-pong, hold one time, or sweep a range. Prints the render
    speed in frames per second (deformation included, encoding excluded) and the total time.
    """

    run_dir: Annotated[tyro.conf.Positional[Path], tyro.conf.arg(metavar="RUN")]
    """Run folder written by `avatar4d train`."""

    out: Path
    """Output: a .mp4 file, or a folder for frame_00000.png, frame_00001.png, ... (for --path
    train|test: PNGs named after the frames' file_path)."""

    path: str = "orbit"
    """Camera path: orbit, train, test, or a nerfstudio camera_path.json file."""

    frames: int = 120
    """Number of frames for an orbit (dataset and nerfstudio paths have their own count)."""

    res: int | None = None
    """Orbit image size (square). Default: the dataset's image size."""

    elevation: float = 15.0
    """Orbit elevation in degrees."""

    distance_scale: float = 1.0
    """Orbit distance as a multiple of the grid camera distance (1.0: the bounding sphere
    spans 80 % of the image height)."""

    fov_y: float = 40.0
    """Orbit vertical field of view in degrees."""

    turns: float = 1.0
    """Orbit turns over the whole video."""

    time: Literal["loop", "pingpong", "hold", "range"] = "loop"
    """Time mapping: loop the clip, ping-pong, hold --t, or sweep --t0 to --t1."""

    cycles: float = 1.0
    """Clip cycles over the video (loop and pingpong)."""

    t: float = 0.0
    """Normalised time held with --time hold."""

    t0: float = 0.0
    """Start of --time range / pingpong."""

    t1: float = 1.0
    """End of --time range / pingpong."""

    fps: float = 30.0
    """Frames per second of the MP4."""

    step: int | None = None
    """Checkpoint step. Default: the newest."""
    clip: str | None = None
    """Perform this clip of the character (trained on or not; times 0..1 play it once): runs
    of the mesh-driven motion model (--motion rig) only. Default: the trained timeline."""
    morph: tuple[str, ...] = ()
    """Morph-target weights on top of the clip, NAME=WEIGHT (repeatable; with --clip)."""

    device: str = "auto"
    """auto (CUDA when available), cpu or cuda."""

    force: tyro.conf.FlagCreatePairsOff[bool] = False
    """Overwrite an existing MP4, or replace frames avatar4d rendered into the folder (refused
    when it holds anything else)."""

    def run(self) -> int:
        video = self.out.suffix.lower() == ".mp4"  # PyAV writes the .mp4
        require_extra("render", ("torch", "av") if video else ("torch",))
        from avatar4d.capture.progress import image_progress
        from avatar4d.io.atomic import refuse_existing
        from avatar4d.io.ownership import list_in_enclosing_run
        from avatar4d.output.render_frames import render_path
        from avatar4d.output.video import Mp4Writer, check_frame_folder, write_png_sequence
        from avatar4d.run.trained import load_trained_model

        started = time.perf_counter()
        self.check_options()
        as_video = self.out.suffix.lower() == ".mp4"
        if as_video:
            refuse_existing(self.out, self.force)
        elif self.out.suffix:
            raise InputError(self.out, "give a .mp4 file or a folder (no extension) for PNGs")
        else:
            check_frame_folder(self.out, self.force)
        model = load_trained_model(self.run_dir, self.step, self.device)
        if self.clip is not None:
            model = model.performing(self.clip, self.morph_weights())
        cameras, times = self._cameras_and_times(model)
        if not as_video and self.path in ("train", "test"):
            return self._render_dataset_frames(model, started)

        with image_progress(len(cameras)) as advance:
            rendered = render_path(model, cameras, times, advance=advance)
        if as_video:
            with Mp4Writer(self.out, self.fps, force=self.force) as video:
                for frame in rendered.frames:
                    video.write(frame)
            written = f"{self.out} ({video.info().codec})"
            list_in_enclosing_run(self.out)
        else:
            write_png_sequence(rendered.frames, self.out, force=self.force)
            written = f"{self.out}/frame_*.png"
        height, width = rendered.frames[0].shape[:2]
        print(
            f"rendered {len(rendered.frames)} frames at {width}x{height}: "
            f"{rendered.frames_per_second:.1f} frames/s rendering ({model.device.type}), "
            f"{time.perf_counter() - started:.1f} s in total -> {written}"
        )
        return 0

    def _render_dataset_frames(self, model, started: float) -> int:
        """The split's frames, named for `eval --renders`, as the evaluation renders them."""
        from avatar4d.capture.progress import image_progress
        from avatar4d.data.dnerf import load_dataset
        from avatar4d.output.dataset_renders import write_dataset_renders

        dataset = load_dataset(model.dataset_root)
        frames = dataset.splits[self.path]
        with image_progress(len(frames)) as advance:
            paths, seconds = write_dataset_renders(
                model, dataset, frames, self.out, self.force, advance
            )
        first = frames[0]
        speed = len(frames) / seconds if seconds > 0 else float("inf")
        print(
            f"rendered {len(frames)} frames at {first.width}x{first.height}: "
            f"{speed:.1f} frames/s rendering ({model.device.type}), "
            f"{time.perf_counter() - started:.1f} s in total -> "
            f"{self.out}/{paths[0].relative_to(self.out).parent.as_posix()}/*.png (RGBA)"
        )
        return 0

    def check_options(self) -> None:
        """InputError naming the first option out of range, before anything is loaded."""
        from avatar4d.commands.option_checks import check_at_least, check_between, check_finite
        from avatar4d.output.camera_paths import MAX_ABS_ELEVATION_DEG

        check_between("--fov-y", self.fov_y, 0.0, 180.0, open_low=True, open_high=True, unit=" deg")
        check_between("--fps", self.fps, MIN_FPS, MAX_FPS)
        check_between("--elevation", self.elevation, -MAX_ABS_ELEVATION_DEG, MAX_ABS_ELEVATION_DEG)
        check_between(
            "--distance-scale", self.distance_scale, 0.0, MAX_DISTANCE_SCALE, open_low=True
        )
        check_finite("--turns", self.turns)
        check_between("--cycles", self.cycles, 0.0, float(MAX_FRAMES), open_low=True)
        for option, value in (("--t", self.t), ("--t0", self.t0), ("--t1", self.t1)):
            check_between(option, value, 0.0, 1.0)
        check_at_least("--step", self.step, 0)
        if self.morph and self.clip is None:
            raise InputError("--morph", "needs --clip (the clip the morph weights go on top of)")
        self.morph_weights()

    def morph_weights(self) -> dict[str, float]:
        """--morph NAME=WEIGHT as a mapping; one line naming the bad word."""
        weights = {}
        for word in self.morph:
            name, equals, text = word.partition("=")
            try:
                weight = float(text)
            except ValueError:
                weight = math.nan
            if not equals or not name or not math.isfinite(weight):
                raise InputError(
                    "--morph", f"expected NAME=WEIGHT with a finite weight, got {word!r}"
                )
            weights[name] = weight
        return weights

    def _cameras_and_times(self, model):
        from avatar4d.output.time_mapping import time_mapping

        if not 1 <= self.frames <= MAX_FRAMES:
            raise InputError("--frames", f"must be 1 .. {MAX_FRAMES}, got {self.frames}")
        if self.res is not None and not 8 <= self.res <= MAX_SIZE:
            raise InputError("--res", f"must be 8 .. {MAX_SIZE}, got {self.res}")
        if self.path == "orbit":
            cameras = self._orbit(model)
        elif self.path in ("train", "test"):
            cameras, times = self._dataset_cameras(model)
            return cameras, times
        else:
            from avatar4d.output.camera_paths import load_nerfstudio_camera_path

            loaded = load_nerfstudio_camera_path(Path(self.path))
            cameras = loaded.cameras
            if loaded.times is not None and self.time == "loop" and self.cycles == 1.0:
                return cameras, list(loaded.times)
        times = time_mapping(
            self.time, len(cameras), cycles=self.cycles, t=self.t, t0=self.t0, t1=self.t1
        )
        return cameras, list(times)

    def _orbit(self, model):
        from avatar4d.capture.rig import camera_distance
        from avatar4d.data.dnerf import load_dataset
        from avatar4d.output.camera_paths import orbit_path

        model.check_dataset(model.dataset_root)
        dataset = load_dataset(model.dataset_root)
        if dataset.bounds is not None:
            center, radius = dataset.bounds.center, dataset.bounds.radius
        else:
            means = model.params["means"].detach().cpu().numpy()
            center = means.mean(axis=0)
            radius = float(((means - center) ** 2).sum(axis=1).max() ** 0.5)
        size = self.res or dataset.splits["train"][0].height
        distance = camera_distance(radius, self.fov_y, 0.8) * self.distance_scale
        return orbit_path(
            center, distance, self.elevation, self.frames, self.fov_y, size, size, turns=self.turns
        )

    def _dataset_cameras(self, model):
        from avatar4d.data.dnerf import load_dataset
        from avatar4d.output.camera_paths import dataset_path

        model.check_dataset(model.dataset_root)
        frames = load_dataset(model.dataset_root).splits.get(self.path)
        if not frames:
            raise InputError(model.dataset_root, f"has no {self.path} split to take cameras from")
        return dataset_path(frames), [frame.time or 0.0 for frame in frames]
