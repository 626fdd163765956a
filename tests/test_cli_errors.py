"""The command line's own errors: one line and exit 2, with a "did you mean" where it helps;
out of memory in one line and exit 1; a closed stdout (`| head`) without a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from dataset_builders import write_grid
from gltf_handmade import one_triangle

from avatar4d import cli
from avatar4d.cli_failures import EXIT_BROKEN_PIPE
from avatar4d.commands.asset_info import AssetInfoCommand
from avatar4d.commands.check import CheckCommand

SOURCES = Path(__file__).resolve().parents[1] / "src"


def error_line(capsys) -> str:
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert len(lines) == 1, captured.err
    return lines[0]


@pytest.mark.parametrize(
    ("argv", "line"),
    [
        (
            ["trian", "grid"],
            "avatar4d: error: unknown command 'trian'; did you mean 'train'? "
            "(commands: demo, asset, pose, grid, check, train, eval, render, export, view)",
        ),
        (
            ["grid", "--cilp", "Walk", "x.glb"],
            "avatar4d: error: avatar4d grid: unknown option '--cilp'; did you mean '--clip'?",
        ),
        (
            ["grid"],
            # --clip is repeatable (one per train clip); grid itself asks for at least one
            "avatar4d: error: avatar4d grid: missing FILE, --out (see avatar4d grid --help)",
        ),
        (
            ["train"],
            "avatar4d: error: avatar4d train: missing DATA, --out (see avatar4d train --help)",
        ),
        (
            ["render", "run", "--out", "v.mp4", "--res", "abc"],
            "avatar4d: error: --res: 'abc' is not an integer",
        ),
        (
            ["render", "run", "--out", "v.mp4", "--time", "loopy"],
            "avatar4d: error: --time: 'loopy' is not one of loop, pingpong, hold, range; "
            "did you mean 'loop'?",
        ),
        (
            ["render", "run", "--out", "v.mp4", "--fps"],
            "avatar4d: error: --fps: needs a value (see avatar4d render --help)",
        ),
        (
            ["train", "data", "--out", "run", "--stepz", "4"],
            "avatar4d: error: avatar4d train: unknown option '--stepz'; did you mean '--steps'?",
        ),
        (
            ["grid", "x.glb", "--clip", "Walk", "--out", "d", "extra"],
            "avatar4d: error: avatar4d grid: unexpected argument 'extra'",
        ),
        (
            [],
            "avatar4d: error: missing command; choose one of demo, asset, pose, grid, check, "
            "train, eval, render, export, view (see avatar4d --help)",
        ),
        (
            ["--verbose"],
            "avatar4d: error: unknown option '--verbose' before a command "
            "(commands: demo, asset, pose, grid, check, train, eval, render, export, view)",
        ),
        (["asset"], "avatar4d: error: avatar4d asset: missing command; choose one of info"),
        (
            ["asset", "info"],
            "avatar4d: error: avatar4d asset info: missing PATH (see avatar4d asset info --help)",
        ),
    ],
)
def test_parse_errors_are_one_line_and_exit_2(argv, line, capsys):
    assert cli.main(argv) == 2
    assert error_line(capsys) == line


def test_an_unknown_command_far_from_any_name_lists_them_without_a_guess(capsys):
    assert cli.main(["xyzzy"]) == 2
    assert error_line(capsys) == (
        "avatar4d: error: unknown command 'xyzzy' "
        "(commands: demo, asset, pose, grid, check, train, eval, render, export, view)"
    )


def test_help_is_still_the_full_help_and_exit_0(capsys):
    assert cli.main(["--help"]) == 0
    out = capsys.readouterr().out
    assert len(out.splitlines()) > 5
    assert "{demo,asset,pose,grid,check,train,eval,render,export,view}" in out
    assert cli.main(["grid", "--help"]) == 0
    out = capsys.readouterr().out
    assert "--train-azimuths" in out and "--clip" in out and len(out.splitlines()) > 20


@pytest.mark.parametrize(
    "error",
    [
        MemoryError(),
        RuntimeError(
            "[enforce fail at alloc_cpu.cpp:117] data. DefaultCPUAllocator: "
            "can't allocate memory: you tried to allocate 80000000000 bytes."
        ),
        RuntimeError("DefaultCPUAllocator: not enough memory: you tried to allocate 1 GB"),
    ],
)
def test_cpu_out_of_memory_is_one_line_and_exit_1(error, monkeypatch, tmp_path, capsys):
    def run(self):
        raise error

    monkeypatch.setattr(CheckCommand, "run", run)
    assert cli.main(["check", str(tmp_path)]) == 1
    assert error_line(capsys) == (
        "avatar4d: error: avatar4d check: out of memory; reduce the dataset's image size, "
        "or free memory and run again"
    )


def test_other_runtime_errors_still_raise(monkeypatch, tmp_path):
    def run(self):
        raise RuntimeError("a bug")

    monkeypatch.setattr(CheckCommand, "run", run)
    with pytest.raises(RuntimeError, match="a bug"):
        cli.main(["check", str(tmp_path)])


def test_out_of_memory_with_debug_keeps_the_traceback(monkeypatch, tmp_path):
    def run(self):
        raise MemoryError

    monkeypatch.setattr(CheckCommand, "run", run)
    with pytest.raises(MemoryError):
        cli.main(["check", str(tmp_path), "--debug"])


def test_a_closed_stdout_exits_quietly_in_process(monkeypatch, tmp_path, capsys):
    def run(self):
        raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr(AssetInfoCommand, "run", run)
    assert cli.main(["asset", "info", str(tmp_path / "x.glb")]) == EXIT_BROKEN_PIPE
    assert capsys.readouterr().err == ""


def _run_with_closed_stdout(argv: list[str]) -> subprocess.CompletedProcess:
    """Run the CLI with a pipe on stdout whose reader has gone before anything is written."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    env = {**os.environ, "PYTHONPATH": f"{SOURCES}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    try:
        return subprocess.run(
            [sys.executable, "-m", "avatar4d.cli", *argv],
            stdout=write_end,
            stderr=subprocess.PIPE,
            env=env,
            timeout=120,
            check=False,
        )
    finally:
        os.close(write_end)


