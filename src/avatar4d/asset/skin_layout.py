"""The whole drawn mesh as one linear skin: what stays fixed, and the few numbers a pose sets.

Every drawn vertex (``RigPoser``'s combined order) is placed as

    world(v) = sum_k weight[v, k] * bones[bone[v, k]] @ (rest[v] + sum_m morph[m] * delta[m, v])

where ``bones`` (B, 3, 4) are the skins' joint matrices followed by one world matrix per drawn
node (the matrix of a primitive that is not skinned, weight 1) and ``morph`` (M,) holds every
drawn mesh's morph weights, one slot per (drawn node, target). A pose is then B x 12 + M
numbers (``PoseState``), computed from the node hierarchy on the CPU; the per-vertex work
(``skin_positions`` here, ``avatar4d.model.mesh_skinning`` on the GPU, the web player) needs
nothing else. It places every vertex as ``Asset.positions_from_nodes`` does.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from avatar4d.asset.posing import DrawItem, morph_weights
from avatar4d.asset.scene_graph import NodePose
from avatar4d.asset.skinning import Skin


@dataclass(frozen=True)
class MorphBlock:
    """One primitive's morph targets: deltas for its vertices and their weight slots."""

    first_vertex: int
    deltas: np.ndarray  # (M, n, 3) float32
    slots: np.ndarray  # (M,) int64 into PoseState.morph


@dataclass(frozen=True)
class SkinLayout:
    rest: np.ndarray  # (V, 3) float32 mesh-space positions before morphing
    bones: np.ndarray  # (V, K) int32 into PoseState.bones
    weights: np.ndarray  # (V, K) float32, rows sum to 1
    morphs: tuple[MorphBlock, ...]
    bone_count: int
    morph_count: int
    joint_bones: tuple[int, ...]  # first bone of each skin's joints
    node_bones: dict[int, int]  # drawn node -> its world matrix's bone
    morph_slots: dict[int, int]  # drawn node -> its first morph slot


@dataclass(frozen=True)
class PoseState:
    """Everything one pose sets: (B, 3, 4) bone matrices and (M,) morph weights."""

    bones: np.ndarray
    morph: np.ndarray


def build_skin_layout(items: list[DrawItem], skins: list[Skin]) -> SkinLayout:
    joint_bones, bone_count = [], 0
    for skin in skins:
        joint_bones.append(bone_count)
        bone_count += len(skin.joints)
    node_bones, morph_slots, morph_count = {}, {}, 0
    for item in items:
        if item.node not in node_bones:
            node_bones[item.node] = bone_count
            bone_count += 1
            morph_slots[item.node] = morph_count
            morph_count += len(item.mesh.default_weights)
    rests, bones, weights, morphs, vertex = [], [], [], [], 0
    width = max(
        [p.joints.shape[1] for i in items for p in i.mesh.primitives if _skinned(i, p)] + [1]
    )
    for item in items:
        for primitive in item.mesh.primitives:
            count = len(primitive.positions)
            rows = np.zeros((count, width), np.int32)
            share = np.zeros((count, width), np.float32)
            if _skinned(item, primitive):
                k = primitive.joints.shape[1]
                rows[:, :k] = primitive.joints + joint_bones[item.skin_index]
                share[:, :k] = primitive.weights
            else:
                rows[:, 0] = node_bones[item.node]
                share[:, 0] = 1.0
            if primitive.target_positions is not None and len(primitive.target_positions):
                targets = min(len(primitive.target_positions), len(item.mesh.default_weights))
                slots = morph_slots[item.node] + np.arange(targets)
                deltas = primitive.target_positions[:targets].astype(np.float32)
                morphs.append(MorphBlock(vertex, deltas, slots))
            rests.append(primitive.positions.astype(np.float32))
            bones.append(rows)
            weights.append(share)
            vertex += count
    return SkinLayout(
        rest=np.concatenate(rests) if rests else np.zeros((0, 3), np.float32),
        bones=np.concatenate(bones) if bones else np.zeros((0, width), np.int32),
        weights=np.concatenate(weights) if weights else np.zeros((0, width), np.float32),
        morphs=tuple(morphs),
        bone_count=bone_count,
        morph_count=morph_count,
        joint_bones=tuple(joint_bones),
        node_bones=node_bones,
        morph_slots=morph_slots,
    )


def _skinned(item: DrawItem, primitive) -> bool:
    return item.skin_index is not None and primitive.joints is not None


def pose_state(
    layout: SkinLayout,
    items: list[DrawItem],
    skins: list[Skin],
    world: np.ndarray,
    node_pose: NodePose,
    static_weights: dict[int, np.ndarray],
) -> PoseState:
    """The bones and morph weights of the poses whose (T, N, 4, 4) world matrices are given
    (one pose: (N, 4, 4)): bones (T, B, 3, 4), morph (T, M), without T for one pose."""
    lead = world.shape[:-3]
    bones = np.empty((*lead, layout.bone_count, 3, 4), np.float32)
    for skin, first in zip(skins, layout.joint_bones, strict=True):
        bones[..., first : first + len(skin.joints), :, :] = skin.joint_matrices(world)[..., :3, :]
    for node, bone in layout.node_bones.items():
        bones[..., bone, :, :] = world[..., node, :3, :]
    morph = np.zeros((*lead, layout.morph_count), np.float32)
    for item in items:
        animated = node_pose.weights.get(item.node)
        weights = morph_weights(item, animated, static_weights.get(item.node))
        first = layout.morph_slots[item.node]
        morph[..., first : first + weights.shape[-1]] = weights
    return PoseState(bones, morph)


def skin_positions(layout: SkinLayout, state: PoseState) -> np.ndarray:
    """(V, 3) float32 world positions of one pose (the reference for the GPU skinner)."""
    positions = layout.rest.astype(np.float32).copy()
    for block in layout.morphs:
        weights = state.morph[block.slots]
        end = block.first_vertex + block.deltas.shape[1]
        positions[block.first_vertex : end] += np.tensordot(weights, block.deltas, axes=1)
    matrices = np.einsum("vk,vkij->vij", layout.weights, state.bones[layout.bones])
    return (np.einsum("vij,vj->vi", matrices[:, :, :3], positions) + matrices[:, :, 3]).astype(
        np.float32
    )
