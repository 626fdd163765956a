"""The sections of a run's settings (TrainConfig): each a dataclass of its own options."""

from __future__ import annotations

from dataclasses import dataclass

from avatar4d.errors import InputError
from avatar4d.settings_checks import check_finite, check_not_negative, check_positive

MAX_INIT_HULL_RESOLUTION = 256  # voxels per axis: 256³ centres take 200 MB; the GPU preset uses 160


@dataclass
class OptimiserSettings:
    """Learning rates of the Gaussians' own parameters (each motion model has its own)."""

    lr_means: float = 1.6e-4
    """Learning rate of the canonical positions, in units of the bounds radius."""
    lr_position_final_factor: float = 0.01
    """Position learning rates decay exponentially to this fraction by the last step."""
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

    def position_lr_factor(self, step: int, steps: int) -> float:
        """Exponential decay from 1 at step 0 to ``lr_position_final_factor`` at the last step."""
        progress = min(max(step / max(steps, 1), 0.0), 1.0)
        return self.lr_position_final_factor**progress

    def validate(self) -> None:
        check_finite(self)


@dataclass
class LossSettings:
    """What the loss weighs: the images, the priors and the dataset's depth and surface tracks."""

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
    random_background: bool = True
    """Composite prediction and ground truth on the same random colour each step (teaches alpha)."""

    def validate(self) -> None:
        check_positive(self, ("rigidity_neighbours", "rigidity_anchors"))
        check_not_negative(
            self,
            (
                "motion_smoothness",
                "rigidity_weight",
                "depth_weight",
                "track_weight",
                "track_normal_weight",
                "track_flat_weight",
                "ssim_weight",
            ),
        )
        check_finite(self)
        if not 0.0 <= self.ssim_weight <= 1.0:
            raise InputError("--ssim-weight", f"must be in [0, 1], got {self.ssim_weight}")


@dataclass
class InitSettings:
    """The initial Gaussians, carved from the train masks."""

    init_points: int = 6000
    """Most initial Gaussians, taken from the visual hull of the train masks."""
    init_hull_resolution: int = 64
    """Voxels along each axis of the bounds cube when carving the visual hull."""
    init_opacity: float = 0.1
    """Opacity of every initial Gaussian."""

    def validate(self) -> None:
        check_positive(self, ("init_points", "init_hull_resolution"))
        if self.init_hull_resolution > MAX_INIT_HULL_RESOLUTION:
            raise InputError(
                "--init-hull-resolution",
                f"must be at most {MAX_INIT_HULL_RESOLUTION} voxels per axis, "
                f"got {self.init_hull_resolution}",
            )
        check_finite(self)
        if not 0.0 < self.init_opacity < 1.0:
            raise InputError("--init-opacity", f"must be in (0, 1), got {self.init_opacity}")


@dataclass
class DensifySettings:
    """Densification: when Gaussians are cloned, split and pruned."""

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

    def validate(self) -> None:
        check_positive(self, ("refine_every", "max_gaussians"))
        check_not_negative(self, ("reset_opacity_every",))
        check_finite(self)
        if not 0.0 <= self.refine_start_fraction <= self.refine_stop_fraction <= 1.0:
            raise InputError(
                "--refine-start-fraction",
                "need 0 <= refine start fraction <= refine stop fraction <= 1",
            )


@dataclass
class SessionSettings:
    """How a session reports and saves; a resumed run may change these."""

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

    def validate(self) -> None:
        check_positive(self, ("val_images", "keep_checkpoints", "log_every"))
        check_not_negative(self, ("checkpoint_every", "val_every"))
