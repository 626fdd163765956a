"""Hostile glTF files claiming huge sizes are refused in one line, fast, before allocating.

Each file is a few KB; before these limits several grew the process by gigabytes (issue 18).
"""

from __future__ import annotations

import struct
import time
import tracemalloc
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from gltf_handmade import HandmadeGltf, one_triangle

from avatar4d.asset import accessors as accessors_module
from avatar4d.asset import animation as animation_module
from avatar4d.asset.limits import (
    MAX_IMAGE_PIXELS,
    MAX_MORPH_DELTAS_TOTAL,
    MAX_NODE_DEPTH,
    MAX_NODES,
    MAX_VERTICES_TOTAL,
)
from avatar4d.asset.loader import load_asset
from avatar4d.cli import main
from avatar4d.errors import InputError

MB = 1 << 20


def refused_quickly(load: Callable[[], object], match: str) -> str:
    """The InputError message of ``load``; asserts < 2 s and < 32 MB traced at the peak."""
    tracemalloc.start()
    started = time.perf_counter()
    try:
        with pytest.raises(InputError, match=match) as raised:
            load()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert time.perf_counter() - started < 2.0
    assert peak < 32 * MB, f"{peak / MB:.0f} MB allocated before the refusal"
    return str(raised.value)


def zero_filled(gltf: HandmadeGltf, count: int, type_name: str) -> int:
    """An accessor without a bufferView: all zeros, costing nothing in the file."""
    return gltf.add("accessors", {"componentType": 5126, "count": count, "type": type_name})


def test_inverse_bind_matrices_claiming_50_million_elements_are_refused(tmp_path):
    gltf = one_triangle()
    joint = gltf.node(name="hip")
    ibm = zero_filled(gltf, 49_999_999, "MAT4")
    gltf.add("skins", {"joints": [joint], "inverseBindMatrices": ibm})
    path = gltf.write_gltf(tmp_path / "ibm.gltf")
    assert path.stat().st_size < 2048
    message = refused_quickly(lambda: load_asset(path), "inverseBindMatrices")
    assert message.endswith(
        f"skins[0].inverseBindMatrices: accessor {ibm} holds 49,999,999 MAT4 elements, "
        "the skin has 1 joints (one MAT4 each)"
    )


def test_accessor_count_beyond_its_buffer_view_is_refused_before_reading(tmp_path):
    gltf = one_triangle()
    joint = gltf.node(name="hip")
    ibm = gltf.accessor(np.eye(4, dtype=np.float32).reshape(1, 16), "MAT4")
    gltf.doc["accessors"][ibm]["count"] = 49_999_999
    gltf.add("skins", {"joints": [joint], "inverseBindMatrices": ibm})
    path = gltf.write_glb(tmp_path / "ibm.glb")
    refused_quickly(lambda: load_asset(path), "holds 49,999,999 MAT4")
    # the same accessor read directly: count x element size against the bufferView
    from avatar4d.asset.buffers import load_buffers
    from avatar4d.asset.gltf_file import read_gltf_file

    gltf_file = read_gltf_file(path)
    reader = accessors_module.Accessors(gltf_file.json, load_buffers(gltf_file))
    message = refused_quickly(lambda: reader.read_float(ibm), "need")
    assert "49,999,999 elements of 64 bytes" in message and "bufferView" in message


def test_sparse_count_beyond_the_accessor_is_refused(tmp_path):
    gltf = one_triangle()
    accessor = gltf.doc["meshes"][0]["primitives"][0]["attributes"]["POSITION"]
    indices = gltf.view(np.array([0], np.uint16).tobytes())
    values = gltf.view(np.zeros(3, np.float32).tobytes())
    gltf.doc["accessors"][accessor]["sparse"] = {
        "count": 40_000_000,
        "indices": {"bufferView": indices, "componentType": 5123},
        "values": {"bufferView": values},
    }
    path = gltf.write_gltf(tmp_path / "sparse.gltf")
    message = refused_quickly(lambda: load_asset(path), "sparse")
    assert message.endswith(
        f"accessors[{accessor}].sparse.count 40000000 exceeds the accessor count 3"
    )


