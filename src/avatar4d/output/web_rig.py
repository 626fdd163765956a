"""The web package's ``rig`` motion: the character's mesh as one linear skin and, for every
clip of its asset, the pose (bone matrices and morph weights) sampled over time.

The player skins the mesh itself (asset/skin_layout.py's formula), takes each triangle's
frame at the anchor pose and at the requested pose (model/triangle_frames.py), and moves each
Gaussian by its triangle's similarity, as model/rig_deformation.py does. What is stored:

- ``rig_rest`` (V, 3), ``rig_weights`` (V, K), ``rig_morph_deltas`` (rows, 3): 16 bits per
  column over their range (0.03 mm steps on a 2 m character; weights to 1.5e-5);
  ``rig_bones`` (V, K) and ``rig_faces`` (F, 3) as integers, ``face`` (N,) too: exact.
- ``rig_anchor`` (B x 12 + M,) float32: the pose at the anchor time, from which the player
  recomputes the anchor frames exactly as the model does (its anchor mesh is this pose).
- ``rig_poses`` (samples, B x 12 + M): 16 bits per column. Each clip is sampled at
  POSE_RATE per second, both ends included (at most MAX_POSE_SAMPLES a clip); the player
  blends the two samples around a time linearly (benchmarks/web_rig_cost.py measures what
  that costs against the model's exact posing).

A clip ``loops`` when wrapping from its last pose to its first moves no vertex further than
the clip itself moves one between two consecutive samples (or than LOOP_TOLERANCE of the
mesh's size): an exact loop (last key = first), and a cycle whose last key is one frame
before its first (Soldier's Walk and Run) both wrap without a visible jump. Other clips
(RobotExpressive's Death, Sitting) the player plays forwards and back.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import torch

from avatar4d.asset.loader import Asset
from avatar4d.asset.skin_layout import PoseState, skin_positions
from avatar4d.errors import InputError
from avatar4d.model.rig_deformation import RigDeformation, pose_on

POSE_RATE = 30.0  # samples per second of a clip (docs/benchmarks.md: 10 misses fast arms)
MAX_POSE_SAMPLES = 3_601  # a clip longer than two minutes is sampled more sparsely
LOOP_TOLERANCE = 1e-3  # of the mesh's bounding-box diagonal
MAX_POSE_NUMBERS = 1 << 26  # every clip's samples together (128 MB in 16 bits)
MESH_BITS = 16
POSE_BITS = 16

SAMPLE_CHUNK = 64  # clip times sampled in one batch


def pose_vector(state: PoseState) -> np.ndarray:
    """(..., B x 12 + M) float32: the bone matrices row by row, then the morph weights, of one
    pose or of T poses ((T, B, 3, 4) and (T, M))."""
    bones = state.bones.reshape(*state.morph.shape[:-1], -1)
    return np.concatenate([bones, state.morph], axis=-1).astype(np.float32)


def sample_count(duration: float, rate: float = POSE_RATE) -> int:
    """Samples of a clip of ``duration`` seconds, both ends included."""
    if not duration > 0:
        return 1
    return int(min(math.ceil(duration * rate - 1e-9) + 1, MAX_POSE_SAMPLES))


def clip_samples(asset: Asset, clip: str, duration: float, rate: float = POSE_RATE) -> np.ndarray:
    """(S, B x 12 + M) float32 poses at S evenly spaced times over the clip."""
    seconds = np.linspace(0.0, duration, sample_count(duration, rate)).tolist()
    chunks = [  # sampled together, a chunk at a time
        pose_vector(asset.pose_states(clip, seconds[start : start + SAMPLE_CHUNK]))
        for start in range(0, len(seconds), SAMPLE_CHUNK)
    ]
    return np.concatenate(chunks)


def skinned(asset: Asset, pose: np.ndarray) -> np.ndarray:
    """(V, 3) the mesh at one pose vector (B x 12 + M,)."""
    layout = asset.skin_layout()
    bones = 12 * layout.bone_count
    return skin_positions(layout, PoseState(pose[:bones].reshape(-1, 3, 4), pose[bones:]))


def largest_step(asset: Asset, poses: np.ndarray) -> float:
    """The most any vertex coordinate moves between consecutive poses of (S, B x 12 + M),
    skinned one at a time (a long clip of a large mesh would not fit at once)."""
    largest, previous = 0.0, None
    for pose in poses:
        mesh = skinned(asset, pose)
        if previous is not None and mesh.size:
            largest = max(largest, float(np.abs(mesh - previous).max()))
        previous = mesh
    return largest


def ends_join(first: np.ndarray, last: np.ndarray, step: float) -> bool:
    """Whether going from mesh ``last`` to mesh ``first`` (V, 3) moves no vertex more than
    ``step`` or LOOP_TOLERANCE of the mesh's size: wrapping shows no jump."""
    if len(first) == 0:
        return True
    size = float(np.linalg.norm(first.max(axis=0) - first.min(axis=0)))
    gap = float(np.abs(last - first).max())
    return gap <= max(step, LOOP_TOLERANCE * size)


