"""A run folder written by main before the layering and presets changes (commit 87b4609) still
evaluates, renders, exports and resumes.

tests/fixtures/run_87b4609 holds that run's config.yml and newest checkpoint as it wrote them:
4 steps on the moving-blobs dataset of test_train_synthetic, which is rebuilt here (the same
files, so the same fingerprint); only the dataset's absolute path in config.yml is rewritten.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml
from test_train_synthetic import write_moving_blobs_dataset

from avatar4d.cli import main
from avatar4d.run.run_folder import dataset_fingerprint

FIXTURE = Path(__file__).parent / "fixtures" / "run_87b4609"


@pytest.fixture
def old_run(tmp_path) -> tuple[Path, Path]:
    data = write_moving_blobs_dataset(tmp_path / "data")
    run = tmp_path / "run"
    shutil.copytree(FIXTURE, run)
    config = run / "config.yml"
    text = config.read_text()
    assert "dataset: /tmp/oldrun/data\n" in text
    config.write_text(text.replace("dataset: /tmp/oldrun/data\n", f"dataset: {data}\n"))
    _record_fingerprint_of(data, run)
    return data, run


def _record_fingerprint_of(data: Path, run: Path) -> None:
    """The rebuilt dataset's camera matrices come from numpy's norm and cross, whose last bits
    depend on the CPU's BLAS kernels (an AVX-512 machine differs from the AMD one that wrote
    the fixture), and the fingerprint hashes their text; so the run is told this machine's
    fingerprint. What is tested here is the old folder layout, not the fingerprint check
    (tests/test_run_loading.py refuses a changed dataset)."""
    recorded = "08d74efbb7b9da494c06b879b28de57909486437c04e8d4187b83e6c68823ce6"
    current = dataset_fingerprint(data)
    for path in (run / "config.yml", run / "checkpoints" / "step_000004.json"):
        text = path.read_text()
        assert recorded in text
        path.write_text(text.replace(recorded, current))


def test_the_fixture_is_as_the_old_main_wrote_it():
    document = yaml.safe_load((FIXTURE / "config.yml").read_text())
    assert "preset" not in document  # recorded only since the presets change
    meta = json.loads((FIXTURE / "checkpoints" / "step_000004.json").read_text())
    assert meta["step"] == 4 and "dataset" not in meta  # the sidecar named no dataset then


def test_an_old_run_evaluates_renders_exports_and_resumes(old_run, tmp_path, capsys):
    data, run = old_run
    assert main(["eval", str(run), "--device", "cpu", "--train-sample", "2"]) == 0
    metrics = json.loads((run / "eval" / "metrics.json").read_text())
    assert metrics["source"]["step"] == 4
    frames = tmp_path / "frames"
    assert main(["render", str(run), "--out", str(frames), "--res", "16", "--frames", "2"]) == 0
    assert len(list(frames.glob("frame_*.png"))) == 2
    assert main(["export", str(run), "--out", str(tmp_path / "ply"), "--times", "2"]) == 0
    capsys.readouterr()
    assert main(["train", str(data), "--out", str(run), "--resume", "--steps", "6"]) == 0
    assert "trained steps 5..6 (2 this time)" in capsys.readouterr().out
    assert (run / "checkpoints" / "step_000006.json").is_file()