def test_sparse_indices_claiming_more_than_their_view_are_refused(tmp_path):
    gltf = one_triangle()
    accessor = gltf.doc["meshes"][0]["primitives"][0]["attributes"]["POSITION"]
    gltf.doc["accessors"][accessor]["count"] = 3
    indices = gltf.view(np.array([0], np.uint16).tobytes())
    values = gltf.view(np.zeros(3, np.float32).tobytes())
    gltf.doc["accessors"][accessor]["sparse"] = {
        "count": 3,
        "indices": {"bufferView": indices, "componentType": 5123},
        "values": {"bufferView": values},
    }
    path = gltf.write_gltf(tmp_path / "sparse.gltf")
    refused_quickly(lambda: load_asset(path), r"sparse.indices: 3 elements of 2 bytes")


def test_accessor_data_read_in_all_is_bounded(tmp_path, monkeypatch):
    """Zero-filled accessors cost nothing in the file; their total is what bounds them."""
    monkeypatch.setattr(accessors_module, "MAX_ACCESSOR_BYTES_TOTAL", 8 * MB)
    gltf = one_triangle()
    for _ in range(4):  # 4 clips of 1M zero keyframes: 4 MB each as float32
        times = zero_filled(gltf, 1_000_000, "SCALAR")
        values = zero_filled(gltf, 1_000_000, "VEC3")
        sampler = {"input": times, "output": values}
        channel = {"sampler": 0, "target": {"node": 0, "path": "translation"}}
        gltf.add("animations", {"samplers": [sampler], "channels": [channel]})
    path = gltf.write_gltf(tmp_path / "keys.gltf")
    message = refused_quickly(lambda: load_asset(path), "accessor data read")
    assert message.endswith(f"more than the {8 * MB:,} allowed")


def test_100_morph_targets_on_a_million_vertices_are_refused(tmp_path):
    gltf = HandmadeGltf()
    positions = zero_filled(gltf, 1_000_000, "VEC3")
    targets = [{"POSITION": zero_filled(gltf, 1_000_000, "VEC3")} for _ in range(100)]
    mesh = gltf.add(
        "meshes", {"primitives": [{"attributes": {"POSITION": positions}, "targets": targets}]}
    )
    gltf.scene(gltf.node(mesh=mesh))
    path = gltf.write_gltf(tmp_path / "morph.gltf")
    assert path.stat().st_size < 16_000
    message = refused_quickly(lambda: load_asset(path), "morph targets")
    assert message.endswith(
        "morph targets hold 100,000,000 vertex deltas (targets x vertices), "
        f"more than the {MAX_MORPH_DELTAS_TOTAL:,} allowed"
    )


def test_morph_target_count_must_match_the_vertices_before_reading(tmp_path):
    gltf = one_triangle()
    target = zero_filled(gltf, 5_000_000, "VEC3")
    gltf.doc["meshes"][0]["primitives"][0]["targets"] = [{"POSITION": target}]
    path = gltf.write_gltf(tmp_path / "morph.gltf")
    message = refused_quickly(lambda: load_asset(path), "elements")
    assert message.endswith("attribute POSITION has 5000000 elements, POSITION has 3")


def test_instancing_counts_drawn_vertices(tmp_path):
    gltf = HandmadeGltf()
    positions = zero_filled(gltf, 60_000, "VEC3")
    mesh = gltf.add("meshes", {"primitives": [{"attributes": {"POSITION": positions}}]})
    nodes = [gltf.node(mesh=mesh) for _ in range(1000)]
    gltf.scene(*nodes)
    path = gltf.write_gltf(tmp_path / "instances.gltf")
    message = refused_quickly(lambda: load_asset(path), "instances")
    assert message.endswith(
        "the scene draws 1,000 mesh instances with 60,000,000 vertices, "
        f"more than the {MAX_VERTICES_TOTAL:,} allowed"
    )


def test_instancing_within_the_limit_is_posed_per_instance(tmp_path):
    gltf = one_triangle()
    mesh = gltf.doc["nodes"][0]["mesh"]
    second = gltf.node(mesh=mesh, translation=[5.0, 0.0, 0.0])
    gltf.scene(0, second)
    positions = load_asset(gltf.write_gltf(tmp_path / "two.gltf")).pose(None, 0.0).all_positions()
    np.testing.assert_allclose(positions[3:], positions[:3] + [5.0, 0.0, 0.0])


