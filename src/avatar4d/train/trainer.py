"""The training loop: one train time per step, a batch of cameras that saw it, one render call.

Each step draws a train time and up to ``batch_cameras`` of the cameras that saw it, poses the
Gaussians at that time once, rasterises every camera of the batch in one call, and compares
with the ground truth composited on the same random background colour. Densification is
gsplat's DefaultStrategy (see ``densify``). On a GPU the loop does not wait for the device
except at log, validation and checkpoint steps.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path

import torch

from avatar4d.model.render import render_gaussians
from avatar4d.raster.host_copy import to_device
from avatar4d.run.checkpoint import checkpoint_name, save_checkpoint
from avatar4d.run.config import TrainConfig
from avatar4d.run.run_folder import TENSORBOARD, checkpoints_folder
from avatar4d.train import losses
from avatar4d.train.densify import densify_after_backward, is_packed
from avatar4d.train.optimizers import set_position_learning_rates
from avatar4d.train.progress import TrainProgress, require_tensorboard
from avatar4d.train.rigidity import rigidity_loss
from avatar4d.train.rng import capture_rng_states
from avatar4d.train.session import TrainingSession, start_session
from avatar4d.train.track_loss import REBIND_EVERY
from avatar4d.train.validation import validation_psnr


@dataclass(frozen=True)
class TrainResult:
    steps: int  # steps completed in the run (all sessions)
    num_gaussians: int
    seconds: float  # wall-clock of this session, including loading
    last_val_psnr: float | None
    checkpoint: Path  # the newest checkpoint's .json
    init_source: str | None  # how the Gaussians were initialised; None when resumed
    tracks: str | None = None  # how the surface tracks were used; None when they were not
    first_step: int = 0  # steps the run had completed before this session (resumed: > 0)


class TrainingDiverged(Exception):
    """The loss or the parameters became non-finite; the last good checkpoint is kept."""

    def __init__(self, step: int, last_good: Path | None) -> None:
        self.step = step
        self.last_good = last_good
        kept = f"last good checkpoint: {last_good}" if last_good else "no checkpoint was written"
        super().__init__(
            f"training diverged: non-finite loss or parameters at step {step} ({kept})"
        )


class TrainingOutOfMemory(Exception):
    """The device ran out of memory during a step; the last checkpoint is kept."""

    def __init__(self, step: int, gaussians: int, device: torch.device, last: Path | None) -> None:
        where = f"out of memory on {device} at step {step} with {gaussians:,} Gaussians"
        anew = "train anew (--force) with a lower --max-gaussians or --batch-cameras"
        if last is None:
            message = f"{where} (no checkpoint was written); {anew}"
        else:
            message = (
                f"{where} (last checkpoint: {last}); {anew}, or continue with --resume on a "
                "device with more memory"
            )
        super().__init__(message)


class FiniteWatch:
    """Remembers, on the device, the first step whose loss was not finite (no host sync).

    Steps are counted from 1, as in the checkpoint names: step k is the k-th update.
    """

    def __init__(self, device: torch.device) -> None:
        self.first_bad = torch.full((), -1, dtype=torch.long, device=device)

    def record(self, step: int, loss: torch.Tensor) -> None:
        self.first_bad.masked_fill_((self.first_bad < 0) & ~torch.isfinite(loss.detach()), step)

    def first_bad_step(self) -> int | None:
        value = int(self.first_bad)
        return None if value < 0 else value


def normals_note(normals_set: float | None) -> str:
    """How a new shaded run's normals started (the summary line of its tracks)."""
    if not normals_set:
        return "; they carry no normals: the shading's normals started pointing outwards"
    return f"; normals taken from them for {normals_set:.0%} of the initial Gaussians"


def all_finite(params: dict[str, torch.Tensor]) -> bool:
    return all(bool(torch.isfinite(param).all()) for param in params.values())


