"""A training session: the run folder checked, the data on the device, the model built.

A new run carves its initial Gaussians from the data; a resumed run restores parameters, Adam
moments, densification state, the rigidity graph and every RNG from its newest checkpoint, so
that it continues exactly where it stopped.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import torch

from avatar4d.data.dataset import Dataset
from avatar4d.data.dnerf import load_dataset
from avatar4d.data.tracks import SurfaceTracks, check_covers, read_tracks
from avatar4d.errors import InputError
from avatar4d.model.deformation import Deformation
from avatar4d.model.gaussians import make_params, per_gaussian
from avatar4d.model.init_gaussians import SceneBounds, bounds_from_cameras, initial_gaussians
from avatar4d.model.motions.motion_model import TrainTimes
from avatar4d.model.motions.registry import model_of
from avatar4d.model.shading import NORMALS_KEY
from avatar4d.model.spec import ModelSpec, build_deformation
from avatar4d.model.visual_hull import MaskedViews
from avatar4d.run.checkpoint import restore_adam_states
from avatar4d.run.config import TrainConfig
from avatar4d.run.device import resolve_device
from avatar4d.run.run_folder import (
    RunRecord,
    check_resumable,
    load_run_checkpoint,
    new_run_record,
    prepare_new_run_folder,
    remove_stale_temporaries,
    write_run_record,
)
from avatar4d.run.run_validation import check_resume_state, check_rng_states
from avatar4d.train.anchor_time import representative_time
from avatar4d.train.densify import CappedDefaultStrategy, make_strategy
from avatar4d.train.frames import FrameStack, group_by_time, stack_frames, validation_frames
from avatar4d.train.optimizers import base_learning_rates, make_optimizers, position_keys
from avatar4d.train.progress import loading_progress
from avatar4d.train.rigidity import NeighbourGraph, build_neighbour_graph
from avatar4d.train.rng import restore_rng_states, seed_everything
from avatar4d.train.time_sampling import TimeSampler
from avatar4d.train.track_loss import TrackSupervision


@dataclass
class TrainingSession:
    """Everything the loop changes or reads, built fresh or restored from a checkpoint."""

    config: TrainConfig
    record: RunRecord
    device: torch.device
    train: FrameStack
    time_values: list[float]
    time_groups: list[torch.Tensor]  # frame indices (CPU) per train time
    time_sampler: TimeSampler
    validation: list[FrameStack]
    deformation: Deformation
    params: dict[str, torch.nn.Parameter]
    optimizers: dict[str, torch.optim.Adam]
    learning_rates: dict[str, float]
    position_keys: tuple[str, ...]  # parameters whose learning rate decays
    strategy: CappedDefaultStrategy
    strategy_state: dict
    start_step: int
    init_source: str | None
    graph: NeighbourGraph | None = None  # the rigidity prior's, when it is on
    tracks: TrackSupervision | None = None  # with track_weight > 0 and a dataset that has them

    def rebuild_graph(self) -> None:
        losses = self.config.losses
        if losses.rigidity_weight > 0:
            self.graph = build_neighbour_graph(
                self.params["means"].detach(),
                losses.rigidity_neighbours,
                losses.rigidity_anchors,
            )


def is_looping(config: TrainConfig, dataset: Dataset) -> bool:
    """yes/no as configured; auto: the scene says so, or it is an avatar4d grid of a clip."""
    if config.loop != "auto":
        return config.loop == "yes"
    scene = dataset.scene or {}
    source = scene.get("source")
    if isinstance(source, dict) and isinstance(source.get("loop"), bool):
        return source["loop"]
    return scene.get("format") == "avatar4d-grid"


def carving_views(stack: FrameStack, indices: list[int]) -> MaskedViews:
    """The frames at ``indices`` as views to carve initial points from."""
    return MaskedViews(stack.cameras[indices].to("cpu"), stack.rgba[indices].cpu())


def load_frames(
    dataset: Dataset, config: TrainConfig, device: torch.device, quiet: bool
) -> tuple[FrameStack, list[FrameStack], list[float], list[torch.Tensor]]:
    """Train frames stacked, validation frames one by one, train times and their frames."""
    train_frames = dataset.train
    session = config.session
    val_frames = validation_frames(dataset.splits, session.val_images) if session.val_every else []
    with loading_progress(len(train_frames) + len(val_frames), enabled=not quiet) as advance:
        train = stack_frames(train_frames, device, advance)
        validation = [stack_frames([frame], device, advance) for frame in val_frames]
    time_values, groups = group_by_time(train_frames)
    return train, validation, time_values, [torch.tensor(g) for g in groups]


def resolve_motion(config: TrainConfig, dataset: Dataset, tracked: bool) -> Any:
    """The motion model's structure for a new run on ``dataset`` (its one-line refusals come
    before the run folder is touched)."""
    times = TrainTimes(len(group_by_time(dataset.train)[0]), tracked, dataset)
    return model_of(config.motion).resolve(config.motion, times)


def new_model(
    config: TrainConfig,
    dataset: Dataset,
    train: FrameStack,
    time_values: list[float],
    groups: list[torch.Tensor],
    device: torch.device,
    motion_structure: Any,
) -> tuple[ModelSpec, dict[str, torch.nn.Parameter], str]:
    """Resolved model settings, initial parameters, and where the points came from;
    ``motion_structure``: the motion model's, resolved from the settings (``resolve_motion``)."""
    carving_time = representative_time(train, groups)
    views = carving_views(train, groups[carving_time].tolist())
    if dataset.bounds is not None:
        bounds = SceneBounds(torch.from_numpy(dataset.bounds.center), dataset.bounds.radius)
    else:
        bounds = bounds_from_cameras(views.cameras)
    motion = model_of(config.motion)
    spec = ModelSpec(
        motion=motion_structure,
        periodic=is_looping(config, dataset),
        scene_center=[float(x) for x in bounds.center],
        scene_radius=float(bounds.radius),
        anchor_time=time_values[carving_time],
        shading=config.shading,
    )
    deformation = build_deformation(spec)
    initial = initial_gaussians(
        views,
        bounds,
        deformation,
        max_points=config.init.init_points,
        hull_resolution=config.init.init_hull_resolution,
        init_opacity=config.init.init_opacity,
        generator=torch.Generator().manual_seed(config.seed),
    )
    spec = replace(spec, motion=motion.after_init(spec.motion, initial.tensors))
    params = make_params({k: v.to(device) for k, v in initial.tensors.items()})
    return spec, params, initial.source


