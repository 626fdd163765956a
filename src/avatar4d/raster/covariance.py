"""3D covariance of a Gaussian from its rotation (quaternion) and per-axis scale."""

from __future__ import annotations

import torch

from avatar4d.raster.quaternions import normalize_quat, quat_to_rotation


def covariance_from_quat_scale(quats: torch.Tensor, scales: torch.Tensor) -> torch.Tensor:
    """Sigma = R S S^T R^T for (..., 4) quaternions (w x y z, any norm) and (..., 3) linear
    scales -> (..., 3, 3)."""
    rotation_scale = quat_to_rotation(normalize_quat(quats)) * scales[..., None, :]
    return rotation_scale @ rotation_scale.transpose(-1, -2)
