"""Quaternions as (..., 4) tensors in w x y z order (gsplat's), differentiable.

The algebra is ``avatar4d.asset.quaternions``' (written once for floats, arrays and tensors);
this module unpacks and stacks tensors around it. It sits in raster/ because the rasteriser
(covariances) is the first torch layer that needs it; model/ and train/ use it from here.
"""

from __future__ import annotations

import torch

from avatar4d.asset.quaternions import product, rotation_rows


def quat_multiply(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Hamilton product a * b: the rotation b followed by the rotation a (for unit inputs)."""
    return torch.stack(product(a.unbind(-1), b.unbind(-1)), dim=-1)


def normalize_quat(q: torch.Tensor, eps: float = 1e-12) -> torch.Tensor:
    return q / q.norm(dim=-1, keepdim=True).clamp_min(eps)


def quat_to_rotation(q: torch.Tensor) -> torch.Tensor:
    """(..., 4) unit quaternions -> (..., 3, 3) rotation matrices."""
    rows = rotation_rows(*q.unbind(-1))
    return torch.stack([torch.stack(row, dim=-1) for row in rows], dim=-2)


def rotate_vectors(q: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """(..., 3) vectors turned by (..., 4) unit quaternions: v + w t + u x t, t = 2 u x v.

    The same as quat_to_rotation(q) @ v in a handful of kernels instead of some thirty (the
    training step runs it on every Gaussian; on a GPU each small kernel costs its launch)."""
    w, u = q[..., :1], q[..., 1:]
    u, v = torch.broadcast_tensors(u, v)  # linalg.cross wants equal dimensions
    t = 2.0 * torch.linalg.cross(u, v, dim=-1)
    return v + w * t + torch.linalg.cross(u, t, dim=-1)
