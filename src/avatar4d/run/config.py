"""TrainConfig: every setting of a training run, saved to the run folder's config.yml.

The settings are nested: the run's own (steps, cameras, device, seed, shading, loop) and one
section each for the optimiser, the losses, the initial Gaussians, densification, what a
session reports and saves, and the motion model, which is one of the registered models'
settings (avatar4d.model.motions). On the command line every option keeps a flat name
(``--lr-means``, ``--track-weight``) but the motion model's, which are ``--motion.NAME``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Literal

import tyro

from avatar4d.errors import InputError
from avatar4d.model.motions.registry import AnyMotionSettings
from avatar4d.model.motions.spline import SplineSettings
from avatar4d.run.config_sections import (
    DensifySettings,
    InitSettings,
    LossSettings,
    OptimiserSettings,
    SessionSettings,
)
from avatar4d.settings_checks import check_finite, check_not_negative, check_positive

SECTION_TYPES: dict[str, type] = {
    "optimiser": OptimiserSettings,
    "losses": LossSettings,
    "init": InitSettings,
    "densify": DensifySettings,
    "session": SessionSettings,
}
SECTIONS = tuple(SECTION_TYPES)


@dataclass
class TrainConfig:
    """Settings of one training run (the cpu preset's values; see run/presets.py)."""

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
    shading: Literal["static", "lambert"] = "static"
    """static: each Gaussian's colour is fixed; lambert: an albedo lit along a normal that turns
    with the motion, under a light learned from the data (lights fixed in the world brighten
    and darken a turning part; avatar4d.model.shading). The normals start from the surface
    tracks' normals when the tracks are used (``--track-weight`` > 0 and the file has normals),
    else pointing away from the centre of the initial points."""
    loop: Literal["auto", "yes", "no"] = "auto"
    """Whether the clip loops (t = 1 is t = 0); auto: yes for avatar4d grids of a clip."""
    time_curriculum_fraction: float = 0.0
    """Over this fraction of the steps, widen the train times used from the initial one to all."""

    optimiser: OptimiserSettings = field(default_factory=OptimiserSettings)
    losses: LossSettings = field(default_factory=LossSettings)
    init: InitSettings = field(default_factory=InitSettings)
    densify: DensifySettings = field(default_factory=DensifySettings)
    session: SessionSettings = field(default_factory=SessionSettings)
    # Parsed by the train command as its own --motion.* options (the model is chosen first).
    motion: tyro.conf.Suppress[AnyMotionSettings] = field(default_factory=SplineSettings)

    def position_lr_factor(self, step: int) -> float:
        return self.optimiser.position_lr_factor(step, self.steps)

    def validate(self) -> None:
        """Raise InputError naming the option when a value cannot work."""
        check_positive(self, ("steps", "batch_cameras"))
        check_not_negative(self, ("cpu_threads",))
        check_finite(self)
        if not 0.0 <= self.time_curriculum_fraction <= 1.0:
            raise InputError("--time-curriculum-fraction", "must be in [0, 1]")
        if self.loop not in ("auto", "yes", "no"):
            raise InputError("--loop", f"must be auto, yes or no, got {self.loop!r}")
        if self.shading not in ("static", "lambert"):
            raise InputError("--shading", f"must be static or lambert, got {self.shading!r}")
        for name in SECTIONS:
            getattr(self, name).validate()
        self.motion.validate()


def with_settings(config: TrainConfig, **changes: Any) -> TrainConfig:
    """A copy with settings replaced, each named as its option is (``track_weight``, or
    ``motion`` for a whole motion model's settings); a name no setting has is a KeyError."""
    own = {f.name for f in dataclasses.fields(TrainConfig)}
    top = {name: value for name, value in changes.items() if name in own}
    by_section: dict[str, dict[str, Any]] = {}
    for name, value in changes.items():
        if name in own:
            continue
        section = section_of(name)
        if section is None:
            raise KeyError(f"no training setting {name!r}")
        by_section.setdefault(section, {})[name] = value
    sections = {
        section: dataclasses.replace(getattr(config, section), **values)
        for section, values in by_section.items()
    }
    return dataclasses.replace(config, **top, **sections)


def section_of(name: str) -> str | None:
    """The section that holds the setting ``name``, if any."""
    for section in SECTIONS:
        if name in {f.name for f in dataclasses.fields(SECTION_TYPES[section])}:
            return section
    return None
