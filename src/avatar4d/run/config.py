"""TrainConfig: every setting of a training run, saved to the run folder's config.yml."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from avatar4d.errors import InputError

MAX_INIT_HULL_RESOLUTION = 256  # voxels per axis: 256³ centres take 200 MB; the GPU preset uses 160


@dataclass
class TrainConfig:
    """Settings of one training run (the CPU-sized defaults; see ``for_gpu``)."""

    steps: int = 2000
    """Optimisation steps; each renders a batch of cameras at one train time."""
    batch_cameras: int = 4
    """Cameras rendered per step, all at the same train time (at most those that saw it)."""
    device: str = "auto"
    """Where to train: auto (CUDA when available), cpu, cuda, cuda:N."""
    cpu_threads: int = 1
    """PyTorch threads when training on the CPU; 0 = PyTorch's default. One is fastest for the
    small tensors of CPU-sized runs and does not collapse when other work shares the cores."""
    seed: int = 0
    """Seed of every random choice (initial points, batches, backgrounds, splits)."""

    lr_means: float = 1.6e-4
    """Learning rate of the canonical positions, in units of the bounds radius."""
    lr_motion_means: float = 0.005
    """Learning rate of the position control points, in units of the bounds radius: 30 times
    the canonical positions', since the motion starts at zero and must travel as far as the
    character moves (higher drifts on long runs)."""
    lr_position_final_factor: float = 0.01
    """Position learning rates decay exponentially to this fraction by the last step."""
    lr_motion_quats: float = 1e-3
    """Learning rate of the rotation control points."""
    lr_node_motion_means: float = 0.005
    """Learning rate of the nodes' position control points (with ``--motion-nodes``), in units
    of the bounds radius."""
    lr_node_means: float = 1.6e-4
    """Learning rate of the nodes' canonical positions, in units of the bounds radius."""
    lr_node_radii: float = 5e-3
    """Learning rate of the nodes' log radii."""
    lr_scales: float = 5e-3
    """Learning rate of the log scales."""
    lr_quats: float = 1e-3
    """Learning rate of the canonical rotations."""
    lr_opacities: float = 5e-2
    """Learning rate of the opacity logits."""
    lr_colors: float = 2.5e-3
    """Learning rate of the colours (degree-0 SH coefficients)."""
    lr_normals: float = 2e-3
    """Learning rate of the canonical normals (with ``--shading lambert``)."""
    lr_light: float = 2.5e-3
    """Learning rate of the light's coefficients (with ``--shading lambert``)."""

    ssim_weight: float = 0.2
    """Loss = (1 - w) * L1 + w * (1 - SSIM)."""
    motion_smoothness: float = 1e-3
    """Weight of the prior on the second differences of the motion control points."""
    rigidity_weight: float = 0.0
    """Weight of the local rigidity prior (neighbours move and turn together); 0 = off (it
    measured no gain on the demo grid, and costs on independently moving parts)."""
    rigidity_neighbours: int = 8
    """Nearest canonical neighbours each Gaussian is tied to by the rigidity prior."""
    rigidity_anchors: int = 50_000
    """Most Gaussians the rigidity prior is evaluated at (a random subset when more)."""
    depth_weight: float = 0.0
    """Weight of the depth loss (mean |rendered - true depth| over covered pixels, in bounds
    radii) when the train frames carry depth maps (avatar4d grids do); 0 = off. Off in the
    CPU preset: at 64² the blobs are large next to the detail and their blended depth cannot
    match the surface's (demo grid: novel view 31.9 dB off, 31.4 at 0.1, 25.5 at 1.0)."""
    track_weight: float = 0.1
    """Weight of the surface-track loss (mean |displacement - tracked displacement| of the
    Gaussians, in bounds radii) when the dataset has surface tracks (avatar4d grids do);
    0 = off. Soldier Walk 64² x 12 times, 2,000 steps: novel view 28.1 dB without, 31.2 at
    0.1, 30.7 at 1 and at 10."""
    track_normal_weight: float = 0.0
    """Weight of the loss that turns each Gaussian as the surface under it turns (the surface
    tracks' normals, which avatar4d grids write; needs ``--track-weight`` > 0); 0 = off."""
    track_flat_weight: float = 0.0
    """Weight of the loss that flattens each Gaussian onto the surface under it in the
    canonical pose: its shortest axis along the tracks' surface normal, and short against
    its middle one (needs ``--track-weight`` > 0 and tracks with normals); 0 = off."""
    shading: Literal["static", "lambert"] = "static"
    """static: each Gaussian's colour is fixed; lambert: an albedo lit along a normal that turns
    with the motion, under a light learned from the data (lights fixed in the world brighten
    and darken a turning part; avatar4d.model.shading). The normals start from the surface
    tracks' normals when the tracks are used (``--track-weight`` > 0 and the file has normals),
    else pointing away from the centre of the initial points."""
    random_background: bool = True
    """Composite prediction and ground truth on the same random colour each step (teaches alpha)."""

    motion_control_points: int = 0
    """Control points of each motion spline (each Gaussian's, or each node's with
    ``--motion-nodes``); 0 = one per train time when surface tracks supervise the motion (4 to
    120 per node, 4 to 60 per Gaussian), else one per two train times (4 to 32)."""
    motion_nodes: int = 0
    """Control nodes that carry the motion, each Gaussian following its nearest ones (skinning
    learned from the data); 0 = every Gaussian carries its own motion spline."""
    node_neighbours: int = 4
    """Nodes each Gaussian follows, blended by distance (with ``--motion-nodes``)."""
    node_residual_points: int = 0
    """Control points of a per-Gaussian translation spline added to the nodes' motion (with
    ``--motion-nodes``; learning rate ``--lr-motion-means``); 0 = none."""
    time_curriculum_fraction: float = 0.0
    """Over this fraction of the steps, widen the train times used from the initial one to all."""
    loop: Literal["auto", "yes", "no"] = "auto"
    """Whether the clip loops (t = 1 is t = 0); auto: yes for avatar4d grids of a clip."""

    init_points: int = 6000
    """Most initial Gaussians, taken from the visual hull of the train masks."""
    init_hull_resolution: int = 64
    """Voxels along each axis of the bounds cube when carving the visual hull."""
    init_opacity: float = 0.1
    """Opacity of every initial Gaussian."""

    refine_every: int = 100
    """Densify (clone, split, prune) every this many steps."""
    refine_start_fraction: float = 0.05
    """Densification starts after this fraction of the steps."""
    refine_stop_fraction: float = 0.6
    """Densification stops after this fraction of the steps."""
    reset_opacity_every: int = 0
    """Reset opacities to a low value every this many steps while densifying; 0 = never."""
    grow_grad2d: float = 2e-4
    """Gaussians whose mean image-plane gradient exceeds this are cloned or split."""
    grow_scale3d: float = 0.01
    """Clone below this largest scale, split above it (fraction of the bounds radius)."""
    prune_opacity: float = 0.005
    """Gaussians below this opacity are removed at each densification."""
    prune_scale3d: float = 0.2
    """Gaussians larger than this (fraction of the bounds radius) are removed once opacity
    resets have begun (never when resets are off)."""
    max_gaussians: int = 200_000
    """Cap on the number of Gaussians: beyond it the least opaque ones are removed."""

    val_every: int = 500
    """Render the validation frames and report their PSNR every this many steps; 0 = never."""
    val_images: int = 6
    """Validation frames (the val split, or a fixed sample of test frames)."""
    checkpoint_every: int = 1000
    """Write a checkpoint every this many steps (and always at the end); 0 = only at the end."""
    keep_checkpoints: int = 2
    """Checkpoints kept in the run folder (the newest ones)."""
    log_every: int = 25
    """Update the progress line (loss, Gaussians) every this many steps."""

    @classmethod
    def for_gpu(cls) -> TrainConfig:
        """Bigger defaults for a CUDA GPU (gsplat rasteriser): more steps, cameras, Gaussians."""
        return cls(
            # Soldier Walk 512², depth loss 0.1: novel view 35.0 dB at 20k steps (271 s on an
            # H200), 33.9 at 10k; 16 cameras a step at 10k: 34.4 (175 s).
            steps=20_000,
            batch_cameras=8,
            # Measured on Soldier Walk Grid-24x60 512² (docs/benchmarks.md): novel view 30.3 dB
            # at 0.005, 31.6 at 0.003, 32.2 at 0.002, 33.4 at 0.001 (10k steps).
            lr_motion_means=0.001,
            # The motion through 2048 shared nodes plus an 8-point per-Gaussian residual:
            # against per-Gaussian splines, Soldier Walk 512² at 20k steps (8ef6882, nodes
            # alone): novel time +1.0 dB, novel both +1.0, novel view -1.0; render 1,710 FPS,
            # 8.6 MB. At 10k steps (8e4eddb), node motion lr 0.001 / 0.002 / 0.004: novel view
            # 33.02 / 33.83 / 33.42 dB; the residual adds +0.3 view and +0.5 novel time.
            motion_nodes=2048,
            lr_node_motion_means=0.002,
            node_residual_points=8,
            # Soldier Walk 512², 10k steps: novel view 33.9 dB with 0.1, 33.3 without.
            depth_weight=0.1,
            # Soldier Walk 512², 10k steps: novel view / time / both 34.1 / 34.0 / 32.8 dB
            # without tracks; 35.0 / 35.3 / 34.0 at 0.03, 35.5 / 36.1 / 34.9 at 0.1,
            # 35.6 / 36.1 / 35.1 at 0.3, 35.4 / 36.1 / 35.1 at 1, 34.9 / 35.8 / 34.9 at 3.
            track_weight=0.3,
            # Static shading, no normal loss: lambert + normal loss 0.1 gained 0.1 to 0.8 dB
            # (Robot Dance, Soldier Walk 512², 10k steps) but the Soldier row trained 330 s
            # (8e3f692) and, made cheaper since, still 349 s (8799119; 266 static at 777bfb5);
            # docs/benchmarks.md.
            grow_grad2d=1e-4,
            init_points=100_000,
            init_hull_resolution=160,
            refine_every=100,
            refine_stop_fraction=0.6,
            max_gaussians=1_000_000,
            val_every=1000,
            checkpoint_every=2500,
            log_every=50,
        )

    def position_lr_factor(self, step: int) -> float:
        """Exponential decay from 1 at step 0 to ``lr_position_final_factor`` at the last step."""
        progress = min(max(step / max(self.steps, 1), 0.0), 1.0)
        return self.lr_position_final_factor**progress

    def validate(self) -> None:
        """Raise InputError naming the option when a value cannot work."""
        positive = (
            "steps",
            "batch_cameras",
            "init_points",
            "init_hull_resolution",
            "refine_every",
            "max_gaussians",
            "val_images",
            "keep_checkpoints",
            "log_every",
            "rigidity_neighbours",
            "rigidity_anchors",
            "node_neighbours",
        )
        for name in positive:
            if getattr(self, name) <= 0:
                raise InputError(_option(name), f"must be positive, got {getattr(self, name)}")
        if self.init_hull_resolution > MAX_INIT_HULL_RESOLUTION:
            raise InputError(
                "--init-hull-resolution",
                f"must be at most {MAX_INIT_HULL_RESOLUTION} voxels per axis, "
                f"got {self.init_hull_resolution}",
            )
        not_negative = (
            "checkpoint_every",
            "val_every",
            "reset_opacity_every",
            "motion_smoothness",
            "rigidity_weight",
            "depth_weight",
            "track_weight",
            "track_normal_weight",
            "track_flat_weight",
            "ssim_weight",
            "motion_control_points",
            "motion_nodes",
            "node_residual_points",
            "cpu_threads",
        )
        for name in not_negative:
            if getattr(self, name) < 0:
                raise InputError(_option(name), f"must not be negative, got {getattr(self, name)}")
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if isinstance(value, float) and not math.isfinite(value):
                raise InputError(_option(field.name), f"must be a finite number, got {value}")
            if field.name.startswith("lr_") and not getattr(self, field.name) > 0:
                raise InputError(_option(field.name), "learning rates must be positive")
        if not 0.0 < self.init_opacity < 1.0:
            raise InputError("--init-opacity", f"must be in (0, 1), got {self.init_opacity}")
        if not 0.0 <= self.ssim_weight <= 1.0:
            raise InputError("--ssim-weight", f"must be in [0, 1], got {self.ssim_weight}")
        if not 0.0 <= self.time_curriculum_fraction <= 1.0:
            raise InputError("--time-curriculum-fraction", "must be in [0, 1]")
        if not 0.0 <= self.refine_start_fraction <= self.refine_stop_fraction <= 1.0:
            raise InputError(
                "--refine-start-fraction",
                "need 0 <= refine start fraction <= refine stop fraction <= 1",
            )
        if 0 < self.node_residual_points < 4:
            raise InputError("--node-residual-points", "a cubic spline needs at least 4 (or 0)")
        if 0 < self.motion_control_points < 4:
            raise InputError("--motion-control-points", "a cubic spline needs at least 4 (or 0)")
        if self.loop not in ("auto", "yes", "no"):
            raise InputError("--loop", f"must be auto, yes or no, got {self.loop!r}")
        if self.shading not in ("static", "lambert"):
            raise InputError("--shading", f"must be static or lambert, got {self.shading!r}")


