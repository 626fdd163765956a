"""The device a run uses: ``auto`` is CUDA when available, else the CPU."""

from __future__ import annotations

import torch

from avatar4d.errors import InputError


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise InputError("--device", f"unknown device {name!r} (auto, cpu, cuda, cuda:N)") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise InputError("--device", "CUDA is not available on this machine")
    if device.type not in ("cpu", "cuda"):
        raise InputError("--device", f"unsupported device {name!r} (auto, cpu, cuda, cuda:N)")
    return device
