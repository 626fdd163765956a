"""Model parameters stored in half precision: half the size on disk of float32.

Every tensor is stored as float16 except the canonical positions (of the Gaussians and of
the control nodes), which keep float32: a float16 position is only good to about 1e-3 of its
distance from the origin, which is a visible fraction of a pixel when a character stands away
from the origin.
"""

from __future__ import annotations

from pathlib import Path

import torch
from safetensors.torch import save_file

from avatar4d.io.atomic import atomic_path
from avatar4d.io.tensor_files import read_tensors

FULL_PRECISION_KEYS = ("means", "node_means")


def to_half_precision(params: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {name: _stored(name, tensor.detach()) for name, tensor in params.items()}


def _stored(name: str, tensor: torch.Tensor) -> torch.Tensor:
    if not tensor.is_floating_point():
        return tensor  # indices stay exact
    return tensor.float() if name in FULL_PRECISION_KEYS else tensor.half()


def save_half_precision(params: dict[str, torch.Tensor], path: Path, force: bool = False) -> Path:
    """Write the parameters (float16, positions float32) to a safetensors file, atomically."""
    tensors = {name: t.contiguous().cpu() for name, t in to_half_precision(params).items()}
    with atomic_path(path, force=force) as temp_path:
        save_file(tensors, str(temp_path))
    return Path(path)


def load_half_precision(path: Path, device: torch.device | str = "cpu") -> dict[str, torch.Tensor]:
    """The parameters of a file written by ``save_half_precision``, as float32."""
    tensors = read_tensors(path, device, "parameters")
    return {
        name: tensor.float() if tensor.is_floating_point() else tensor
        for name, tensor in tensors.items()
    }