# The presets: complete settings a new run starts from (``train --preset``), each option
# given on the command line overriding one of them; config.yml records which one.
PRESETS = {"cpu": TrainConfig, "gpu": TrainConfig.for_gpu}


def preset_config(name: str) -> TrainConfig:
    """A fresh instance of the preset's complete settings."""
    return PRESETS[name]()


def _option(field_name: str) -> str:
    return "--" + field_name.replace("_", "-")


# Settings earlier versions wrote to config.yml that no longer exist. They only chose how a
# run began, so a run folder that has them still loads and resumes: they are ignored.
RETIRED_SETTINGS = ("init_from_depth",)
# Settings added later whose value, in a config.yml written before them, was another's: the
# nodes' motion learning rate was the per-Gaussian one until it had its own.
INHERITED_SETTINGS = {"lr_node_motion_means": "lr_motion_means"}
# Settings added later whose absence from a config.yml means a value other than the default:
# runs from before the surface tracks trained without them.
ABSENT_MEANS = {"track_weight": 0.0}
# Settings every config.yml has named since the first release: one without them is damaged,
# not old (the settings added since take their defaults, INHERITED_SETTINGS or ABSENT_MEANS).
FIRST_SETTINGS = [
    "steps",
    "batch_cameras",
    "device",
    "seed",
    "lr_means",
    "lr_motion_means",
    "lr_position_final_factor",
    "lr_motion_quats",
    "lr_scales",
    "lr_quats",
    "lr_opacities",
    "lr_colors",
    "ssim_weight",
    "motion_smoothness",
    "random_background",
    "motion_control_points",
    "loop",
    "init_points",
    "init_hull_resolution",
    "init_opacity",
    "refine_every",
    "refine_start_fraction",
    "refine_stop_fraction",
    "reset_opacity_every",
    "prune_opacity",
    "max_gaussians",
    "val_every",
    "val_images",
    "checkpoint_every",
    "keep_checkpoints",
    "log_every",
]


