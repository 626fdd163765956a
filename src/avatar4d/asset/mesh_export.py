"""Write a posed mesh as binary PLY or OBJ text (positions, normals, faces), atomically."""

from __future__ import annotations

import io
import os
import tempfile
from pathlib import Path

import numpy as np

from avatar4d.asset.posed_mesh import PosedMesh
from avatar4d.errors import InputError
from avatar4d.io.permissions import file_mode

MESH_FORMATS = (".ply", ".obj")


def check_mesh_output(path: Path, force: bool) -> None:
    """Refuse an unknown extension, or an existing file unless ``force``; before any work."""
    if path.suffix.lower() not in MESH_FORMATS:
        raise InputError(
            path, f"unsupported output format {path.suffix or '(none)'!r}; use .ply or .obj"
        )
    if path.exists() and not force:
        raise InputError(path, "already exists (add --force to overwrite it)")
    if path.exists() and not path.is_file():
        raise InputError(path, "exists and is not a file")


def write_posed_mesh(mesh: PosedMesh, path: Path, force: bool = False) -> None:
    """All parts concatenated in node order; the format follows the file extension."""
    check_mesh_output(path, force)
    positions, normals, faces = _concatenated(mesh)
    if path.suffix.lower() == ".ply":
        data = ply_bytes(positions, normals, faces)
    else:
        data = obj_text(positions, normals, faces).encode("ascii")
    write_atomically(path, data)


def _concatenated(mesh: PosedMesh) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    offsets = np.cumsum([0] + [len(p.positions) for p in mesh.parts])
    if not mesh.parts:
        return (
            np.zeros((0, 3), np.float32),
            np.zeros((0, 3), np.float32),
            np.zeros((0, 3), np.uint32),
        )
    positions = np.concatenate([p.positions for p in mesh.parts]).astype(np.float32)
    normals = np.concatenate([p.normals for p in mesh.parts]).astype(np.float32)
    faces = np.concatenate(
        [
            p.indices.astype(np.uint32) + np.uint32(o)
            for p, o in zip(mesh.parts, offsets[:-1], strict=True)
        ]
    )
    return positions, normals, faces


def ply_bytes(positions: np.ndarray, normals: np.ndarray, faces: np.ndarray) -> bytes:
    header = (
        "ply\nformat binary_little_endian 1.0\ncomment written by avatar4d\n"
        f"element vertex {len(positions)}\n"
        "property float x\nproperty float y\nproperty float z\n"
        "property float nx\nproperty float ny\nproperty float nz\n"
        f"element face {len(faces)}\n"
        "property list uchar uint vertex_indices\nend_header\n"
    )
    vertices = np.concatenate([positions, normals], axis=1).astype("<f4")
    face_records = np.empty(len(faces), dtype=[("n", "u1"), ("corners", "<u4", (3,))])
    face_records["n"] = 3
    face_records["corners"] = faces
    return header.encode("ascii") + vertices.tobytes() + face_records.tobytes()


def obj_text(positions: np.ndarray, normals: np.ndarray, faces: np.ndarray) -> str:
    out = io.StringIO()
    out.write("# written by avatar4d\n")
    np.savetxt(out, positions, fmt="v %.7g %.7g %.7g")
    np.savetxt(out, normals, fmt="vn %.6g %.6g %.6g")
    one_based = faces.astype(np.int64) + 1
    np.savetxt(out, np.repeat(one_based, 2, axis=1), fmt="f %d//%d %d//%d %d//%d")
    return out.getvalue()


def write_atomically(path: Path, data: bytes) -> None:
    """Write to a temporary file in the same folder, then rename over ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            os.fchmod(file.fileno(), file_mode())  # mkstemp makes owner-only files
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
