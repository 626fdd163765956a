"""Training with depth maps: the depth loss pulls the rendered depth onto the surface, and
the initial points can be lifted from the depth maps."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import torch
from test_grid_writer import TINY, SlidingQuadAsset, write_tiny

from avatar4d.data.dnerf import load_dataset
from avatar4d.model.render import render_gaussians
from avatar4d.run.config import TrainConfig, with_settings
from avatar4d.run.trained import load_trained_model
from avatar4d.train.frames import stack_frames
from avatar4d.train.trainer import train

RIG = dataclasses.replace(
    TINY,
    train_azimuths_deg=(0.0, 35.0, 325.0),
    train_elevations_deg=(5.0, 30.0),
    width=32,
    height=32,
)
CONFIG = with_settings(
    TrainConfig(),
    steps=60,
    batch_cameras=6,
    device="cpu",
    init_points=300,
    init_hull_resolution=24,
    refine_every=1000,  # no densification: the same Gaussians in both runs
    val_every=0,
    checkpoint_every=0,
    log_every=20,
)


@pytest.fixture(scope="module")
def grid(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("depth_train")
    source = folder / "sliding.glb"
    source.write_bytes(b"not read by the fake")
    write_tiny(SlidingQuadAsset(path=source), folder / "grid", settings=RIG)
    return folder / "grid"


def mean_depth_error(run: Path, grid: Path) -> float:
    """Mean |rendered expected depth - true depth| over the fully covered train pixels."""
    model = load_trained_model(run, device="cpu")
    stack = stack_frames(load_dataset(grid).train, torch.device("cpu"))
    assert stack.depth is not None
    errors = []
    for i in range(len(stack)):
        posed = model.posed(stack.times[i])
        out = render_gaussians(posed, stack.cameras[i], torch.ones(3), with_depth=True)
        covered = (stack.rgba[i, ..., 3] == 255) & (stack.depth[i] > 0)
        difference = out.expected_depth()[0, ..., 0] - stack.depth[i]
        errors.append(difference[covered].abs())
    return float(torch.cat(errors).mean())


def test_the_depth_loss_brings_the_rendered_depth_to_the_surface(grid, tmp_path):
    train(grid, tmp_path / "without", CONFIG, quiet=True)
    with_depth = with_settings(CONFIG, depth_weight=1.0)
    train(grid, tmp_path / "with", with_depth, quiet=True)
    without_error = mean_depth_error(tmp_path / "without", grid)
    with_error = mean_depth_error(tmp_path / "with", grid)
    assert with_error < 0.7 * without_error, (with_error, without_error)
