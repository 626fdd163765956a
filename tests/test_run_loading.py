"""Run folders are checked on load: config.yml, checkpoints, --resume --from, stale temporaries.

Every damaged or foreign input is refused by eval, render, export and train --resume in one
line naming the file and the setting, tensor or dataset; nothing bad is loaded silently.
"""

from __future__ import annotations

import json
import math
import shutil
import time
from pathlib import Path

import pytest
import torch
import yaml
from cli_output import one_error_line
from safetensors.torch import load_file, save_file
from test_train_end_to_end import TINY
from test_train_synthetic import write_moving_blobs_dataset

from avatar4d.cli import main
from avatar4d.errors import InputError
from avatar4d.model.motions.nodes import NodeStructure
from avatar4d.model.spec import ModelSpec
from avatar4d.run.config import with_settings
from avatar4d.run.run_folder import remove_stale_temporaries
from avatar4d.run.run_validation import (
    check_resume_state,
    check_tensors_match_spec,
    expected_shapes,
)
from avatar4d.run.trained import load_trained_model
from avatar4d.train.trainer import train

SMALL = with_settings(
    TINY, steps=4, init_points=60, val_every=0, checkpoint_every=2, keep_checkpoints=3
)


@pytest.fixture(scope="module")
def datasets(tmp_path_factory):
    """Two datasets: the blobs, and the blobs with another scene radius in scene.json."""
    root = tmp_path_factory.mktemp("datasets")
    first = write_moving_blobs_dataset(root / "first")
    second = root / "second"
    shutil.copytree(first, second)
    scene = json.loads((second / "scene.json").read_text())
    scene["bounds"]["radius"] = 1.25
    (second / "scene.json").write_text(json.dumps(scene))
    return first, second


@pytest.fixture(scope="module")
def trained_runs(datasets, tmp_path_factory):
    """A run of 4 steps on each dataset (checkpoints at steps 2 and 4)."""
    root = tmp_path_factory.mktemp("runs")
    runs = []
    for name, data in zip(("first", "second"), datasets, strict=True):
        train(data, root / name, SMALL, quiet=True)
        runs.append(root / name)
    return runs


@pytest.fixture
def run(trained_runs, tmp_path) -> Path:
    """A copy of the first run, free to damage."""
    copy = tmp_path / "run"
    shutil.copytree(trained_runs[0], copy)
    return copy


def loading_commands(run: Path, out: Path) -> list[list[str]]:
    return [
        ["eval", str(run), "--out", str(out / "eval"), "--device", "cpu"],
        [
            "render",
            str(run),
            "--out",
            str(out / "frames"),
            "--frames",
            "1",
            "--res",
            "16",
            "--device",
            "cpu",
        ],  # fmt: skip
        ["export", str(run), "--out", str(out / "ply"), "--times", "1"],
    ]


def edit_config(run: Path, section: str | None, key: str, value: object) -> None:
    path = run / "config.yml"
    document = yaml.safe_load(path.read_text())
    holder = document if section is None else document[section]
    *parents, name = key.split(".")  # "optimiser.lr_means": a nested setting
    for parent in parents:
        holder = holder[parent]
    holder[name] = value
    path.write_text(yaml.safe_dump(document, sort_keys=False))


BILLION_LAUGHS = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{name}: &{name} [{', '.join([f'*{previous}'] * 9)}]\n"
    for previous, name in zip("abcdefgh", "bcdefghi", strict=True)
)


def test_a_yaml_alias_bomb_is_refused_at_once(run, tmp_path, capsys):
    (run / "config.yml").write_text(BILLION_LAUGHS)
    for argv in loading_commands(run, tmp_path):
        started = time.perf_counter()
        assert main(argv) == 2
        assert time.perf_counter() - started < 2.0
        line = one_error_line(capsys)
        assert "config.yml: unreadable YAML (YAML aliases (*a) are not allowed at line 2)" in line


def test_an_oversized_config_is_refused_before_it_is_parsed(run, capsys):
    (run / "config.yml").write_text("# padding\n" * 200_000)
    assert main(["export", str(run), "--out", str(run / "ply")]) == 2
    assert one_error_line(capsys).endswith(
        "config.yml: is 2,000,000 bytes; a run's config.yml is a few KB"
    )


WHOLE = "must be a whole number in"


