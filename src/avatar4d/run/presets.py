"""The presets: complete settings a new run starts from (``train --preset``).

A preset is one TrainConfig and, for every motion model, the settings it starts from when
that model is chosen (``--motion NAME``): each option given on the command line then replaces
one value of that complete instance, whatever its value. config.yml records the preset used.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

from avatar4d.model.motions.nodes import NodeSettings
from avatar4d.model.motions.registry import motion_model
from avatar4d.model.motions.spline import SplineSettings
from avatar4d.run.config import TrainConfig, with_settings


@dataclass(frozen=True)
class Preset:
    summary: str
    config: Callable[[], TrainConfig]  # with its default motion model's settings
    # The settings of the other motion models under this preset (default: their classes').
    motions: Callable[[], dict[str, object]] = dict

    def build(self, motion: str | None = None) -> TrainConfig:
        """A fresh instance; ``motion`` names the motion model (default: the preset's)."""
        config = self.config()
        if motion is None or motion == config.motion.name:
            return config
        settings = self.motions().get(motion) or motion_model(motion).settings_type()
        return dataclasses.replace(config, motion=settings)


def gpu_config() -> TrainConfig:
    """Bigger settings for a CUDA GPU (gsplat rasteriser): more steps, cameras, Gaussians."""
    return with_settings(
        TrainConfig(),
        # Soldier Walk 512², depth loss 0.1: novel view 35.0 dB at 20k steps (271 s on an
        # H200), 33.9 at 10k; 16 cameras a step at 10k: 34.4 (175 s).
        steps=20_000,
        batch_cameras=8,
        motion=gpu_nodes(),
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


def gpu_nodes() -> NodeSettings:
    # The motion through 2048 shared nodes plus an 8-point per-Gaussian residual: against
    # per-Gaussian splines, Soldier Walk 512² at 20k steps (8ef6882, nodes alone): novel time
    # +1.0 dB, novel both +1.0, novel view -1.0; render 1,710 FPS, 8.6 MB. At 10k steps
    # (8e4eddb), node motion lr 0.001 / 0.002 / 0.004: novel view 33.02 / 33.83 / 33.42 dB;
    # the residual adds +0.3 view and +0.5 novel time (its learning rate 0.001, as below).
    return NodeSettings(nodes=2048, lr_means=0.002, residual_points=8, lr_residual=0.001)


def gpu_motions() -> dict[str, object]:
    # Measured on Soldier Walk Grid-24x60 512² (docs/benchmarks.md): novel view 30.3 dB at a
    # per-Gaussian motion lr of 0.005, 31.6 at 0.003, 32.2 at 0.002, 33.4 at 0.001 (10k steps).
    return {"spline": SplineSettings(lr_means=0.001), "nodes": gpu_nodes()}


PRESETS: dict[str, Preset] = {
    "cpu": Preset("small, minutes on a CPU", TrainConfig),
    "gpu": Preset("bigger, for a CUDA GPU", gpu_config, gpu_motions),
}


def preset_config(name: str, motion: str | None = None) -> TrainConfig:
    """A fresh instance of the preset's complete settings (with ``motion``'s, if named)."""
    return PRESETS[name].build(motion)
