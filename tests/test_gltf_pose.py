"""Posing: hierarchy, skins, morph targets, normals, primitive modes, materials, part order."""

from __future__ import annotations

import base64
import math

import numpy as np
import pytest
from gltf_handmade import HandmadeGltf, one_triangle

from avatar4d.asset.loader import load_asset

TRIANGLE = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0]], np.float32)
QUARTER_TURN_Z = [0, 0, math.sin(math.pi / 4), math.cos(math.pi / 4)]


def test_child_world_is_parent_world_times_local(tmp_path):
    gltf = HandmadeGltf()
    mesh = gltf.triangle_mesh(TRIANGLE, [0, 1, 2])
    child = gltf.node(mesh=mesh, translation=[1, 0, 0])
    parent = gltf.node(children=[child], translation=[0, 0, 5], rotation=QUARTER_TURN_Z)
    gltf.scene(parent)
    gltf.animation(parent, "translation", [0, 1], np.array([[0, 0, 5], [0, 0, 7]]), name="Lift")
    asset = load_asset(gltf.write_glb(tmp_path / "h.glb"))
    rest = asset.pose(None, 0).parts[0]
    np.testing.assert_allclose(rest.positions, [[0, 1, 5], [0, 2, 5], [-1, 1, 5]], atol=1e-6)
    lifted = asset.pose("Lift", 0.5).parts[0]
    np.testing.assert_allclose(lifted.positions, [[0, 1, 6], [0, 2, 6], [-1, 1, 6]], atol=1e-6)
    assert (lifted.node_index, lifted.mesh_index) == (child, mesh)


def test_node_matrix_and_animated_trs_replacing_it(tmp_path):
    gltf = one_triangle()
    matrix = np.eye(4)
    matrix[:3, 3] = [3, 0, 0]
    matrix[0, 0] = 2  # scale x by 2
    gltf.doc["nodes"][0]["matrix"] = matrix.T.reshape(-1).tolist()  # column-major
    gltf.animation(0, "translation", [0, 1], np.array([[0, 1, 0], [0, 1, 0]]), name="Up")
    asset = load_asset(gltf.write_glb(tmp_path / "m.glb"))
    np.testing.assert_allclose(
        asset.pose(None, 0).parts[0].positions, [[3, 0, 0], [5, 0, 0], [3, 1, 0]]
    )
    # translation animated: the matrix's scale stays, its translation is replaced
    np.testing.assert_allclose(
        asset.pose("Up", 0).parts[0].positions, [[0, 1, 0], [2, 1, 0], [0, 2, 0]]
    )


def two_joint_skin(tmp_path, weights, mesh_node_translation=(100, 0, 0)):
    """Joint 1 sits at (0,1,0) under joint 0; clip "Bend" turns joint 1 by 90 deg about Z."""
    gltf = HandmadeGltf()
    positions = np.array([[0, 0, 0], [0, 2, 0], [1, 1, 0]], np.float32)
    normals = np.array([[1, 0, 0], [1, 0, 0], [1, 0, 0]], np.float32)
    mesh = gltf.triangle_mesh(
        positions,
        [0, 1, 2],
        NORMAL=gltf.accessor(normals),
        JOINTS_0=gltf.accessor(np.array([[0, 1, 0, 0]] * 3, np.uint8)),
        WEIGHTS_0=gltf.accessor(np.asarray(weights, np.float32)),
    )
    joint1 = gltf.node(name="j1", translation=[0, 1, 0])
    joint0 = gltf.node(name="j0", children=[joint1])
    inverse_bind = np.stack([np.eye(4), np.eye(4)])
    inverse_bind[1, :3, 3] = [0, -1, 0]
    gltf.doc["skins"] = [
        {
            "joints": [joint0, joint1],
            "inverseBindMatrices": gltf.accessor(
                inverse_bind.transpose(0, 2, 1).reshape(2, 16).astype(np.float32), "MAT4"
            ),
        }
    ]
    body = gltf.node(mesh=mesh, skin=0, translation=list(mesh_node_translation))
    gltf.scene(joint0, body)
    gltf.animation(joint1, "rotation", [0, 1], np.array([QUARTER_TURN_Z] * 2), name="Bend")
    return load_asset(gltf.write_glb(tmp_path / "skin.glb"))


