"""The combined rig mesh: one vertex order and one face array for every pose of an asset."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from gltf_handmade import HandmadeGltf

from avatar4d.asset import rig_mesh
from avatar4d.asset.demo.character import write_demo_character
from avatar4d.asset.loader import load_asset
from avatar4d.asset.rig_mesh import RigPoser, degenerate_faces, embeddable_faces
from avatar4d.errors import InputError


@pytest.fixture(scope="module")
def demo_poser(tmp_path_factory: pytest.TempPathFactory) -> RigPoser:
    path = write_demo_character(tmp_path_factory.mktemp("demo") / "demo.glb")
    return RigPoser(load_asset(path))


def _two_nodes(path: Path) -> Path:
    """Node 0: a triangle and a repeated-corner triangle, moved +x by a clip 'slide' over 2 s.
    Node 1: a mirrored (scale -1 in x), fully transparent triangle above it."""
    gltf = HandmadeGltf()
    square = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0]], np.float32)
    moving = gltf.triangle_mesh(square, [0, 1, 2, 0, 1, 1], name="moving")
    hidden = gltf.triangle_mesh(square, [0, 1, 2], name="hidden")
    gltf.doc["materials"] = [{"pbrMetallicRoughness": {"baseColorFactor": [1, 1, 1, 0]}}]
    gltf.doc["meshes"][hidden]["primitives"][0]["material"] = 0
    first = gltf.node(mesh=moving, name="moving")
    second = gltf.node(mesh=hidden, name="hidden", translation=[0, 0, 2], scale=[-1, 1, 1])
    gltf.scene(first, second)
    gltf.animation(first, "translation", [0.0, 2.0], np.array([[0, 0, 0], [4, 0, 0]]), name="slide")
    return gltf.write_glb(path)


def test_layout_faces_and_node_animation(tmp_path: Path) -> None:
    poser = RigPoser(load_asset(_two_nodes(tmp_path / "two.glb")))
    mesh = poser.mesh
    assert mesh.vertex_count == 6
    # The mirrored node's face is wound the other way, so its normal still points outward.
    np.testing.assert_array_equal(mesh.faces, [[0, 1, 2], [0, 1, 1], [3, 5, 4]])
    np.testing.assert_array_equal(mesh.visible, [True, True, False])
    assert [(p.mesh_name, p.first_vertex, p.first_face) for p in mesh.parts] == [
        ("moving", 0, 0),
        ("hidden", 3, 2),
    ]
    assert mesh.clips == {"slide": 2.0}
    posed = poser.pose("slide", [0.0, 0.5, 2.0, 3.0])
    assert posed.shape == (4, 6, 3) and posed.dtype == np.float32
    np.testing.assert_allclose(posed[:, 0, 0], [0.0, 1.0, 4.0, 4.0])  # held after the end
    np.testing.assert_allclose(posed[:, 3:], np.broadcast_to(posed[0, 3:], (4, 3, 3)))
    np.testing.assert_allclose(posed[0, 4], [-1, 0, 2])
    embeddable = embeddable_faces(mesh, posed[1])
    np.testing.assert_array_equal(embeddable, [True, False, False])


def test_degenerate_faces_flags_repeated_collinear_sliver_and_nan() -> None:
    positions = np.array(
        [[0, 0, 0], [1, 0, 0], [0, 1, 0], [2, 0, 0], [1, 1e-8, 0], [np.nan, 0, 0]], np.float32
    )
    faces = np.array([[0, 1, 2], [0, 1, 1], [0, 1, 3], [0, 3, 4], [0, 1, 5], [2, 1, 0]])
    np.testing.assert_array_equal(
        degenerate_faces(positions, faces), [False, True, True, True, True, False]
    )
    batched = degenerate_faces(np.stack([positions, positions * 3]), faces)
    assert batched.shape == (2, 6) and (batched == batched[0]).all()


def test_demo_matches_asset_pose_for_every_clip(demo_poser: RigPoser) -> None:
    asset = demo_poser.asset
    assert demo_poser.mesh.clips == {clip.name: clip.duration for clip in asset.clips}
    for name, duration in demo_poser.mesh.clips.items():
        times = [0.0, 0.3 * duration, duration]
        posed = demo_poser.pose(name, times)
        for row, seconds in enumerate(times):
            mesh = asset.pose(name, seconds)
            np.testing.assert_array_equal(posed[row], mesh.all_positions())
            corners = np.concatenate(
                [
                    part.indices + part_info.first_vertex
                    for part, part_info in zip(mesh.parts, demo_poser.mesh.parts, strict=True)
                ]
            )
            np.testing.assert_array_equal(demo_poser.mesh.faces, corners)
    assert embeddable_faces(demo_poser.mesh, posed[0]).all()


def test_morph_weights_replace_the_clips_and_act_linearly(demo_poser: RigPoser) -> None:
    asset = demo_poser.asset
    assert demo_poser.mesh.morph_targets == ["mouth_open"]
    head = next(p for p in demo_poser.mesh.parts if p.mesh_name == "head")
    node = head.node_index
    seconds = 0.7
    clip_weight = float(asset.node_pose("talk", seconds).weights[node][0])
    assert 0.0 < clip_weight < 1.0  # the talk clip moves the mouth: a real replacement below
    plain = demo_poser.pose("talk", [seconds])[0]
    same = demo_poser.pose("talk", [seconds], {"mouth_open": clip_weight})[0]
    np.testing.assert_allclose(same, plain, atol=1e-6)
    closed, half, opened = (
        demo_poser.pose("talk", [seconds], {"mouth_open": w})[0] for w in (0.0, 0.5, 1.0)
    )
    np.testing.assert_allclose(half, (closed + opened) / 2, atol=1e-5)  # skinning is linear
    moved = np.abs(opened - closed).max(axis=1) > 1e-6
    head_rows = np.zeros(len(moved), bool)
    head_rows[head.first_vertex : head.first_vertex + head.vertex_count] = True
    assert moved.any() and not (moved & ~head_rows).any()


def test_bad_requests_are_one_line_input_errors(demo_poser: RigPoser, monkeypatch) -> None:
    with pytest.raises(InputError, match=r'morph target "smile" not found .*targets: mouth_open'):
        demo_poser.pose("talk", [0.0], {"smile": 1.0})
    with pytest.raises(InputError, match=r'"mouth_open": weight nan is not a finite number'):
        demo_poser.pose("talk", [0.0], {"mouth_open": float("nan")})
    with pytest.raises(InputError, match=r'clip "dance" not found .*clips: wave \(2.00 s\)'):
        demo_poser.pose("dance", [0.0])
    with pytest.raises(InputError, match="not a finite number of seconds"):
        demo_poser.pose("walk", [float("inf")])
    monkeypatch.setattr(rig_mesh, "MAX_POSED_NUMBERS", 10 * demo_poser.mesh.vertex_count * 3)
    with pytest.raises(InputError, match="posing 11 times of 7,668 vertices at once"):
        demo_poser.pose("walk", [0.0] * 11)
    assert demo_poser.pose("walk", []).shape == (0, demo_poser.mesh.vertex_count, 3)


def test_real_assets_keep_one_layout_over_all_clips(soldier_glb: Path, robot_glb: Path) -> None:
    for path, zero_area in ((soldier_glb, 0), (robot_glb, 3)):
        poser = RigPoser(load_asset(path))
        shapes = {
            poser.pose(name, [0.0, duration / 2]).shape
            for name, duration in poser.mesh.clips.items()
        }
        assert shapes == {(2, poser.mesh.vertex_count, 3)}
        rest = poser.pose(None, [0.0])[0]
        degenerate = degenerate_faces(rest, poser.mesh.faces)
        assert int(degenerate.sum()) == zero_area
        assert not embeddable_faces(poser.mesh, rest)[degenerate].any()


def test_robot_face_morph_moves_only_the_head(robot_glb: Path) -> None:
    poser = RigPoser(load_asset(robot_glb))
    assert poser.mesh.morph_targets == ["Angry", "Surprised", "Sad"]
    plain = poser.pose("Idle", [1.0])[0]
    angry = poser.pose("Idle", [1.0], {"Angry": 1.0})[0]
    moved = np.abs(angry - plain).max(axis=1) > 1e-6
    head = [p for p in poser.mesh.parts if p.mesh_name.startswith("Head")]
    head_rows = np.zeros(len(moved), bool)
    for part in head:
        head_rows[part.first_vertex : part.first_vertex + part.vertex_count] = True
    assert moved.any() and not (moved & ~head_rows).any()
