"""Checkpoints: exact round trip of parameters, Adam moments, strategy state; rotation; RNG."""

from __future__ import annotations

import json
import random

import numpy as np
import pytest
import torch

from avatar4d.errors import InputError
from avatar4d.model.gaussians import make_params
from avatar4d.run.checkpoint import (
    checkpoint_steps,
    latest_step,
    load_checkpoint,
    restore_adam_states,
    save_checkpoint,
)
from avatar4d.train.optimizers import make_optimizers
from avatar4d.train.rng import capture_rng_states, restore_rng_states, seed_everything


def trained_a_little(count: int = 7):
    generator = torch.Generator().manual_seed(0)
    params = make_params(
        {
            "means": torch.randn(count, 3, generator=generator),
            "scales": torch.randn(count, 3, generator=generator),
            "quats": torch.randn(count, 4, generator=generator),
            "opacities": torch.randn(count, generator=generator),
            "colors": torch.randn(count, 3, generator=generator),
            "motion_means": torch.zeros(count, 4, 3),
        }
    )
    optimizers = make_optimizers(params, {name: 1e-2 for name in params})
    for _ in range(3):
        loss = sum((param**2).sum() for param in params.values())
        loss.backward()
        for optimizer in optimizers.values():
            optimizer.step()
            optimizer.zero_grad()
    strategy_state = {"grad2d": torch.rand(count), "count": torch.arange(count) * 1.0}
    strategy_state["scene_scale"] = 0.75
    return params, optimizers, strategy_state


def test_round_trip_is_exact(tmp_path):
    params, optimizers, strategy_state = trained_a_little()
    meta = {"rng": capture_rng_states(), "dataset_fingerprint": "abc"}
    path = save_checkpoint(tmp_path, 30, params, optimizers, strategy_state, meta, keep=2)
    assert path.name == "step_000030.json"
    assert json.loads((tmp_path / "latest.json").read_text())["checkpoint"] == path.name

    checkpoint = load_checkpoint(tmp_path, None, "cpu")
    assert checkpoint.step == 30
    assert checkpoint.meta["dataset_fingerprint"] == "abc"
    assert checkpoint.meta["strategy_scalars"] == {"scene_scale": 0.75}
    assert checkpoint.meta["parameters"]["motion_means"] == [7, 4, 3]
    for name, param in params.items():
        assert torch.equal(checkpoint.params[name], param.detach())
    for key in ("grad2d", "count"):
        assert torch.equal(checkpoint.strategy_tensors[key], strategy_state[key])

    restored = make_params(checkpoint.params)
    restored_optimizers = make_optimizers(restored, {name: 1e-2 for name in restored})
    restore_adam_states(restored_optimizers, restored, checkpoint.adam)
    for name in params:
        before = optimizers[name].state[params[name]]
        after = restored_optimizers[name].state[restored[name]]
        for key in ("exp_avg", "exp_avg_sq", "step"):
            assert torch.equal(before[key], after[key])
    assert float(restored_optimizers["means"].state[restored["means"]]["step"]) == 3.0


def test_only_the_newest_checkpoints_are_kept(tmp_path):
    params, optimizers, strategy_state = trained_a_little()
    for step in (10, 20, 30):
        save_checkpoint(tmp_path, step, params, optimizers, strategy_state, {"rng": {}}, keep=2)
    assert checkpoint_steps(tmp_path) == [20, 30]
    assert not (tmp_path / "step_000010.safetensors").exists()
    assert latest_step(tmp_path) == 30
    assert load_checkpoint(tmp_path, 20, "cpu").step == 20
    with pytest.raises(InputError, match="no checkpoint for step 10"):
        load_checkpoint(tmp_path, 10, "cpu")
    assert not list(tmp_path.glob(".*.tmp"))  # no temporary files left behind


def test_a_damaged_tensor_file_is_an_input_error(tmp_path):
    params, optimizers, strategy_state = trained_a_little()
    save_checkpoint(tmp_path, 5, params, optimizers, strategy_state, {"rng": {}}, keep=2)
    (tmp_path / "step_000005.safetensors").write_bytes(b"not a safetensors file")
    with pytest.raises(InputError, match="unreadable checkpoint"):
        load_checkpoint(tmp_path, None, "cpu")


def test_rng_states_survive_json():
    seed_everything(11)
    states = json.loads(json.dumps(capture_rng_states()))
    first = (torch.rand(4), random.random(), np.random.rand(3))
    torch.rand(100), random.random(), np.random.rand(5)  # move every generator on
    restore_rng_states(states)
    again = (torch.rand(4), random.random(), np.random.rand(3))
    assert torch.equal(first[0], again[0])
    assert first[1] == again[1]
    assert np.array_equal(first[2], again[2])