def test_two_joint_skin_with_known_weights(tmp_path):
    asset = two_joint_skin(tmp_path, [[1, 0, 0, 0], [0, 1, 0, 0], [0.5, 0.5, 0, 0]])
    rest = asset.pose(None, 0).parts[0]
    # bind pose: joint matrices are identity and the mesh node's own transform is ignored
    np.testing.assert_allclose(rest.positions, [[0, 0, 0], [0, 2, 0], [1, 1, 0]], atol=1e-6)
    bent = asset.pose("Bend", 0.5).parts[0]
    # joint 1 (0,2,0) -> about (0,1,0) by 90 deg -> (-1,1,0); vertex 2 halfway between
    # joint 0's (1,1,0) and joint 1's (0,2,0)
    np.testing.assert_allclose(bent.positions, [[0, 0, 0], [-1, 1, 0], [0.5, 1.5, 0]], atol=1e-6)
    np.testing.assert_allclose(bent.normals[0], [1, 0, 0], atol=1e-6)
    np.testing.assert_allclose(bent.normals[1], [0, 1, 0], atol=1e-6)
    np.testing.assert_allclose(bent.normals[2], [math.sqrt(0.5), math.sqrt(0.5), 0], atol=1e-6)


def test_skin_weights_not_summing_to_one_are_renormalised(tmp_path):
    asset = two_joint_skin(tmp_path, [[2, 0, 0, 0], [0, 0.5, 0, 0], [1, 1, 0, 0]])
    bent = asset.pose("Bend", 0.5).parts[0]
    np.testing.assert_allclose(bent.positions, [[0, 0, 0], [-1, 1, 0], [0.5, 1.5, 0]], atol=1e-6)


def morph_triangle(tmp_path, node_weights=None):
    gltf = HandmadeGltf()
    mesh = gltf.triangle_mesh(TRIANGLE, [0, 1, 2])
    primitive = gltf.doc["meshes"][mesh]["primitives"][0]
    primitive["targets"] = [
        {"POSITION": gltf.accessor(np.tile(np.float32([0, 0, 1]), (3, 1)))},
        {"POSITION": gltf.accessor(np.float32([[1, 0, 0], [0, 0, 0], [0, 0, 0]]))},
    ]
    gltf.doc["meshes"][mesh]["weights"] = [0.25, 0.0]
    gltf.doc["meshes"][mesh]["extras"] = {"targetNames": ["Up", "Stretch"]}
    node = (
        gltf.node(mesh=mesh) if node_weights is None else gltf.node(mesh=mesh, weights=node_weights)
    )
    gltf.scene(node)
    gltf.animation(node, "weights", [0, 1], np.array([[0, 0], [0.8, 2.0]]), name="Morph")
    return load_asset(gltf.write_glb(tmp_path / "morph.glb"))


def test_morph_weights_animated_then_node_then_mesh(tmp_path):
    asset = morph_triangle(tmp_path)
    np.testing.assert_allclose(asset.pose(None, 0).parts[0].positions[:, 2], 0.25)  # mesh.weights
    animated = asset.pose("Morph", 0.5).parts[0].positions
    np.testing.assert_allclose(animated[:, 2], 0.4, atol=1e-6)
    np.testing.assert_allclose(animated[0], [1.0, 0, 0.4], atol=1e-6)
    node_weighted = morph_triangle(tmp_path, node_weights=[0.5, 0.0])
    np.testing.assert_allclose(node_weighted.pose(None, 0).parts[0].positions[:, 2], 0.5)
    summary = asset.summary(clips=[])
    assert summary.morph_targets == ["Up", "Stretch"]
    assert summary.meshes[0].morph_targets == ["Up", "Stretch"]


