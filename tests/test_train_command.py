"""`avatar4d train` options: presets, overrides, resume rules, --help."""

from __future__ import annotations

import pytest
import tyro

from avatar4d.commands.train import TrainCommand
from avatar4d.errors import InputError
from avatar4d.run.config import TrainConfig


def parse(*args: str) -> TrainCommand:
    return tyro.cli(TrainCommand, args=["data", "--out", "run", *args])


def test_options_apply_on_top_of_the_preset():
    command = parse("--preset", "gpu", "--steps", "123", "--lr-colors", "0.01")
    config = command.resolved_config()
    gpu = TrainConfig.for_gpu()
    assert config.steps == 123 and config.lr_colors == 0.01
    assert config.init_points == gpu.init_points and config.batch_cameras == gpu.batch_cameras


def test_auto_preset_on_a_cpu_is_the_cpu_defaults():
    config = parse("--device", "cpu").resolved_config()
    assert config == TrainConfig(device="cpu")


def test_force_and_resume_together_are_refused(tmp_path):
    command = TrainCommand(data=tmp_path, out=tmp_path / "run", resume=True, force=True)
    with pytest.raises(InputError, match="cannot be combined"):
        command.run()


def test_help_explains_every_option(capsys):
    with pytest.raises(SystemExit):
        tyro.cli(TrainCommand, args=["--help"])
    text = capsys.readouterr().out
    for option in ("--out", "--resume", "--force", "--steps", "--batch-cameras", "--device"):
        assert option in text
    assert "Train a 4D Gaussian avatar" in text
    assert "Cameras rendered per step" in text  # field docstrings reach --help