@pytest.mark.parametrize(
    ("section", "key", "value", "problem"),
    [
        (
            "model",
            "motion.control_points",
            "abc",
            f"model.motion.control_points {WHOLE} 4..10000, got 'abc'",
        ),
        ("model", "motion.control_points", -3, f"model.motion.control_points {WHOLE} 4..10000"),
        (
            "model",
            "motion.control_points",
            7,
            "give motion_means the shape (60, 7, 3), but step_000004.safetensors holds (60, 4, 3)",
        ),
        (
            "model",
            "motion.name",
            "nodes",
            "model.motion settings missing: nodes, neighbours, residual_control_points",
        ),
        (
            "model",
            "motion.name",
            "bones",
            "model.motion.name must be one of spline, nodes, rig, got 'bones'",
        ),
        ("model", "motion.bogus", 1, "unknown model.motion settings: bogus"),
        ("model", "shading", "lambert", "model.shading is lambert but train.shading is static"),
        (
            "model",
            "scene_radius",
            math.nan,
            "model.scene_radius must be a finite number > 0, got nan",
        ),
        ("model", "scene_center", [0.0, 1.0], "model.scene_center must be 3 finite numbers"),
        ("model", "anchor_time", 2.0, "model.anchor_time must be a number in [0, 1], got 2.0"),
        ("model", "periodic", "yes", "model.periodic must be true or false, got 'yes'"),
        ("model", "bogus", 1, "unknown model settings: bogus"),
        ("train", "bogus", 1, "unknown settings: bogus"),
        ("train", "steps", "many", "steps must be int, got 'many'"),
        ("train", "steps", -3, "train.steps: must be positive, got -3"),
        (
            "train",
            "optimiser.lr_means",
            math.inf,
            "train.optimiser.lr_means: must be a finite number, got inf",
        ),
        (
            "train",
            "motion.lr_quats",
            -1.0,
            "train.motion.lr_quats: learning rates must be positive",
        ),
        ("train", "losses.bogus", 1, "unknown settings: losses.bogus"),
        ("train", "loop", "maybe", "train.loop: must be auto, yes or no, got 'maybe'"),
        ("train", "motion.name", "nodes", "model.motion.name is spline but train.motion.name is"),
        (None, "extra", 1, "unknown entries: extra"),
        (None, "dataset_fingerprint", "abc", "dataset_fingerprint must be 64 hexadecimal digits"),
    ],
)
def test_an_edited_config_is_one_line_in_every_command(
    run, tmp_path, capsys, section, key, value, problem
):
    edit_config(run, section, key, value)
    for argv in loading_commands(run, tmp_path):
        assert main(argv) == 2, argv
        line = one_error_line(capsys)
        assert line.startswith(f"avatar4d: error: {run / 'config.yml'}: "), line
        assert problem in line
    assert not (tmp_path / "eval").exists() and not (tmp_path / "ply").exists()


def test_lambert_shading_without_normals_in_the_checkpoint_is_refused(run, capsys):
    edit_config(run, "model", "shading", "lambert")
    edit_config(run, "train", "shading", "lambert")
    assert main(["export", str(run), "--out", str(run / "ply")]) == 2
    assert one_error_line(capsys).endswith(
        "config.yml: model settings (motion spline, shading lambert) do not match the "
        "parameters of step_000004.safetensors: missing light_irradiance, normals"
    )


def resume_argv(data: Path, run: Path, *extra: str) -> list[str]:
    return ["train", str(data), "--out", str(run), "--resume", "--quiet", *extra]


def test_a_checkpoint_without_rng_cannot_resume(run, datasets, capsys):
    sidecar = run / "checkpoints" / "step_000004.json"
    meta = json.loads(sidecar.read_text())
    del meta["rng"]
    sidecar.write_text(json.dumps(meta))
    assert main(resume_argv(datasets[0], run, "--steps", "6")) == 2
    assert one_error_line(capsys) == (
        f"avatar4d: error: {sidecar}: has no 'rng' entry (the random states to resume); "
        "resume from an earlier checkpoint with --resume --from STEP"
    )
    assert main(resume_argv(datasets[0], run, "--steps", "6", "--from", "2")) == 0
    assert "trained steps 3..6 (4 this time)" in capsys.readouterr().out


def test_a_checkpoint_from_another_dataset_is_refused_everywhere(
    run, trained_runs, datasets, tmp_path, capsys
):
    other = trained_runs[1] / "checkpoints"
    for name in ("step_000004.json", "step_000004.safetensors"):
        shutil.copy(other / name, run / "checkpoints" / name)
    for argv in [*loading_commands(run, tmp_path), resume_argv(datasets[0], run, "--steps", "6")]:
        assert main(argv) == 2, argv
        line = one_error_line(capsys)
        assert f"{run / 'checkpoints' / 'step_000004.json'}: was trained on dataset" in line
        assert str(datasets[1].resolve()) in line and str(datasets[0].resolve()) in line
    # the older checkpoint is the run's own
    assert main(["export", str(run), "--out", str(tmp_path / "ply"), "--step", "2"]) == 0


