"""The built-in demo character: a valid, deterministic GLB that animates as designed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pygltflib
import pytest
from test_glb_builder import parse_glb, read_accessor

from avatar4d.asset.demo.character import build_demo_character, write_demo_character
from avatar4d.asset.demo.head import MOUTH_LATITUDE, surface_point
from avatar4d.asset.demo.skeleton import JOINT_NAMES, arm_direction, joint_position
from avatar4d.asset.loader import Asset, load_asset
from avatar4d.errors import InputError

CLIP_DURATIONS = {"wave": 2.0, "talk": 2.0, "walk": 1.0}


@pytest.fixture(scope="module")
def glb() -> bytes:
    return build_demo_character()


@pytest.fixture(scope="module")
def document(glb: bytes) -> tuple[dict[str, Any], bytes]:
    return parse_glb(glb)


@pytest.fixture(scope="module")
def asset(glb: bytes, tmp_path_factory: pytest.TempPathFactory) -> Asset:
    path = tmp_path_factory.mktemp("demo") / "demo.glb"
    path.write_bytes(glb)
    return load_asset(path)


def _mesh(document: dict[str, Any], name: str) -> dict[str, Any]:
    return next(m for m in document["meshes"] if m["name"] == name)


# -- the file itself -------------------------------------------------------------------------


def test_demo_is_deterministic_and_small(glb: bytes) -> None:
    assert build_demo_character() == glb
    assert len(glb) < 1_000_000


def test_demo_parses_as_glb_with_pygltflib(glb: bytes, document: tuple) -> None:
    doc, binary = document
    gltf = pygltflib.GLTF2.load_from_bytes(glb)
    assert gltf.asset.version == "2.0" and gltf.asset.generator == "avatar4d"
    assert len(gltf.binary_blob()) == doc["buffers"][0]["byteLength"]
    for view in gltf.bufferViews:
        assert view.byteOffset % 4 == 0
        assert view.byteOffset + view.byteLength <= len(binary)
    assert {image.mimeType for image in gltf.images} == {"image/png"}
    for image in gltf.images:
        view = gltf.bufferViews[image.bufferView]
        assert binary[view.byteOffset : view.byteOffset + 8] == b"\x89PNG\r\n\x1a\n"


def test_demo_has_a_skin_over_the_whole_skeleton(document: tuple) -> None:
    doc, binary = document
    (skin,) = doc["skins"]
    joint_names = [doc["nodes"][j]["name"] for j in skin["joints"]]
    assert joint_names == list(JOINT_NAMES) and 10 <= len(joint_names) <= 16
    assert doc["nodes"][skin["skeleton"]]["name"] == "hips"
    inverse_binds = read_accessor(doc, binary, skin["inverseBindMatrices"]).reshape(-1, 4, 4)
    hand = JOINT_NAMES.index("hand_R")  # column-major: translation in the last row here
    np.testing.assert_allclose(inverse_binds[hand, 3, :3], -joint_position("hand_R"), atol=1e-6)
    skinned = [n for n in doc["nodes"] if "skin" in n]
    assert sorted(n["name"] for n in skinned) == ["body", "head_mesh"]


def test_skin_weights_are_normalised_and_blend_near_joints(document: tuple) -> None:
    doc, binary = document
    blended_vertices = 0
    for mesh_name in ("body", "head"):
        for primitive in _mesh(doc, mesh_name)["primitives"]:
            weights = read_accessor(doc, binary, primitive["attributes"]["WEIGHTS_0"])
            joints = read_accessor(doc, binary, primitive["attributes"]["JOINTS_0"])
            np.testing.assert_allclose(weights.sum(axis=1), 1.0, atol=1e-6)
            assert joints.max() < len(JOINT_NAMES) and weights.min() >= 0.0
            blended_vertices += int(np.sum(np.sort(weights, axis=1)[:, -2] > 0.25))
    assert blended_vertices > 100  # smooth bends, not rigid pieces


def test_head_has_the_mouth_open_morph_target(document: tuple) -> None:
    doc, binary = document
    head = _mesh(doc, "head")
    assert head["extras"]["targetNames"] == ["mouth_open"]
    assert head["weights"] == [0.0]
    (primitive,) = head["primitives"]
    (target,) = primitive["targets"]
    deltas = read_accessor(doc, binary, target["POSITION"])
    moving = np.linalg.norm(deltas, axis=1) > 1e-3
    assert 10 < moving.sum() < len(deltas) // 4  # a local change: the mouth and jaw
    assert np.linalg.norm(deltas, axis=1).max() > 0.02
    assert "NORMAL" in target


def test_clips_loop_and_use_every_interpolation(document: tuple) -> None:
    doc, binary = document
    assert {a["name"] for a in doc["animations"]} == set(CLIP_DURATIONS)
    interpolations = set()
    for animation in doc["animations"]:
        for channel in animation["channels"]:
            sampler = animation["samplers"][channel["sampler"]]
            interpolations.add(sampler["interpolation"])
            times = read_accessor(doc, binary, sampler["input"])[:, 0]
            values = read_accessor(doc, binary, sampler["output"])
            assert times[0] == 0.0
            assert times[-1] == pytest.approx(CLIP_DURATIONS[animation["name"]])
            keys = values.reshape(len(times), -1)
            if sampler["interpolation"] == "CUBICSPLINE":
                keys = keys.reshape(len(times), 3, -1)[:, 1]  # the values between tangents
            np.testing.assert_array_equal(keys[0], keys[-1])  # seamless loop
    assert interpolations == {"LINEAR", "STEP", "CUBICSPLINE"}


def test_rest_pose_stands_on_the_ground_facing_forward(document: tuple) -> None:
    doc, _ = document
    positions = [
        doc["accessors"][p["attributes"]["POSITION"]]
        for m in doc["meshes"]
        if m["name"] in ("body", "head")
        for p in m["primitives"]
    ]
    low = np.min([a["min"] for a in positions], axis=0)
    high = np.max([a["max"] for a in positions], axis=0)
    assert low[1] == pytest.approx(0.0, abs=1e-4)
    assert 1.65 < high[1] < 1.78
    assert high[2] > -low[2]  # nose and toes point to +Z
    assert high[0] == pytest.approx(-low[0], abs=1e-4)  # left-right symmetric


# -- writing ---------------------------------------------------------------------------------


def test_write_demo_character_is_atomic_and_needs_force(glb: bytes, tmp_path: Path) -> None:
    path = tmp_path / "out" / "demo.glb"
    assert write_demo_character(path) == path
    assert path.read_bytes() == glb
    path.write_bytes(b"user data")
    with pytest.raises(InputError, match="already exists"):
        write_demo_character(path)
    assert path.read_bytes() == b"user data"
    write_demo_character(path, force=True)
    assert path.read_bytes() == glb
    assert sorted(p.name for p in path.parent.iterdir()) == ["demo.glb"]  # no temp left


def test_write_demo_character_refuses_a_folder(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="folder"):
        write_demo_character(tmp_path, force=True)


# -- through the project's loader ------------------------------------------------------------


def _part(mesh, mesh_name: str, material: str | None = None):
    return next(
        p
        for p in mesh.parts
        if p.mesh_name == mesh_name and (material is None or p.material.name == material)
    )


def test_loader_sees_the_clips_and_the_height(asset: Asset) -> None:
    assert {c.name: c.duration for c in asset.clips} == pytest.approx(CLIP_DURATIONS)
    rest = asset.pose(None, 0.0).all_positions()
    assert rest[:, 1].min() == pytest.approx(0.0, abs=1e-3)
    assert 1.65 < rest[:, 1].max() < 1.78
    center, radius = asset.clip_bounds("wave", samples=12)
    assert 0.75 < radius < 1.2 and 0.7 < center[1] < 1.1


@pytest.mark.parametrize("clip", sorted(CLIP_DURATIONS))
def test_every_clip_loops_seamlessly(asset: Asset, clip: str) -> None:
    duration = asset.find_clip(clip).duration
    start = asset.pose(clip, 0.0).all_positions()
    end = asset.pose(clip, duration).all_positions()
    np.testing.assert_allclose(end, start, atol=1e-5, rtol=0)


@pytest.mark.parametrize(("clip", "seconds"), [(None, 0.0), ("wave", 0.8), ("talk", 0.22)])
def test_triangles_face_outwards(asset: Asset, clip: str | None, seconds: float) -> None:
    for part in asset.pose(clip, seconds).parts:
        corners = part.positions[part.indices].astype(np.float64)
        face_normals = np.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0])
        assert np.linalg.norm(face_normals, axis=1).min() > 0  # no degenerate triangles
        vertex_normals = part.normals[part.indices].mean(axis=1)
        agree = np.einsum("ij,ij->i", face_normals, vertex_normals) > 0
        assert agree.mean() > 0.999, (part.mesh_name, part.material.name)


def test_wave_moves_the_right_hand_a_lot(asset: Asset) -> None:
    rest = _part(asset.pose(None, 0.0), "body", "body").positions
    hand_center = joint_position("hand_R") + 0.06 * arm_direction(-1.0)
    hand = np.linalg.norm(rest - hand_center, axis=1) < 0.05
    assert hand.sum() > 20

    def hand_position(seconds: float) -> np.ndarray:
        return _part(asset.pose("wave", seconds), "body", "body").positions[hand].mean(axis=0)

    raised, waving = hand_position(0.6), hand_position(0.8)
    assert np.linalg.norm(raised - hand_position(0.0)) > 0.5  # up by the head
    assert raised[1] > 1.5
    assert np.linalg.norm(waving - raised) > 0.05  # side to side while raised
    other_hand = joint_position("hand_L")
    left = np.linalg.norm(rest - other_hand, axis=1) < 0.05
    left_moved = _part(asset.pose("wave", 0.6), "body", "body").positions[left] - rest[left]
    assert np.abs(left_moved).max() < 0.1


def test_talk_opens_the_mouth(asset: Asset) -> None:
    rest = _part(asset.pose(None, 0.0), "head").positions
    upper_lip = np.argmin(np.linalg.norm(rest - surface_point(0.0, MOUTH_LATITUDE + 0.06), axis=1))
    chin = np.argmin(np.linalg.norm(rest - surface_point(0.0, MOUTH_LATITUDE - 0.12), axis=1))

    def mouth_gap(seconds: float) -> float:
        head = _part(asset.pose("talk", seconds), "head").positions
        return float(np.linalg.norm(head[upper_lip] - head[chin]))

    closed, open_wide = mouth_gap(0.0), mouth_gap(0.22)  # keys: weight 0 and 0.9
    assert open_wide - closed > 0.015  # head nods are rigid: only the morph changes this gap
    assert mouth_gap(1.1) == pytest.approx(closed, abs=2e-3)  # a pause between words


def test_talk_blinks(asset: Asset) -> None:
    def eyelid_height(seconds: float) -> float:
        lid = _part(asset.pose("talk", seconds), "eyelid").positions
        return float(np.ptp(lid[:, 1]))

    assert eyelid_height(1.3) > 5 * eyelid_height(1.0)  # STEP: shut, then open again


def test_loader_summary_names_the_demo_features(asset: Asset) -> None:
    assert asset.generator == "avatar4d"
    text = str(asset.summary(clips=["talk"], bounds_samples=4).to_dict())
    assert all(name in text for name in ("mouth_open", "wave", "talk", "walk", "face"))
