"""The standard 3D Gaussian Splatting PLY: write one, read one back.

The layout is that of the reference 3DGS code, which viewers (SuperSplat, the antimatter15
WebGL viewer, gsplat's and nerfstudio's exporters) read: binary little-endian, one ``vertex``
element, float32 properties in this order::

    x y z nx ny nz f_dc_0 f_dc_1 f_dc_2 f_rest_0 ... f_rest_44 opacity
    scale_0 scale_1 scale_2 rot_0 rot_1 rot_2 rot_3

Values are stored raw, as the optimiser holds them: opacity as a logit, scales as logs,
rotations as (possibly unnormalised) quaternions w x y z, colours as SH coefficients.
``f_rest`` is channel-major: the 15 degree-1..3 coefficients of red, then green, then blue.
Fewer SH degrees are padded with zeros to degree 3.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from avatar4d.errors import InputError
from avatar4d.io.atomic import atomic_path

SH_REST_COEFFICIENTS = 15  # degree 3: (3 + 1)^2 - 1
_VALID_REST_COUNTS = (0, 3, 8, 15)  # degrees 0..3

_PLY_TYPES = {
    "char": "i1", "int8": "i1", "uchar": "u1", "uint8": "u1",
    "short": "i2", "int16": "i2", "ushort": "u2", "uint16": "u2",
    "int": "i4", "int32": "i4", "uint": "u4", "uint32": "u4",
    "float": "f4", "float32": "f4", "double": "f8", "float64": "f8",
}  # fmt: skip


def property_names(rest_coefficients: int = SH_REST_COEFFICIENTS) -> list[str]:
    """The vertex properties in file order."""
    return [
        *("x", "y", "z", "nx", "ny", "nz"),
        *(f"f_dc_{i}" for i in range(3)),
        *(f"f_rest_{i}" for i in range(3 * rest_coefficients)),
        "opacity",
        *(f"scale_{i}" for i in range(3)),
        *(f"rot_{i}" for i in range(4)),
    ]


def _as_numpy(name: str, array: object, shape: tuple[int | None, ...]) -> np.ndarray:
    """float32 numpy copy of an array or torch tensor, checked against ``shape``."""
    if hasattr(array, "detach"):  # a torch tensor; torch itself is not needed to write
        array = array.detach().cpu().numpy()
    array = np.asarray(array, dtype=np.float32)
    if array.ndim != len(shape) or any(
        want is not None and have != want for have, want in zip(array.shape, shape, strict=True)
    ):
        wanted = "(" + ", ".join("?" if s is None else str(s) for s in shape) + ")"
        raise ValueError(f"{name} must have shape {wanted}, got {tuple(array.shape)}")
    if not np.all(np.isfinite(array)):
        bad = int(np.count_nonzero(~np.isfinite(array)))
        raise ValueError(f"{name} holds {bad} non-finite values; a viewer cannot show them")
    return array


def write_3dgs_ply(
    path: str | Path,
    means: object,
    normals: object | None,
    f_dc: object,
    f_rest: object | None,
    opacity_logits: object,
    log_scales: object,
    quats: object,
    force: bool = False,
) -> Path:
    """Write N Gaussians as a standard 3DGS PLY, atomically.

    Shapes: means (N, 3), normals (N, 3) or None (zeros), f_dc (N, 3), f_rest (N, K, 3) with
    K in {0, 3, 8, 15} or None, opacity_logits (N,), log_scales (N, 3), quats (N, 4) w x y z.
    Numpy arrays or torch tensors.
    """
    means_np = _as_numpy("means", means, (None, 3))
    count = means_np.shape[0]
    normals_np = (
        np.zeros((count, 3), np.float32)
        if normals is None
        else _as_numpy("normals", normals, (count, 3))
    )
    f_dc_np = _as_numpy("f_dc", f_dc, (count, 3))
    rest = (
        np.zeros((count, 0, 3), np.float32)
        if f_rest is None
        else _as_numpy("f_rest", f_rest, (count, None, 3))
    )
    if rest.shape[1] not in _VALID_REST_COUNTS:
        raise ValueError(
            f"f_rest has {rest.shape[1]} coefficients per channel; an SH degree of 0..3 has "
            f"{', '.join(map(str, _VALID_REST_COUNTS))}"
        )
    padded_rest = np.zeros((count, SH_REST_COEFFICIENTS, 3), np.float32)
    padded_rest[:, : rest.shape[1]] = rest
    columns = [
        means_np,
        normals_np,
        f_dc_np,
        padded_rest.transpose(0, 2, 1).reshape(count, 3 * SH_REST_COEFFICIENTS),
        _as_numpy("opacity_logits", opacity_logits, (count,))[:, None],
        _as_numpy("log_scales", log_scales, (count, 3)),
        _as_numpy("quats", quats, (count, 4)),
    ]
    table = np.ascontiguousarray(np.concatenate(columns, axis=1), dtype="<f4")
    names = property_names()
    header = "\n".join(
        [
            "ply",
            "format binary_little_endian 1.0",
            f"element vertex {count}",
            *(f"property float {name}" for name in names),
            "end_header",
        ]
    )
    with atomic_path(path, force) as temp_path, open(temp_path, "wb") as handle:
        handle.write((header + "\n").encode("ascii"))
        handle.write(table.tobytes())
    return Path(path)


def _read_header(path: Path, handle) -> tuple[int, list[tuple[str, str]]]:
    """(vertex count, [(property name, numpy type)]) from a binary little-endian PLY header."""
    if handle.readline().strip() != b"ply":
        raise InputError(path, "not a PLY file (no 'ply' magic line)")
    count: int | None = None
    properties: list[tuple[str, str]] = []
    element = None
    for _ in range(10_000):  # a header, not a whole file
        line = handle.readline()
        if not line:
            break
        words = line.decode("ascii", errors="replace").split()
        if not words or words[0] in ("comment", "obj_info"):
            continue
        if words[0] == "end_header":
            if count is None:
                raise InputError(path, "PLY header has no vertex element")
            return count, properties
        if words[0] == "format" and words[1:2] != ["binary_little_endian"]:
            raise InputError(path, f"PLY format {' '.join(words[1:])} is not binary_little_endian")
        if words[0] == "element":
            if element == "vertex":
                raise InputError(path, "PLY has elements after the vertex element")
            element = words[1] if len(words) == 3 else None
            if element != "vertex":
                raise InputError(path, f"unexpected PLY element line {line!r}")
            count = int(words[2]) if words[2].isdigit() else None
            if count is None:
                raise InputError(path, f"bad vertex count in {line!r}")
        elif words[0] == "property":
            if len(words) != 3 or words[1] not in _PLY_TYPES:
                raise InputError(path, f"unsupported PLY property line {line!r}")
            properties.append((words[2], "<" + _PLY_TYPES[words[1]]))
    raise InputError(path, "PLY header has no end_header line")


def read_3dgs_ply(path: str | Path) -> dict[str, np.ndarray]:
    """Read a 3DGS PLY (ours or the reference code's) into float32 arrays.

    Returns means (N, 3), normals (N, 3), f_dc (N, 3), f_rest (N, K, 3), opacity_logits (N,),
    log_scales (N, 3), quats (N, 4) w x y z; K is the file's coefficient count per channel.
    """
    path = Path(path)
    try:
        with open(path, "rb") as handle:
            count, properties = _read_header(path, handle)
            data = handle.read()
    except FileNotFoundError:
        raise InputError(path, "PLY file not found") from None
    except OSError as error:
        raise InputError(path, f"cannot read the PLY file ({error})") from None
    try:
        dtype = np.dtype(properties)
    except (TypeError, ValueError) as error:
        raise InputError(path, f"bad PLY properties ({error})") from None
    if len(data) < count * dtype.itemsize:
        raise InputError(
            path,
            f"PLY data is truncated: {len(data)} bytes for {count} vertices of {dtype.itemsize}",
        )
    table = np.frombuffer(data, dtype=dtype, count=count)
    names = set(dtype.names or ())
    required = ["x", "y", "z", "f_dc_0", "f_dc_1", "f_dc_2", "opacity"]
    required += [f"scale_{i}" for i in range(3)] + [f"rot_{i}" for i in range(4)]
    missing = [name for name in required if name not in names]
    if missing:
        raise InputError(path, f"not a 3DGS PLY: missing properties {', '.join(missing)}")
    rest_names = sorted(
        (name for name in names if name.startswith("f_rest_")), key=lambda n: int(n[7:])
    )
    if len(rest_names) % 3 or rest_names != [f"f_rest_{i}" for i in range(len(rest_names))]:
        raise InputError(path, "f_rest_* properties are not a multiple of 3 numbered from 0")

    def stack(*columns: str) -> np.ndarray:
        return np.stack([table[c].astype(np.float32) for c in columns], axis=-1)

    normals = (
        stack("nx", "ny", "nz") if {"nx", "ny", "nz"} <= names else np.zeros((count, 3), np.float32)
    )
    rest_per_channel = len(rest_names) // 3
    f_rest = (
        stack(*rest_names).reshape(count, 3, rest_per_channel).transpose(0, 2, 1)
        if rest_names
        else np.zeros((count, 0, 3), np.float32)
    )
    return {
        "means": stack("x", "y", "z"),
        "normals": normals,
        "f_dc": stack("f_dc_0", "f_dc_1", "f_dc_2"),
        "f_rest": np.ascontiguousarray(f_rest),
        "opacity_logits": table["opacity"].astype(np.float32),
        "log_scales": stack("scale_0", "scale_1", "scale_2"),
        "quats": stack("rot_0", "rot_1", "rot_2", "rot_3"),
    }