def test_eval_on_another_dataset_is_refused_and_on_the_same_one_moved_accepted(
    trained_runs, datasets, tmp_path, capsys
):
    run = trained_runs[0]
    argv = ["eval", str(run), "--device", "cpu", "--train-sample", "0"]
    assert main([*argv, "--out", str(tmp_path / "a"), "--data", str(datasets[1])]) == 2
    line = one_error_line(capsys)
    assert line.startswith(f"avatar4d: error: {datasets[1]}: is not the dataset this run")
    assert not (tmp_path / "a").exists()
    moved = tmp_path / "moved"
    shutil.copytree(datasets[0], moved)
    assert main([*argv, "--out", str(tmp_path / "b"), "--data", str(moved)]) == 0
    assert (tmp_path / "b" / "metrics.json").is_file()


def test_resume_on_another_dataset_is_refused(run, datasets, capsys):
    assert main(resume_argv(datasets[1], run, "--steps", "6")) == 2
    line = one_error_line(capsys)
    assert line == (
        f"avatar4d: error: {datasets[1]}: is not the dataset this run was trained on "
        f"({datasets[0].resolve()})"
    )


def poison(run: Path, step: int, key: str) -> Path:
    path = run / "checkpoints" / f"step_{step:06d}.safetensors"
    tensors = load_file(str(path))
    tensors[key][0] = float("nan")
    save_file(tensors, str(path))
    return path


def test_a_nan_in_the_newest_checkpoint_is_refused_and_resume_takes_an_earlier_one(
    run, datasets, tmp_path, capsys
):
    poisoned = poison(run, 4, "params/colors")
    expected = (
        f"avatar4d: error: {poisoned}: tensor params/colors holds NaN or Inf values; take "
        "another checkpoint (--step, or train --resume --from STEP; other steps: 2)"
    )
    for argv in [*loading_commands(run, tmp_path), resume_argv(datasets[0], run)]:
        assert main(argv) == 2, argv
        assert one_error_line(capsys) == expected
    assert main(resume_argv(datasets[0], run, "--from", "2")) == 0
    assert "trained steps 3..4 (2 this time)" in capsys.readouterr().out
    model = load_trained_model(run, device="cpu")  # step 4 written anew, finite
    assert model.step == 4
    assert all(bool(torch.isfinite(p).all()) for p in model.params.values())


def test_a_nan_in_adam_state_is_refused_too(run, datasets, capsys):
    poison(run, 4, "adam/means/exp_avg")
    assert main(resume_argv(datasets[0], run)) == 2
    assert "tensor adam/means/exp_avg holds NaN or Inf values" in one_error_line(capsys)


def test_resume_from_a_step_without_checkpoint_lists_the_steps(run, datasets, capsys):
    assert main(resume_argv(datasets[0], run, "--from", "3")) == 2
    assert one_error_line(capsys) == (
        f"avatar4d: error: --from: {run} has no checkpoint of step 3 (steps: 2, 4)"
    )
    assert main(["train", str(datasets[0]), "--out", str(run), "--from", "2"]) == 2
    assert one_error_line(capsys).endswith(
        "--from: needs --resume (it names the checkpoint to resume from)"
    )


def test_resume_from_an_earlier_step_continues_as_the_uninterrupted_run(
    run, trained_runs, datasets
):
    assert main(resume_argv(datasets[0], run, "--from", "2")) == 0
    again = load_trained_model(run, device="cpu")
    original = load_trained_model(trained_runs[0], device="cpu")
    assert again.step == original.step == 4
    for name, tensor in original.params.items():
        assert torch.equal(again.params[name], tensor), name


def test_resuming_with_more_steps_tells_which_steps_it_trained(run, datasets, capsys):
    assert main(resume_argv(datasets[0], run)) == 0
    assert "no steps to train: the run has completed its 4 steps" in capsys.readouterr().out
    assert main(resume_argv(datasets[0], run, "--steps", "7")) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].startswith("trained steps 5..7 (3 this time) in ")
    assert load_trained_model(run, device="cpu").step == 7
    assert main(resume_argv(datasets[0], run, "--steps", "5")) == 2
    assert one_error_line(capsys).endswith(
        "--steps: 5 is fewer than the 7 steps the checkpoint has trained"
    )


def test_stale_temporaries_of_the_tools_own_files_are_removed_on_resume(run, datasets):
    folder = run / "checkpoints"
    stale = [
        folder / ".step_000006.safetensors.0a1b2c3d.tmp",
        folder / ".step_000006.json.deadbeef.tmp",
        folder / ".latest.json.01234567.tmp",
        run / ".config.yml.89abcdef.tmp",
    ]
    others = [
        folder / ".notes.txt.0a1b2c3d.tmp",  # not a name the tool writes
        folder / ".step_000006.json.xyz.tmp",  # not its random part
        folder / "step_000006.json.0a1b2c3d.tmp",  # not hidden
        run / ".latest.json.01234567.tmp",  # a checkpoint name outside checkpoints/
        run / "mine.tmp",
    ]
    for path in stale + others:
        path.write_bytes(b"half written")
    assert main(resume_argv(datasets[0], run, "--steps", "5")) == 0
    assert [p for p in stale if p.exists()] == []
    assert all(p.read_bytes() == b"half written" for p in others)
    assert remove_stale_temporaries(run) == []


