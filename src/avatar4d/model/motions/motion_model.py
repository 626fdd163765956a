"""What every motion model declares: the protocol a registry entry fulfils."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

if TYPE_CHECKING:
    from avatar4d.model.deformation import Deformation


class MotionSettings(Protocol):
    """A motion model's settings: a dataclass whose fields are its ``--motion.*`` options."""

    name: ClassVar[str]

    def validate(self) -> None:
        """Raise InputError naming the ``--motion.*`` option when a value cannot work."""
        ...


class MotionStructure(Protocol):
    """What a run resolved from the settings (saved in config.yml's ``model.motion``): with
    the scene's settings, enough to rebuild the deformation and check a checkpoint's tensors."""

    name: ClassVar[str]


@dataclass(frozen=True)
class TrainTimes:
    """What a new run knows when it resolves the motion settings into a structure."""

    count: int  # distinct train times
    tracked: bool  # surface tracks will supervise the motion
    dataset: Any = None  # the Dataset trained on (a model driven by its asset reads it)


@dataclass(frozen=True)
class Timing:
    """The scene's time settings every deformation takes."""

    periodic: bool  # the clip loops: t = 1 is t = 0
    anchor_time: float  # the canonical pose is the pose at this time


class MotionModel(Protocol):
    """A registry entry: everything the trainer, the loader and the exports ask of a model."""

    name: str
    summary: str  # one line for --help
    settings_type: type[MotionSettings]
    structure_type: type[MotionStructure]
    # Tensors whose learning rate decays with the positions' (world-space positions).
    position_keys: tuple[str, ...]
    # Tensors kept float32 when a model is stored in half precision (positions: float16 is
    # good to about 1e-3 of a value's distance from the origin, a visible fraction of a pixel).
    full_precision_keys: tuple[str, ...]

    def resolve(self, settings: Any, times: TrainTimes) -> Any:
        """The structure a new run builds from these settings."""
        ...

    def learning_rates(self, settings: Any, scene_radius: float) -> dict[str, float]:
        """Learning rate of each motion tensor (positions in scene units)."""
        ...

    def expected_shapes(self, structure: Any, count: int) -> dict[str, tuple[int, ...]]:
        """The motion tensors a model of ``structure`` with ``count`` Gaussians holds."""
        ...

    def check_structure(self, values: dict[str, Any], where: str) -> Any:
        """config.yml's ``model.motion`` mapping as a structure, every value checked
        (InputError naming ``where`` and the setting)."""
        ...

    def index_tensors(self, structure: Any) -> dict[str, tuple[str, int]]:
        """Integer tensors that index another: name -> (what they index, how many there are)."""
        ...

    def disagreement(self, structure: Any, settings: Any) -> str | None:
        """Why a saved structure cannot have been resolved from these saved settings."""
        ...

    def after_init(self, structure: Any, tensors: dict[str, Any]) -> Any:
        """The structure as the initial tensors made it (e.g. fewer nodes than asked when
        there are fewer initial points)."""
        ...

    def build(self, structure: Any, timing: Timing) -> Deformation:
        """The deformation (imports torch)."""
        ...