def chain(gltf: HandmadeGltf, length: int, step: float) -> int:
    """``length`` nodes, each the only child of the one before; returns the root."""
    first = len(gltf.array("nodes"))
    for i in range(length):
        node: dict = {"translation": [0.0, step, 0.0]}
        if i + 1 < length:
            node["children"] = [first + i + 1]
        gltf.add("nodes", node)
    return first


def test_node_chain_deeper_than_the_limit_is_refused(tmp_path):
    gltf = HandmadeGltf()
    gltf.scene(chain(gltf, MAX_NODE_DEPTH + 2, 0.001))
    path = gltf.write_gltf(tmp_path / "deep.gltf")
    message = refused_quickly(lambda: load_asset(path), "levels")
    assert message.endswith(
        f"node {MAX_NODE_DEPTH + 1} is more than {MAX_NODE_DEPTH:,} levels below its root; "
        f"the hierarchy may be at most {MAX_NODE_DEPTH:,} deep"
    )


def test_node_chain_at_the_depth_limit_is_posed(tmp_path):
    gltf = one_triangle()
    root = chain(gltf, MAX_NODE_DEPTH, 0.001)
    gltf.doc["nodes"][-1]["children"] = [0]  # the triangle hangs below the deepest node
    gltf.scene(root)
    started = time.perf_counter()
    asset = load_asset(gltf.write_gltf(tmp_path / "deep.gltf"))
    positions = asset.pose(None, 0.0).all_positions()
    assert time.perf_counter() - started < 2.0
    np.testing.assert_allclose(positions[:, 1], [1.0, 1.0, 2.0], atol=1e-4)


def test_more_nodes_than_the_limit_are_refused(tmp_path):
    gltf = HandmadeGltf()
    gltf.doc["nodes"] = [{} for _ in range(MAX_NODES + 1)]
    path = gltf.write_gltf(tmp_path / "many.gltf")
    started = time.perf_counter()
    with pytest.raises(InputError, match=f"{MAX_NODES + 1:,} nodes, more than the {MAX_NODES:,}"):
        load_asset(path)
    assert time.perf_counter() - started < 2.0


def test_a_cycle_of_nodes_is_refused(tmp_path):
    gltf = one_triangle()
    gltf.doc["nodes"] = [{"children": [1], "mesh": 0}, {"children": [0]}]
    gltf.doc["scenes"] = [{"nodes": []}]
    path = gltf.write_gltf(tmp_path / "cycle.gltf")
    refused_quickly(lambda: load_asset(path), "the node hierarchy contains a cycle")


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header claims ``width`` x ``height`` (the pixel data is absent)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IEND", b"")


def textured_triangle(png: bytes) -> HandmadeGltf:
    gltf = one_triangle()
    image = gltf.add("images", {"bufferView": gltf.view(png), "mimeType": "image/png"})
    texture = gltf.add("textures", {"source": image})
    gltf.add("materials", {"pbrMetallicRoughness": {"baseColorTexture": {"index": texture}}})
    primitive = gltf.doc["meshes"][0]["primitives"][0]
    primitive["material"] = 0
    primitive["attributes"]["TEXCOORD_0"] = gltf.accessor(np.zeros((3, 2), np.float32))
    return gltf


def test_image_larger_than_the_pixel_limit_is_refused_from_its_header(tmp_path):
    path = textured_triangle(png_header_only(16384, 10000)).write_glb(tmp_path / "big.glb")
    message = refused_quickly(lambda: load_asset(path), "pixels")
    assert message.endswith(
        f"image 0 is 16384x10000 = 163,840,000 pixels, more than the {MAX_IMAGE_PIXELS:,} allowed"
    )


