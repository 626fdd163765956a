"""GlbBuilder: GLB container layout, accessor encoding, and a round trip through pygltflib."""

from __future__ import annotations

import io
import json
import struct
from typing import Any

import numpy as np
import pygltflib
import pytest
from PIL import Image

from avatar4d.asset.glb_builder import (
    ARRAY_BUFFER,
    AnimationChannel,
    GlbBuilder,
    MorphTarget,
    Primitive,
)


def _png_1x1() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (1, 1), (200, 100, 50)).save(buffer, format="PNG")
    return buffer.getvalue()


PNG_1X1 = _png_1x1()
NUMPY_DTYPES = {5120: np.int8, 5121: np.uint8, 5122: np.int16, 5123: np.uint16, 5125: np.uint32}
NUMPY_DTYPES[5126] = np.float32
COMPONENTS = {"SCALAR": 1, "VEC2": 2, "VEC3": 3, "VEC4": 4, "MAT2": 4, "MAT3": 9, "MAT4": 16}


def parse_glb(data: bytes) -> tuple[dict[str, Any], bytes]:
    """Check the GLB container by hand and return (JSON document, BIN chunk)."""
    magic, version, length = struct.unpack_from("<4sII", data, 0)
    assert (magic, version, length) == (b"glTF", 2, len(data))
    json_length, json_type = struct.unpack_from("<II", data, 12)
    assert json_type == 0x4E4F534A and json_length % 4 == 0
    json_bytes = data[20 : 20 + json_length]
    assert json_bytes.rstrip(b" ").endswith(b"}")  # padded with spaces only
    document = json.loads(json_bytes)
    offset = 20 + json_length
    if offset == len(data):
        return document, b""
    bin_length, bin_type = struct.unpack_from("<II", data, offset)
    assert bin_type == 0x004E4942 and bin_length % 4 == 0
    assert offset + 8 + bin_length == len(data)
    binary = data[offset + 8 :]
    assert document["buffers"][0]["byteLength"] <= bin_length
    return document, binary


def read_accessor(document: dict[str, Any], binary: bytes, index: int) -> np.ndarray:
    """Decode an accessor (count, components) independently of the builder."""
    accessor = document["accessors"][index]
    view = document["bufferViews"][accessor["bufferView"]]
    dtype = np.dtype(NUMPY_DTYPES[accessor["componentType"]])
    components = COMPONENTS[accessor["type"]]
    element_bytes = components * dtype.itemsize
    stride = view.get("byteStride", element_bytes)
    start = view["byteOffset"] + accessor.get("byteOffset", 0)
    rows = [
        np.frombuffer(binary, dtype, components, start + i * stride)
        for i in range(accessor["count"])
    ]
    return np.stack(rows)


def _triangle_primitive(**overrides: Any) -> Primitive:
    values: dict[str, Any] = {
        "positions": np.array([[0, 0, 0], [1, 0, 0], [0, 2, -3]], np.float32),
        "indices": np.array([[0, 1, 2]]),
        "normals": np.tile(np.array([0, 0, 1], np.float32), (3, 1)),
        "uvs": np.array([[0, 0], [1, 0], [0, 1]], np.float32),
        "colors": np.array([[1, 0, 0, 1], [0, 1, 0, 1], [0, 0, 1, 1]], np.float32),
        "joints": np.array([[0, 1, 0, 0], [1, 0, 0, 0], [0, 0, 0, 0]], np.uint8),
        "weights": np.array([[0.5, 0.5, 0, 0], [1, 0, 0, 0], [1, 0, 0, 0]], np.float32),
        "targets": [MorphTarget(np.full((3, 3), 0.25, np.float32), np.zeros((3, 3)))],
    }
    values.update(overrides)
    return Primitive(**values)