@pytest.fixture
def moving_triangle(tmp_path):
    gltf = one_triangle(name="Tri")
    gltf.animation(0, "translation", [0, 2], np.array([[0, 0, 0], [4, 0, 0]]), name="Slide")
    return gltf.write_glb(tmp_path / "tri.glb")


@pytest.mark.parametrize("as_json", [True, False])
def test_asset_info_into_a_closed_pipe_has_no_traceback(moving_triangle, as_json):
    result = _run_with_closed_stdout(
        ["asset", "info", str(moving_triangle), *(["--json"] if as_json else [])]
    )
    assert result.stderr.decode() == ""
    assert result.returncode == EXIT_BROKEN_PIPE


def test_check_into_a_closed_pipe_has_no_traceback(tmp_path):
    root = write_grid(tmp_path / "grid", azimuths=4, elevations=(0.0, 30.0), times=6, novel_times=3)
    result = _run_with_closed_stdout(["check", str(root), "--no-figure"])
    assert result.stderr.decode() == ""
    assert result.returncode == EXIT_BROKEN_PIPE


def test_a_parse_error_in_a_real_process_is_one_line(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(SOURCES)}
    result = subprocess.run(
        [sys.executable, "-m", "avatar4d.cli", "trian", "grid"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        "avatar4d: error: unknown command 'trian'; did you mean 'train'? "
        "(commands: demo, asset, pose, grid, check, train, eval, render, export, view)"
    ]


def test_a_box_the_hook_does_not_know_is_flattened_to_one_line(capsys):
    import tyro

    from avatar4d.cli_parsing import flatten_tyro_error

    with pytest.raises(SystemExit):
        tyro.cli(cli.Command, args=["grid"], prog="avatar4d")
    box = capsys.readouterr().err
    assert len(box.splitlines()) >= 6
    line = flatten_tyro_error(box)
    assert "\n" not in line and "│" not in line and "For full helptext" not in line
    assert line.startswith("Required options Missing from avatar4d grid: FILE ")
    assert line.endswith("(required)")


def test_a_file_name_the_system_refuses_is_one_line_naming_it(tmp_path, capsys):
    """A file_path of 300 characters made pathlib raise OSError (File name too long)."""
    from dataset_builders import frame, write_dataset

    train = [frame(f"./train/r_{i}", 90.0 * i, 20.0, i / 4) for i in range(4)]
    root = write_dataset(tmp_path / "data", {"train": train})
    document = (root / "transforms_train.json").read_text()
    (root / "transforms_train.json").write_text(document.replace("r_1", "r" * 300))
    assert cli.main(["check", str(root), "--no-figure"]) == 2
    line = error_line(capsys)
    assert line.startswith("avatar4d: error: ") and line.endswith(": File name too long")
    assert "r" * 300 in line


def test_a_full_disk_is_exit_1(monkeypatch, tmp_path, capsys):
    import errno

    def full(self):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(tmp_path / "out.png"))

    monkeypatch.setattr(CheckCommand, "run", full)
    assert cli.main(["check", str(tmp_path)]) == 1
    assert error_line(capsys) == f"avatar4d: error: {tmp_path / 'out.png'}: No space left on device"