def training_step(session: TrainingSession, step: int) -> torch.Tensor:
    """One optimisation step (render, loss, backward, Adam, densification); returns the loss."""
    config, params = session.config, session.params
    radius = session.record.model.scene_radius
    slot = session.time_sampler.draw(step)
    members = session.time_groups[slot]
    pick = to_device(members[torch.randperm(len(members))[: config.batch_cameras]], session.device)
    if config.losses.random_background:
        background = to_device(torch.rand(3), session.device)
    else:
        background = torch.ones(3, device=session.device)

    set_position_learning_rates(
        session.optimizers,
        session.learning_rates,
        config.position_lr_factor(step),
        session.position_keys,
    )
    posed = session.deformation.deform(params, session.time_values[slot])
    target_depth = session.train.depths(pick) if config.losses.depth_weight > 0 else None
    output = render_gaussians(
        posed, session.train.cameras[pick], background, with_depth=target_depth is not None
    )
    session.strategy.step_pre_backward(
        params, session.optimizers, session.strategy_state, step, output.info
    )
    target_rgba = session.train.images(pick)
    target = losses.composite(target_rgba, background)
    loss = losses.photometric_loss(output.rgb, target, config.losses.ssim_weight)
    if target_depth is not None:
        depth = losses.depth_loss(
            output.depth, output.alpha, target_depth, target_rgba[..., 3:], radius
        )
        loss = loss + config.losses.depth_weight * depth
    if config.losses.motion_smoothness > 0:
        smoothness = session.deformation.smoothness(params, radius)
        loss = loss + config.losses.motion_smoothness * smoothness
    if session.graph is not None:
        rigidity = rigidity_loss(session.graph, params["means"], posed, radius)
        loss = loss + config.losses.rigidity_weight * rigidity
    if session.tracks is not None:
        track = session.tracks.loss(slot, params["means"], posed.means)
        loss = loss + config.losses.track_weight * track
        if config.losses.track_normal_weight > 0:
            turn = session.tracks.normal_loss(slot, posed.rotation_since_canonical)
            loss = loss + config.losses.track_normal_weight * turn
        if config.losses.track_flat_weight > 0:
            flat = session.tracks.flat_loss(params["quats"], params["scales"])
            loss = loss + config.losses.track_flat_weight * flat
    loss.backward()
    for optimizer in session.optimizers.values():
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
    densify_after_backward(
        session.strategy,
        params,
        session.optimizers,
        session.strategy_state,
        step,
        output.info,
        packed=is_packed(output.info),
    )
    if session.graph is not None and session.strategy.is_refine_step(step):
        session.rebuild_graph()  # the Gaussians were cloned, split or pruned
    if session.tracks is not None and (
        session.strategy.is_refine_step(step) or (step + 1) % REBIND_EVERY == 0
    ):
        session.tracks.bind(params["means"].detach())
    if step % config.densify.refine_every == 0:
        session.deformation.refresh(params)
    return loss.detach()


def save_session(session: TrainingSession, run_dir: Path, completed: int) -> Path:
    return save_checkpoint(
        checkpoints_folder(run_dir),
        completed,
        session.params,
        session.optimizers,
        session.strategy_state,
        meta={
            "rng": capture_rng_states(),
            "dataset_fingerprint": session.record.dataset_fingerprint,
            "dataset": str(session.record.dataset),
            "software_version": session.record.software_version,
        },
        keep=session.config.session.keep_checkpoints,
        graph_tensors=session.graph.as_tensors() if session.graph is not None else None,
        track_tensors=(
            session.tracks.binding.as_tensors()
            if session.tracks is not None and session.tracks.binding is not None
            else None
        ),
    )


def _due(completed: int, every: int) -> bool:
    return every > 0 and completed % every == 0