def test_a_checkpoint_written_before_it_named_its_dataset_still_loads(run, datasets, capsys):
    for step in (2, 4):  # as the current main writes them: the fingerprint, no "dataset"
        sidecar = run / "checkpoints" / f"step_{step:06d}.json"
        meta = json.loads(sidecar.read_text())
        del meta["dataset"]
        sidecar.write_text(json.dumps(meta))
    assert load_trained_model(run, device="cpu").step == 4
    assert main(resume_argv(datasets[0], run, "--steps", "5")) == 0
    assert "trained steps 5..5 (1 this time)" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("edit", "problem"),
    [
        (lambda meta: meta.update(strategy_scalars=[1]), "'strategy_scalars' must be a mapping"),
        (
            lambda meta: meta["strategy_scalars"].update(injected=1),
            "unknown strategy_scalars entry 'injected'",
        ),
        (lambda meta: meta.update(tensors="../x.safetensors"), "'tensors' must name step_000004"),
        (lambda meta: meta.update(parameters={"means": "big"}), "'parameters' must map names"),
        # found by the fuzz campaigns of issue 18 (KeyError / TypeError tracebacks before)
        (lambda meta: meta.update(parameters="abc"), "'parameters' must map names"),
        (lambda meta: meta.update(strategy_scalars=[1, 2, 3]), "'strategy_scalars' must be a"),
        (lambda meta: meta.pop("rng"), "rng"),
        (lambda meta: meta["rng"].update(python=[1, 2]), "rng"),
        (lambda meta: meta["rng"]["numpy"].pop("kind"), "rng"),
        (lambda meta: meta["rng"]["numpy"]["keys"].pop(61), "rng"),
    ],
)
def test_damaged_checkpoint_entries_are_refused_on_resume(run, datasets, capsys, edit, problem):
    sidecar = run / "checkpoints" / "step_000004.json"
    meta = json.loads(sidecar.read_text())
    edit(meta)
    sidecar.write_text(json.dumps(meta))
    assert main(resume_argv(datasets[0], run, "--steps", "6")) == 2
    line = one_error_line(capsys)
    assert line.startswith(f"avatar4d: error: {sidecar}: ") and problem in line


def test_adam_moments_of_another_shape_are_refused_on_resume(run, datasets, capsys):
    path = run / "checkpoints" / "step_000004.safetensors"
    tensors = load_file(str(path))
    tensors["adam/colors/exp_avg"] = tensors["adam/colors/exp_avg"][:-1].clone()
    save_file(tensors, str(path))
    assert main(resume_argv(datasets[0], run, "--steps", "6")) == 2
    assert one_error_line(capsys) == (
        f"avatar4d: error: {path}: adam/colors/ tensors do not fit parameter colors"
    )


def nodes_spec(nodes: int = 3) -> ModelSpec:
    return ModelSpec(NodeStructure(nodes, 2, 4, 0), True, [0.0, 0.0, 0.0], 1.0, 0.0, "static")


def nodes_params(count: int, spec: ModelSpec) -> dict[str, torch.Tensor]:
    shapes = expected_shapes(spec, count)
    params = {name: torch.zeros(shape) for name, shape in shapes.items()}
    params["binding"] = torch.zeros(shapes["binding"], dtype=torch.int32)
    return params


def test_node_binding_outside_the_nodes_is_refused(tmp_path):
    spec = nodes_spec()
    params = nodes_params(5, spec)
    check_tensors_match_spec(params, spec, tmp_path / "t.safetensors", tmp_path / "config.yml")
    params["binding"][4, 1] = 3  # nodes are 0..2
    with pytest.raises(InputError, match="params/binding must hold node indices 0..2"):
        check_tensors_match_spec(params, spec, tmp_path / "t.safetensors", tmp_path / "config.yml")


def test_a_rigidity_graph_pointing_past_the_gaussians_is_refused(tmp_path):
    graph = {
        "anchors": torch.arange(4),
        "neighbours": torch.tensor([[1, 2], [0, 2], [0, 1], [2, 4]]),
        "weights": torch.ones(4, 2),
    }
    with pytest.raises(InputError, match="do not form a neighbour graph of 4 Gaussians"):
        check_resume_state({}, {}, graph, {}, {}, {}, 4, tmp_path / "step_000004.json")
    graph["neighbours"][3, 1] = 3
    check_resume_state({}, {}, graph, {}, {}, {}, 4, tmp_path / "step_000004.json")
