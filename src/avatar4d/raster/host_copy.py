"""Copies from the host to a CUDA device that do not stop the host.

A copy from ordinary (pageable) host memory waits for everything queued on the device first,
so the host cannot prepare the next batch (pose a mesh, build cameras) while the device is still
drawing the last one. A copy from page-locked memory is queued like a kernel; PyTorch keeps the
page-locked buffer alive until the copy has run.
"""

from __future__ import annotations

import torch


def to_device(
    tensor: torch.Tensor, device: torch.device | str, dtype: torch.dtype | None = None
) -> torch.Tensor:
    """``tensor.to(device, dtype)``; from the host to a CUDA device without waiting. The
    copy may still be under way when this returns: a page-locked ``tensor`` (passed through
    as it is) must not be changed until the device has used the result."""
    device = torch.device(device)
    if device.type != "cuda" or tensor.device.type != "cpu":
        return tensor.to(device=device, dtype=dtype)
    if dtype is not None:
        tensor = tensor.to(dtype=dtype)
    # A strided source would be gathered into ordinary memory first, and that copy waits.
    return tensor.contiguous().pin_memory().to(device=device, non_blocking=True)
