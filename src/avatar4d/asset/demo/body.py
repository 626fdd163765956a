"""The demo character's body parts, grouped into skinned primitives.

Two primitives: the shirt (torso and sleeves, textured) and everything else coloured
per vertex (skin, trousers, shoes with light soles, hair). Each part lists the joints
its vertices may follow; the weights come from distances to those bones.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from avatar4d.asset.demo import palette as palette
from avatar4d.asset.demo.head import build_hair
from avatar4d.asset.demo.shapes import ShapeMesh, capsule, ellipsoid, lathe, place, smooth_profile
from avatar4d.asset.demo.skeleton import (
    ANKLE_HEIGHT,
    KNEE_HEIGHT,
    arm_direction,
    joint_position,
    skin_weights,
)
from avatar4d.asset.demo.textures import SLEEVE_V_RANGE
from avatar4d.asset.glb_builder import Primitive

SOLE_HEIGHT = 0.016
SEGMENTS = 16

# (height, half-width, half-depth) from the neckline down to the shirt hem.
TORSO_PROFILE = [
    (1.36, 0.0, 0.0),
    (1.355, 0.05, 0.04),
    (1.34, 0.12, 0.075),
    (1.31, 0.17, 0.1),
    (1.26, 0.19, 0.115),
    (1.15, 0.185, 0.12),
    (1.04, 0.168, 0.108),
    (0.94, 0.175, 0.108),
    (0.9, 0.182, 0.113),
    (0.885, 0.12, 0.07),
    (0.88, 0.0, 0.0),
]
PELVIS_PROFILE = [
    (0.95, 0.0, 0.0),
    (0.945, 0.13, 0.08),
    (0.925, 0.17, 0.104),
    (0.87, 0.182, 0.114),
    (0.81, 0.175, 0.11),
    (0.76, 0.135, 0.095),
    (0.74, 0.0, 0.0),
]


@dataclass
class Part:
    shape: ShapeMesh
    joints: Sequence[str]
    colour: tuple[int, int, int] | None = None  # sRGB; None for textured parts
    has_sole: bool = False  # vertices at the very bottom get the sole colour


def shirt_parts() -> list[Part]:
    torso = lathe(smooth_profile(TORSO_PROFILE, 2), 28)
    parts = [Part(torso, ("hips", "spine", "chest", "neck"))]
    for suffix, side in (("L", 1.0), ("R", -1.0)):
        shoulder = joint_position(f"upper_arm_{suffix}")
        sleeve = capsule(shoulder, shoulder + 0.15 * arm_direction(side), 0.068, 0.062, SEGMENTS)
        low, high = SLEEVE_V_RANGE
        sleeve.uvs[:, 1] = low + (high - low) * sleeve.uvs[:, 1]
        parts.append(Part(sleeve, (f"upper_arm_{suffix}", f"lower_arm_{suffix}")))
    return parts


def coloured_parts() -> list[Part]:
    pelvis = lathe(smooth_profile(PELVIS_PROFILE, 2), 28)
    neck = capsule((0.0, 1.43, 0.0), (0.0, 1.3, 0.0), 0.055, 0.055, SEGMENTS)
    parts = [
        Part(pelvis, ("hips", "spine", "upper_leg_L", "upper_leg_R"), palette.TROUSERS),
        Part(neck, ("chest", "neck", "head"), palette.SKIN),
        Part(build_hair(), ("head",), palette.HAIR),
    ]
    for suffix, side in (("L", 1.0), ("R", -1.0)):
        parts += _arm_parts(suffix, side) + _leg_parts(suffix, side)
    return parts


def _arm_parts(suffix: str, side: float) -> list[Part]:
    down = arm_direction(side)
    shoulder, elbow, wrist = (
        joint_position(f"{name}_{suffix}") for name in ("upper_arm", "lower_arm", "hand")
    )
    forward = np.array([0.0, 0.0, 1.0])
    hand = place(ellipsoid((0.025, 0.055, 0.045), 8, 12), wrist + 0.06 * down, up=-down)
    thumb_start = wrist + 0.025 * down + 0.03 * forward
    thumb = capsule(thumb_start, wrist + 0.075 * down + 0.05 * forward, 0.014, 0.012, 10, 3, 2)
    upper, lower, hand_joint = (f"upper_arm_{suffix}", f"lower_arm_{suffix}", f"hand_{suffix}")
    return [
        Part(capsule(shoulder, elbow, 0.05, 0.045, SEGMENTS), (upper, lower), palette.SKIN),
        Part(
            capsule(elbow, wrist, 0.045, 0.038, SEGMENTS), (upper, lower, hand_joint), palette.SKIN
        ),
        Part(hand, (lower, hand_joint), palette.SKIN),
        Part(thumb, (lower, hand_joint), palette.SKIN),
    ]


def _leg_parts(suffix: str, side: float) -> list[Part]:
    hip = joint_position(f"upper_leg_{suffix}")
    knee = np.array([hip[0], KNEE_HEIGHT, 0.0])
    ankle = np.array([hip[0], ANKLE_HEIGHT, 0.0])
    shoe_radii = (0.068, 0.06, 0.125)
    shoe = place(ellipsoid(shoe_radii, 10, SEGMENTS), (hip[0], shoe_radii[1], 0.035))
    upper, lower = f"upper_leg_{suffix}", f"lower_leg_{suffix}"
    return [
        Part(capsule(hip, knee, 0.086, 0.07, SEGMENTS), ("hips", upper, lower), palette.TROUSERS),
        Part(capsule(knee, ankle, 0.068, 0.056, SEGMENTS), (upper, lower), palette.TROUSERS),
        Part(shoe, (lower,), palette.SHOES, has_sole=True),
    ]


def to_primitive(parts: Sequence[Part], with_colours: bool) -> Primitive:
    """Merge parts into one skinned primitive (material left for the caller to set)."""
    positions, normals, uvs, colours, joints, weights, indices = [], [], [], [], [], [], []
    offset = 0
    for part in parts:
        shape = part.shape
        part_joints, part_weights = skin_weights(shape.positions, part.joints)
        positions.append(shape.positions)
        normals.append(shape.normals)
        uvs.append(shape.uvs)
        joints.append(part_joints)
        weights.append(part_weights)
        indices.append(shape.indices + offset)
        offset += shape.vertex_count
        if with_colours:
            colours.append(_vertex_colours(part))
    return Primitive(
        positions=np.concatenate(positions).astype(np.float32),
        indices=np.concatenate(indices),
        normals=np.concatenate(normals).astype(np.float32),
        uvs=None if with_colours else np.concatenate(uvs).astype(np.float32),
        colors=np.concatenate(colours).astype(np.float32) if with_colours else None,
        joints=np.concatenate(joints),
        weights=np.concatenate(weights),
    )


def _vertex_colours(part: Part) -> np.ndarray:
    if part.colour is None:
        raise ValueError("a vertex-coloured part needs a colour")
    colours = np.tile(palette.srgb_to_linear(part.colour), (part.shape.vertex_count, 1))
    if part.has_sole:
        colours[part.shape.positions[:, 1] < SOLE_HEIGHT] = palette.srgb_to_linear(palette.SOLES)
    return colours