def run_steps(
    session: TrainingSession, run_dir: Path, end: int, progress: TrainProgress
) -> tuple[Path | None, float | None]:
    """Steps from the session's start to ``end``; -> (newest checkpoint, last val PSNR)."""
    config = session.config
    watch = FiniteWatch(session.device)
    last_good = None
    if session.start_step > 0:
        last_good = checkpoints_folder(run_dir) / f"{checkpoint_name(session.start_step)}.json"
    last_psnr = None
    loss_sum = torch.zeros((), device=session.device)
    losses_in_sum = 0

    def check_finite(completed: int) -> None:
        bad = watch.first_bad_step()
        if bad is None and not all_finite(session.params):
            bad = completed
        if bad is not None:
            raise TrainingDiverged(bad, last_good)

    out_of_memory_at = None
    for step in range(session.start_step, end):
        completed = step + 1
        try:
            loss = training_step(session, step)
            watch.record(completed, loss)
            loss_sum += loss
            losses_in_sum += 1
            if session.device.type == "cpu":  # reading a CPU tensor is free: the exact step
                check_finite(completed)
            is_last = completed == end
            if _due(completed, config.session.log_every) or is_last:
                check_finite(completed)
                mean_loss = float(loss_sum) / losses_in_sum
                progress.log_training(completed, mean_loss, len(session.params["means"]))
                loss_sum.zero_()
                losses_in_sum = 0
            if _due(completed, config.session.val_every) or (
                is_last and config.session.val_every > 0
            ):
                check_finite(completed)
                psnr = validation_psnr(session.params, session.deformation, session.validation)
                if not math.isnan(psnr):
                    last_psnr = psnr
                    progress.log_validation(completed, psnr)
            if _due(completed, config.session.checkpoint_every) or is_last:
                check_finite(completed)
                last_good = save_session(session, run_dir, completed)
        except torch.cuda.OutOfMemoryError:  # torch.OutOfMemoryError since 2.5
            out_of_memory_at = completed
            break
    if out_of_memory_at is not None:  # raised here, so no frame of the step's is kept alive
        count = len(session.params["means"])
        raise TrainingOutOfMemory(out_of_memory_at, count, session.device, last_good)
    return last_good, last_psnr


def train(
    dataset_root: Path,
    run_dir: Path,
    config: TrainConfig | None,
    *,
    resume: bool = False,
    force: bool = False,
    tensorboard: bool = False,
    quiet: bool = False,
    stop_after: int | None = None,
    resume_from: int | None = None,
    preset: str | None = None,
) -> TrainResult:
    """Train (or, with ``resume``, continue) the run in ``run_dir`` on the dataset.

    ``config`` None on resume means the run's own config.yml. ``stop_after`` ends this session
    (with a checkpoint) after that many completed steps while the schedules still follow
    ``config.steps``; a later resume continues exactly where it stopped. ``resume_from``: the
    step of the checkpoint to resume from (default: the newest). ``preset``: the preset a new
    run's settings came from, recorded in config.yml (a resumed run keeps its own).
    """
    started = time.perf_counter()
    if tensorboard:
        require_tensorboard()  # before any work, not after loading the data
    threads = torch.get_num_threads()  # start_session may change it for a CPU run
    try:
        dataset_root, run_dir = Path(dataset_root), Path(run_dir)
        session = start_session(
            dataset_root, run_dir, config, resume, force, quiet, resume_from, preset
        )
        config = session.config
        end = config.steps if stop_after is None else min(config.steps, stop_after)
        board = run_dir / TENSORBOARD if tensorboard else None
        with TrainProgress(config.steps, session.start_step, not quiet, board) as progress:
            last_good, last_psnr = run_steps(session, run_dir, end, progress)
        if last_good is None:  # no step was due (stop_after=0): keep the initial model
            last_good = save_session(session, run_dir, session.start_step)
    finally:
        torch.set_num_threads(threads)
    tracks = None
    if session.tracks is not None:
        tracks = (
            f"{session.tracks.anchor_positions.shape[0]:,} points, weight "
            f"{config.losses.track_weight:g}; {session.tracks.bound_fraction():.0%} of the "
            "Gaussians bound to them"
        )
        if session.record.model.shading == "lambert" and session.start_step == 0:
            tracks += normals_note(session.tracks.normals_set)
    return TrainResult(
        steps=max(end, session.start_step),
        num_gaussians=len(session.params["means"]),
        seconds=time.perf_counter() - started,
        last_val_psnr=last_psnr,
        checkpoint=last_good,
        init_source=session.init_source,
        tracks=tracks,
        first_step=session.start_step,
    )
