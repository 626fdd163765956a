"""The demo character's animation clips: "wave", "talk" and "walk" (in place).

Every clip loops: each channel's last key equals its first. Most channels are LINEAR
keys sampled from smooth functions; the hips sway and the talking mouth are CUBICSPLINE
and the blinks are STEP, so a sampler that handles all three is exercised.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from avatar4d.asset.demo.head import EYELID_CLOSED_SCALE, EYELID_OPEN_SCALE
from avatar4d.asset.demo.motion import (
    close_loop,
    cubic_spline_values,
    key_times,
    monotone_tangents,
    rotations,
    smoothstep,
)
from avatar4d.asset.demo.skeleton import joint_position

HEAD_MESH_NODE = "head_mesh"  # the node whose mesh carries the "mouth_open" morph target
KEYS_PER_SECOND = 30


@dataclass(frozen=True)
class ClipChannel:
    target: str  # a joint name, an eyelid node name or HEAD_MESH_NODE
    path: str  # translation | rotation | scale | weights
    times: np.ndarray
    values: np.ndarray
    interpolation: str = "LINEAR"


@dataclass(frozen=True)
class Clip:
    name: str
    duration: float
    channels: list[ClipChannel]


def demo_clips() -> list[Clip]:
    return [wave_clip(), talk_clip(), walk_clip()]


def wave_clip(duration: float = 2.0) -> Clip:
    """The right arm rises, the forearm waves three times, the arm comes back down."""
    t = key_times(duration, KEYS_PER_SECOND)
    raised = smoothstep(0.0, 0.45, t) * (1 - smoothstep(1.55, duration, t))
    waving = smoothstep(0.35, 0.6, t) * (1 - smoothstep(1.35, 1.6, t))
    beat = 2 * np.pi * 2.5 * (t - 0.45)
    sway = np.sin(2 * np.pi * t / duration)
    channels = [
        _rotation(t, "upper_arm_R", ("z", -100 * raised), ("y", 20 * raised)),
        _rotation(t, "lower_arm_R", ("z", -40 * raised + 25 * waving * np.sin(beat))),
        _rotation(t, "hand_R", ("z", 15 * waving * np.sin(beat - 0.8))),
        _rotation(t, "upper_arm_L", ("x", 4 * sway)),
        _rotation(t, "spine", ("z", -4 * raised)),
        _rotation(t, "head", ("z", 6 * raised)),
        _rotation(t, "hips", ("z", 2.5 * sway)),
        _rotation(t, "upper_leg_L", ("z", -2.5 * sway)),
        _rotation(t, "upper_leg_R", ("z", -2.5 * sway)),
        _hips_sway(duration),
        ClipChannel(HEAD_MESH_NODE, "weights", t, close_loop(0.25 * raised)),
        *_blink(duration, at=0.9),
    ]
    return Clip("wave", duration, channels)


def talk_clip(duration: float = 2.0) -> Clip:
    """The mouth opens and closes in syllables, the head nods, the right hand gestures."""
    t = key_times(duration, KEYS_PER_SECOND)
    cycle = 2 * np.pi * t / duration
    channels = [
        _mouth_syllables(),
        _rotation(t, "head", ("x", 5 * np.sin(3 * cycle)), ("z", 4 * np.sin(cycle))),
        _rotation(t, "neck", ("x", 2 * np.sin(3 * cycle - 0.5))),
        _rotation(t, "spine", ("y", 4 * np.sin(cycle))),
        _rotation(t, "upper_arm_R", ("x", -12 - 4 * np.sin(2 * cycle))),
        _rotation(t, "lower_arm_R", ("x", -45 - 15 * np.sin(2 * cycle + 0.6))),
        _rotation(t, "upper_arm_L", ("x", -4 + 2 * np.sin(cycle))),
        _breathing(t, cycle),
        *_blink(duration, at=1.25),
    ]
    return Clip("talk", duration, channels)


def walk_clip(duration: float = 1.0) -> Clip:
    """One stride of walking in place: legs and arms swing in opposition, hips bob."""
    t = key_times(duration, KEYS_PER_SECOND)
    phase = 2 * np.pi * t / duration
    swing, lift = np.sin(phase), np.cos(phase)
    hips = joint_position("hips")
    bob = hips[None, :] + np.outer(-0.03 * swing**2, [0.0, 1.0, 0.0])
    channels = [
        ClipChannel("hips", "translation", t, close_loop(bob)),
        _rotation(t, "hips", ("y", -6 * swing)),
        _rotation(t, "chest", ("y", 8 * swing)),
        _rotation(t, "head", ("y", -2 * swing)),
        _rotation(t, "upper_leg_L", ("x", -25 * swing)),
        _rotation(t, "upper_leg_R", ("x", 25 * swing)),
        _rotation(t, "lower_leg_L", ("x", 40 * np.maximum(lift, 0) ** 1.5)),
        _rotation(t, "lower_leg_R", ("x", 40 * np.maximum(-lift, 0) ** 1.5)),
        _rotation(t, "upper_arm_L", ("x", 18 * swing)),
        _rotation(t, "upper_arm_R", ("x", -18 * swing)),
        _rotation(t, "lower_arm_L", ("x", -20 - 5 * swing)),
        _rotation(t, "lower_arm_R", ("x", -20 + 5 * swing)),
    ]
    return Clip("walk", duration, channels)


def _rotation(t: np.ndarray, joint: str, *steps: tuple[str, np.ndarray | float]) -> ClipChannel:
    broadcast = [
        (axis, np.broadcast_to(np.asarray(deg, np.float64), t.shape)) for axis, deg in steps
    ]
    return ClipChannel(joint, "rotation", t, close_loop(rotations(*broadcast)))


def _hips_sway(duration: float) -> ClipChannel:
    """Side-to-side sway as a CUBICSPLINE with exact slopes: five keys make a smooth sine."""
    times = np.linspace(0.0, duration, 5)
    angle = 2 * np.pi * times / duration
    amplitude = 0.015
    offsets = np.outer(amplitude * np.sin(angle), [1.0, 0.0, 0.0])
    slopes = np.outer(amplitude * 2 * np.pi / duration * np.cos(angle), [1.0, 0.0, 0.0])
    values = close_loop(joint_position("hips")[None, :] + offsets)
    values_out = cubic_spline_values(values, close_loop(slopes))
    return ClipChannel("hips", "translation", times, values_out, "CUBICSPLINE")


def _mouth_syllables() -> ClipChannel:
    """Mouth opening per syllable, with a pause; CUBICSPLINE that never leaves [0, 1]."""
    keys = [
        (0.0, 0.0), (0.12, 0.45), (0.22, 0.9), (0.34, 0.2), (0.46, 0.75), (0.58, 0.1),
        (0.72, 0.6), (0.84, 0.95), (1.0, 0.05), (1.15, 0.0), (1.3, 0.5), (1.42, 0.15),
        (1.55, 0.85), (1.68, 0.3), (1.8, 0.7), (2.0, 0.0),
    ]  # fmt: skip
    times, weights = (np.array(column) for column in zip(*keys, strict=True))
    tangents = monotone_tangents(times, weights)
    return ClipChannel(
        HEAD_MESH_NODE, "weights", times, cubic_spline_values(weights, tangents), "CUBICSPLINE"
    )


def _breathing(t: np.ndarray, cycle: np.ndarray) -> ClipChannel:
    breath = np.sin(cycle)[:, None] * np.array([0.008, 0.005, 0.012])
    return ClipChannel("chest", "scale", t, close_loop(1.0 + breath))


def _blink(duration: float, at: float, length: float = 0.12) -> list[ClipChannel]:
    """Eyelids snap shut and open again (STEP), like a real blink."""
    times = np.array([0.0, at, at + length, duration])
    scales = np.array(
        [EYELID_OPEN_SCALE, EYELID_CLOSED_SCALE, EYELID_OPEN_SCALE, EYELID_OPEN_SCALE]
    )
    return [ClipChannel(name, "scale", times, scales, "STEP") for name in ("eyelid_L", "eyelid_R")]