def test_missing_normals_are_computed_and_mirroring_flips_winding(tmp_path):
    gltf = one_triangle()
    asset = load_asset(gltf.write_glb(tmp_path / "a.glb"))
    part = asset.pose(None, 0).parts[0]
    np.testing.assert_allclose(part.normals, [[0, 0, 1]] * 3, atol=1e-6)
    np.testing.assert_array_equal(part.indices, [[0, 1, 2]])
    gltf.doc["nodes"][0]["scale"] = [-1, 1, 1]
    mirrored = load_asset(gltf.write_glb(tmp_path / "b.glb")).pose(None, 0).parts[0]
    np.testing.assert_array_equal(mirrored.indices, [[0, 2, 1]])
    np.testing.assert_allclose(mirrored.normals, [[0, 0, 1]] * 3, atol=1e-6)


def test_normals_use_the_inverse_transpose_under_non_uniform_scale(tmp_path):
    gltf = HandmadeGltf()
    normal = np.float32([[1, 1, 0]]) / np.sqrt(np.float32(2))
    mesh = gltf.triangle_mesh(
        np.float32([[0, 0, 0], [1, -1, 0], [0, 0, 1]]),
        [0, 1, 2],
        NORMAL=gltf.accessor(np.repeat(normal, 3, axis=0)),
    )
    gltf.scene(gltf.node(mesh=mesh, scale=[2, 1, 1]))
    part = load_asset(gltf.write_glb(tmp_path / "n.glb")).pose(None, 0).parts[0]
    np.testing.assert_allclose(part.normals[0], np.array([0.5, 1, 0]) / math.sqrt(1.25), atol=1e-6)


def test_strip_and_fan_become_triangles_and_points_are_skipped(tmp_path):
    gltf = HandmadeGltf()
    quad = np.float32([[0, 0, 0], [1, 0, 0], [0, 1, 0], [1, 1, 0]])
    strip = gltf.triangle_mesh(quad, name="strip")
    fan = gltf.triangle_mesh(quad, name="fan")
    gltf.doc["meshes"][strip]["primitives"][0]["mode"] = 5
    gltf.doc["meshes"][fan]["primitives"][0]["mode"] = 6
    points = dict(gltf.doc["meshes"][fan]["primitives"][0], mode=0)
    gltf.doc["meshes"][fan]["primitives"].append(points)
    gltf.scene(gltf.node(mesh=strip), gltf.node(mesh=fan))
    asset = load_asset(gltf.write_glb(tmp_path / "s.glb"))
    parts = asset.pose(None, 0).parts
    assert len(parts) == 2
    np.testing.assert_array_equal(parts[0].indices, [[0, 1, 2], [1, 3, 2]])
    np.testing.assert_array_equal(parts[1].indices, [[1, 2, 0], [2, 3, 0]])
    fan_summary = asset.summary(clips=[]).meshes[1]
    assert (fan_summary.primitives, fan_summary.skipped_primitives) == (1, 1)


def test_parts_follow_depth_first_node_order(tmp_path):
    gltf = HandmadeGltf()
    meshes = [gltf.triangle_mesh(TRIANGLE, [0, 1, 2], name=n) for n in ("a", "c", "b", "hidden")]
    gltf.doc["meshes"][0]["primitives"].append(dict(gltf.doc["meshes"][0]["primitives"][0]))
    c = gltf.node(mesh=meshes[1])
    b = gltf.node(mesh=meshes[2])
    a = gltf.node(mesh=meshes[0], children=[c])
    hidden = gltf.node(mesh=meshes[3])
    gltf.doc["scenes"] = [{"nodes": [hidden]}, {"nodes": [a, b]}]
    gltf.doc["scene"] = 1
    parts = load_asset(gltf.write_glb(tmp_path / "o.glb")).pose(None, 0).parts
    assert [(p.mesh_name, p.primitive_index) for p in parts] == [
        ("a", 0),
        ("a", 1),
        ("c", 0),
        ("b", 0),
    ]