def start_session(
    dataset_root: Path,
    run_dir: Path,
    config: TrainConfig | None,
    resume: bool,
    force: bool,
    quiet: bool,
    resume_from: int | None = None,
    preset: str | None = None,
) -> TrainingSession:
    """Check the run folder, load the data, and build or restore the model and its state;
    a resumed run continues from its newest checkpoint, or from ``resume_from``'s."""
    if resume:
        saved = check_resumable(run_dir, dataset_root, resume_from)
        config = saved.config if config is None else config
    elif config is None:
        raise ValueError("a new run needs a TrainConfig")
    elif resume_from is not None:
        raise InputError("--from", "needs --resume (it names the checkpoint to resume from)")
    config.validate()
    device = resolve_device(config.device)
    if resume:
        checkpoint = load_run_checkpoint(run_dir, saved, resume_from, device)
        check_rng_states(checkpoint.meta.get("rng"), checkpoint.path)
        if config.steps < checkpoint.step:
            raise InputError(
                "--steps",
                f"{config.steps} is fewer than the {checkpoint.step} steps the checkpoint "
                "has trained",
            )
    if device.type == "cpu" and config.cpu_threads > 0:
        torch.set_num_threads(config.cpu_threads)
    dataset = load_dataset(dataset_root)
    tracks = usable_tracks(dataset, config)  # before the run folder is touched
    structure = None if resume else resolve_motion(config, dataset, tracked=tracks is not None)
    if not resume:
        prepare_new_run_folder(run_dir, force)
    remove_stale_temporaries(run_dir)
    seed_everything(config.seed)
    train, validation, time_values, groups = load_frames(dataset, config, device, quiet)

    if resume:
        spec = saved.model
        params = make_params(checkpoint.params)
        record = replace(saved, config=config)
        start_step, init_source = checkpoint.step, None
    else:
        spec, params, init_source = new_model(
            config, dataset, train, time_values, groups, device, structure
        )
        record = new_run_record(config, spec, dataset_root, preset)
        start_step = 0
    learning_rates = base_learning_rates(config, spec.scene_radius)
    optimizers = make_optimizers(params, learning_rates)
    strategy = make_strategy(config)
    strategy.check_sanity(per_gaussian(params), per_gaussian(optimizers))
    strategy_state = strategy.initialize_state(scene_scale=spec.scene_radius)
    if resume:
        check_resume_state(
            checkpoint.meta,
            checkpoint.strategy_tensors,
            checkpoint.graph_tensors,
            checkpoint.adam,
            checkpoint.params,
            strategy_state,
            len(params["means"]),
            checkpoint.path,
        )
        restore_adam_states(optimizers, params, checkpoint.adam)
        strategy_state.update(checkpoint.meta.get("strategy_scalars", {}))
        strategy_state.update(checkpoint.strategy_tensors)
    write_run_record(run_dir, record)
    session = TrainingSession(
        config=config,
        record=record,
        device=device,
        train=train,
        time_values=time_values,
        time_groups=groups,
        time_sampler=TimeSampler.around(
            time_values,
            spec.anchor_time,
            spec.periodic,
            round(config.time_curriculum_fraction * config.steps),
        ),
        validation=validation,
        deformation=build_deformation(spec),
        params=params,
        optimizers=optimizers,
        learning_rates=learning_rates,
        position_keys=position_keys(config),
        strategy=strategy,
        strategy_state=strategy_state,
        start_step=start_step,
        init_source=init_source,
    )
    if resume:
        if checkpoint.graph_tensors:
            session.graph = NeighbourGraph.from_tensors(checkpoint.graph_tensors)
        elif config.losses.rigidity_weight > 0:
            session.rebuild_graph()
        restore_rng_states(checkpoint.meta["rng"])
    else:
        session.rebuild_graph()
    if tracks is not None:
        session.tracks = TrackSupervision.for_train_times(
            tracks, time_values, spec.anchor_time, spec.scene_radius, device
        )
        saved = checkpoint.track_tensors if resume else {}
        if not session.tracks.restore(saved, len(params["means"])):
            session.tracks.bind(params["means"].detach())
        if not resume and NORMALS_KEY in params:  # shading: start from the surface's normals
            session.tracks.set_normals(params[NORMALS_KEY].data)
    return session


def usable_tracks(dataset: Dataset, config: TrainConfig) -> SurfaceTracks | None:
    """The dataset's surface tracks, checked to cover every train time, when the track loss
    is on; None when it is off or the dataset has none."""
    if config.losses.track_weight <= 0:
        return None
    tracks = read_tracks(dataset)
    if tracks is not None:
        check_covers(tracks, group_by_time(dataset.train)[0])
        needing = [
            option_name
            for option_name, weight in (
                ("--track-normal-weight", config.losses.track_normal_weight),
                ("--track-flat-weight", config.losses.track_flat_weight),
            )
            if weight > 0
        ]
        if needing and tracks.normals is None:
            raise InputError(
                tracks.path,
                "has no surface normals (grids written before them); rebuild the grid with "
                f"avatar4d grid, or train with {' 0 and '.join(needing)} 0",
            )
    return tracks
