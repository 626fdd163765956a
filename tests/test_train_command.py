"""`avatar4d train` options: presets, overrides, resume rules, --help."""

from __future__ import annotations

import dataclasses
import re

import pytest
import torch
import tyro

from avatar4d import cli
from avatar4d.commands.train import TrainCommand
from avatar4d.errors import InputError
from avatar4d.model.motions.registry import MOTION_MODELS
from avatar4d.model.motions.spline import SplineSettings, SplineStructure
from avatar4d.model.spec import ModelSpec
from avatar4d.run.config import SECTIONS, TrainConfig, with_settings
from avatar4d.run.presets import PRESETS, preset_config
from avatar4d.run.run_folder import new_run_record, write_run_record


def parse(*args: str) -> TrainCommand:
    """The command line as `avatar4d train` parses it (the preset chosen first)."""
    command = cli.parse(["train", "data", "--out", "run", *args])
    assert isinstance(command, TrainCommand)
    return command


def test_options_apply_on_top_of_the_preset():
    command = parse("--preset", "gpu", "--steps", "123", "--lr-colors", "0.01")
    config = command.resolved_config()
    gpu = preset_config("gpu")
    assert config.steps == 123 and config.optimiser.lr_colors == 0.01
    assert config.init == gpu.init and config.batch_cameras == gpu.batch_cameras
    assert config.motion == gpu.motion


def test_auto_preset_on_a_cpu_is_the_cpu_defaults():
    config = parse("--device", "cpu").resolved_config()
    assert config == with_settings(TrainConfig(), device="cpu")


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


def flat_values(config: TrainConfig) -> dict[str, object]:
    """Every setting by its option's name (``track_weight``; ``motion.nodes``)."""
    values = {
        f.name: getattr(config, f.name)
        for f in dataclasses.fields(TrainConfig)
        if f.name not in (*SECTIONS, "motion")
    }
    for section in SECTIONS:
        values.update(dataclasses.asdict(getattr(config, section)))
    values.update({f"motion.{k}": v for k, v in dataclasses.asdict(config.motion).items()})
    return values


CPU, GPU = preset_config("cpu"), preset_config("gpu")
# The settings in which the presets differ: with --preset gpu, a value given for one of these
# that equalled the CPU default was dropped (the GPU value trained instead). The motion model
# itself differs too (spline, nodes): its settings are pinned per model below.
DIFFERING = sorted(
    name
    for name, value in flat_values(CPU).items()
    if not name.startswith("motion.") and flat_values(GPU)[name] != value
)
# Each motion model's settings where the presets' differ, with the model chosen.
MOTION_DIFFERING = [
    (motion, name)
    for motion in MOTION_MODELS
    for name, value in flat_values(preset_config("cpu", motion)).items()
    if name.startswith("motion.") and flat_values(preset_config("gpu", motion))[name] != value
]
ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def option_words(name: str, value: object) -> list[str]:
    option = "--" + name.replace("_", "-")
    if isinstance(value, bool):
        return [option if value else "--no-" + option[2:]]
    return [option, str(value)]


def test_the_presets_are_complete_settings_that_differ_where_the_issue_lost_options():
    assert set(PRESETS) == {"cpu", "gpu"}
    assert TrainConfig() == CPU and CPU.motion == SplineSettings()
    assert GPU.motion.name == "nodes"
    assert preset_config("gpu") is not preset_config("gpu")  # a fresh instance each time
    assert {"steps", "track_weight", "depth_weight", "init_points"} <= set(DIFFERING)
    assert ("spline", "motion.lr_means") in MOTION_DIFFERING
    assert {("nodes", "motion.residual_points"), ("nodes", "motion.lr_means")} <= set(
        MOTION_DIFFERING
    )


@pytest.mark.parametrize("preset", ["cpu", "gpu"])
@pytest.mark.parametrize("name", DIFFERING)
def test_an_option_given_with_a_preset_overrides_it_exactly_whatever_its_value(preset, name):
    """The other preset's value, and the CPU default's, each reach the config unchanged; every
    other setting is the chosen preset's."""
    base = preset_config(preset)
    other = GPU if preset == "cpu" else CPU
    for value in (flat_values(other)[name], flat_values(CPU)[name]):
        command = parse("--preset", preset, *option_words(name, value))
        assert command.resolved_config() == with_settings(base, **{name: value})
        assert command.resolved_preset() == preset


@pytest.mark.parametrize("preset", ["cpu", "gpu"])
@pytest.mark.parametrize(("motion", "name"), MOTION_DIFFERING)
def test_a_motion_option_given_with_a_preset_overrides_it_exactly(preset, motion, name):
    base = preset_config(preset, motion)
    other = preset_config("gpu" if preset == "cpu" else "cpu", motion)
    field = name.removeprefix("motion.")
    for value in (getattr(other.motion, field), getattr(base.motion, field)):
        command = parse("--preset", preset, "--motion", motion, *option_words(name, value))
        expected = dataclasses.replace(base.motion, **{field: value})
        assert command.resolved_config() == with_settings(base, motion=expected)


