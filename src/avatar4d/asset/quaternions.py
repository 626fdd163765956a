"""Quaternions: the algebra once, and the numpy helpers of the glTF side (x, y, z, w order).

``product`` and ``rotation_rows`` work on components (w, x, y, z) that may be floats, numpy
arrays or torch tensors alike: the only arithmetic on quaternions in the project. The
functions below them are numpy, in glTF's storage order (x, y, z, w). The torch side (gsplat's
w, x, y, z order, with autograd) is ``avatar4d.raster.quaternions``, built on the same
algebra; it cannot live here because asset/ runs without torch.
"""

from __future__ import annotations

from typing import TypeVar

import numpy as np

T = TypeVar("T")  # a float, a numpy array or a torch tensor: anything with + - *
Components = tuple[T, T, T, T]  # (w, x, y, z)

AXES = {"x": (1.0, 0.0, 0.0), "y": (0.0, 1.0, 0.0), "z": (0.0, 0.0, 1.0)}
NEARLY_PARALLEL = 0.9995  # |cos| of the half-angle above which slerp falls back to lerp


def product(a: Components, b: Components) -> Components:
    """Hamilton product a * b: the rotation b followed by the rotation a (for unit inputs)."""
    aw, ax, ay, az = a
    bw, bx, by, bz = b
    return (
        aw * bw - ax * bx - ay * by - az * bz,
        aw * bx + ax * bw + ay * bz - az * by,
        aw * by - ax * bz + ay * bw + az * bx,
        aw * bz + ax * by - ay * bx + az * bw,
    )


def rotation_rows(w: T, x: T, y: T, z: T) -> tuple[tuple[T, T, T], ...]:
    """The three rows of the rotation matrix of a unit quaternion."""
    return (
        (1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)),
        (2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)),
        (2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)),
    )


def _components(q: np.ndarray) -> Components:
    """(..., 4) x y z w -> (w, x, y, z) arrays."""
    x, y, z, w = np.moveaxis(q, -1, 0)
    return w, x, y, z


def _stacked(components: Components) -> np.ndarray:
    """(w, x, y, z) arrays -> (..., 4) x y z w."""
    w, x, y, z = components
    return np.stack([x, y, z, w], axis=-1)


def normalize(q: np.ndarray) -> np.ndarray:
    """Unit quaternions; a zero-length one becomes the identity."""
    length = np.linalg.norm(q, axis=-1, keepdims=True)
    identity = np.zeros_like(q)
    identity[..., 3] = 1.0
    return np.where(length > 1e-12, q / np.maximum(length, 1e-12), identity)


def multiply(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Hamilton product ``a * b`` (apply ``b`` first, then ``a``), broadcasting over rows."""
    return _stacked(product(_components(np.atleast_2d(a)), _components(np.atleast_2d(b))))


def to_matrices(q: np.ndarray) -> np.ndarray:
    """(..., 4) quaternions (normalised here) -> (..., 3, 3) rotation matrices."""
    rows = rotation_rows(*_components(normalize(q)))
    return np.stack([np.stack(row, -1) for row in rows], axis=-2)


def from_matrix(rotation: np.ndarray) -> np.ndarray:
    """A 3x3 rotation matrix (no scale) -> unit quaternion (x, y, z, w)."""
    m = rotation
    trace = m[0, 0] + m[1, 1] + m[2, 2]
    if trace > 0:
        s = 2.0 * np.sqrt(trace + 1.0)
        q = [(m[2, 1] - m[1, 2]) / s, (m[0, 2] - m[2, 0]) / s, (m[1, 0] - m[0, 1]) / s, s / 4]
    elif m[0, 0] > m[1, 1] and m[0, 0] > m[2, 2]:
        s = 2.0 * np.sqrt(1.0 + m[0, 0] - m[1, 1] - m[2, 2])
        q = [s / 4, (m[0, 1] + m[1, 0]) / s, (m[0, 2] + m[2, 0]) / s, (m[2, 1] - m[1, 2]) / s]
    elif m[1, 1] > m[2, 2]:
        s = 2.0 * np.sqrt(1.0 + m[1, 1] - m[0, 0] - m[2, 2])
        q = [(m[0, 1] + m[1, 0]) / s, s / 4, (m[1, 2] + m[2, 1]) / s, (m[0, 2] - m[2, 0]) / s]
    else:
        s = 2.0 * np.sqrt(1.0 + m[2, 2] - m[0, 0] - m[1, 1])
        q = [(m[0, 2] + m[2, 0]) / s, (m[1, 2] + m[2, 1]) / s, s / 4, (m[1, 0] - m[0, 1]) / s]
    return normalize(np.array(q, np.float64))


def about_axis(axis: str, degrees: np.ndarray | float) -> np.ndarray:
    """(K, 4) rotations by ``degrees`` about a principal axis ("x", "y" or "z")."""
    half = np.radians(np.atleast_1d(np.asarray(degrees, np.float64))) / 2
    xyz = np.asarray(AXES[axis])[None, :] * np.sin(half)[:, None]
    return np.concatenate([xyz, np.cos(half)[:, None]], axis=1)


def continuous(quaternions: np.ndarray) -> np.ndarray:
    """Flip signs so neighbouring keys lie in the same hemisphere (shortest interpolation)."""
    q = np.array(quaternions, np.float64)
    for k in range(1, len(q)):
        if np.dot(q[k - 1], q[k]) < 0:
            q[k] = -q[k]
    return q


def slerp(a: np.ndarray, b: np.ndarray, s: np.ndarray) -> np.ndarray:
    """Shortest-path slerp of unit quaternions (..., 4); unit results."""
    dot = (a * b).sum(axis=-1, keepdims=True)
    b = np.where(dot < 0, -b, b)  # q and -q are one rotation: take the short way round
    dot = np.abs(dot)
    angle = np.arccos(np.minimum(dot, 1.0))
    sin_angle = np.sin(angle)
    parallel = dot > NEARLY_PARALLEL
    safe = np.where(parallel, 1.0, sin_angle)
    weight_a = np.where(parallel, 1 - s, np.sin((1 - s) * angle) / safe)
    weight_b = np.where(parallel, s, np.sin(s * angle) / safe)
    return normalize(weight_a * a + weight_b * b)
