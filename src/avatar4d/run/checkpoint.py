"""Checkpoints: ``step_XXXXXX.safetensors`` (tensors) + ``step_XXXXXX.json`` (everything else).

The safetensors file holds the parameters (``params/<name>``), each parameter's Adam state
(``adam/<name>/exp_avg``, ``.../exp_avg_sq``, ``.../step``), the densification state's
tensors (``strategy/<key>``), the rigidity prior's neighbour graph (``graph/<key>``) and the
Gaussians' binding to the surface tracks (``tracks/<key>``). The
JSON file holds the step, the strategy's scalars, every RNG state, the dataset fingerprint and
the parameter names and shapes. Both are written atomically, then ``latest.json`` is pointed
at the new pair, then old pairs beyond ``keep`` are removed: a crash at any moment leaves
``latest.json`` naming a complete checkpoint.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import save_file

from avatar4d.errors import InputError
from avatar4d.io.atomic import atomic_path, write_text_atomic
from avatar4d.io.json_file import read_json_file
from avatar4d.io.tensor_files import read_tensors

CHECKPOINT_FORMAT = "avatar4d-checkpoint"
CHECKPOINT_FORMAT_VERSION = 1
LATEST = "latest.json"
ADAM_STATE_KEYS = ("exp_avg", "exp_avg_sq", "step")
MAX_CHECKPOINT_JSON_BYTES = 64 << 20  # a sidecar holds settings and RNG states: kilobytes


@dataclass(frozen=True)
class Checkpoint:
    step: int
    params: dict[str, torch.Tensor]
    adam: dict[str, dict[str, torch.Tensor]]  # parameter name -> exp_avg, exp_avg_sq, step
    strategy_tensors: dict[str, torch.Tensor]
    graph_tensors: dict[str, torch.Tensor]
    track_tensors: dict[str, torch.Tensor]
    meta: dict[str, Any]  # the JSON sidecar
    path: Path  # the JSON sidecar


def checkpoint_name(step: int) -> str:
    return f"step_{step:06d}"


def _tensors_to_save(
    params: dict[str, torch.Tensor],
    optimizers: dict[str, torch.optim.Optimizer],
    strategy_state: dict[str, Any],
    graph_tensors: dict[str, torch.Tensor],
    track_tensors: dict[str, torch.Tensor],
) -> dict[str, torch.Tensor]:
    tensors = {f"params/{name}": param.detach() for name, param in params.items()}
    for name, optimizer in optimizers.items():
        state = optimizer.state.get(params[name], {})
        for key in ADAM_STATE_KEYS:
            if key in state:
                tensors[f"adam/{name}/{key}"] = state[key]
    for key, value in strategy_state.items():
        if isinstance(value, torch.Tensor):
            tensors[f"strategy/{key}"] = value
    for key, value in graph_tensors.items():
        tensors[f"graph/{key}"] = value
    for key, value in track_tensors.items():
        tensors[f"tracks/{key}"] = value
    return {key: value.detach().contiguous().cpu() for key, value in tensors.items()}


def save_checkpoint(
    folder: Path,
    step: int,
    params: dict[str, torch.Tensor],
    optimizers: dict[str, torch.optim.Optimizer],
    strategy_state: dict[str, Any],
    meta: dict[str, Any],
    keep: int,
    graph_tensors: dict[str, torch.Tensor] | None = None,
    track_tensors: dict[str, torch.Tensor] | None = None,
) -> Path:
    """Write the checkpoint for ``step``, point latest.json at it, keep the newest ``keep``."""
    folder.mkdir(parents=True, exist_ok=True)
    name = checkpoint_name(step)
    tensors_path = folder / f"{name}.safetensors"
    with atomic_path(tensors_path, force=True) as temp_path:
        save_file(
            _tensors_to_save(
                params, optimizers, strategy_state, graph_tensors or {}, track_tensors or {}
            ),
            str(temp_path),
        )
    sidecar = {
        "format": CHECKPOINT_FORMAT,
        "format_version": CHECKPOINT_FORMAT_VERSION,
        "step": step,
        "tensors": tensors_path.name,
        "num_gaussians": int(params["means"].shape[0]),
        "parameters": {name: list(param.shape) for name, param in params.items()},
        "strategy_scalars": {
            key: value
            for key, value in strategy_state.items()
            if isinstance(value, (int, float, bool, str))
        },
        **meta,
    }
    json_path = folder / f"{name}.json"
    write_text_atomic(json_path, json.dumps(sidecar, indent=1) + "\n", force=True)
    latest = {"step": step, "checkpoint": json_path.name}
    write_text_atomic(folder / LATEST, json.dumps(latest, indent=1) + "\n", force=True)
    remove_old_checkpoints(folder, keep)
    return json_path


def checkpoint_steps(folder: Path) -> list[int]:
    steps = []
    for path in folder.glob("step_*.json"):
        digits = path.stem.removeprefix("step_")
        if digits.isdigit():
            steps.append(int(digits))
    return sorted(steps)


def remove_old_checkpoints(folder: Path, keep: int) -> None:
    for step in checkpoint_steps(folder)[:-keep]:
        name = checkpoint_name(step)
        (folder / f"{name}.json").unlink(missing_ok=True)
        (folder / f"{name}.safetensors").unlink(missing_ok=True)


def _read_json(path: Path) -> dict:
    document = read_json_file(path, max_bytes=MAX_CHECKPOINT_JSON_BYTES)
    if not isinstance(document, dict):
        raise InputError(path, "expected a JSON object")
    return document


def latest_step(folder: Path) -> int:
    latest = _read_json(folder / LATEST)
    step = latest.get("step")
    if not isinstance(step, int) or isinstance(step, bool):
        raise InputError(folder / LATEST, "has no whole-number 'step'")
    return step


def load_checkpoint(folder: Path, step: int | None, device: torch.device | str) -> Checkpoint:
    """The checkpoint of ``step`` (default: the one latest.json names), tensors on ``device``."""
    step = latest_step(folder) if step is None else step
    json_path = folder / f"{checkpoint_name(step)}.json"
    if not json_path.is_file():
        available = ", ".join(map(str, checkpoint_steps(folder))) or "none"
        raise InputError(json_path, f"no checkpoint for step {step} (available: {available})")
    meta = _read_json(json_path)
    if meta.get("format") != CHECKPOINT_FORMAT:
        raise InputError(json_path, "not an avatar4d checkpoint")
    if meta.get("format_version") != CHECKPOINT_FORMAT_VERSION:
        raise InputError(json_path, f"unsupported checkpoint version {meta.get('format_version')}")
    if meta.get("tensors") != f"{checkpoint_name(step)}.safetensors":
        raise InputError(json_path, f"'tensors' must name {checkpoint_name(step)}.safetensors")
    if not isinstance(meta.get("parameters"), dict) or not all(
        isinstance(shape, list) and all(type(size) is int for size in shape)
        for shape in meta["parameters"].values()
    ):
        raise InputError(json_path, "'parameters' must map names to shapes (lists of sizes)")
    tensors_path = folder / meta["tensors"]
    tensors = read_tensors(tensors_path, device, "checkpoint")
    check_finite(tensors, tensors_path, [s for s in checkpoint_steps(folder) if s != step])

    params, strategy_tensors, graph_tensors, track_tensors = {}, {}, {}, {}
    adam: dict[str, dict[str, torch.Tensor]] = {}
    for key, tensor in tensors.items():
        group, _, rest = key.partition("/")
        if group == "params":
            params[rest] = tensor
        elif group == "strategy":
            strategy_tensors[rest] = tensor
        elif group == "graph":
            graph_tensors[rest] = tensor
        elif group == "tracks":
            track_tensors[rest] = tensor
        elif group == "adam":
            name, _, state_key = rest.rpartition("/")
            # Adam keeps its step counter on the CPU unless it is capturable or fused.
            adam.setdefault(name, {})[state_key] = tensor.cpu() if state_key == "step" else tensor
    expected = {name: tuple(shape) for name, shape in meta["parameters"].items()}
    actual = {name: tuple(tensor.shape) for name, tensor in params.items()}
    if expected != actual:
        raise InputError(tensors_path, "parameters do not match the names and shapes in its .json")
    return Checkpoint(
        step, params, adam, strategy_tensors, graph_tensors, track_tensors, meta, json_path
    )


def check_finite(tensors: dict[str, torch.Tensor], path: Path, other_steps: list[int]) -> None:
    """Every floating-point tensor is finite: a NaN or Inf is never loaded silently."""
    for key, tensor in tensors.items():
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            others = ", ".join(map(str, other_steps)) or "none"
            raise InputError(
                path,
                f"tensor {key} holds NaN or Inf values; take another checkpoint (--step, or "
                f"train --resume --from STEP; other steps: {others})",
            )


def restore_adam_states(
    optimizers: dict[str, torch.optim.Optimizer],
    params: dict[str, torch.nn.Parameter],
    adam: dict[str, dict[str, torch.Tensor]],
) -> None:
    """Give each optimiser the saved moments of its parameter (absent: fresh, as at step 0).

    The step counter goes where the optimiser reads it: on the parameter's device for fused
    (GPU) or capturable Adam, whose kernels read it there, on the CPU otherwise; so a
    checkpoint resumes on either device whichever wrote it."""
    for name, optimizer in optimizers.items():
        state = adam.get(name)
        if state and all(key in state for key in ADAM_STATE_KEYS):
            param, group = params[name], optimizer.param_groups[0]
            on_device = bool(group.get("fused") or group.get("capturable"))
            step = state["step"].to(param.device if on_device else "cpu", torch.float32)
            optimizer.state[param] = {
                "exp_avg": state["exp_avg"].to(param.device),
                "exp_avg_sq": state["exp_avg_sq"].to(param.device),
                "step": step,
            }