@pytest.mark.parametrize("preset", ["cpu", "gpu"])
@pytest.mark.parametrize("motion", list(MOTION_MODELS))
@pytest.mark.parametrize("spelling", ["--motion", "--motion=", "motion:"])
def test_choosing_the_motion_model_gives_the_presets_settings_for_it(preset, motion, spelling):
    words = [spelling, motion] if spelling == "--motion" else [spelling + motion]
    config = parse("--preset", preset, *words).resolved_config()
    assert config == preset_config(preset, motion)
    assert config.steps == preset_config(preset).steps  # the rest stays the preset's


@pytest.mark.parametrize("preset", ["cpu", "gpu"])
def test_every_setting_of_the_other_preset_given_at_once_gives_that_preset(preset):
    other = "gpu" if preset == "cpu" else "cpu"
    values = preset_config(other)
    flat = flat_values(values)
    words = [word for name in DIFFERING for word in option_words(name, flat[name])]
    words += ["--motion", values.motion.name]
    words += [
        word
        for name, value in flat.items()
        if name.startswith("motion.")
        for word in option_words(name, value)
    ]
    assert parse("--preset", preset, *words).resolved_config() == values


def test_the_issue_command_trains_2000_steps_without_nodes():
    """`train DATA --out RUN --preset gpu --steps 2000 --motion-nodes 0` trained 20,000 steps
    with 2,048 nodes: both values equal the CPU defaults. Its spelling is now --motion spline;
    the old one is refused in one line that gives it."""
    command = parse("--preset", "gpu", "--steps", "2000", "--motion", "spline")
    config = command.resolved_config()
    assert config.steps == 2000 and config.motion == SplineSettings(lr_means=0.001)
    assert config == with_settings(GPU, steps=2000, motion=SplineSettings(lr_means=0.001))
    with pytest.raises(InputError, match="renamed: use --motion nodes --motion.nodes N") as error:
        parse("--preset", "gpu", "--steps", "2000", "--motion-nodes", "0")
    assert error.value.where == "--motion-nodes"


def test_an_unknown_motion_model_is_one_line(capsys):
    assert cli.main(["train", "data", "--out", "run", "--motion", "bones"]) == 2
    assert capsys.readouterr().err == (
        "avatar4d: error: --motion: unknown motion model 'bones'; known: spline, nodes, rig\n"
    )
    assert cli.main(["train", "data", "--out", "run", "--motion"]) == 2
    assert "--motion: needs a motion model: one of spline, nodes, rig" in capsys.readouterr().err
    assert cli.main(["train", "data", "--out", "run", "--motion.nodes", "64"]) == 2
    assert "--motion.nodes" in capsys.readouterr().err  # the spline model has no such option


