"""TrainConfig: validation, presets, and the run folder's config.yml round trip."""

from __future__ import annotations

import dataclasses

import pytest
import yaml

from avatar4d.errors import InputError
from avatar4d.model.spec import ModelSpec
from avatar4d.run.config import TrainConfig, config_from_dict, config_to_dict
from avatar4d.run.run_folder import (
    new_run_record,
    prepare_new_run_folder,
    read_run_record,
    write_run_record,
)
from avatar4d.train.optimizers import base_learning_rates


def test_config_yml_round_trip(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "transforms_train.json").write_text('{"frames": []}')
    config = TrainConfig(steps=123, lr_means=3e-4, loop="yes", random_background=False)
    spec = ModelSpec("spline", 6, True, [0.0, 1.0, 0.5], 0.9, 0.25)
    record = new_run_record(config, spec, data)
    write_run_record(tmp_path / "run", record)
    assert "steps: 123" in (tmp_path / "run" / "config.yml").read_text()
    loaded = read_run_record(tmp_path / "run")
    assert loaded == record
    assert loaded.dataset == data.resolve()
    assert len(loaded.dataset_fingerprint) == 64


def test_config_yml_records_the_preset_and_one_written_before_it_still_loads(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "transforms_train.json").write_text('{"frames": []}')
    spec = ModelSpec("spline", 6, True, [0.0, 1.0, 0.5], 0.9, 0.25)
    config = dataclasses.replace(TrainConfig.for_gpu(), motion_nodes=0)  # the run
    record = new_run_record(config, spec, data, "gpu")
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
    assert config_from_dict({**values, "lr_means": 1}, "x").lr_means == 1.0  # int for float
    with pytest.raises(InputError, match="unknown settings: bogus"):
        config_from_dict({**values, "bogus": 1}, "config.yml")
    with pytest.raises(InputError, match="steps must be int"):
        config_from_dict({**values, "steps": "many"}, "config.yml")


def test_a_run_folder_from_before_the_node_motion_lr_keeps_its_node_motion_lr():
    values = config_to_dict(TrainConfig(lr_motion_means=0.001, motion_nodes=64))
    del values["lr_node_motion_means"]  # written before the setting existed
    assert config_from_dict(values, "config.yml").lr_node_motion_means == 0.001


def test_a_run_folder_from_before_a_setting_was_retired_still_loads():
    values = {**config_to_dict(TrainConfig(steps=77)), "init_from_depth": False}
    assert config_from_dict(values, "config.yml") == TrainConfig(steps=77)


@pytest.mark.parametrize(
    ("change", "option"),
    [
        ({"steps": 0}, "--steps"),
        ({"batch_cameras": -1}, "--batch-cameras"),
        ({"lr_colors": 0.0}, "--lr-colors"),
        ({"init_opacity": 1.0}, "--init-opacity"),
        ({"motion_control_points": 3}, "--motion-control-points"),
        ({"node_residual_points": 2}, "--node-residual-points"),
        ({"track_normal_weight": -0.1}, "--track-normal-weight"),
        ({"track_flat_weight": -1.0}, "--track-flat-weight"),
        ({"refine_start_fraction": 0.7, "refine_stop_fraction": 0.5}, "--refine-start-fraction"),
    ],
)
def test_validate_names_the_option(change, option):
    with pytest.raises(InputError) as error:
        dataclasses.replace(TrainConfig(), **change).validate()
    assert error.value.where == option


def test_gpu_preset_is_bigger_and_valid():
    cpu, gpu = TrainConfig(), TrainConfig.for_gpu()
    gpu.validate()
    assert gpu.steps > cpu.steps and gpu.init_points > cpu.init_points
    assert gpu.batch_cameras >= cpu.batch_cameras


def test_position_learning_rate_decays_exponentially():
    config = TrainConfig(steps=100, lr_position_final_factor=0.01)
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


def test_node_and_per_gaussian_motion_have_their_own_learning_rates():
    config = dataclasses.replace(TrainConfig(), lr_motion_means=0.001, lr_node_motion_means=0.004)
    rates = base_learning_rates(config, scene_radius=2.0)
    assert rates["motion_means"] == pytest.approx(0.002)
    assert rates["node_motion_means"] == pytest.approx(0.008)


def test_non_finite_weights_are_refused_and_old_runs_trained_without_tracks():
    import math as _math

    from avatar4d.run.config import config_from_dict, config_to_dict

    with pytest.raises(InputError, match="--track-weight: must be a finite number"):
        TrainConfig(track_weight=_math.nan).validate()
    with pytest.raises(InputError, match="--depth-weight: must be a finite number"):
        TrainConfig(depth_weight=_math.inf).validate()
    saved = config_to_dict(TrainConfig())
    del saved["track_weight"]  # a config.yml written before the surface tracks
    assert config_from_dict(saved, "config.yml").track_weight == 0.0


def test_a_config_missing_settings_every_version_wrote_is_damaged():
    """``train: {}`` in config.yml trained the default 2,000 steps without a word."""
    with pytest.raises(InputError, match=r"^config.yml: settings missing: steps, batch_cameras, "):
        config_from_dict({}, "config.yml")
    values = config_to_dict(TrainConfig())
    del values["refine_every"]
    with pytest.raises(InputError, match=r"settings missing: refine_every; the file is damaged$"):
        config_from_dict(values, "config.yml")
