"""``avatar4d train``: fit a 4D Gaussian avatar to a dataset, into a run folder."""

from __future__ import annotations

import dataclasses
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import tyro

from avatar4d.commands.extras import require_extra
from avatar4d.errors import InputError
from avatar4d.train.config import TrainConfig

if TYPE_CHECKING:
    from avatar4d.train.trainer import TrainResult

EXIT_TRAINING_STOPPED = 1  # diverged or out of memory; the last checkpoint is kept
# Settings a resumed run may change: they do not alter what the model learns.
SESSION_SETTINGS = (
    "steps",
    "device",
    "val_every",
    "val_images",
    "checkpoint_every",
    "keep_checkpoints",
    "log_every",
)


def changed_settings(config: TrainConfig) -> dict[str, object]:
    """Settings given on the command line (those that differ from TrainConfig's defaults)."""
    defaults = TrainConfig()
    return {
        f.name: getattr(config, f.name)
        for f in dataclasses.fields(TrainConfig)
        if getattr(config, f.name) != getattr(defaults, f.name)
    }


def option_name(setting: str) -> str:
    return "--" + setting.replace("_", "-")


@dataclass
class TrainCommand:
    """Train a 4D Gaussian avatar on a D-NeRF-style dataset (an avatar4d grid or any D-NeRF set).

    Writes RUN/config.yml and RUN/checkpoints/step_XXXXXX.{safetensors,json} (the newest two);
    --resume continues an interrupted run exactly where its newest checkpoint left off. The
    settings below start from a preset (--preset) and any option you give overrides it.
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
    """Starting point for the settings: cpu (small, minutes), gpu (bigger); auto picks by device."""
    tensorboard: bool = False
    """Also log loss, Gaussian count and validation PSNR to RUN/tensorboard (needs tensorboard)."""
    quiet: bool = False
    """No progress bars; only the final summary."""
    config: tyro.conf.OmitArgPrefixes[TrainConfig] = field(default_factory=TrainConfig)
    """Training settings."""

    def resolved_config(self) -> TrainConfig | None:
        """The settings to train with (None on resume: the run's own, plus session changes)."""
        from avatar4d.train.device import resolve_device
        from avatar4d.train.run_folder import read_run_record

        changed = changed_settings(self.config)
        if self.resume:
            record = read_run_record(self.out)
            saved = record.config
            # Repeating the run's own value is no change (e.g. --shading lambert again).
            fixed = sorted(
                name
                for name in set(changed) - set(SESSION_SETTINGS)
                if changed[name] != getattr(saved, name)
            )
            if fixed:
                names = ", ".join(option_name(name) for name in fixed)
                raise InputError(names, "cannot change when resuming (the run's config.yml holds)")
            return dataclasses.replace(saved, **changed) if changed else None
        preset = self.preset
        if preset == "auto":
            device = resolve_device(self.config.device)
            preset = "gpu" if device.type == "cuda" else "cpu"
        base = TrainConfig.for_gpu() if preset == "gpu" else TrainConfig()
        return dataclasses.replace(base, **changed)

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
            )
        except (TrainingDiverged, TrainingOutOfMemory) as error:
            print(f"avatar4d: {error}", file=sys.stderr)
            return EXIT_TRAINING_STOPPED
        print(summary(result))
        return 0


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