def test_auto_picks_the_preset_by_the_device_before_the_options_apply(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    command = parse("--steps", "2000", "--track-weight", "0.1")
    assert command.preset == "auto" and command.resolved_preset() == "gpu"
    assert command.resolved_config() == with_settings(GPU, steps=2000, track_weight=0.1)
    on_cpu = parse("--device", "cpu", "--steps", "20000")  # auto follows the device given
    assert on_cpu.resolved_preset() == "cpu"
    assert on_cpu.resolved_config() == with_settings(CPU, device="cpu", steps=20000)


def test_the_preset_is_read_as_the_parser_reads_it():
    assert parse("--preset=gpu").resolved_config() == GPU
    twice = parse("--preset", "gpu", "--preset", "cpu")  # the last one given counts
    assert twice.preset == "cpu" and twice.resolved_config() == CPU
    with pytest.raises(cli.UsageError, match="--preset: 'tpu' is not one of auto, cpu, gpu"):
        parse("--preset", "tpu")


def train_help(capsys, *args: str) -> str:
    assert cli.main(["train", *args, "--help"]) == 0
    return ANSI_ESCAPE.sub("", capsys.readouterr().out)


def shown_default(option: str, text: str) -> str:
    match = re.search(rf"{option} [A-Z]+.*?\(default: ([^)]*)\)", text, re.DOTALL)
    assert match is not None, option
    return " ".join(match.group(1).split())


def test_help_shows_the_chosen_presets_defaults(capsys, monkeypatch):
    text = train_help(capsys, "--preset", "gpu")
    assert shown_default("--steps", text) == "20000"
    assert shown_default("--motion.nodes", text) == "2048"
    assert shown_default("--motion.residual-points", text) == "8"
    spline = train_help(capsys, "--preset", "gpu", "--motion", "spline")
    assert shown_default("--motion.lr-means", spline) == "0.001"
    assert "--motion.nodes" not in spline
    assert shown_default("--track-weight", text) == "0.3"
    assert "The defaults shown are the gpu preset's (--preset gpu)." in text
    assert shown_default("--steps", train_help(capsys, "--preset", "cpu")) == "2000"

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    text = train_help(capsys)
    assert shown_default("--steps", text) == "2000"
    assert shown_default("--motion.control-points", text) == "0"
    assert "--motion.nodes" not in text
    assert "the cpu preset's: --preset auto picks it on this machine" in " ".join(text.split())
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert shown_default("--steps", train_help(capsys)) == "20000"


@pytest.fixture
def saved_run(tmp_path):
    """A run folder's config.yml (no checkpoint: parsing and resolving need only that)."""
    data = tmp_path / "data"
    data.mkdir()
    (data / "transforms_train.json").write_text('{"frames": []}')
    config = with_settings(CPU, steps=10, val_every=0, device="cpu", init_points=60)
    spec = ModelSpec(SplineStructure(6), True, [0.0, 1.0, 0.5], 0.9, 0.25)
    write_run_record(tmp_path / "run", new_run_record(config, spec, data, "cpu"))
    return data, tmp_path / "run", config


def parse_resume(saved_run, *args: str) -> TrainCommand:
    data, run, _ = saved_run
    return cli.parse(["train", str(data), "--out", str(run), "--resume", *args])


def test_resuming_starts_from_the_runs_own_settings(saved_run, capsys):
    _, run, config = saved_run
    assert parse_resume(saved_run).resolved_config() == config
    # 500 is the CPU default: the old comparison with it dropped the option on resume.
    more = parse_resume(saved_run, "--val-every", "500", "--steps", "2000")
    assert more.resolved_config() == with_settings(config, val_every=500, steps=2000)
    assert parse_resume(saved_run, "--init-points", "60").resolved_config() == config
    assert parse_resume(saved_run, "--preset", "cpu").resolved_config() == config
    with pytest.raises(InputError, match="cannot change when resuming") as error:
        parse_resume(saved_run, "--init-points", "6000").resolved_config()
    assert error.value.where == "--init-points"
    with pytest.raises(InputError, match="cannot change when resuming") as error:
        parse_resume(saved_run, "--preset", "gpu").resolved_config()
    assert error.value.where == "--preset"
    with pytest.raises(InputError, match="cannot change when resuming") as error:
        parse_resume(saved_run, "--motion.lr-means", "0.02").resolved_config()
    assert error.value.where == "--motion.lr-means"
    with pytest.raises(InputError, match="cannot change when resuming") as error:
        parse_resume(saved_run, "--motion", "nodes").resolved_config()
    assert error.value.where == "--motion"
    assert parse_resume(saved_run, "--motion", "spline").resolved_config() == config
    text = train_help(capsys, "x", "--out", str(run), "--resume")
    assert shown_default("--steps", text) == "10"
    assert "The defaults shown are the run's own (its config.yml)." in text


def test_resuming_a_run_that_cannot_be_read_is_reported_when_the_command_runs(tmp_path):
    command = cli.parse(["train", "x", "--out", str(tmp_path / "none"), "--resume"])
    settings = dataclasses.replace(command.config, motion=command.motion)
    assert settings == preset_config(command.resolved_preset())  # the preset's, then
    with pytest.raises(InputError, match="not an avatar4d run folder"):
        command.run()


def test_without_motion_a_dataset_that_carries_its_character_trains_the_rig_model(tmp_path):
    data = tmp_path / "grid"
    (data / "asset").mkdir(parents=True)
    (data / "asset" / "hero.glb").write_bytes(b"glTF")
    (data / "scene.json").write_text('{"asset": {"file": "asset/hero.glb", "sha256": "0"}}')

    def motion_of(*words: str) -> str:
        command = cli.parse(["train", str(data), "--out", "run", "--device", "cpu", *words])
        return command.resolved_config().motion.name

    assert motion_of() == "rig"
    assert motion_of("--preset", "gpu") == "rig"
    assert motion_of("--motion", "spline") == "spline"  # the user's choice wins
    assert motion_of("--motion.control-points", "8") == "spline"  # the preset's model's option
    (data / "scene.json").write_text('{"asset": {"file": "../elsewhere.glb"}}')
    assert motion_of() == "spline"  # a copy outside the dataset is none
    (data / "scene.json").write_text("{not json")
    assert motion_of() == "spline"  # reported in one line when training starts
    (data / "scene.json").unlink()
    assert motion_of() == "spline" and motion_of("--preset", "gpu") == "nodes"
