"""Every random number generator's state as JSON-safe values, and back.

Saved with each checkpoint so a resumed run draws the same batches, backgrounds and splits as
an uninterrupted one: torch CPU, torch CUDA (each device), Python ``random`` and NumPy.
"""

from __future__ import annotations

import base64
import random

import numpy as np
import torch


def _bytes_to_text(state: torch.Tensor) -> str:
    return base64.b64encode(state.cpu().numpy().tobytes()).decode("ascii")


def _text_to_bytes(text: str) -> torch.Tensor:
    return torch.frombuffer(bytearray(base64.b64decode(text)), dtype=torch.uint8)


def capture_rng_states() -> dict:
    version, internal, gauss_next = random.getstate()
    kind, keys, position, has_gauss, cached_gaussian = np.random.get_state()
    states = {
        "torch_cpu": _bytes_to_text(torch.get_rng_state()),
        "python": {"version": version, "state": list(internal), "gauss_next": gauss_next},
        "numpy": {
            "kind": kind,
            "keys": keys.tolist(),
            "position": int(position),
            "has_gauss": int(has_gauss),
            "cached_gaussian": float(cached_gaussian),
        },
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        states["torch_cuda"] = [_bytes_to_text(s) for s in torch.cuda.get_rng_state_all()]
    return states


def restore_rng_states(states: dict) -> None:
    torch.set_rng_state(_text_to_bytes(states["torch_cpu"]))
    python = states["python"]
    random.setstate((python["version"], tuple(python["state"]), python["gauss_next"]))
    numpy_state = states["numpy"]
    np.random.set_state(
        (
            numpy_state["kind"],
            np.asarray(numpy_state["keys"], dtype=np.uint32),
            numpy_state["position"],
            numpy_state["has_gauss"],
            numpy_state["cached_gaussian"],
        )
    )
    cuda_states = states.get("torch_cuda")
    if cuda_states and torch.cuda.is_available():
        count = min(len(cuda_states), torch.cuda.device_count())
        torch.cuda.set_rng_state_all([_text_to_bytes(s) for s in cuda_states[:count]])


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # seeds every CUDA device too
