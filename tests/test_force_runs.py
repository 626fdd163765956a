"""--force on run folders, rendered frames, evaluations and exports replaces only what avatar4d
wrote (issue 18); eval refuses an earlier evaluation before any work and records the
checkpoint it scored."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest
from test_force_grid import one_error_line, snapshot
from test_train_end_to_end import TINY
from test_train_synthetic import write_moving_blobs_dataset

from avatar4d.cli import main
from avatar4d.evaluate.results import RUN_SCORED
from avatar4d.io.manifest import MANIFEST_NAME, read_manifest
from avatar4d.run.config import with_settings
from avatar4d.train.trainer import train

QUICK = with_settings(TINY, steps=4, checkpoint_every=2, val_every=2, log_every=2)
QUICK_OPTIONS = ["--steps", "4", "--checkpoint-every", "2", "--val-every", "2", "--val-images", "2"]
QUICK_OPTIONS += ["--batch-cameras", "4", "--init-points", "250", "--init-hull-resolution", "24"]
QUICK_OPTIONS += ["--device", "cpu", "--quiet"]


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    return write_moving_blobs_dataset(tmp_path_factory.mktemp("blobs") / "data")


@pytest.fixture(scope="module")
def trained(data, tmp_path_factory) -> Path:
    run = tmp_path_factory.mktemp("runs") / "run"
    train(data, run, QUICK, quiet=True)
    return run


@pytest.fixture()
def run(trained, tmp_path) -> Path:
    """A copy of the trained run that a test may change."""
    return Path(shutil.copytree(trained, tmp_path / "run"))


def train_args(data: Path, out: Path) -> list[str]:
    return ["train", str(data), "--out", str(out), *QUICK_OPTIONS]


def render_args(run: Path, out: Path, frames: int = 2) -> list[str]:
    return ["render", str(run), "--out", str(out), "--frames", str(frames), "--res", "16"] + [
        "--device",
        "cpu",
    ]


def eval_args(run: Path, out: Path | None = None) -> list[str]:
    args = ["eval", str(run), "--device", "cpu", "--train-sample", "2"]
    return args + ([] if out is None else ["--out", str(out)])


def not_ours(folder: Path, first: str, more: int, label: str, why: str = "") -> str:
    """The one line that refuses --force on ``folder``."""
    others = f" and {more} more entr{'y' if more == 1 else 'ies'}" if more else ""
    return (
        f"avatar4d: error: {folder}: holds {first!r}{others} not written by avatar4d{why}; "
        f"--force only replaces avatar4d's own {label}: move {'them' if more else 'it'} away "
        "or choose another --out"
    )


# train --force


@pytest.mark.parametrize("config", ["theirs", "ours, no manifest", "ours"])
def test_train_force_refuses_a_folder_holding_a_users_checkpoint(
    config, data, trained, tmp_path, capsys
):
    out = tmp_path / "models"
    (out / "checkpoints").mkdir(parents=True)
    (out / "checkpoints" / "model.ckpt").write_bytes(b"weights I trained for a week")
    if config == "theirs":
        (out / "config.yml").write_text("model: resnet50\nepochs: 90\n")
    else:
        shutil.copy(trained / "config.yml", out / "config.yml")
    if config == "ours":
        shutil.copy(trained / MANIFEST_NAME, out / MANIFEST_NAME)
    before = snapshot(out)

    assert main([*train_args(data, out), "--force"]) == 2
    if config == "theirs":
        why = f" (it has no {MANIFEST_NAME}, and no config.yml written by avatar4d)"
        expected = not_ours(out, "checkpoints/model.ckpt", 1, "run folder", why)
    else:
        expected = not_ours(out, "checkpoints/model.ckpt", 0, "run folder")
    assert one_error_line(capsys) == expected
    assert snapshot(out) == before


def test_train_force_replaces_an_old_run_with_its_evaluation_renders_and_export(run, data, capsys):
    assert main(eval_args(run)) == 0
    assert main(render_args(run, run / "orbit")) == 0
    assert main(render_args(run, run / "orbit.mp4")) == 0
    assert main(["export", str(run), "--out", str(run / "ply"), "--times", "2"]) == 0
    (run / "checkpoints" / ".step_000004.safetensors.0badf00d.tmp").write_bytes(b"killed")
    assert {"eval", "orbit", "orbit.mp4", "ply"} <= {p.name for p in run.iterdir()}
    capsys.readouterr()

    assert main([*train_args(data, run), "--force", "--steps", "2"]) == 0
    assert sorted(p.name for p in run.iterdir()) == [MANIFEST_NAME, "checkpoints", "config.yml"]
    assert sorted(p.name for p in (run / "checkpoints").iterdir()) == [
        "latest.json",
        "step_000002.json",
        "step_000002.safetensors",
    ]


def test_train_force_replaces_a_run_from_before_manifests_and_its_eval(run, data):
    assert main(eval_args(run)) == 0
    (run / MANIFEST_NAME).unlink()
    (run / "eval" / MANIFEST_NAME).unlink()
    assert main([*train_args(data, run), "--force", "--steps", "2"]) == 0
    assert not (run / "eval").exists()
    assert read_manifest(run).kind == "train-run"


def test_train_force_keeps_a_run_whose_eval_folder_holds_a_users_file(run, data, capsys):
    assert main(eval_args(run)) == 0
    (run / "eval" / "my_notes.md").write_text("PSNR looked fine")
    before = snapshot(run)
    capsys.readouterr()
    assert main([*train_args(data, run), "--force"]) == 2
    assert one_error_line(capsys) == not_ours(run, "eval/my_notes.md", 0, "run folder")
    assert snapshot(run) == before


# render --force


def test_render_force_refuses_a_folder_of_the_users_own_frames(trained, tmp_path, capsys):
    out = tmp_path / "frames"
    out.mkdir()
    (out / "frame_00003.png").write_bytes(b"my own drawing")
    before = snapshot(out)
    assert main([*render_args(trained, out), "--force"]) == 2
    why = (
        f" (it has no {MANIFEST_NAME}; frames rendered before manifests cannot be told from "
        "anyone else's)"
    )
    assert one_error_line(capsys) == not_ours(out, "frame_00003.png", 0, "rendered frames", why)
    assert snapshot(out) == before


def test_render_force_replaces_its_frames_but_refuses_a_frame_added_by_hand(
    trained, tmp_path, capsys
):
    out = tmp_path / "frames"
    assert main(render_args(trained, out, frames=3)) == 0
    assert main([*render_args(trained, out, frames=2), "--force"]) == 0
    assert sorted(p.name for p in out.iterdir()) == [
        MANIFEST_NAME,
        "frame_00000.png",
        "frame_00001.png",
    ]
    (out / "frame_00099.png").write_bytes(b"added by hand")
    before = snapshot(out)
    capsys.readouterr()
    assert main([*render_args(trained, out), "--force"]) == 2
    assert one_error_line(capsys) == not_ours(out, "frame_00099.png", 0, "rendered frames")
    assert snapshot(out) == before


def test_render_frames_into_a_run_folder_are_refused(trained, capsys):
    before = snapshot(trained)
    assert main([*render_args(trained, trained), "--force"]) == 2
    assert one_error_line(capsys) == (
        f"avatar4d: error: {trained}: holds avatar4d's run folder, not its rendered frames; "
        "choose another --out"
    )
    assert snapshot(trained) == before


# eval


@pytest.fixture()
def no_evaluation(monkeypatch):
    """Fails the test if eval loads the model or scores anything."""

    def forbidden(*args, **kwargs):
        raise AssertionError("eval did work before refusing its output folder")

    monkeypatch.setattr("avatar4d.run.trained.load_trained_model", forbidden)
    monkeypatch.setattr("avatar4d.evaluate.run_eval.evaluate_model", forbidden)


@pytest.mark.parametrize("existing", ["report.md", "metrics.json", "report_images"])
def test_eval_refuses_an_earlier_result_before_any_work(
    existing, trained, tmp_path, no_evaluation, capsys
):
    out = tmp_path / "results"
    out.mkdir()
    if existing == "report_images":
        (out / existing).mkdir()
    else:
        (out / existing).write_text("from last week")
    assert main(eval_args(trained, out)) == 2
    assert one_error_line(capsys) == (
        f"avatar4d: error: {out}: already holds {existing}; use --force to replace it"
    )
    assert sorted(p.name for p in out.iterdir()) == [existing]


def test_eval_force_refuses_a_folder_holding_a_users_file_before_any_work(
    trained, tmp_path, no_evaluation, capsys
):
    out = tmp_path / "results"
    out.mkdir()
    (out / "report.md").write_text("# My own report\n")
    assert main([*eval_args(trained, out), "--force"]) == 2
    why = (
        f" (it has no {MANIFEST_NAME}, and no metrics.json and report.md of an avatar4d evaluation)"
    )
    assert one_error_line(capsys) == not_ours(out, "report.md", 0, "evaluation", why)
    assert (out / "report.md").read_text() == "# My own report\n"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_eval_results_name_the_step_and_checkpoint_they_came_from(run, capsys):
    assert main([*eval_args(run), "--step", "2"]) == 0
    checkpoint = run / "checkpoints" / "step_000002.safetensors"
    metrics = json.loads((run / "eval" / "metrics.json").read_text())
    assert metrics["source"] == {
        "run": str(run.resolve()),
        "step": 2,
        "checkpoint": "checkpoints/step_000002.safetensors",
        "sha256": sha256(checkpoint),
        "scored": RUN_SCORED,
    }
    assert "8-bit straight-alpha RGBA" in RUN_SCORED
    report = (run / "eval" / "report.md").read_text().splitlines()
    assert report[2] == (
        f"Run `{run.resolve()}` at step 2: checkpoint `checkpoints/step_000002.safetensors` "
        f"(sha256 `{sha256(checkpoint)}`). Scored: {RUN_SCORED}."
    )

    assert main(eval_args(run)) == 2  # an evaluation is there: not replaced without --force
    assert main([*eval_args(run), "--force"]) == 0  # the newest checkpoint
    metrics = json.loads((run / "eval" / "metrics.json").read_text())
    assert metrics["source"]["step"] == 4
    assert metrics["source"]["checkpoint"] == "checkpoints/step_000004.safetensors"
    assert "at step 4: checkpoint" in (run / "eval" / "report.md").read_text()
    manifest = read_manifest(run / "eval")
    assert manifest.kind == "evaluation"
    on_disk = {p.relative_to(run / "eval").as_posix() for p in (run / "eval").rglob("*.png")}
    assert manifest.files == {"metrics.json", "report.md"} | on_disk and on_disk


# export --force


def test_export_force_replaces_its_own_export_only(trained, tmp_path, capsys):
    out = tmp_path / "ply"
    export = ["export", str(trained), "--out", str(out)]
    assert main([*export, "--times", "3"]) == 0
    assert main([*export, "--times", "2", "--force"]) == 0
    assert sorted(p.name for p in out.iterdir()) == [
        MANIFEST_NAME,
        "avatar_0000.ply",
        "avatar_0001.ply",
        "times.json",
    ]
    (out / "scan.ply").write_bytes(b"ply\nmy photogrammetry scan\n")
    before = snapshot(out)
    capsys.readouterr()
    assert main([*export, "--times", "2", "--force"]) == 2
    assert one_error_line(capsys) == not_ours(out, "scan.ply", 0, "PLY export")
    assert snapshot(out) == before
