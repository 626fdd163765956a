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


def rotation_to_quat(rotations: torch.Tensor) -> torch.Tensor:
    """(..., 3, 3) rotation matrices -> (..., 4) unit quaternions, w x y z, w >= 0.

    Of the four ways to read a quaternion off a rotation matrix, each is accurate where its
    own component is the largest; that one is taken, element by element.
    """
    m = rotations
    m00, m01, m02 = m[..., 0, 0], m[..., 0, 1], m[..., 0, 2]
    m10, m11, m12 = m[..., 1, 0], m[..., 1, 1], m[..., 1, 2]
    m20, m21, m22 = m[..., 2, 0], m[..., 2, 1], m[..., 2, 2]
    # 4 w^2 - 1, 4 x^2 - 1, 4 y^2 - 1, 4 z^2 - 1
    diagonal = torch.stack(
        (m00 + m11 + m22, m00 - m11 - m22, m11 - m00 - m22, m22 - m00 - m11), dim=-1
    )
    largest, k = diagonal.max(dim=-1)
    one = largest + 1.0  # 4 q_k^2; the other components below are 4 q_k q_i
    a, b, c = m21 - m12, m02 - m20, m10 - m01
    p, q, r = m01 + m10, m02 + m20, m12 + m21
    is0, is1, is2 = k == 0, k == 1, k == 2
    w = torch.where(is0, one, torch.where(is1, a, torch.where(is2, b, c)))
    x = torch.where(is0, a, torch.where(is1, one, torch.where(is2, p, q)))
    y = torch.where(is0, b, torch.where(is1, p, torch.where(is2, one, r)))
    z = torch.where(is0, c, torch.where(is1, q, torch.where(is2, r, one)))
    quats = torch.stack((w, x, y, z), dim=-1)
    quats = quats * torch.where(w < 0, -1.0, 1.0)[..., None]
    return quats / quats.norm(dim=-1, keepdim=True).clamp_min(1e-12)
