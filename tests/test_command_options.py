"""Numbers given to the commands: out of range or not finite is one line naming the option
and its range, exit 2, before any file is read."""

from __future__ import annotations

import pytest

from avatar4d import cli


def error_line(capsys) -> str:
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1, lines
    return lines[0]


@pytest.mark.parametrize(
    ("option", "value", "problem"),
    [
        ("--fov-y", "0", "must be in (0, 180) deg, got 0"),
        ("--fov-y", "-10", "must be in (0, 180) deg, got -10"),
        ("--fov-y", "180", "must be in (0, 180) deg, got 180"),
        ("--fov-y", "nan", "must be a finite number, got nan"),
        ("--fps", "0", "must be in [0.1, 1000], got 0"),
        ("--fps", "-1", "must be in [0.1, 1000], got -1"),
        ("--fps", "nan", "must be a finite number, got nan"),
        ("--fps", "1e12", "must be in [0.1, 1000], got 1e+12"),
        ("--fps", "inf", "must be a finite number, got inf"),
        ("--elevation", "90", "must be in [-89, 89], got 90"),
        ("--distance-scale", "0", "must be in (0, 1000], got 0"),
        ("--turns", "inf", "must be a finite number, got inf"),
        ("--cycles", "0", "must be in (0, 100000], got 0"),
        ("--t", "1.5", "must be in [0, 1], got 1.5"),
        ("--t0", "-0.1", "must be in [0, 1], got -0.1"),
        ("--t1", "nan", "must be a finite number, got nan"),
        ("--step", "-1", "must be at least 0, got -1"),
    ],
)
def test_render_refuses_an_option_out_of_range(tmp_path, option, value, problem, capsys):
    out = tmp_path / "video.mp4"
    argv = ["render", str(tmp_path / "no_run"), "--out", str(out), option, value]
    assert cli.main(argv) == 2
    assert error_line(capsys) == f"avatar4d: error: {option}: {problem}"
    assert not out.exists()


def test_render_takes_the_options_at_their_limits(tmp_path, capsys):
    run = tmp_path / "no_run"
    argv = ["render", str(run), "--out", str(tmp_path / "v.mp4")]
    limits = ["--fov-y", "179.9", "--fps", "1000", "--elevation", "-89", "--t", "1", "--t0", "0"]
    assert cli.main([*argv, *limits]) == 2
    # the options pass; what stops it is the missing run folder
    assert (
        error_line(capsys) == f"avatar4d: error: {run}: no config.yml: not an avatar4d run folder"
    )


@pytest.mark.parametrize(
    ("argv", "line"),
    [
        (["--train-sample", "-5"], "--train-sample: must be at least 0, got -5"),
        (["--step", "-3"], "--step: must be at least 0, got -3"),
    ],
)
def test_eval_refuses_bad_counts_before_reading_the_run(tmp_path, argv, line, capsys):
    assert cli.main(["eval", str(tmp_path / "no_run"), *argv]) == 2
    assert error_line(capsys) == f"avatar4d: error: {line}"
    assert not (tmp_path / "no_run").exists()


def test_export_refuses_a_negative_step(tmp_path, capsys):
    argv = ["export", str(tmp_path / "no_run"), "--out", str(tmp_path / "ply"), "--step", "-1"]
    assert cli.main(argv) == 2
    assert error_line(capsys) == "avatar4d: error: --step: must be at least 0, got -1"


def test_grid_refuses_absurd_train_times(tmp_path, capsys):
    argv = ["grid", str(tmp_path / "x.glb"), "--clip", "Walk", "--out", str(tmp_path / "d")]
    assert cli.main([*argv, "--train-times", "1000000000"]) == 2
    assert error_line(capsys) == (
        "avatar4d: error: --train-times: must be in [1, 10,000], got 1,000,000,000"
    )


@pytest.mark.parametrize(
    ("option", "value"),
    [("--fov-y", "nan"), ("--sphere-fraction", "nan"), ("--train-azimuths", "inf")],
)
def test_grid_refuses_non_finite_numbers(tmp_path, option, value, capsys):
    argv = ["grid", str(tmp_path / "x.glb"), "--clip", "Walk", "--out", str(tmp_path / "d")]
    assert cli.main([*argv, option, value]) == 2
    assert error_line(capsys).startswith(f"avatar4d: error: {option}: ")


def test_eval_accepts_no_train_sample(tmp_path, capsys):
    """--train-sample 0 scores no training image (the report then gives no train PSNR)."""
    run = tmp_path / "no_run"
    assert cli.main(["eval", str(run), "--train-sample", "0"]) == 2
    # the option passes; what stops it is the missing run folder
    expected = f"avatar4d: error: {run}: no config.yml: not an avatar4d run folder"
    assert error_line(capsys) == expected
