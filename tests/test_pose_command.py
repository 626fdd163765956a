"""`avatar4d pose`: posed mesh written as binary PLY or OBJ; refusals; --force; atomic writes."""

from __future__ import annotations

import numpy as np
import pytest
from gltf_handmade import HandmadeGltf

from avatar4d.asset.loader import load_asset
from avatar4d.commands.pose import PoseCommand
from avatar4d.errors import InputError

TRIANGLE = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0]], np.float32)


@pytest.fixture
def two_parts(tmp_path):
    """Two one-triangle meshes on two nodes; clip "Slide" moves the second by +4 x in 2 s."""
    gltf = HandmadeGltf()
    first = gltf.node(mesh=gltf.triangle_mesh(TRIANGLE, [0, 1, 2], name="a"))
    second = gltf.node(
        mesh=gltf.triangle_mesh(TRIANGLE, [0, 2, 1], name="b"), translation=[0, 0, 1]
    )
    gltf.scene(first, second)
    gltf.animation(second, "translation", [0, 2], np.array([[0, 0, 1], [4, 0, 1]]), name="Slide")
    return gltf.write_glb(tmp_path / "two.glb")


@pytest.fixture
def cli():
    return pytest.importorskip("avatar4d.cli")


def read_ply(path):
    data = path.read_bytes()
    end = data.index(b"end_header\n") + len(b"end_header\n")
    header = data[:end].decode("ascii").splitlines()
    assert header[:2] == ["ply", "format binary_little_endian 1.0"]
    vertices = int(next(h for h in header if h.startswith("element vertex")).split()[-1])
    faces = int(next(h for h in header if h.startswith("element face")).split()[-1])
    vertex_bytes = vertices * 24
    table = np.frombuffer(data, "<f4", vertices * 6, end).reshape(vertices, 6)
    records = np.frombuffer(
        data, [("n", "u1"), ("corners", "<u4", (3,))], faces, end + vertex_bytes
    )
    assert (records["n"] == 3).all()
    assert len(data) == end + vertex_bytes + faces * 13
    return table[:, :3], table[:, 3:], records["corners"]


def read_obj(path):
    lines = path.read_text().splitlines()
    v = np.array([line.split()[1:] for line in lines if line.startswith("v ")], float)
    vn = np.array([line.split()[1:] for line in lines if line.startswith("vn ")], float)
    faces = []
    for line in (x for x in lines if x.startswith("f ")):
        corners = [c.split("//") for c in line.split()[1:]]
        assert all(a == b for a, b in corners)  # same index for position and normal
        faces.append([int(a) - 1 for a, _ in corners])
    return v, vn, np.array(faces)


def test_ply_holds_every_part_with_offset_faces(two_parts, tmp_path, capsys):
    out = tmp_path / "posed.ply"
    assert PoseCommand(two_parts, out, clip="Slide", time=0.5).run() == 0
    positions, normals, faces = read_ply(out)
    np.testing.assert_allclose(positions[:3], TRIANGLE)
    np.testing.assert_allclose(positions[3:], TRIANGLE + [1, 0, 1])
    np.testing.assert_array_equal(faces, [[0, 1, 2], [3, 5, 4]])
    np.testing.assert_allclose(normals[:3], [[0, 0, 1]] * 3, atol=1e-6)
    np.testing.assert_allclose(normals[3:], [[0, 0, -1]] * 3, atol=1e-6)  # reversed winding
    assert "wrote" in capsys.readouterr().out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["posed.ply", "two.glb"]  # no temp left


def test_obj_matches_the_loader_and_rest_pose_without_clip(two_parts, tmp_path):
    out = tmp_path / "rest.obj"
    PoseCommand(two_parts, out).run()
    v, vn, faces = read_obj(out)
    expected = load_asset(two_parts).pose(None, 0)
    np.testing.assert_allclose(v, expected.all_positions(), atol=1e-6)
    np.testing.assert_allclose(v[3:], TRIANGLE + [0, 0, 1], atol=1e-6)
    assert vn.shape == (6, 3)
    np.testing.assert_array_equal(faces, [[0, 1, 2], [3, 5, 4]])


def test_soldier_ply_counts(soldier_glb, tmp_path):
    out = tmp_path / "soldier.ply"
    PoseCommand(soldier_glb, out, clip="Walk", time=0.5).run()
    positions, _, faces = read_ply(out)
    mesh = load_asset(soldier_glb).pose("Walk", 0.5)
    assert (len(positions), len(faces)) == (mesh.vertex_count, mesh.triangle_count)
    np.testing.assert_allclose(positions, mesh.all_positions())
    visor = faces[len(mesh.parts[0].indices) :]  # the second part's faces are offset
    assert visor.min() >= len(mesh.parts[0].positions) and visor.max() < mesh.vertex_count


def test_existing_output_needs_force(two_parts, tmp_path):
    out = tmp_path / "posed.ply"
    out.write_bytes(b"keep me")
    with pytest.raises(InputError) as caught:
        PoseCommand(two_parts, out).run()
    assert str(caught.value) == f"{out}: already exists (add --force to overwrite it)"
    assert out.read_bytes() == b"keep me"
    PoseCommand(two_parts, out, force=True).run()
    assert read_ply(out)[0].shape == (6, 3)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"out": "posed.stl"}, "unsupported output format '.stl'; use .ply or .obj"),
        ({"time": 1.0}, "needs --clip"),
        ({"clip": "Slide", "time": 3.0}, "past the end of clip Slide"),
        ({"clip": "Slide", "time": -1.0}, "must be a finite number of seconds >= 0"),
        ({"clip": "Jog"}, 'clip "Jog" not found in two.glb; clips: Slide (2.00 s)'),
    ],
)
def test_bad_options_are_refused(two_parts, tmp_path, kwargs, message):
    out = tmp_path / kwargs.pop("out", "posed.ply")
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        PoseCommand(two_parts, out, **kwargs).run()
    assert not out.exists()


def test_cli_pose_and_force(cli, two_parts, tmp_path, capsys):
    out = tmp_path / "posed.obj"
    args = ["pose", str(two_parts), "--clip", "Slide", "--time", "2", "--out", str(out)]
    assert cli.main(args) == 0
    np.testing.assert_allclose(read_obj(out)[0][3:], TRIANGLE + [4, 0, 1], atol=1e-6)
    capsys.readouterr()
    assert cli.main(args) == 2
    err = capsys.readouterr().err
    assert err == f"avatar4d: error: {out}: already exists (add --force to overwrite it)\n"
    assert cli.main([*args[:-4], "--time", "0", "--out", str(out), "--force"]) == 0
    np.testing.assert_allclose(read_obj(out)[0][3:], TRIANGLE + [0, 0, 1], atol=1e-6)
