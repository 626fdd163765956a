"""The standard 3DGS PLY: exact header and layout, round trip, padding, refusals."""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch

from avatar4d.errors import InputError
from avatar4d.output.ply_export import property_names, read_3dgs_ply, write_3dgs_ply


def gaussians(count: int = 5, rest: int = 15, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "means": rng.normal(size=(count, 3)).astype(np.float32),
        "normals": None,
        "f_dc": rng.normal(size=(count, 3)).astype(np.float32),
        "f_rest": rng.normal(size=(count, rest, 3)).astype(np.float32),
        "opacity_logits": rng.normal(size=count).astype(np.float32),
        "log_scales": rng.normal(size=(count, 3)).astype(np.float32),
        "quats": rng.normal(size=(count, 4)).astype(np.float32),
    }


def split_header(path):
    data = path.read_bytes()
    end = data.index(b"end_header\n") + len(b"end_header\n")
    return data[:end].decode("ascii").splitlines(), data[end:]


def test_header_and_binary_layout(tmp_path):
    g = gaussians(count=2)
    path = write_3dgs_ply(tmp_path / "g.ply", **g)
    header, body = split_header(path)

    assert header[:3] == ["ply", "format binary_little_endian 1.0", "element vertex 2"]
    properties = [line.split()[2] for line in header[3:-1]]
    assert all(line.startswith("property float ") for line in header[3:-1])
    assert properties[:9] == ["x", "y", "z", "nx", "ny", "nz", "f_dc_0", "f_dc_1", "f_dc_2"]
    assert properties[9] == "f_rest_0" and properties[53] == "f_rest_44"
    assert properties[54:] == [
        "opacity", "scale_0", "scale_1", "scale_2", "rot_0", "rot_1", "rot_2", "rot_3",
    ]  # fmt: skip
    assert properties == property_names() and len(properties) == 62

    rows = np.frombuffer(body, dtype="<f4").reshape(2, 62)
    assert rows[1, :3].tolist() == g["means"][1].tolist()
    assert rows[1, 3:6].tolist() == [0.0, 0.0, 0.0]  # no normals given
    # Channel-major f_rest: coefficient k of red is f_rest_k, of green f_rest_(15 + k).
    assert rows[1, 9 + 4] == g["f_rest"][1, 4, 0]
    assert rows[1, 9 + 15 + 4] == g["f_rest"][1, 4, 1]
    assert rows[1, 9 + 30 + 14] == g["f_rest"][1, 14, 2]
    assert rows[1, 54] == g["opacity_logits"][1]
    assert rows[1, 58:].tolist() == g["quats"][1].tolist()  # w x y z as given


def test_round_trip(tmp_path):
    g = gaussians(count=7)
    g["normals"] = np.ones((7, 3), np.float32)
    path = write_3dgs_ply(tmp_path / "g.ply", **g)
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask  # not a temp file's private 0600
    assert [p.name for p in tmp_path.iterdir()] == ["g.ply"]
    loaded = read_3dgs_ply(path)
    assert set(loaded) == set(g)
    for key, value in g.items():
        np.testing.assert_array_equal(loaded[key], value, err_msg=key)


def test_lower_sh_degree_is_padded_and_torch_accepted(tmp_path):
    g = gaussians(count=3, rest=3)
    tensors = {k: None if v is None else torch.from_numpy(v) for k, v in g.items()}
    loaded = read_3dgs_ply(write_3dgs_ply(tmp_path / "g.ply", **tensors))
    assert loaded["f_rest"].shape == (3, 15, 3)
    np.testing.assert_array_equal(loaded["f_rest"][:, :3], g["f_rest"])
    assert not loaded["f_rest"][:, 3:].any()

    g["f_rest"] = None
    loaded = read_3dgs_ply(write_3dgs_ply(tmp_path / "dc_only.ply", **g))
    assert loaded["f_rest"].shape == (3, 15, 3) and not loaded["f_rest"].any()


def test_reads_files_with_fewer_rest_coefficients(tmp_path):
    names = property_names(rest_coefficients=3)
    header = ["ply", "format binary_little_endian 1.0", "element vertex 1"]
    header += [f"property float {n}" for n in names] + ["end_header"]
    values = np.arange(len(names), dtype="<f4")
    path = tmp_path / "degree1.ply"
    path.write_bytes(("\n".join(header) + "\n").encode() + values.tobytes())
    loaded = read_3dgs_ply(path)
    assert loaded["f_rest"].shape == (1, 3, 3)
    assert loaded["f_rest"][0, :, 0].tolist() == [9.0, 10.0, 11.0]  # red: f_rest_0..2
    assert loaded["quats"][0].tolist() == values[-4:].tolist()


def test_refusals(tmp_path):
    g = gaussians(count=2)
    path = write_3dgs_ply(tmp_path / "g.ply", **g)
    with pytest.raises(InputError, match="already exists"):
        write_3dgs_ply(path, **g)
    write_3dgs_ply(path, **gaussians(count=4, seed=1), force=True)
    assert read_3dgs_ply(path)["means"].shape == (4, 3)

    with pytest.raises(ValueError, match=r"quats must have shape \(2, 4\)"):
        write_3dgs_ply(tmp_path / "bad.ply", **{**g, "quats": np.zeros((2, 3))})
    with pytest.raises(ValueError, match="f_rest has 5 coefficients"):
        write_3dgs_ply(tmp_path / "bad.ply", **{**g, "f_rest": np.zeros((2, 5, 3))})
    with pytest.raises(ValueError, match="means holds 1 non-finite"):
        means = g["means"].copy()
        means[0, 0] = np.nan
        write_3dgs_ply(tmp_path / "bad.ply", **{**g, "means": means})
    assert not (tmp_path / "bad.ply").exists()

    text_ply = tmp_path / "ascii.ply"
    text_ply.write_text("ply\nformat ascii 1.0\nelement vertex 0\nend_header\n")
    with pytest.raises(InputError, match="not binary_little_endian"):
        read_3dgs_ply(text_ply)
    truncated = tmp_path / "truncated.ply"
    truncated.write_bytes(path.read_bytes()[:-10])
    with pytest.raises(InputError, match="truncated"):
        read_3dgs_ply(truncated)
    not_ply = tmp_path / "notes.txt"
    not_ply.write_text("hello\n")
    with pytest.raises(InputError, match="not a PLY file"):
        read_3dgs_ply(not_ply)