def _small_scene() -> GlbBuilder:
    builder = GlbBuilder()
    image = builder.add_image_png(PNG_1X1, "pixel")
    texture = builder.add_texture(image, builder.add_sampler())
    material = builder.add_material("skin", (1.0, 0.5, 0.25, 1.0), texture, double_sided=True)
    mesh = builder.add_mesh(
        [_triangle_primitive(material=material)],
        name="tri",
        weights=[0.0],
        target_names=["smile"],
    )
    root = builder.add_node("root", translation=(0, 1, 0))
    child = builder.add_node("child", rotation=(0, 0, 0, 1), scale=(1, 2, 1))
    builder.add_children(root, [child])
    skin = builder.add_skin([root, child], np.tile(np.eye(4), (2, 1, 1)), skeleton=root)
    holder = builder.add_node("holder", mesh=mesh, skin=skin)
    times = np.array([0.0, 0.5, 1.0])
    quarter_turn = np.array([[0, 0, 0, 1], [0, 0, 0.7071068, 0.7071068], [0, 0, 0, 1]])
    builder.add_animation(
        [
            AnimationChannel(child, "rotation", times, quarter_turn),
            AnimationChannel(root, "translation", times, np.zeros((3, 3)), "STEP"),
            AnimationChannel(child, "scale", times, np.ones((9, 3)), "CUBICSPLINE"),
            AnimationChannel(holder, "weights", times, np.array([0.0, 1.0, 0.0])),
        ],
        name="clip",
    )
    builder.add_scene([root, holder], name="scene")
    return builder


def test_glb_container_has_padded_json_and_binary_chunks() -> None:
    data = _small_scene().to_bytes()
    document, binary = parse_glb(data)
    assert document["asset"] == {"version": "2.0", "generator": "avatar4d"}
    assert len(binary) % 4 == 0 and len(binary) >= document["buffers"][0]["byteLength"]
    padding = binary[document["buffers"][0]["byteLength"] :]
    assert padding == b"\0" * len(padding)


def test_same_calls_give_identical_bytes() -> None:
    assert _small_scene().to_bytes() == _small_scene().to_bytes()


def test_builder_without_binary_data_writes_json_chunk_only() -> None:
    builder = GlbBuilder()
    builder.add_scene([builder.add_node("empty")])
    document, binary = parse_glb(builder.to_bytes())
    assert binary == b"" and "buffers" not in document
    assert document["scene"] == 0 and document["nodes"] == [{"name": "empty"}]


def test_buffer_views_are_four_byte_aligned_after_odd_sized_data() -> None:
    builder = GlbBuilder()
    builder.add_accessor(np.array([1, 2, 3], np.uint8))  # 3 bytes
    builder.add_accessor(np.array([7], np.uint16))  # 2 bytes
    floats = builder.add_accessor(np.array([[1.5, -2.5, 3.0]], np.float32))
    document, binary = parse_glb(builder.to_bytes())
    assert [v["byteOffset"] % 4 for v in document["bufferViews"]] == [0, 0, 0]
    assert [v["byteOffset"] for v in document["bufferViews"]] == [0, 4, 8]
    np.testing.assert_array_equal(read_accessor(document, binary, floats), [[1.5, -2.5, 3.0]])


def test_vertex_attribute_with_unaligned_elements_gets_a_byte_stride() -> None:
    builder = GlbBuilder()
    colours = np.array([[255, 0, 10], [1, 2, 3], [200, 100, 50]], np.uint8)
    index = builder.add_accessor(colours, target=ARRAY_BUFFER, normalized=True)
    document, binary = parse_glb(builder.to_bytes())
    view = document["bufferViews"][0]
    assert view["byteStride"] == 4 and view["target"] == ARRAY_BUFFER
    assert document["accessors"][index]["normalized"] is True
    np.testing.assert_array_equal(read_accessor(document, binary, index), colours)


