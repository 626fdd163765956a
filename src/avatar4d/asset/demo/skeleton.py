"""The demo character's skeleton (15 joints) and its smooth skin weights.

Joints are placed in the bind pose with identity rotations, so every joint's local
axes are the world axes: X to the character's left, Y up, Z forward.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

ARM_ANGLE_FROM_VERTICAL = np.radians(28.0)
SHOULDER = np.array([0.19, 1.27, 0.0])
UPPER_ARM_LENGTH = 0.24
LOWER_ARM_LENGTH = 0.22
HAND_LENGTH = 0.12
HIP = np.array([0.1, 0.83, 0.0])
KNEE_HEIGHT = 0.45
ANKLE_HEIGHT = 0.09
HEAD_TOP = 1.705


@dataclass(frozen=True)
class Joint:
    name: str
    parent: str | None
    position: np.ndarray  # bind-pose world position
    tip: np.ndarray  # far end of the bone, for skin weights


def arm_direction(side: float) -> np.ndarray:
    """Unit vector down the arm in the bind pose; ``side`` +1 is the left arm (+X)."""
    return np.array([side * np.sin(ARM_ANGLE_FROM_VERTICAL), -np.cos(ARM_ANGLE_FROM_VERTICAL), 0.0])


def _side_joints(side: float, suffix: str) -> list[Joint]:
    direction = arm_direction(side)
    shoulder = SHOULDER * [side, 1.0, 1.0]
    elbow = shoulder + UPPER_ARM_LENGTH * direction
    wrist = elbow + LOWER_ARM_LENGTH * direction
    hip = HIP * [side, 1.0, 1.0]
    knee = np.array([hip[0], KNEE_HEIGHT, 0.0])
    ankle = np.array([hip[0], ANKLE_HEIGHT, 0.0])
    return [
        Joint(f"upper_arm_{suffix}", "chest", shoulder, elbow),
        Joint(f"lower_arm_{suffix}", f"upper_arm_{suffix}", elbow, wrist),
        Joint(f"hand_{suffix}", f"lower_arm_{suffix}", wrist, wrist + HAND_LENGTH * direction),
        Joint(f"upper_leg_{suffix}", "hips", hip, knee),
        Joint(f"lower_leg_{suffix}", f"upper_leg_{suffix}", knee, ankle),
    ]


def _build_joints() -> tuple[Joint, ...]:
    def p(y: float) -> np.ndarray:
        return np.array([0.0, y, 0.0])

    spine = [
        Joint("hips", None, p(0.88), p(1.0)),
        Joint("spine", "hips", p(1.0), p(1.14)),
        Joint("chest", "spine", p(1.14), p(1.32)),
        Joint("neck", "chest", p(1.32), p(1.39)),
        Joint("head", "neck", p(1.39), p(HEAD_TOP)),
    ]
    return tuple(spine + _side_joints(1.0, "L") + _side_joints(-1.0, "R"))


JOINTS: tuple[Joint, ...] = _build_joints()
JOINT_NAMES: tuple[str, ...] = tuple(j.name for j in JOINTS)


def joint_index(name: str) -> int:
    return JOINT_NAMES.index(name)


def joint_position(name: str) -> np.ndarray:
    return JOINTS[joint_index(name)].position.copy()


def local_translation(joint: Joint) -> np.ndarray:
    """Offset from the parent joint (the node's rest translation)."""
    if joint.parent is None:
        return joint.position.copy()
    return joint.position - joint_position(joint.parent)


def inverse_bind_matrices() -> np.ndarray:
    """(J, 4, 4): with identity bind rotations each is a translation by -position."""
    matrices = np.tile(np.eye(4), (len(JOINTS), 1, 1))
    matrices[:, :3, 3] = -np.stack([j.position for j in JOINTS])
    return matrices


def skin_weights(
    positions: np.ndarray, candidates: Sequence[str], sharpness: float = 8.0
) -> tuple[np.ndarray, np.ndarray]:
    """Up to four joints per vertex, weighted by inverse distance to their bones.

    A high ``sharpness`` keeps each vertex on its nearest bone except near a joint, where
    two bones are about equally close and the weights blend smoothly.
    Returns (joints uint8 (V, 4), weights float32 (V, 4)) with rows summing to one.
    """
    ids = np.array([joint_index(name) for name in candidates])
    distances = np.stack([_distance_to_bone(positions, JOINTS[i]) for i in ids], axis=1)
    raw = np.maximum(distances, 1e-4) ** -sharpness
    order = np.argsort(-raw, axis=1, kind="stable")[:, :4]
    top = np.take_along_axis(raw, order, axis=1)
    top /= top.sum(axis=1, keepdims=True)
    top[top < 0.01] = 0.0
    top /= top.sum(axis=1, keepdims=True)
    joints = ids[order]
    if joints.shape[1] < 4:
        pad = 4 - joints.shape[1]
        joints = np.pad(joints, ((0, 0), (0, pad)))
        top = np.pad(top, ((0, 0), (0, pad)))
    joints = np.where(top > 0, joints, 0)
    return joints.astype(np.uint8), top.astype(np.float32)


def _distance_to_bone(points: np.ndarray, joint: Joint) -> np.ndarray:
    segment = joint.tip - joint.position
    s = np.clip((points - joint.position) @ segment / np.dot(segment, segment), 0.0, 1.0)
    return np.linalg.norm(points - (joint.position + s[:, None] * segment), axis=1)
