"""Model parameters stored in half precision: half the size on disk of float32.

Every tensor is stored as float16 except the model's positions (``ModelSpec.
full_precision_keys``: the Gaussians' and those its motion model names, e.g. the control
nodes'), which keep float32: a float16 position is only good to about 1e-3 of its distance
from the origin, which is a visible fraction of a pixel when a character stands away from the
origin.
"""

from __future__ import annotations

from pathlib import Path

import torch
from safetensors.torch import save_file

from avatar4d.io.atomic import atomic_path
from avatar4d.io.tensor_files import read_tensors


def to_half_precision(
    params: dict[str, torch.Tensor], full_precision: tuple[str, ...]
) -> dict[str, torch.Tensor]:
    return {
        name: _stored(tensor.detach(), name in full_precision) for name, tensor in params.items()
    }


def _stored(tensor: torch.Tensor, full_precision: bool) -> torch.Tensor:
    if not tensor.is_floating_point():
        return tensor  # indices stay exact
    return tensor.float() if full_precision else tensor.half()


def save_half_precision(
    params: dict[str, torch.Tensor],
    path: Path,
    full_precision: tuple[str, ...],
    force: bool = False,
) -> Path:
    """Write the parameters (float16, those named ``full_precision`` float32) to a
    safetensors file, atomically."""
    tensors = {
        name: t.contiguous().cpu() for name, t in to_half_precision(params, full_precision).items()
    }
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
