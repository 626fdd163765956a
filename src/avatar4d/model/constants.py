"""Small constant tensors made once per device and dtype.

On a GPU, ``torch.tensor(values, device=...)`` is a copy from pageable host memory, and that
copy makes the host wait until the GPU has finished all queued work: a dozen of them in a
training step kept the host from running ahead of the GPU. Cached, each is copied once.
The returned tensors are shared: never modify them in place.
"""

from __future__ import annotations

import functools

import torch

IDENTITY_QUAT = (1.0, 0.0, 0.0, 0.0)


@functools.lru_cache(maxsize=1024)
def constant(values: tuple, device: torch.device, dtype: torch.dtype) -> torch.Tensor:
    """``torch.tensor(values)`` on the device (``values``: numbers or nested tuples).

    Made outside inference mode even when first asked for inside it: an inference tensor
    could not be saved for the backward pass of a later training step."""
    with torch.inference_mode(False):
        return torch.tensor(values, dtype=dtype, device=device)


def identity_quat(like: torch.Tensor) -> torch.Tensor:
    """(4,) the identity rotation (w, x, y, z) on ``like``'s device, in its dtype."""
    return constant(IDENTITY_QUAT, like.device, like.dtype)