def test_material_uvs_texture_transform_and_vertex_colors(tmp_path):
    gltf = HandmadeGltf()
    mesh = gltf.triangle_mesh(
        TRIANGLE,
        [0, 1, 2],
        TEXCOORD_0=gltf.accessor(np.float32([[0, 0], [1, 0], [0, 1]])),
        COLOR_0=gltf.accessor(np.uint8([[255, 0, 0], [0, 255, 0], [0, 0, 51]]), normalized=True),
    )
    gltf.doc["meshes"][mesh]["primitives"][0]["material"] = 0
    png = base64.b64decode(
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg=="
    )
    gltf.doc["images"] = [{"uri": "data:image/png;base64," + base64.b64encode(png).decode()}]
    gltf.doc["textures"] = [{"source": 0}]
    gltf.doc["materials"] = [
        {
            "name": "Skin",
            "doubleSided": True,
            "alphaMode": "MASK",
            "alphaCutoff": 0.3,
            "pbrMetallicRoughness": {
                "baseColorFactor": [0.5, 0.25, 1, 1],
                "baseColorTexture": {
                    "index": 0,
                    "extensions": {"KHR_texture_transform": {"offset": [0.5, 0], "scale": [2, 2]}},
                },
            },
        }
    ]
    gltf.doc["extensionsUsed"] = ["KHR_texture_transform"]
    gltf.scene(gltf.node(mesh=mesh))
    part = load_asset(gltf.write_gltf(tmp_path / "m.gltf")).pose(None, 0).parts[0]
    np.testing.assert_allclose(part.uvs, [[0.5, 0], [2.5, 0], [0.5, 2]])
    assert part.uvs.dtype == np.float32
    np.testing.assert_allclose(part.colors, [[1, 0, 0, 1], [0, 1, 0, 1], [0, 0, 0.2, 1]], atol=1e-6)
    material = part.material
    assert (material.name, material.double_sided, material.alpha_mode) == ("Skin", True, "MASK")
    assert material.alpha_cutoff == pytest.approx(0.3)
    np.testing.assert_allclose(material.base_color_factor, [0.5, 0.25, 1, 1])
    assert material.texture.shape == (1, 1, 4) and material.texture.dtype == np.uint8


def test_texture_transform_rotation():
    from avatar4d.asset.extensions import apply_uv_transform, uv_transform_matrix

    matrix = uv_transform_matrix([0, 0], math.pi / 2, [1, 1])
    np.testing.assert_allclose(
        apply_uv_transform(np.float32([[1, 0], [0, 1]]), matrix), [[0, -1], [1, 0]], atol=1e-6
    )


def test_quantized_positions_and_normalized_uvs(tmp_path):
    """KHR_mesh_quantization: integer positions scaled by the node, normalized integer UVs."""
    gltf = HandmadeGltf()
    position = gltf.accessor(np.int16([[0, 0, 0], [100, 0, 0], [0, 100, 0]]))
    uv = gltf.accessor(np.uint16([[0, 0], [65535, 0], [0, 32768]]), normalized=True)
    mesh = gltf.add(
        "meshes", {"primitives": [{"attributes": {"POSITION": position, "TEXCOORD_0": uv}}]}
    )
    gltf.scene(gltf.node(mesh=mesh, scale=[0.01, 0.01, 0.01]))
    gltf.doc["extensionsUsed"] = gltf.doc["extensionsRequired"] = ["KHR_mesh_quantization"]
    part = load_asset(gltf.write_glb(tmp_path / "q.glb")).pose(None, 0).parts[0]
    np.testing.assert_allclose(part.positions, TRIANGLE, atol=1e-6)
    np.testing.assert_allclose(part.uvs, [[0, 0], [1, 0], [0, 32768 / 65535]], atol=1e-6)
    np.testing.assert_array_equal(part.indices, [[0, 1, 2]])  # no indices: sequential
