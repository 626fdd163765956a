"""Outputs are as readable as the user's umask allows (issue 18): a grid, a run's checkpoints and
a render are not owner-only under umask 022, and stay owner-only under 077."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from test_force_grid import demo_glb, fake_asset, grid_args  # noqa: F401 (fixtures)
from test_force_runs import QUICK, render_args
from test_grid_writer import write_tiny
from test_train_synthetic import write_moving_blobs_dataset

from avatar4d.cli import main
from avatar4d.io.permissions import current_umask
from avatar4d.train.trainer import train


@pytest.fixture(params=[0o022, 0o077], ids=["umask022", "umask077"])
def umask(request) -> int:
    previous = os.umask(request.param)
    yield request.param
    os.umask(previous)


def modes(folder: Path) -> dict[str, int]:
    """Permission bits of ``folder`` and of everything below it."""
    found = {".": stat.S_IMODE(folder.stat().st_mode)}
    for path in folder.rglob("*"):
        found[path.relative_to(folder).as_posix()] = stat.S_IMODE(path.stat().st_mode)
    return found


def expected_modes(folder: Path, umask: int) -> dict[str, int]:
    found = {".": 0o777 & ~umask}
    for path in folder.rglob("*"):
        mask = 0o777 if path.is_dir() else 0o666
        found[path.relative_to(folder).as_posix()] = mask & ~umask
    return found


def test_the_umask_is_read_without_changing_it(umask):
    assert current_umask() == umask
    assert current_umask() == umask


def test_a_grid_dataset_follows_the_umask(umask, fake_asset, tmp_path):  # noqa: F811
    out = tmp_path / "grid"
    write_tiny(fake_asset, out)
    assert (out / "tracks.safetensors").is_file() and (out / "depth" / "train").is_dir()
    assert modes(out) == expected_modes(out, umask)
    assert modes(out)["."] == {0o022: 0o755, 0o077: 0o700}[umask]
    assert modes(out)["tracks.safetensors"] == {0o022: 0o644, 0o077: 0o600}[umask]


def test_a_grid_replaced_with_force_follows_the_umask(umask, demo_glb, tmp_path):  # noqa: F811
    out = tmp_path / "grid"
    assert main(grid_args(demo_glb, out)) == 0
    assert main([*grid_args(demo_glb, out), "--force"]) == 0
    assert modes(out) == expected_modes(out, umask)


def test_a_run_and_its_render_follow_the_umask(umask, demo_glb, tmp_path):  # noqa: F811
    data = write_moving_blobs_dataset(tmp_path / "data")
    run = tmp_path / "run"
    train(data, run, QUICK, quiet=True)
    assert (run / "checkpoints" / "step_000004.safetensors").is_file()
    assert modes(run) == expected_modes(run, umask)
    assert modes(run)["checkpoints/step_000004.safetensors"] == {0o022: 0o644, 0o077: 0o600}[umask]

    assert main(render_args(run, tmp_path / "frames")) == 0
    assert main(render_args(run, tmp_path / "orbit.mp4")) == 0
    assert main(["export", str(run), "--out", str(tmp_path / "ply"), "--times", "1"]) == 0
    posed = tmp_path / "posed.ply"
    assert main(["pose", str(demo_glb), "--clip", "wave", "--time", "0", "--out", str(posed)]) == 0
    for output in ("frames", "ply"):
        assert modes(tmp_path / output) == expected_modes(tmp_path / output, umask)
    for output in ("orbit.mp4", "posed.ply"):
        assert stat.S_IMODE((tmp_path / output).stat().st_mode) == 0o666 & ~umask
