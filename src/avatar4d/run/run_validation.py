"""What is read back from a run folder is checked before it is used.

config.yml: read with a size limit and without YAML aliases (a "billion laughs" file is
refused at once); every model setting and every training setting checked for type, range,
finiteness and agreement with each other. A checkpoint: its tensors must be the ones the
model settings describe, its dataset fingerprint the run's, and (to resume) its RNG states
whole. Each problem is one InputError naming the file and the setting.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import math
import random
from pathlib import Path
from typing import Any

import numpy as np
import torch
import yaml

from avatar4d.errors import InputError
from avatar4d.model.motions.registry import MOTION_MODELS, model_of
from avatar4d.model.shading import LIGHT_KEY, NORMALS_KEY, SHADINGS
from avatar4d.model.spec import ModelSpec
from avatar4d.run.config import TrainConfig, section_of
from avatar4d.run.flat_config import model_from_flat

MAX_CONFIG_BYTES = 1 << 20  # a written config.yml is about 3 KB


class _NoAliasLoader(yaml.SafeLoader):
    """SafeLoader that refuses aliases (``*name``): config.yml never needs them, and they
    let a few hundred bytes expand into billions of nodes."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.composer.ComposerError(
                None, None, f"YAML aliases (*{event.anchor}) are not allowed", event.start_mark
            )
        return super().compose_node(parent, index)


def _yaml_problem(error: yaml.YAMLError) -> str:
    mark = getattr(error, "problem_mark", None)
    problem = getattr(error, "problem", None) or str(error)
    return f"{problem} at line {mark.line + 1}" if mark is not None else problem


def load_config_document(path: Path) -> dict:
    """config.yml as a mapping: at most MAX_CONFIG_BYTES, UTF-8, YAML without aliases."""
    try:
        size = path.stat().st_size
        if size > MAX_CONFIG_BYTES:
            raise InputError(path, f"is {size:,} bytes; a run's config.yml is a few KB")
        text = path.read_bytes().decode("utf-8")
        document = yaml.load(text, Loader=_NoAliasLoader)  # noqa: S506 (a SafeLoader)
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(path, f"unreadable ({error})") from None
    except yaml.YAMLError as error:
        raise InputError(path, f"unreadable YAML ({_yaml_problem(error)})") from None
    except RecursionError:  # PyYAML parses nested collections recursively
        raise InputError(
            path, "YAML nested too deeply (a run's config.yml is 3 levels deep)"
        ) from None
    if not isinstance(document, dict):
        raise InputError(path, "expected a mapping (software, dataset, model, train)")
    return document


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    return (_is_int(value) or isinstance(value, float)) and math.isfinite(value)


def model_spec_from_dict(values: object, path: Path) -> ModelSpec:
    """The ``model`` section of config.yml as a ModelSpec, every value checked."""
    if not isinstance(values, dict):
        raise InputError(path, "model must be a mapping of setting names to values")
    if "deformation" in values:  # written before the motion models were registered
        values = model_from_flat(values, path)
    known = {field.name for field in dataclasses.fields(ModelSpec)}
    unknown = sorted(map(str, set(values) - known))
    if unknown:
        raise InputError(path, f"unknown model settings: {', '.join(unknown)}")
    required = [f.name for f in dataclasses.fields(ModelSpec) if f.default is dataclasses.MISSING]
    missing = [name for name in required if name not in values]
    if missing:
        raise InputError(path, f"model settings missing: {', '.join(missing)}")
    values = {f.name: values.get(f.name, f.default) for f in dataclasses.fields(ModelSpec)}
    motion = values["motion"]
    if not isinstance(motion, dict) or not isinstance(motion.get("name"), str):
        raise InputError(path, "model.motion must be a mapping with the motion model's name")
    model = MOTION_MODELS.get(motion["name"])
    if model is None:
        known_list = ", ".join(MOTION_MODELS)
        raise InputError(
            path, f"model.motion.name must be one of {known_list}, got {motion['name']!r}"
        )
    if values["shading"] not in SHADINGS:
        raise InputError(
            path, f"model.shading must be {' or '.join(SHADINGS)}, got {values['shading']!r}"
        )
    if not isinstance(values["periodic"], bool):
        raise InputError(path, f"model.periodic must be true or false, got {values['periodic']!r}")
    center = values["scene_center"]
    if not isinstance(center, list) or len(center) != 3 or not all(map(_is_number, center)):
        raise InputError(path, f"model.scene_center must be 3 finite numbers, got {center!r}")
    radius = values["scene_radius"]
    if not _is_number(radius) or radius <= 0:
        raise InputError(path, f"model.scene_radius must be a finite number > 0, got {radius!r}")
    anchor = values["anchor_time"]
    if not _is_number(anchor) or not 0.0 <= anchor <= 1.0:
        raise InputError(path, f"model.anchor_time must be a number in [0, 1], got {anchor!r}")
    return ModelSpec(
        **{
            **values,
            "motion": model.check_structure(motion, str(path)),
            "scene_center": [float(x) for x in center],
            "scene_radius": float(radius),
            "anchor_time": float(anchor),
        }
    )


