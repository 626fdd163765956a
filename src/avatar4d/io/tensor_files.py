"""Reading safetensors files with one clear error for a missing or damaged file."""

from __future__ import annotations

from pathlib import Path

import torch
from safetensors.torch import load_file

from avatar4d.errors import InputError


def read_tensors(path: Path, device: torch.device | str, what: str) -> dict[str, torch.Tensor]:
    """The tensors of ``path``; InputError naming the file when it is missing or unreadable
    (``what`` names its content in the message, e.g. "checkpoint")."""
    try:
        return load_file(str(path), device=str(device))
    except FileNotFoundError:
        raise InputError(path, "not found") from None
    except Exception as error:  # safetensors raises its own error types for damaged files
        raise InputError(path, f"unreadable {what} ({error})") from None
