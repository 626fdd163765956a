"""``avatar4d train``: fit a 4D Gaussian avatar to a dataset, into a run folder."""

from __future__ import annotations

import dataclasses
import inspect
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import tyro

from avatar4d.commands.extras import require_extra
from avatar4d.commands.train_motion import chosen_motion, without_motion_words
from avatar4d.commands.train_preset import auto_preset, chosen_preset, given_flag, given_value
from avatar4d.data.dataset import scene_asset_file
from avatar4d.data.dnerf import read_scene
from avatar4d.errors import InputError
from avatar4d.model.motions.registry import AnyMotionSettings
from avatar4d.run.config import SECTIONS, TrainConfig
from avatar4d.run.config_file import config_to_dict
from avatar4d.run.presets import preset_config

if TYPE_CHECKING:
    from avatar4d.run.run_folder import RunRecord
    from avatar4d.train.trainer import TrainResult

MOTION_FROM_DATA = (
    "Without --motion, a dataset that carries its character (avatar4d grids keep a copy) "
    "trains the mesh-driven model (rig), any other the motion shown."
)
EXIT_TRAINING_STOPPED = 1  # diverged or out of memory; the last checkpoint is kept
# Settings a resumed run may change (with the session section): they do not alter what the
# model learns.
SESSION_SETTINGS = ("steps", "device")


def option_name(setting: str) -> str:
    """``--track-weight``, or ``--motion.nodes`` for a motion model's setting."""
    return "--" + setting.replace("_", "-")


@dataclass
class TrainCommand:
    """Train a 4D Gaussian avatar on a D-NeRF-style dataset (an avatar4d grid or any D-NeRF set).

    Writes RUN/config.yml and RUN/checkpoints/step_XXXXXX.{safetensors,json} (the newest two);
    --resume continues an interrupted run exactly where its newest checkpoint left off. The
    settings below are a preset's (--preset) and each option you give replaces one of them.
    """

    data: Annotated[Path, tyro.conf.Positional, tyro.conf.arg(metavar="DATA")]
    """Dataset folder: transforms_train.json (+ val/test), RGBA images, optional scene.json."""
    out: Annotated[Path, tyro.conf.arg(metavar="RUN")]
    """Run folder to write (config.yml, checkpoints/)."""
    resume: bool = False
    """Continue the run in --out from its newest checkpoint (its config.yml is used)."""
    from_step: Annotated[int | None, tyro.conf.arg(name="from", metavar="STEP")] = None
    """With --resume: continue from the checkpoint of this step instead of the newest (e.g.
    when the newest is damaged); the newer checkpoints are replaced as training passes them."""
    force: bool = False
    """Replace a run avatar4d wrote, with the evaluations, renders and exports in it (a folder
    holding anything else is refused)."""
    preset: Literal["auto", "cpu", "gpu"] = "auto"
    """The settings to start from: cpu (small, minutes), gpu (bigger); auto: gpu when training
    on a CUDA device, else cpu. config.yml records the preset used."""
    tensorboard: bool = False
    """Also log loss, Gaussian count and validation PSNR to RUN/tensorboard (needs tensorboard)."""
    quiet: bool = False
    """No progress bars; only the final summary."""
    config: tyro.conf.OmitArgPrefixes[TrainConfig] = field(default_factory=TrainConfig)
    """Training settings."""
    motion_from_data: tyro.conf.Suppress[bool] = False
    """No --motion given: the mesh-driven model (rig) for a dataset that carries its character,
    else the preset's."""
    motion: tyro.conf.AvoidSubcommands[AnyMotionSettings | None] = None
    """The motion model's settings (--motion NAME chooses the model: spline or nodes); None:
    config's."""

    @classmethod
    def parsing_defaults(cls, args: Sequence[str]) -> tuple[TrainCommand, str]:
        """The instance tyro parses these train words against, and the line --help adds: the
        complete settings of the preset they choose (with the motion model they choose), or
        with --resume the run's own."""
        motion = chosen_motion(args)
        out = given_value("--out", args)
        record = readable_record(Path(out)) if out and given_flag("--resume", args) else None
        if record is not None:
            config = record.config
            if motion is not None and motion != config.motion.name:
                config = preset_config(record.preset or "cpu", motion)  # refused when run
            defaults = cls(
                data=tyro.MISSING,
                out=tyro.MISSING,
                preset=record.preset or "auto",
                config=record.config,
                motion=config.motion,
            )
            return defaults, "The defaults shown are the run's own (its config.yml)."
        name, line = chosen_preset(args)
        config = preset_config(name, motion)
        from_data = motion is None and not any(arg.startswith("--motion.") for arg in args)
        defaults = cls(
            data=tyro.MISSING,
            out=tyro.MISSING,
            config=config,
            motion=config.motion,
            motion_from_data=from_data,
        )
        if from_data:
            line += f" {MOTION_FROM_DATA}"
        return defaults, line

    @staticmethod
    def parser_words(args: Sequence[str]) -> list[str]:
        """The train words tyro parses: those choosing the motion model are read before."""
        return without_motion_words(args)

    @classmethod
    def help_description(cls, line: str) -> str:
        return f"{inspect.cleandoc(cls.__doc__ or '')}\n\n{line}"

    def resolved_preset(self) -> str:
        """The preset a new run starts from (auto: by the device)."""
        return auto_preset(self.config.device) if self.preset == "auto" else self.preset

    def resolved_config(self) -> TrainConfig:
        """The settings to train with. On resume they must be the run's own (parsing starts
        from them) but for the session settings; repeating the run's own value is no change."""
        config = self.config
        if self.motion is not None:
            config = dataclasses.replace(config, motion=self.motion)
        if not self.resume:
            if self.motion_from_data and carries_character(self.data):
                rig = preset_config(self.resolved_preset(), "rig").motion
                config = dataclasses.replace(config, motion=rig)
            return config
        from avatar4d.run.run_folder import read_run_record  # torch: only when training

        saved = read_run_record(self.out)
        if self.preset not in ("auto", saved.preset):
            raise InputError("--preset", "cannot change when resuming (the run's config.yml holds)")
        fixed = changed_settings(config, saved.config)
        if fixed:
            names = ", ".join(option_name(name) for name in fixed)
            raise InputError(names, "cannot change when resuming (the run's config.yml holds)")
        return config

    def run(self) -> int:
        require_extra("train", ("torch", "gsplat"))
        from avatar4d.train.trainer import TrainingDiverged, TrainingOutOfMemory, train

        if self.resume and self.force:
            raise InputError("--force", "cannot be combined with --resume")
        if self.from_step is not None and not self.resume:
            raise InputError("--from", "needs --resume (it names the checkpoint to resume from)")
        try:
            result = train(
                self.data,
                self.out,
                self.resolved_config(),
                resume=self.resume,
                force=self.force,
                tensorboard=self.tensorboard,
                quiet=self.quiet,
                resume_from=self.from_step,
                preset=None if self.resume else self.resolved_preset(),
            )
        except (TrainingDiverged, TrainingOutOfMemory) as error:
            print(f"avatar4d: {error}", file=sys.stderr)
            return EXIT_TRAINING_STOPPED
        print(summary(result))
        return 0


