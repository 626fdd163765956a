"""Half-precision parameter files: smaller, positions exact, everything else close."""

from __future__ import annotations

import pytest
import torch

from avatar4d.errors import InputError
from avatar4d.model.motions.nodes import NodeStructure
from avatar4d.model.motions.spline import SplineStructure
from avatar4d.model.spec import ModelSpec
from avatar4d.output.half_precision import load_half_precision, save_half_precision

SPLINE = ModelSpec(SplineStructure(30), True, [0.0] * 3, 1.0, 0.0).full_precision_keys
NODES = ModelSpec(NodeStructure(64, 4, 8, 0), True, [0.0] * 3, 1.0, 0.0).full_precision_keys


def _params() -> dict[str, torch.Tensor]:
    generator = torch.Generator().manual_seed(0)
    return {
        "means": torch.randn(500, 3, generator=generator) + 40.0,  # far from the origin
        "colors": torch.randn(500, 3, generator=generator),
        "motion_means": torch.randn(500, 30, 3, generator=generator) * 0.1,
    }


def test_round_trip_keeps_positions_exact_and_the_rest_within_half_precision(tmp_path):
    params = _params()
    path = save_half_precision(params, tmp_path / "model.safetensors", SPLINE)
    loaded = load_half_precision(path)
    assert set(loaded) == set(params) and all(t.dtype == torch.float32 for t in loaded.values())
    assert torch.equal(loaded["means"], params["means"])
    for name in ("colors", "motion_means"):
        relative = (loaded[name] - params[name]).abs() / params[name].abs().clamp_min(1e-3)
        assert relative.max() < 1e-3
    full_bytes = sum(t.numel() * 4 for t in params.values())
    stored = 500 * 3 * 4 + (500 * 3 + 500 * 30 * 3) * 2
    assert stored <= path.stat().st_size < stored + 1024 < full_bytes


def test_existing_file_is_kept_without_force_and_bad_files_are_named(tmp_path):
    path = save_half_precision(_params(), tmp_path / "model.safetensors", SPLINE)
    with pytest.raises(InputError):
        save_half_precision(_params(), path, SPLINE)
    save_half_precision(_params(), path, SPLINE, force=True)
    broken = tmp_path / "broken.safetensors"
    broken.write_bytes(b"\x10\x00\x00\x00not a header")
    with pytest.raises(InputError, match="unreadable"):
        load_half_precision(broken)
    with pytest.raises(InputError, match="not found"):
        load_half_precision(tmp_path / "missing.safetensors")


def test_node_positions_and_node_indices_stay_exact(tmp_path):
    generator = torch.Generator().manual_seed(2)
    params = {
        **_params(),
        "node_means": torch.randn(64, 3, generator=generator) + 40.0,
        "binding": torch.randint(0, 5000, (500, 4), generator=generator, dtype=torch.int32),
    }
    loaded = load_half_precision(save_half_precision(params, tmp_path / "nodes.st", NODES))
    assert SPLINE == ("means",) and NODES == ("means", "node_means")  # each model's own
    assert torch.equal(loaded["node_means"], params["node_means"])
    assert loaded["binding"].dtype == torch.int32  # indices stay exact integers
    assert torch.equal(loaded["binding"], params["binding"])