def rig_section(
    writer: Any,
    params: Mapping[str, torch.Tensor],
    rig: RigDeformation,
    rate: float = POSE_RATE,
    pose_bits: int | None = POSE_BITS,
    mesh_bits: int | None = MESH_BITS,
) -> dict:
    """Write the rig's arrays (poses sampled at ``rate`` per second; float32 where a width
    is None: for measuring); -> the header's motion description."""

    def real(name: str, values: np.ndarray, bits: int | None) -> None:
        if bits is None:
            writer.float32(name, torch.from_numpy(values))
        else:
            writer.quantised(name, torch.from_numpy(values), bits)

    asset = rig.poser.asset
    layout = asset.skin_layout()
    durations = rig.poser.mesh.clips
    writer.integers("face", params["face"])
    real("rig_rest", layout.rest, mesh_bits)
    writer.integers("rig_bones", torch.from_numpy(layout.bones))
    real("rig_weights", layout.weights, mesh_bits)
    writer.integers("rig_faces", torch.from_numpy(rig.poser.mesh.faces))
    blocks, rows = [], 0
    for block in layout.morphs:
        targets, count = block.deltas.shape[:2]
        blocks.append(
            {"first_vertex": block.first_vertex, "count": count, "row": rows}
            | {"slots": [int(s) for s in block.slots]}
        )
        rows += targets * count
    if rows:
        deltas = np.concatenate([b.deltas.reshape(-1, 3) for b in layout.morphs])
        real("rig_morph_deltas", deltas, mesh_bits)
    anchor_clip, anchor_seconds = pose_on(rig.segments, durations, rig.anchor_time)
    writer.float32(
        "rig_anchor", torch.from_numpy(pose_vector(asset.pose_state(anchor_clip, anchor_seconds)))
    )
    width = 12 * layout.bone_count + layout.morph_count
    total = sum(sample_count(duration, rate) for duration in durations.values()) * width
    if total > MAX_POSE_NUMBERS:
        raise InputError(
            asset.path,
            f"its {len(durations)} clips sampled {rate:g} times a second are {total:,} pose "
            f"numbers, more than the web player takes ({MAX_POSE_NUMBERS:,})",
        )
    clips, samples, steps, first = [], [], {}, 0
    for name, duration in durations.items():
        poses = clip_samples(asset, name, duration, rate)
        steps[name] = largest_step(asset, poses)
        ends = skinned(asset, poses[0]), skinned(asset, poses[-1])
        clips.append(
            {"name": name, "duration": duration, "first": first, "samples": len(poses)}
            | {"loops": ends_join(*ends, steps[name])}
        )
        samples.append(poses)
        first += len(poses)
    real("rig_poses", np.concatenate(samples), pose_bits)
    ends = [pose_vector(asset.pose_state(*pose_on(rig.segments, durations, t))) for t in (0, 1)]
    start, end = (skinned(asset, pose) for pose in ends)
    timeline_step = max(steps[segment.clip] for segment in rig.segments)
    return {
        "name": "rig",
        "periodic": rig.periodic,
        "anchor_time": rig.anchor_time,
        "residual_control": rig.residual_control,
        "bones": layout.bone_count,
        "morphs": layout.morph_count,
        "morph_blocks": blocks,
        "pose_rate": rate,
        "clips": clips,
        "segments": [[s.clip, s.start, s.length] for s in rig.segments],
        "timeline_loops": ends_join(start, end, timeline_step),
        "anchor": [anchor_clip, anchor_seconds],
    }