def test_asset_info_refuses_the_large_image_in_one_line(tmp_path, capsys):
    path = textured_triangle(png_header_only(16384, 10000)).write_glb(tmp_path / "big.glb")
    assert main(["asset", "info", str(path)]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "16384x10000 = 163,840,000 pixels" in lines[0]


def overflowing(tmp_path: Path, scale: float, child_scale: float | None) -> Path:
    gltf = one_triangle()
    gltf.doc["nodes"][0]["scale"] = [scale] * 3
    if child_scale is not None:  # the triangle below a node that scales it again
        gltf.doc["nodes"][0].pop("mesh")
        gltf.doc["nodes"][0]["children"] = [gltf.node(mesh=0, scale=[child_scale] * 3, name="leaf")]
    return gltf.write_gltf(tmp_path / "huge.gltf")


def test_scale_of_1e308_is_refused_when_posing(tmp_path):
    asset = load_asset(overflowing(tmp_path, 1e308, None))
    with pytest.raises(InputError) as raised:
        asset.pose(None, 0.0)
    assert str(raised.value).endswith(
        "the rest pose: mesh 'tri' on node 'body' (nodes[0]) has non-finite posed positions "
        "(transforms or morph weights too large)"
    )


def test_overflowing_world_transform_names_the_node(tmp_path):
    asset = load_asset(overflowing(tmp_path, 1e308, 1e308))
    with pytest.raises(InputError, match=r"node 'leaf' \(nodes\[1\]\) has a non-finite world"):
        asset.pose(None, 0.0)


def test_pose_command_refuses_a_scale_of_1e308_in_one_line(tmp_path, capsys):
    path = overflowing(tmp_path, 1e308, None)
    out = tmp_path / "posed.ply"
    assert main(["pose", str(path), "--out", str(out)]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "non-finite posed positions" in lines[0]
    assert not out.exists()


def test_keyframes_of_all_channels_are_bounded_before_reading(tmp_path):
    gltf = one_triangle()
    times = zero_filled(gltf, 10_000_001, "SCALAR")  # with 4 values a key: just past the limit
    values = zero_filled(gltf, 10_000_001, "VEC4")
    sampler = {"input": times, "output": values}
    channel = {"sampler": 0, "target": {"node": 0, "path": "rotation"}}
    gltf.add("animations", {"samplers": [sampler], "channels": [channel]})
    path = gltf.write_gltf(tmp_path / "keys.gltf")
    message = refused_quickly(lambda: load_asset(path), "keyframe")
    assert message.endswith(
        "animations[0].samplers[0]: the animation channels hold more than 50,000,000 keyframe "
        "times and values in all"
    )


def test_channels_sharing_one_sampler_count_once_each(tmp_path, monkeypatch):
    """Each channel copies its keyframes: 1,000 channels on one sampler cost 1,000 copies."""
    monkeypatch.setattr(animation_module, "MAX_ANIMATION_VALUES_TOTAL", 1_000_000)
    gltf = one_triangle()
    times = zero_filled(gltf, 1_000, "SCALAR")
    values = zero_filled(gltf, 1_000, "VEC3")
    channel = {"sampler": 0, "target": {"node": 0, "path": "translation"}}
    gltf.add(
        "animations",
        {"samplers": [{"input": times, "output": values}], "channels": [channel] * 1000},
    )
    path = gltf.write_gltf(tmp_path / "shared.gltf")
    with pytest.raises(InputError) as raised:  # 4,000 numbers a channel: the 251st is refused
        load_asset(path)
    assert "animations[0].samplers[0]: the animation channels hold more than 1,000,000" in str(
        raised.value
    )
    gltf.doc["animations"][0]["channels"] = [channel] * 250
    assert len(load_asset(gltf.write_gltf(tmp_path / "fewer.gltf")).clips[0].channels) == 250


def test_normals_too_large_or_not_finite_normalise_without_a_warning():
    """A corrupt NORMAL accessor printed numpy's overflow warning before the one-line error."""
    import warnings

    from avatar4d.asset.topology import normalize_rows

    rows = np.array([[3e38, 0, 0], [1e30, 1e30, 0], [np.inf, 0, 0], [np.nan, 1, 0], [0, 0, 0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        normals = normalize_rows(rows.astype(np.float32))
    expected = [[1, 0, 0], [0.5**0.5, 0.5**0.5, 0], [0, 0, 0], [0, 0, 0], [0, 0, 0]]
    np.testing.assert_allclose(normals, expected, atol=1e-7)
    assert normals.dtype == np.float32
