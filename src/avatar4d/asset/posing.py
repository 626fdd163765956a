"""One primitive from mesh space to world space: morph targets, then skinning or the node matrix."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from avatar4d.asset.primitives import MeshData, MeshPrimitive
from avatar4d.asset.skinning import (
    APPLY_SKINNED_NODE_TRANSFORM,
    blend_matrices,
    transform_normals,
    transform_points,
)
from avatar4d.asset.topology import normalize_rows, vertex_normals


@dataclass(frozen=True)
class DrawItem:
    """A mesh instanced by one scene node, in node order."""

    node: int
    mesh: MeshData
    skin_index: int | None


@dataclass(frozen=True)
class PlacedPrimitive:
    positions: np.ndarray  # (V, 3) float32 world space
    normals: np.ndarray | None  # (V, 3) float32 unit, when asked for
    triangles: np.ndarray  # (T, 3) uint32, winding flipped under mirroring transforms


def morph_weights(
    item: DrawItem, animated: np.ndarray | None, static: np.ndarray | None
) -> np.ndarray:
    """Animated weights, else node.weights, else mesh.weights; sized to the mesh's targets
    (the last axis: animated weights of T instants are (T, W))."""
    defaults = item.mesh.default_weights
    chosen = animated if animated is not None else static
    if chosen is None:
        return defaults
    weights = np.zeros((*chosen.shape[:-1], len(defaults)), np.float32)
    count = min(chosen.shape[-1], len(defaults))
    weights[..., :count] = chosen[..., :count]
    return weights


def place(
    primitive: MeshPrimitive,
    node_world: np.ndarray,
    joint_matrices: np.ndarray | None,
    weights: np.ndarray,
    with_normals: bool,
) -> PlacedPrimitive:
    positions, normals = _morphed(primitive, weights, with_normals)
    triangles = primitive.triangles
    if joint_matrices is not None and primitive.joints is not None:
        if APPLY_SKINNED_NODE_TRANSFORM:
            joint_matrices = node_world @ joint_matrices
        matrices = blend_matrices(joint_matrices, primitive.joints, primitive.weights)
    else:
        matrices = node_world[:3, :].astype(np.float32)
        if np.linalg.det(node_world[:3, :3]) < 0:  # mirrored: keep front faces counter-clockwise
            triangles = np.ascontiguousarray(triangles[:, [0, 2, 1]])
    world_positions = transform_points(matrices, positions)
    world_normals = None
    if with_normals:
        if normals is None:
            world_normals = vertex_normals(world_positions, triangles)
        else:
            world_normals = normalize_rows(transform_normals(matrices, normals))
    return PlacedPrimitive(world_positions, world_normals, triangles)


def _morphed(
    primitive: MeshPrimitive, weights: np.ndarray, with_normals: bool
) -> tuple[np.ndarray, np.ndarray | None]:
    positions, normals = primitive.positions, primitive.normals
    active = np.flatnonzero(weights[: _target_count(primitive)])
    if len(active) == 0:
        return positions, normals
    w = weights[active]
    if primitive.target_positions is not None:
        positions = positions + np.tensordot(w, primitive.target_positions[active], axes=1)
    if with_normals and normals is not None and primitive.target_normals is not None:
        normals = normals + np.tensordot(w, primitive.target_normals[active], axes=1)
    return positions.astype(np.float32, copy=False), normals


def _target_count(primitive: MeshPrimitive) -> int:
    deltas = primitive.target_positions
    if deltas is None:
        deltas = primitive.target_normals
    return 0 if deltas is None else len(deltas)
