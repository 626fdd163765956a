"""3D covariance of a Gaussian from its rotation (quaternion) and per-axis scale."""

from __future__ import annotations

import torch


def quaternion_to_rotation(quats: torch.Tensor) -> torch.Tensor:
    """(..., 4) quaternions, w x y z, any norm -> (..., 3, 3) rotation matrices."""
    w, x, y, z = (quats / quats.norm(dim=-1, keepdim=True)).unbind(-1)
    rows = (
        (1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)),
        (2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)),
        (2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)),
    )
    return torch.stack([torch.stack(row, dim=-1) for row in rows], dim=-2)


def covariance_from_quat_scale(quats: torch.Tensor, scales: torch.Tensor) -> torch.Tensor:
    """Sigma = R S S^T R^T for (..., 4) quaternions and (..., 3) linear scales -> (..., 3, 3)."""
    rotation_scale = quaternion_to_rotation(quats) * scales[..., None, :]
    return rotation_scale @ rotation_scale.transpose(-1, -2)