def test_accessor_types_and_bounds() -> None:
    builder = GlbBuilder()
    positions = np.array([[0.1, -2.0, 5.0], [-0.3, 4.0, 1.0]], np.float32)
    pos = builder.add_accessor(positions, with_bounds=True)
    plain = builder.add_accessor(np.zeros((2, 2), np.float32))
    document, _ = parse_glb(builder.to_bytes())
    accessor = document["accessors"][pos]
    assert (accessor["componentType"], accessor["type"], accessor["count"]) == (5126, "VEC3", 2)
    assert accessor["min"] == [float(np.float32(-0.3)), -2.0, 1.0]
    assert accessor["max"] == [float(np.float32(0.1)), 4.0, 5.0]
    assert document["accessors"][plain]["type"] == "VEC2"
    assert "min" not in document["accessors"][plain]


def test_matrices_are_written_column_major() -> None:
    builder = GlbBuilder()
    matrix = np.eye(4, dtype=np.float32)
    matrix[:3, 3] = [1.0, 2.0, 3.0]  # a translation, in math layout
    index = builder.add_accessor(matrix[None])
    document, binary = parse_glb(builder.to_bytes())
    assert document["accessors"][index]["type"] == "MAT4"
    stored = read_accessor(document, binary, index)[0]
    np.testing.assert_array_equal(stored[12:15], [1.0, 2.0, 3.0])  # last column
    np.testing.assert_array_equal(stored.reshape(4, 4).T, matrix)


def test_indices_pick_the_smallest_unsigned_type() -> None:
    builder = GlbBuilder()
    small = builder.add_mesh([_triangle_primitive(targets=[])])
    many = 70_000
    big = builder.add_mesh(
        [
            Primitive(
                positions=np.zeros((many, 3), np.float32),
                indices=np.array([[0, 1, many - 1]]),
            )
        ]
    )
    document, binary = parse_glb(builder.to_bytes())
    small_indices = document["meshes"][small]["primitives"][0]["indices"]
    big_indices = document["meshes"][big]["primitives"][0]["indices"]
    assert document["accessors"][small_indices]["componentType"] == 5123
    assert document["accessors"][big_indices]["componentType"] == 5125
    np.testing.assert_array_equal(
        read_accessor(document, binary, big_indices)[:, 0], [0, 1, many - 1]
    )
    view = document["bufferViews"][document["accessors"][big_indices]["bufferView"]]
    assert view["target"] == 34963


def test_round_trip_through_pygltflib() -> None:
    data = _small_scene().to_bytes()
    gltf = pygltflib.GLTF2.load_from_bytes(data)
    document, binary = parse_glb(data)
    assert gltf.asset.generator == "avatar4d"
    assert gltf.binary_blob() == binary[: document["buffers"][0]["byteLength"]]

    primitive = gltf.meshes[0].primitives[0]
    attributes = primitive.attributes
    np.testing.assert_array_equal(
        read_accessor(document, binary, attributes.POSITION), _triangle_primitive().positions
    )
    position = gltf.accessors[attributes.POSITION]
    assert position.min == [0.0, 0.0, -3.0] and position.max == [1.0, 2.0, 0.0]
    for name, expected in (
        ("NORMAL", "VEC3"),
        ("TEXCOORD_0", "VEC2"),
        ("COLOR_0", "VEC4"),
        ("JOINTS_0", "VEC4"),
        ("WEIGHTS_0", "VEC4"),
    ):
        assert gltf.accessors[getattr(attributes, name)].type == expected
    assert gltf.accessors[attributes.JOINTS_0].componentType == 5121
    assert read_accessor(document, binary, primitive.indices).reshape(-1).tolist() == [0, 1, 2]
    target = primitive.targets[0]
    np.testing.assert_allclose(read_accessor(document, binary, target["POSITION"]), 0.25)
    assert gltf.accessors[target["POSITION"]].min == [0.25, 0.25, 0.25]
    assert "NORMAL" in target
    assert gltf.meshes[0].weights == [0.0]
    assert gltf.meshes[0].extras == {"targetNames": ["smile"]}

    material = gltf.materials[primitive.material]
    assert material.doubleSided is True
    assert material.pbrMetallicRoughness.baseColorFactor == [1.0, 0.5, 0.25, 1.0]
    texture = gltf.textures[material.pbrMetallicRoughness.baseColorTexture.index]
    image = gltf.images[texture.source]
    assert image.mimeType == "image/png"
    view = gltf.bufferViews[image.bufferView]
    assert binary[view.byteOffset : view.byteOffset + view.byteLength] == PNG_1X1

    assert [n.name for n in gltf.nodes] == ["root", "child", "holder"]
    assert gltf.nodes[0].children == [1] and gltf.nodes[0].translation == [0.0, 1.0, 0.0]
    assert gltf.nodes[2].mesh == 0 and gltf.nodes[2].skin == 0
    assert gltf.skins[0].joints == [0, 1] and gltf.skins[0].skeleton == 0
    assert gltf.scenes[gltf.scene].nodes == [0, 2]


