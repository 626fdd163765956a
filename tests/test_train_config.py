"""TrainConfig: nested sections, validation, presets, and the run folder's config.yml round
trip (this version's nested form, and the flat form earlier versions wrote)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import yaml

from avatar4d.errors import InputError
from avatar4d.model.motions.nodes import NodeSettings, NodeStructure
from avatar4d.model.motions.registry import MOTION_MODELS
from avatar4d.model.motions.spline import SplineSettings, SplineStructure
from avatar4d.model.spec import ModelSpec
from avatar4d.run.config import TrainConfig, with_settings
from avatar4d.run.config_file import config_from_dict, config_to_dict
from avatar4d.run.presets import PRESETS, preset_config
from avatar4d.run.run_folder import (
    new_run_record,
    prepare_new_run_folder,
    read_run_record,
    write_run_record,
)
from avatar4d.run.setting_assignments import with_assignments
from avatar4d.train.optimizers import base_learning_rates, position_keys

OLD_RUN = Path(__file__).parent / "fixtures" / "run_87b4609" / "config.yml"


def spline_spec(control_points: int = 6) -> ModelSpec:
    return ModelSpec(SplineStructure(control_points), True, [0.0, 1.0, 0.5], 0.9, 0.25)


def flat_settings() -> dict:
    """The ``train`` mapping of a config.yml written before the nested settings (87b4609)."""
    return yaml.safe_load(OLD_RUN.read_text())["train"]


def test_config_yml_round_trip(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "transforms_train.json").write_text('{"frames": []}')
    config = with_settings(TrainConfig(), steps=123, lr_means=3e-4, loop="yes")
    config = with_settings(config, random_background=False, motion=SplineSettings(6))
    record = new_run_record(config, spline_spec(), data)
    write_run_record(tmp_path / "run", record)
    written = yaml.safe_load((tmp_path / "run" / "config.yml").read_text())
    assert written["train"]["steps"] == 123
    assert written["train"]["optimiser"]["lr_means"] == 3e-4
    assert written["train"]["losses"]["random_background"] is False
    assert written["train"]["motion"] == {
        "name": "spline",
        "control_points": 6,
        "lr_means": 0.005,
        "lr_quats": 0.001,
    }
    assert written["model"]["motion"] == {"name": "spline", "control_points": 6}
    loaded = read_run_record(tmp_path / "run")
    assert loaded == record
    assert loaded.dataset == data.resolve()
    assert len(loaded.dataset_fingerprint) == 64


def test_a_node_run_round_trips_with_its_structure(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    config = preset_config("gpu")
    spec = ModelSpec(NodeStructure(2048, 4, 60, 8), True, [0.0] * 3, 1.0, 0.5)
    write_run_record(tmp_path / "run", new_run_record(config, spec, data, "gpu"))
    loaded = read_run_record(tmp_path / "run")
    assert loaded.config.motion == NodeSettings(
        nodes=2048, lr_means=0.002, residual_points=8, lr_residual=0.001
    )
    assert loaded.model.motion == NodeStructure(2048, 4, 60, 8)


def test_config_yml_records_the_preset_and_one_written_before_it_still_loads(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "transforms_train.json").write_text('{"frames": []}')
    config = preset_config("gpu", "spline")  # the run: gpu preset without nodes
    record = new_run_record(config, spline_spec(), data, "gpu")
    run = tmp_path / "run"
    write_run_record(run, record)
    text = (run / "config.yml").read_text()
    assert text.startswith("software:") and "\npreset: gpu\ntrain:\n" in text
    assert read_run_record(run) == record and read_run_record(run).preset == "gpu"

    older = text.replace("preset: gpu\n", "")  # config.yml of a version before the preset
    (run / "config.yml").write_text(older)
    loaded = read_run_record(run)
    assert loaded.preset is None and loaded.config == record.config
    write_run_record(run, loaded)  # a resumed old run is written back without a preset
    assert "preset" not in yaml.safe_load((run / "config.yml").read_text())

    for bad in ("tpu", "[gpu]", "null"):
        (run / "config.yml").write_text(text.replace("preset: gpu", f"preset: {bad}"))
        with pytest.raises(InputError, match=r"config.yml: preset must be cpu or gpu, got "):
            read_run_record(run)


def test_config_from_dict_rejects_unknown_keys_and_wrong_types():
    values = config_to_dict(TrainConfig())
    assert config_from_dict(values, "x") == TrainConfig()
    as_int = {**values, "optimiser": {**values["optimiser"], "lr_means": 1}}
    assert config_from_dict(as_int, "x").optimiser.lr_means == 1.0  # an int for a float
    with pytest.raises(InputError, match="unknown settings: bogus"):
        config_from_dict({**values, "bogus": 1}, "config.yml")
    with pytest.raises(InputError, match=r"unknown settings: losses\.bogus"):
        config_from_dict({**values, "losses": {**values["losses"], "bogus": 1}}, "config.yml")
    with pytest.raises(InputError, match="steps must be int"):
        config_from_dict({**values, "steps": "many"}, "config.yml")
    with pytest.raises(
        InputError, match=r"motion.name must be one of spline, nodes, rig, got 'bones'"
    ):
        config_from_dict({**values, "motion": {"name": "bones"}}, "config.yml")
    with pytest.raises(InputError, match=r"unknown settings: motion\.nodes"):
        config_from_dict({**values, "motion": {"name": "spline", "nodes": 3}}, "config.yml")
    with pytest.raises(InputError, match=r"settings missing: densify; the file is damaged"):
        config_from_dict({k: v for k, v in values.items() if k != "densify"}, "config.yml")


def test_the_flat_settings_of_earlier_versions_load_as_the_same_run():
    flat = flat_settings()
    config = config_from_dict(flat, "config.yml")
    assert config.steps == 4 and config.init.init_points == 60
    assert config.densify.refine_every == 20 and config.session.keep_checkpoints == 3
    assert config.losses.track_weight == 0.1 and config.optimiser.lr_means == 0.00016
    assert config.motion == SplineSettings(control_points=0, lr_means=0.03, lr_quats=0.001)

    nodes = {**flat, "motion_nodes": 64, "node_residual_points": 8, "lr_node_motion_means": 2e-3}
    assert config_from_dict(nodes, "config.yml").motion == NodeSettings(
        nodes=64,
        neighbours=4,
        residual_points=8,
        lr_means=2e-3,
        lr_residual=0.03,  # the residual's rate was the per-Gaussian motion's
    )


def test_a_flat_run_folder_from_before_the_node_motion_lr_keeps_its_node_motion_lr():
    values = {**flat_settings(), "lr_motion_means": 0.001, "motion_nodes": 64}
    del values["lr_node_motion_means"]  # written before the setting existed
    assert config_from_dict(values, "config.yml").motion.lr_means == 0.001


def test_a_flat_run_folder_from_before_a_setting_was_retired_still_loads():
    values = {**flat_settings(), "init_from_depth": False}
    assert config_from_dict(values, "config.yml") == config_from_dict(flat_settings(), "x")


def test_a_flat_run_from_before_the_tracks_trained_without_them():
    saved = flat_settings()
    del saved["track_weight"]  # a config.yml written before the surface tracks
    assert config_from_dict(saved, "config.yml").losses.track_weight == 0.0


def test_a_flat_config_missing_settings_every_version_wrote_is_damaged():
    """``train: {lr_means: 1}`` would otherwise train the default 2,000 steps without a word."""
    with pytest.raises(InputError, match=r"^config.yml: settings missing: steps, batch_cameras, "):
        config_from_dict({"lr_means": 1e-4}, "config.yml")
    values = flat_settings()
    del values["refine_every"]
    with pytest.raises(InputError, match=r"settings missing: refine_every; the file is damaged$"):
        config_from_dict(values, "config.yml")
    with pytest.raises(InputError, match=r"settings missing: optimiser, losses, init, densify"):
        config_from_dict({}, "config.yml")
    with pytest.raises(InputError, match=r"motion_nodes must be a whole number >= 0, got -3"):
        config_from_dict({**flat_settings(), "motion_nodes": -3}, "config.yml")


@pytest.mark.parametrize(
    ("change", "option"),
    [
        ({"steps": 0}, "--steps"),
        ({"batch_cameras": -1}, "--batch-cameras"),
        ({"lr_colors": 0.0}, "--lr-colors"),
        ({"init_opacity": 1.0}, "--init-opacity"),
        ({"motion": SplineSettings(control_points=3)}, "--motion.control-points"),
        ({"motion": NodeSettings(residual_points=2)}, "--motion.residual-points"),
        ({"motion": NodeSettings(nodes=0)}, "--motion.nodes"),
        ({"motion": NodeSettings(lr_node_radii=0.0)}, "--motion.lr-node-radii"),
        ({"motion": SplineSettings(lr_means=float("nan"))}, "--motion.lr-means"),
        ({"track_normal_weight": -0.1}, "--track-normal-weight"),
        ({"track_flat_weight": -1.0}, "--track-flat-weight"),
        ({"refine_start_fraction": 0.7, "refine_stop_fraction": 0.5}, "--refine-start-fraction"),
        ({"val_images": 0}, "--val-images"),
        ({"init_hull_resolution": 257}, "--init-hull-resolution"),
    ],
)
def test_validate_names_the_option(change, option):
    with pytest.raises(InputError) as error:
        with_settings(TrainConfig(), **change).validate()
    assert error.value.where == option


def test_presets_are_complete_valid_instances_for_every_motion_model():
    cpu, gpu = preset_config("cpu"), preset_config("gpu")
    for preset in PRESETS:
        for motion in MOTION_MODELS:
            config = preset_config(preset, motion)
            config.validate()
            assert config.motion.name == motion
    assert gpu.steps > cpu.steps and gpu.init.init_points > cpu.init.init_points
    assert gpu.batch_cameras >= cpu.batch_cameras
    assert cpu.motion == SplineSettings() and gpu.motion.name == "nodes"
    assert preset_config("gpu", "spline").motion.lr_means == 0.001  # measured for the GPU
    assert preset_config("cpu", "nodes").motion == NodeSettings()
    assert preset_config("gpu") is not preset_config("gpu")  # fresh instances


def test_position_learning_rate_decays_exponentially():
    config = with_settings(TrainConfig(), steps=100, lr_position_final_factor=0.01)
    assert config.position_lr_factor(0) == 1.0
    assert config.position_lr_factor(50) == pytest.approx(0.1)
    assert config.position_lr_factor(100) == pytest.approx(0.01)


def test_an_existing_folder_is_only_replaced_with_force_and_only_if_it_is_a_run(tmp_path):
    run = tmp_path / "run"
    (run / "checkpoints").mkdir(parents=True)
    (run / "config.yml").write_text("x: 1\n")
    (run / "notes.txt").write_text("mine")
    with pytest.raises(InputError, match="--resume to continue or --force"):
        prepare_new_run_folder(run, force=False)
    with pytest.raises(InputError, match="holds 'checkpoints/' and 2 more entries not written"):
        prepare_new_run_folder(run, force=True)  # config.yml is not avatar4d's: nothing is
    assert sorted(p.name for p in run.iterdir()) == ["checkpoints", "config.yml", "notes.txt"]

    other = tmp_path / "photos"
    other.mkdir()
    (other / "holiday.jpg").write_bytes(b"x")
    with pytest.raises(InputError, match="holds 'holiday.jpg' not written by avatar4d"):
        prepare_new_run_folder(other, force=True)
    assert (other / "holiday.jpg").exists()


def test_each_motion_model_declares_its_learning_rates_and_positions():
    spline = with_settings(TrainConfig(), motion=SplineSettings(lr_means=0.001))
    rates = base_learning_rates(spline, scene_radius=2.0)
    assert rates["motion_means"] == pytest.approx(0.002)
    assert "node_motion_means" not in rates
    assert position_keys(spline) == ("means", "motion_means")

    nodes = with_settings(TrainConfig(), motion=NodeSettings(lr_means=0.004, lr_residual=0.001))
    rates = base_learning_rates(nodes, scene_radius=2.0)
    assert rates["node_motion_means"] == pytest.approx(0.008)
    assert rates["motion_means"] == pytest.approx(0.002)
    assert rates["means"] == pytest.approx(2 * TrainConfig().optimiser.lr_means)
    assert position_keys(nodes) == ("means", "node_means", "node_motion_means", "motion_means")


def test_non_finite_weights_are_refused():
    with pytest.raises(InputError, match="--track-weight: must be a finite number"):
        with_settings(TrainConfig(), track_weight=float("nan")).validate()
    with pytest.raises(InputError, match="--depth-weight: must be a finite number"):
        with_settings(TrainConfig(), depth_weight=float("inf")).validate()


def test_with_settings_and_assignments_name_settings_as_the_options_do():
    config = with_settings(TrainConfig(), track_weight=0.3, steps=5, max_gaussians=9)
    assert (config.losses.track_weight, config.steps, config.densify.max_gaussians) == (0.3, 5, 9)
    assert TrainConfig().losses.track_weight == 0.1  # the original is untouched
    with pytest.raises(KeyError, match="no training setting 'bogus'"):
        with_settings(TrainConfig(), bogus=1)
    nodes = with_settings(TrainConfig(), motion=NodeSettings())
    assigned = with_assignments(nodes, ["motion.nodes=512", "grow_grad2d=1e-4", "loop=no"])
    assert assigned.motion.nodes == 512 and assigned.densify.grow_grad2d == 1e-4
    assert assigned.loop == "no"
    with pytest.raises(ValueError, match="no training setting 'nodes'"):
        with_assignments(TrainConfig(), ["motion.nodes=3"])  # the spline model has none
    with pytest.raises(ValueError, match="is a section"):
        with_assignments(TrainConfig(), ["losses=1"])


def test_adding_a_field_keeps_option_names_unique():
    """Every option is flat but the motion model's: two sections may not share a name."""
    names = [f.name for f in dataclasses.fields(TrainConfig)]
    for section in ("optimiser", "losses", "init", "densify", "session"):
        names += [f.name for f in dataclasses.fields(getattr(TrainConfig(), section))]
    assert len(names) == len(set(names))
