"""The loader on the shared real characters: Soldier.glb (skinned) and RobotExpressive.glb."""

from __future__ import annotations

import json
import struct
import time

import numpy as np
import pytest

from avatar4d.asset.loader import load_asset


@pytest.fixture(scope="module")
def soldier(soldier_glb):
    return load_asset(soldier_glb)


@pytest.fixture(scope="module")
def robot(robot_glb):
    return load_asset(robot_glb)


def glb_json(path) -> dict:
    data = path.read_bytes()
    (length,) = struct.unpack_from("<I", data, 12)
    return json.loads(data[20 : 20 + length])


def test_soldier_clips_and_checksum(soldier):
    assert [(c.name, round(c.duration, 2)) for c in soldier.clips] == [
        ("Idle", 1.96),
        ("Run", 0.67),
        ("TPose", 0.0),
        ("Walk", 1.0),
    ]
    assert soldier.sha256 == "f70fcb038fd0b5f3bd24218032905eeae855ddd8616b620751a2305101bd6338"


def test_soldier_walk_vertex_counts_match_the_accessors(soldier, soldier_glb):
    document = glb_json(soldier_glb)
    expected = [
        document["accessors"][p["attributes"]["POSITION"]]["count"]
        for mesh in document["meshes"]
        for p in mesh["primitives"]
    ]
    posed = soldier.pose("Walk", 0.25)
    assert [len(p.positions) for p in posed.parts] == expected
    assert [p.mesh_name for p in posed.parts] == ["vanguard_Mesh", "vanguard_visor"]
    for part in posed.parts:
        assert part.positions.dtype == np.float32 and np.isfinite(part.positions).all()
        np.testing.assert_allclose(np.linalg.norm(part.normals, axis=1), 1.0, atol=1e-4)
        assert part.uvs is not None and part.material.texture is not None
        assert part.indices.max() < len(part.positions)


def test_soldier_walk_bounds_are_sane_and_limbs_move(soldier):
    center, radius = soldier.clip_bounds("Walk")
    assert 0.05 < radius < 1.0  # the file's own units: the character stands about 0.21 tall
    low, high = [], []
    for seconds in (0.0, 0.25, 0.5, 0.75, 1.0):
        points = soldier.pose("Walk", seconds).all_positions()
        assert (np.linalg.norm(points - center, axis=1) <= radius + 1e-6).all()
        low.append(points.min(axis=0))
        high.append(points.max(axis=0))
    height = np.array(high)[:, 1] - np.array(low)[:, 1]
    assert (height > 0.18).all() and (height < 0.25).all()  # upright, Y up
    start, half = (
        soldier.pose("Walk", 0.0).all_positions(),
        soldier.pose("Walk", 0.5).all_positions(),
    )
    moved = np.linalg.norm(half - start, axis=1)
    feet = start[:, 1] < np.quantile(start[:, 1], 0.1)
    assert moved[feet].max() > 0.1 * radius  # a stride, not numerical noise
    assert np.median(moved) < 0.2 * radius  # the body stays together


def test_soldier_poses_fast(soldier):
    soldier.pose("Walk", 0.1)
    start = time.perf_counter()
    for i in range(10):
        soldier.pose("Walk", 0.1 * i)
    assert (time.perf_counter() - start) / 10 < 0.05


def test_robot_dance_morph_names_and_a_moving_head(robot):
    assert robot.find_clip("Dance").duration == pytest.approx(3.333, abs=1e-3)
    summary = robot.summary(clips=["Dance"])
    assert summary.morph_targets == ["Angry", "Surprised", "Sad"]
    assert summary.clips[0].name == "Dance" and summary.clips[0].bounds is not None
    assert all(c.bounds is None for c in summary.clips[1:])
    assert len(summary.meshes) == 14 and summary.skins == 2

    def head_center(seconds):
        parts = robot.pose("Dance", seconds).parts
        head = [p.positions for p in parts if p.mesh_name == "Head"]
        assert len(head) == 3
        return np.concatenate(head).mean(axis=0)

    first, later = head_center(0.0), head_center(1.1)
    assert np.linalg.norm(later - first) > 0.1  # the robot is about 4.5 units tall
    assert abs(first[1] - 3.35) < 0.3  # the head is at the top


def test_robot_rest_pose_parts_in_node_order(robot, robot_glb):
    document = glb_json(robot_glb)
    nodes = document["nodes"]

    def pre_order(node):
        yield node
        for child in nodes[node].get("children", []):
            yield from pre_order(child)

    roots = document["scenes"][document.get("scene", 0)]["nodes"]
    expected = [
        (node, nodes[node]["mesh"], primitive)
        for root in roots
        for node in pre_order(root)
        if "mesh" in nodes[node]
        for primitive in range(len(document["meshes"][nodes[node]["mesh"]]["primitives"]))
    ]
    parts = robot.pose(None, 0.0).parts
    assert [(p.node_index, p.mesh_index, p.primitive_index) for p in parts] == expected
    assert len(expected) == 19


def test_a_node_pose_poses_the_mesh_as_the_clip_does_and_a_changed_one_moves_it(soldier):
    node_pose = soldier.node_pose("Walk", 0.4)
    clip_mesh = soldier.pose("Walk", 0.4).all_positions()
    np.testing.assert_array_equal(soldier.pose_from_nodes(node_pose).all_positions(), clip_mesh)
    animated = np.flatnonzero(node_pose.trs_animated)
    node_pose.translations[animated] += [0.0, 0.0, 5.0]  # in each node's units (scaled)
    moved = soldier.pose_from_nodes(node_pose).all_positions()
    assert np.abs(moved - clip_mesh).max() > 0.01
    np.testing.assert_array_equal(soldier.pose("Walk", 0.4).all_positions(), clip_mesh)