def test_animation_samplers_share_times_and_keep_interpolation() -> None:
    data = _small_scene().to_bytes()
    document, binary = parse_glb(data)
    animation = pygltflib.GLTF2.load_from_bytes(data).animations[0]
    samplers = animation.samplers
    assert animation.name == "clip"
    assert [s.interpolation for s in samplers] == ["LINEAR", "STEP", "CUBICSPLINE", "LINEAR"]
    assert len({s.input for s in samplers}) == 1  # one shared time accessor
    times = document["accessors"][samplers[0].input]
    assert (times["min"], times["max"]) == ([0.0], [1.0])
    paths = [(c.target.node, c.target.path) for c in animation.channels]
    assert paths == [(1, "rotation"), (0, "translation"), (1, "scale"), (2, "weights")]
    assert read_accessor(document, binary, samplers[2].output).shape == (9, 3)  # 3 per key
    weights = read_accessor(document, binary, samplers[3].output)
    assert document["accessors"][samplers[3].output]["type"] == "SCALAR"
    np.testing.assert_array_equal(weights[:, 0], [0.0, 1.0, 0.0])


@pytest.mark.parametrize(
    ("channel", "message"),
    [
        (AnimationChannel(0, "rotation", np.array([0.0, 0.0]), np.zeros((2, 4))), "increasing"),
        (AnimationChannel(0, "rotation", np.array([0.0, 1.0]), np.zeros((3, 4))), "values"),
        (AnimationChannel(0, "spin", np.array([0.0, 1.0]), np.zeros((2, 4))), "path"),
        (AnimationChannel(0, "scale", np.array([0.0]), np.ones((1, 3)), "SMOOTH"), "interp"),
        (AnimationChannel(5, "scale", np.array([0.0]), np.ones((1, 3))), "missing node"),
    ],
)
def test_bad_animation_channels_are_refused(channel: AnimationChannel, message: str) -> None:
    builder = GlbBuilder()
    builder.add_node("only")
    with pytest.raises(ValueError, match=message):
        builder.add_animation([channel])


def test_inconsistent_meshes_are_refused() -> None:
    builder = GlbBuilder()
    with pytest.raises(ValueError, match="same number of morph targets"):
        builder.add_mesh([_triangle_primitive(), _triangle_primitive(targets=[])])
    with pytest.raises(ValueError, match="rows"):
        builder.add_mesh([_triangle_primitive(normals=np.zeros((2, 3)))])
    with pytest.raises(ValueError, match="past the primitive"):
        builder.add_mesh([_triangle_primitive(indices=np.array([[0, 1, 3]]))])
    with pytest.raises(ValueError, match="come together"):
        builder.add_mesh([_triangle_primitive(weights=None)])
    with pytest.raises(ValueError, match="one entry per morph target"):
        builder.add_mesh([_triangle_primitive()], target_names=["a", "b"])
    with pytest.raises(ValueError, match="finite"):
        builder.add_accessor(np.array([[np.nan, 0.0, 0.0]], np.float32))
    with pytest.raises(ValueError, match="not a PNG"):
        builder.add_image_png(b"GIF89a")