def carries_character(data: Path) -> bool:
    """Whether the dataset keeps a copy of its character (scene.json "asset"); a scene.json
    that cannot be read is reported when training starts, in one line."""
    try:
        return scene_asset_file(data, read_scene(data)) is not None
    except (InputError, OSError, ValueError):
        return False


def changed_settings(config: TrainConfig, saved: TrainConfig) -> list[str]:
    """The settings that differ and that a resumed run may not change, named as options are
    (``track_weight``, ``motion.nodes``; ``motion`` when the model itself differs)."""
    if config.motion.name != saved.motion.name:
        return ["motion"]
    new, old = config_to_dict(config), config_to_dict(saved)
    changed = [
        name
        for name in new
        if name not in (*SESSION_SETTINGS, "session", *SECTIONS, "motion")
        and new[name] != old[name]
    ]
    for section in (*SECTIONS, "motion"):
        if section == "session":
            continue
        prefix = "motion." if section == "motion" else ""
        changed += [
            prefix + name for name, value in new[section].items() if value != old[section][name]
        ]
    return sorted(changed)


def readable_record(run_dir: Path) -> RunRecord | None:
    """The run's record, or None when it cannot be read (run reports why, in one line: a damaged
    run, or the [train] extra missing)."""
    try:
        from avatar4d.run.run_folder import read_run_record  # torch: only when training

        return read_run_record(run_dir)
    except (InputError, OSError, ValueError, ImportError):  # ValueError: a path with a NUL
        return None


def trained_steps(result: TrainResult) -> str:
    """What this session trained: all the steps of a new run, the range of a resumed one."""
    if result.first_step == 0:
        return f"trained {result.steps:,} steps"
    if result.steps == result.first_step:
        return (
            f"no steps to train: the run has completed its {result.steps:,} steps "
            "(a larger --steps trains on)"
        )
    return (
        f"trained steps {result.first_step + 1:,}..{result.steps:,} "
        f"({result.steps - result.first_step:,} this time)"
    )


def summary(result: TrainResult) -> str:
    psnr = "n/a" if result.last_val_psnr is None else f"{result.last_val_psnr:.2f} dB"
    lines = [
        f"{trained_steps(result)} in {result.seconds:.1f} s",
        f"Gaussians: {result.num_gaussians:,}",
        f"last validation PSNR: {psnr}",
        f"checkpoint: {result.checkpoint}",
    ]
    if result.init_source is not None:
        lines.insert(1, f"initialised from: {result.init_source}")
    if result.tracks is not None:
        lines.insert(-1, f"surface tracks: {result.tracks}")
    return "\n".join(lines)
