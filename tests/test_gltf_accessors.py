"""Accessor decoding: component types, normalization, byteStride, sparse, missing bufferView."""

from __future__ import annotations

import numpy as np
import pytest
from gltf_handmade import HandmadeGltf

from avatar4d.asset.accessors import Accessors, to_float
from avatar4d.asset.gltf_json import GltfJson


def accessors_of(gltf: HandmadeGltf) -> Accessors:
    document = gltf._finish(None)
    return Accessors(GltfJson(document, "test.glb"), [memoryview(bytes(gltf.blob))])


@pytest.mark.parametrize(
    ("dtype", "stored", "expected"),
    [
        ("int8", [-128, -127, 0, 127], [-1.0, -1.0, 0.0, 1.0]),
        ("uint8", [0, 51, 255, 255], [0.0, 0.2, 1.0, 1.0]),
        ("int16", [-32768, -32767, 16384, 32767], [-1.0, -1.0, 16384 / 32767, 1.0]),
        ("uint16", [0, 65535, 13107, 1], [0.0, 1.0, 0.2, 1 / 65535]),
    ],
)
def test_normalized_integers_follow_the_gltf_formulas(dtype, stored, expected):
    gltf = HandmadeGltf()
    index = gltf.accessor(np.array([stored], dtype), normalized=True)
    np.testing.assert_allclose(accessors_of(gltf).read_float(index), [expected], rtol=1e-6)


def test_unnormalized_integers_keep_their_values():
    gltf = HandmadeGltf()
    index = gltf.accessor(np.array([[-3, 7, 300]], np.int16))
    values = accessors_of(gltf).read_float(index)
    assert values.dtype == np.float32
    assert values.tolist() == [[-3.0, 7.0, 300.0]]
    assert to_float(np.array([200], np.uint32), False).tolist() == [200.0]


def test_interleaved_buffer_view_with_byte_stride():
    positions = np.array([[1, 2, 3], [4, 5, 6], [7, 8, 9]], np.float32)
    uvs = np.array([[0.1, 0.2], [0.3, 0.4], [0.5, 0.6]], np.float32)
    interleaved = np.concatenate([positions, uvs], axis=1)  # 20 bytes per vertex
    gltf = HandmadeGltf()
    view = gltf.view(interleaved.tobytes(), stride=20)
    gltf.doc["accessors"] = [
        {"bufferView": view, "componentType": 5126, "count": 3, "type": "VEC3"},
        {"bufferView": view, "byteOffset": 12, "componentType": 5126, "count": 3, "type": "VEC2"},
    ]
    accessors = accessors_of(gltf)
    np.testing.assert_array_equal(accessors.read_float(0), positions)
    np.testing.assert_array_equal(accessors.read_float(1), uvs)


def test_sparse_accessor_replaces_listed_elements():
    gltf = HandmadeGltf()
    base = np.arange(12, dtype=np.float32).reshape(4, 3)
    index = gltf.accessor(base)
    sparse_indices = gltf.view(np.array([3, 1], np.uint16).tobytes())
    sparse_values = gltf.view(np.array([[9, 9, 9], [-1, -2, -3]], np.float32).tobytes())
    gltf.doc["accessors"][index]["sparse"] = {
        "count": 2,
        "indices": {"bufferView": sparse_indices, "componentType": 5123},
        "values": {"bufferView": sparse_values},
    }
    expected = base.copy()
    expected[3] = 9
    expected[1] = [-1, -2, -3]
    np.testing.assert_array_equal(accessors_of(gltf).read_float(index), expected)


def test_sparse_accessor_without_buffer_view_starts_from_zeros():
    gltf = HandmadeGltf()
    sparse_indices = gltf.view(np.array([2], np.uint8).tobytes())
    sparse_values = gltf.view(np.array([[0.5, 0.25, 0.125]], np.float32).tobytes())
    gltf.doc["accessors"] = [
        {
            "componentType": 5126,
            "count": 3,
            "type": "VEC3",
            "sparse": {
                "count": 1,
                "indices": {"bufferView": sparse_indices, "componentType": 5121},
                "values": {"bufferView": sparse_values},
            },
        }
    ]
    np.testing.assert_array_equal(
        accessors_of(gltf).read_float(0), [[0, 0, 0], [0, 0, 0], [0.5, 0.25, 0.125]]
    )


def test_missing_buffer_view_reads_as_zeros():
    gltf = HandmadeGltf()
    gltf.doc["accessors"] = [{"componentType": 5123, "count": 2, "type": "VEC4"}]
    values = accessors_of(gltf).read_raw(0)
    assert values.dtype == np.uint16 and values.tolist() == [[0] * 4] * 2


def test_sparse_index_out_of_range_is_refused():
    gltf = HandmadeGltf()
    index = gltf.accessor(np.zeros((2, 3), np.float32))
    gltf.doc["accessors"][index]["sparse"] = {
        "count": 1,
        "indices": {
            "bufferView": gltf.view(np.array([5], np.uint8).tobytes()),
            "componentType": 5121,
        },
        "values": {"bufferView": gltf.view(np.ones(3, np.float32).tobytes())},
    }
    with pytest.raises(Exception, match=r"sparse.indices refer to element 5 of 2"):
        accessors_of(gltf).read_float(index)


def test_mat4_is_column_major_and_byte_matrices_are_column_padded():
    gltf = HandmadeGltf()
    matrix = np.arange(16, dtype=np.float32)  # column-major storage
    index = gltf.accessor(matrix.reshape(1, 16), type_name="MAT4")
    read = accessors_of(gltf).read_float(index).reshape(4, 4).T  # rows after transposing
    assert read[0].tolist() == [0, 4, 8, 12] and read[:, 3].tolist() == [12, 13, 14, 15]
    # MAT2 of bytes: each 2-byte column padded to 4 bytes
    padded = HandmadeGltf()
    view = padded.view(bytes([1, 2, 0, 0, 3, 4, 0, 0]))
    padded.doc["accessors"] = [
        {"bufferView": view, "componentType": 5121, "count": 1, "type": "MAT2"}
    ]
    assert accessors_of(padded).read_raw(0).tolist() == [[1, 2, 3, 4]]