def validate_loaded_config(config: TrainConfig, path: Path) -> None:
    """TrainConfig.validate, its complaints about options told as config.yml's settings."""
    try:
        config.validate()
    except InputError as error:
        names = ", ".join(setting_path(part) for part in error.where.split(","))
        raise InputError(path, f"{names}: {error.problem}") from None


def setting_path(option: str) -> str:
    """``--lr-means`` as config.yml names the setting: ``train.optimiser.lr_means``."""
    name = option.strip().removeprefix("--").replace("-", "_")
    section = None if name.startswith("motion.") else section_of(name)
    return "train." + (name if section is None else f"{section}.{name}")


def check_spec_agrees_with_config(spec: ModelSpec, config: TrainConfig, path: Path) -> None:
    """The model section was resolved from the train section: they must still agree."""
    if spec.motion.name != config.motion.name:
        raise InputError(
            path,
            f"model.motion.name is {spec.motion.name} but train.motion.name is "
            f"{config.motion.name}",
        )
    if spec.shading != config.shading:
        raise InputError(
            path, f"model.shading is {spec.shading} but train.shading is {config.shading}"
        )
    disagreement = model_of(spec.motion).disagreement(spec.motion, config.motion)
    if disagreement:
        raise InputError(path, disagreement)


def expected_shapes(spec: ModelSpec, count: int) -> dict[str, tuple[int, ...]]:
    """The parameter shapes a model of ``spec`` with ``count`` Gaussians has."""
    shapes: dict[str, tuple[int, ...]] = {
        "means": (count, 3),
        "scales": (count, 3),
        "quats": (count, 4),
        "opacities": (count,),
        "colors": (count, 3),
        **model_of(spec.motion).expected_shapes(spec.motion, count),
    }
    if spec.shading == "lambert":
        shapes[NORMALS_KEY] = (count, 3)
        shapes[LIGHT_KEY] = (3, 9)
    return shapes


def check_tensors_match_spec(
    params: dict[str, torch.Tensor], spec: ModelSpec, tensors_path: Path, config_path: Path
) -> None:
    """The checkpoint's parameters are those config.yml's model settings describe."""
    if "means" not in params or params["means"].dim() != 2:
        raise InputError(tensors_path, "has no (N, 3) parameter 'means'")
    expected = expected_shapes(spec, params["means"].shape[0])
    missing = sorted(set(expected) - set(params))
    extra = sorted(set(params) - set(expected))
    if missing or extra:
        parts = [f"missing {', '.join(missing)}"] if missing else []
        parts += [f"unexpected {', '.join(extra)}"] if extra else []
        raise InputError(
            config_path,
            f"model settings (motion {spec.motion.name}, shading {spec.shading}) do not "
            f"match the parameters of {tensors_path.name}: {'; '.join(parts)}",
        )
    check_indices(params, spec, tensors_path)
    for name, shape in expected.items():
        actual = tuple(params[name].shape)
        if actual != shape:
            settings = ", ".join(
                f"{key} {value}" for key, value in dataclasses.asdict(spec.motion).items()
            )
            raise InputError(
                config_path,
                f"model settings ({spec.motion.name} motion: {settings}) give {name} the "
                f"shape {shape}, but {tensors_path.name} holds {actual}",
            )


def check_indices(params: dict[str, torch.Tensor], spec: ModelSpec, tensors_path: Path) -> None:
    """Integer tensors that index another tensor hold indices within it."""
    for name, (target, length) in model_of(spec.motion).index_tensors(spec.motion).items():
        tensor = params.get(name)
        if tensor is None or not tensor.numel():
            continue
        if tensor.is_floating_point() or not 0 <= int(tensor.min()) <= int(tensor.max()) < length:
            raise InputError(
                tensors_path, f"tensor params/{name} must hold {target} indices 0..{length - 1}"
            )


