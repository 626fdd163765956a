"""Animation clips: channels read from the file, sampled at any time (LINEAR/STEP/CUBICSPLINE)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from avatar4d.asset import quaternions
from avatar4d.asset.accessors import Accessors
from avatar4d.asset.gltf_json import GltfJson
from avatar4d.asset.limits import MAX_ANIMATION_VALUES_TOTAL

PATH_WIDTHS = {"translation": 3, "rotation": 4, "scale": 3}  # "weights": one per morph target
INTERPOLATIONS = ("LINEAR", "STEP", "CUBICSPLINE")


@dataclass(frozen=True)
class Channel:
    node: int
    path: str  # translation | rotation | scale | weights
    interpolation: str  # LINEAR | STEP | CUBICSPLINE
    times: np.ndarray  # (K,) float64, non-decreasing
    values: np.ndarray  # (K, C) float64; CUBICSPLINE: (K, 3, C) as in-tangent, value, out-tangent


@dataclass(frozen=True)
class Clip:
    name: str
    duration: float  # seconds: the largest keyframe time of any sampler
    channels: tuple[Channel, ...] = ()


def read_clips(doc: GltfJson, accessors: Accessors, node_count: int) -> list[Clip]:
    clips = []
    budget = [0]  # keyframe numbers read so far, over every clip
    for index, animation in enumerate(doc.array("animations")):
        path = f"animations[{index}]"
        name = doc.string(animation, "name", path, "") or f"animation_{index}"
        channels = _read_channels(doc, accessors, animation, path, node_count, budget)
        duration = max((float(c.times[-1]) for c in channels if len(c.times)), default=0.0)
        clips.append(Clip(name, max(duration, 0.0), tuple(channels)))
    return clips


def _read_channels(
    doc: GltfJson,
    accessors: Accessors,
    animation: dict,
    path: str,
    node_count: int,
    budget: list[int],
) -> list[Channel]:
    samplers = animation.get("samplers", [])
    raw_channels = animation.get("channels", [])
    if not isinstance(samplers, list) or not isinstance(raw_channels, list):
        doc.fail(f"{path}: samplers and channels must be arrays")
    channels = []
    for c, channel in enumerate(raw_channels):
        channel_path = f"{path}.channels[{c}]"
        if not isinstance(channel, dict):
            doc.fail(f"{channel_path} must be an object")
        target = doc.object(channel, "target", channel_path)
        target_path = doc.string(target, "path", f"{channel_path}.target", "")
        if target_path not in (*PATH_WIDTHS, "weights") or target.get("node") is None:
            continue  # e.g. KHR_animation_pointer targets: nothing we pose
        node = doc.integer(target, "node", f"{channel_path}.target")
        if node >= node_count:
            doc.fail(f"{channel_path}.target.node {node} does not exist ({node_count} nodes)")
        sampler_index = doc.integer(channel, "sampler", channel_path)
        if sampler_index >= len(samplers) or not isinstance(samplers[sampler_index], dict):
            doc.fail(f"{channel_path}.sampler {sampler_index} does not exist in {path}")
        channels.append(
            _read_sampler(
                doc,
                accessors,
                samplers[sampler_index],
                f"{path}.samplers[{sampler_index}]",
                node,
                target_path,
                budget,
            )
        )
    return channels


def _charge_keyframes(
    doc: GltfJson, accessors: Accessors, indices: tuple[int, int], path: str, budget: list[int]
) -> None:
    """Count the numbers a channel copies (an accessor shared by many channels is copied for
    each); refuse before reading once all channels pass MAX_ANIMATION_VALUES_TOTAL."""
    for index in indices:
        info = accessors.info(index)
        budget[0] += info.count * info.components
    if budget[0] > MAX_ANIMATION_VALUES_TOTAL:
        doc.fail(
            f"{path}: the animation channels hold more than {MAX_ANIMATION_VALUES_TOTAL:,} "
            "keyframe times and values in all"
        )


def _read_sampler(
    doc: GltfJson,
    accessors: Accessors,
    sampler: dict,
    path: str,
    node: int,
    target_path: str,
    budget: list[int],
) -> Channel:
    interpolation = doc.string(sampler, "interpolation", path, "LINEAR")
    if interpolation not in INTERPOLATIONS:
        doc.fail(f"{path}.interpolation {interpolation!r} is not LINEAR, STEP or CUBICSPLINE")
    input_index = doc.index(sampler, "input", path, "accessors")
    output_index = doc.index(sampler, "output", path, "accessors")
    _charge_keyframes(doc, accessors, (input_index, output_index), path, budget)
    times = accessors.read_float(input_index)
    if times.shape[1] != 1:
        doc.fail(f"{path}.input must be a SCALAR accessor")
    times = times[:, 0].astype(np.float64)
    if not np.isfinite(times).all() or (np.diff(times) < 0).any():
        doc.fail(f"{path}.input keyframe times must be finite and non-decreasing")
    output = accessors.read_float(output_index)
    values = output.astype(np.float64).reshape(-1)
    if not np.isfinite(values).all():
        doc.fail(f"{path}.output holds non-finite values")
    keys = len(times)
    per_key = 3 if interpolation == "CUBICSPLINE" else 1
    if keys == 0:
        doc.fail(f"{path}.input has no keyframes")
    width = PATH_WIDTHS.get(target_path) or len(values) // (keys * per_key)
    if width == 0 or len(values) != keys * per_key * width:
        doc.fail(
            f"{path}.output has {len(values)} numbers, expected {keys} keyframes x {per_key} "
            f"x {target_path} values"
        )
    values = values.reshape((keys, 3, width) if per_key == 3 else (keys, width))
    if target_path == "rotation" and per_key == 1:
        values = quaternions.normalize(values)  # once here, so sampling can assume unit keys
    return Channel(node, target_path, interpolation, times, values)
