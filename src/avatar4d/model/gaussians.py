"""Canonical 3D Gaussians as one dict of per-Gaussian parameters (the gsplat convention).

Every tensor in the dict has the number of Gaussians as its first dimension, so gsplat's
densification strategies clone, split and prune the motion parameters together with the
rest. Stored (raw) forms and what the rasteriser takes:

- ``means`` (N, 3) world positions;
- ``scales`` (N, 3) log of the standard deviations -> ``exp``;
- ``quats`` (N, 4) rotation, w x y z, not normalised -> normalised;
- ``opacities`` (N,) logits -> ``sigmoid``;
- ``colors`` (N, 3) degree-0 spherical-harmonics coefficients ``f_dc`` ->
  ``rgb = 0.5 + SH_C0 * f_dc`` (clamped at 0), as in 3DGS PLY files;
- motion parameters, named by the deformation (see ``avatar4d.model.deformation``).

Tensors whose names start with ``node_`` or ``light_`` are shared by all Gaussians (a
deformation's control nodes, the light of ``avatar4d.model.shading``): they have their own
lengths, and densification leaves them alone.
"""

from __future__ import annotations

from typing import TypeVar

import torch

SH_C0 = 0.28209479177387814  # the constant degree-0 real spherical harmonic, 1 / (2 sqrt(pi))

CANONICAL_KEYS = ("means", "scales", "quats", "opacities", "colors")
SHARED_PREFIXES = ("node_", "light_")

GaussianParams = dict[str, torch.nn.Parameter]
Value = TypeVar("Value")


def rgb_to_f_dc(rgb: torch.Tensor) -> torch.Tensor:
    return (rgb - 0.5) / SH_C0


def f_dc_to_rgb(f_dc: torch.Tensor) -> torch.Tensor:
    return (0.5 + SH_C0 * f_dc).clamp_min(0.0)


def identity_quats(count: int, device: torch.device | str = "cpu") -> torch.Tensor:
    quats = torch.zeros(count, 4, device=device)
    quats[:, 0] = 1.0
    return quats


def is_per_gaussian(name: str) -> bool:
    return not name.startswith(SHARED_PREFIXES)


def per_gaussian(values: dict[str, Value]) -> dict[str, Value]:
    """The entries of a params-keyed dict (params, optimisers) that are per Gaussian."""
    return {name: value for name, value in values.items() if is_per_gaussian(name)}


def make_params(tensors: dict[str, torch.Tensor]) -> GaussianParams:
    """Wrap tensors as trainable parameters (float32); the per-Gaussian ones share a length."""
    lengths = {name: tensor.shape[0] for name, tensor in per_gaussian(tensors).items()}
    if len(set(lengths.values())) != 1:
        raise ValueError(f"per-Gaussian tensors differ in length: {lengths}")
    missing = [key for key in CANONICAL_KEYS if key not in tensors]
    if missing:
        raise ValueError(f"missing Gaussian parameters: {missing}")
    return {name: _as_parameter(tensor) for name, tensor in tensors.items()}


def _as_parameter(tensor: torch.Tensor) -> torch.nn.Parameter:
    """Floating tensors become float32 trainable parameters; integer ones (a deformation's
    bookkeeping, such as which nodes each Gaussian follows) are carried along, not trained."""
    if tensor.is_floating_point():
        return torch.nn.Parameter(tensor.detach().to(torch.float32).contiguous())
    return torch.nn.Parameter(tensor.detach().contiguous(), requires_grad=False)


def num_gaussians(params: dict[str, torch.Tensor]) -> int:
    return params["means"].shape[0]