def check_dataset_fingerprint(meta: dict, json_path: Path, fingerprint: str, dataset: Path) -> None:
    """The checkpoint was trained on the run's dataset (config.yml's fingerprint)."""
    saved = meta.get("dataset_fingerprint")
    if not isinstance(saved, str):
        raise InputError(json_path, "has no dataset_fingerprint")
    if saved != fingerprint:
        trained_on = meta.get("dataset")
        source = f"dataset {trained_on}" if isinstance(trained_on, str) else "another dataset"
        raise InputError(
            json_path,
            f"was trained on {source} (fingerprint {saved[:12]}), not on the run's dataset "
            f"{dataset} (fingerprint {fingerprint[:12]}, config.yml)",
        )


def check_rng_states(states: object, json_path: Path) -> None:
    """The ``rng`` entry restores every generator (checked on scratch generators)."""
    hint = "resume from an earlier checkpoint with --resume --from STEP"
    if not isinstance(states, dict):
        raise InputError(json_path, f"has no 'rng' entry (the random states to resume); {hint}")
    try:
        cpu = bytearray(base64.b64decode(states["torch_cpu"], validate=True))
        torch.Generator().set_state(torch.frombuffer(cpu, dtype=torch.uint8))
        python = states["python"]
        random.Random().setstate((python["version"], tuple(python["state"]), python["gauss_next"]))
        numpy_state = states["numpy"]
        np.random.RandomState().set_state(
            (
                numpy_state["kind"],
                np.asarray(numpy_state["keys"], dtype=np.uint32),
                numpy_state["position"],
                numpy_state["has_gauss"],
                numpy_state["cached_gaussian"],
            )
        )
        cuda = states.get("torch_cuda", [])
        if not isinstance(cuda, list) or not all(isinstance(s, str) for s in cuda):
            raise TypeError("torch_cuda")
        for state in cuda:
            base64.b64decode(state, validate=True)
    except (
        KeyError,
        IndexError,  # numpy's MT19937 reads 624 keys whatever the length given
        TypeError,
        ValueError,
        RuntimeError,
        OverflowError,
        binascii.Error,
    ) as error:
        raise InputError(json_path, f"has a damaged 'rng' entry ({error}); {hint}") from None


def check_resume_state(
    meta: dict,
    strategy_tensors: dict[str, torch.Tensor],
    graph_tensors: dict[str, torch.Tensor],
    adam: dict[str, dict[str, torch.Tensor]],
    params: dict[str, torch.Tensor],
    fresh_strategy_state: dict,
    count: int,
    json_path: Path,
) -> None:
    """The densification state and the rigidity graph a resumed run takes from a checkpoint
    of ``count`` Gaussians, and the Adam moments of its parameters, are of the kinds and
    sizes the training uses."""
    scalars = meta.get("strategy_scalars", {})
    if not isinstance(scalars, dict):
        raise InputError(json_path, "'strategy_scalars' must be a mapping")
    for key, value in scalars.items():
        if key not in fresh_strategy_state:
            raise InputError(json_path, f"unknown strategy_scalars entry {key!r}")
        if not isinstance(value, (bool, int, float, str)) or (
            isinstance(value, float) and not math.isfinite(value)
        ):
            raise InputError(json_path, f"strategy_scalars.{key} must be a finite number")
    tensors_path = json_path.with_suffix(".safetensors")
    for key, tensor in strategy_tensors.items():
        if key not in fresh_strategy_state:
            raise InputError(tensors_path, f"unknown tensor strategy/{key}")
        if tensor.dim() == 0 or tensor.shape[0] != count:
            raise InputError(
                tensors_path, f"tensor strategy/{key} must have one row per Gaussian ({count})"
            )
    for name, state in adam.items():
        shape = tuple(params[name].shape) if name in params else None
        moments_fit = shape is not None and all(
            tuple(state[key].shape) == shape for key in ("exp_avg", "exp_avg_sq") if key in state
        )
        if not moments_fit or ("step" in state and state["step"].numel() != 1):
            raise InputError(tensors_path, f"adam/{name}/ tensors do not fit parameter {name}")
    if not graph_tensors:
        return
    if set(graph_tensors) != {"anchors", "neighbours", "weights"}:
        raise InputError(tensors_path, "graph/ tensors must be anchors, neighbours and weights")
    anchors, neighbours, weights = (graph_tensors[k] for k in ("anchors", "neighbours", "weights"))
    fits = (
        anchors.dim() == 1
        and neighbours.dim() == 2
        and neighbours.shape[0] == anchors.shape[0]
        and weights.shape == neighbours.shape
        and not anchors.is_floating_point()
        and not neighbours.is_floating_point()
        and all(
            index.numel() == 0 or 0 <= int(index.min()) <= int(index.max()) < count
            for index in (anchors, neighbours)
        )
    )
    if not fits:
        raise InputError(
            tensors_path, f"graph/ tensors do not form a neighbour graph of {count} Gaussians"
        )