def config_to_dict(config: TrainConfig) -> dict:
    return dataclasses.asdict(config)


def config_from_dict(values: object, where: str | Path) -> TrainConfig:
    """A TrainConfig from saved values; unknown keys or wrong types are an InputError."""
    if not isinstance(values, dict):
        raise InputError(where, "config must be a mapping of setting names to values")
    missing = [name for name in FIRST_SETTINGS if name not in values]
    if missing:
        more = len(missing) - 5
        shown = ", ".join(missing[:5]) + (f" and {more} more" if more > 0 else "")
        raise InputError(where, f"settings missing: {shown}; the file is damaged")
    values = {name: value for name, value in values.items() if name not in RETIRED_SETTINGS}
    for name, source in INHERITED_SETTINGS.items():
        if name not in values and source in values:
            values[name] = values[source]
    for name, value in ABSENT_MEANS.items():
        values.setdefault(name, value)
    fields = {field.name: field for field in dataclasses.fields(TrainConfig)}
    unknown = sorted(map(str, set(values) - set(fields)))
    if unknown:
        raise InputError(where, f"unknown settings: {', '.join(unknown)}")
    defaults = TrainConfig()
    for name, value in values.items():
        expected = type(getattr(defaults, name))
        accepts_int_as_float = expected is float and type(value) is int
        if type(value) is not expected and not accepts_int_as_float:
            raise InputError(where, f"{name} must be {expected.__name__}, got {value!r}")
    config = TrainConfig(**{name: values[name] for name in values})
    for name, value in values.items():
        if type(getattr(defaults, name)) is float:
            setattr(config, name, float(value))
    return config
