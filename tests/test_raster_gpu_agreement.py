"""gsplat (CUDA) against the reference rasteriser: runs only where CUDA is available."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest
import torch

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "raster_agreement_gpu.py"


def _load_agreement_script():
    spec = importlib.util.spec_from_file_location("raster_agreement_gpu", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while it loads
    spec.loader.exec_module(module)
    return module


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA for gsplat")
def test_gsplat_agrees_with_the_reference_rasteriser() -> None:
    agreement = _load_agreement_script()
    assert agreement.run_agreement("cuda", count=500, n_cameras=3, size=128, seed=0)
