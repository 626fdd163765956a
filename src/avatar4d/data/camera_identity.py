"""Camera identity for datasets whose frames carry no ``camera_index``.

Frames whose poses agree (positions within a tolerance scaled to the scene, rotations within
the same tolerance) are one camera. Positions are hashed into cells one tolerance wide, so a
pose is compared only with representatives in its own and neighbouring cells: linear time even
for a monocular set where every frame is its own camera.
"""

from __future__ import annotations

import itertools

import numpy as np

RELATIVE_POSE_TOLERANCE = 1e-4


def scene_scale(positions: np.ndarray) -> float:
    """Largest distance of a camera from the cameras' mean position (1.0 if all coincide)."""
    if len(positions) == 0:
        return 1.0
    spread = float(np.max(np.linalg.norm(positions - positions.mean(axis=0), axis=1)))
    return spread if spread > 0 else 1.0


def cluster_camera_poses(
    c2w: np.ndarray, scale: float | None = None, tolerance: float = RELATIVE_POSE_TOLERANCE
) -> np.ndarray:
    """Camera id (0, 1, ... in order of first appearance) for each (N, 4, 4) pose."""
    poses = np.asarray(c2w, dtype=np.float64)
    positions = poses[:, :3, 3]
    rotations = poses[:, :3, :3]
    position_tolerance = tolerance * (scene_scale(positions) if scale is None else scale)
    cells = np.floor(positions / position_tolerance).astype(np.int64)

    representatives_by_cell: dict[tuple[int, int, int], list[int]] = {}
    camera_of_representative: dict[int, int] = {}
    ids = np.empty(len(poses), dtype=np.int64)
    offsets = list(itertools.product((-1, 0, 1), repeat=3))
    for i, cell in enumerate(map(tuple, cells)):
        match = None
        for offset in offsets:
            neighbour = (cell[0] + offset[0], cell[1] + offset[1], cell[2] + offset[2])
            for j in representatives_by_cell.get(neighbour, ()):
                close = np.max(np.abs(positions[i] - positions[j])) <= position_tolerance
                if close and np.max(np.abs(rotations[i] - rotations[j])) <= tolerance:
                    match = j
                    break
            if match is not None:
                break
        if match is None:
            camera_of_representative[i] = len(camera_of_representative)
            representatives_by_cell.setdefault(cell, []).append(i)
            match = i
        ids[i] = camera_of_representative[match]
    return ids
