"""Bad or hostile glTF input is refused with one clear InputError naming the file and problem."""

from __future__ import annotations

import base64
import io
import json
import os
import re
import struct

import numpy as np
import pytest
from gltf_handmade import HandmadeGltf, glb_bytes, one_triangle
from PIL import Image

from avatar4d.asset.loader import load_asset
from avatar4d.errors import InputError


def problem(path, pattern: str) -> str:
    """The problem text of the InputError that loading ``path`` raises (checked: one match)."""
    with pytest.raises(InputError) as caught:
        load_asset(path)
    assert caught.value.where == str(path)
    assert re.search(pattern, caught.value.problem), caught.value.problem
    assert "\n" not in str(caught.value)
    return caught.value.problem


def test_handmade_glb_and_gltf_load_the_same_triangle(tmp_path):
    glb = load_asset(one_triangle().write_glb(tmp_path / "tri.glb"))
    gltf = load_asset(one_triangle().write_gltf(tmp_path / "tri.gltf"))
    for asset in (glb, gltf):
        np.testing.assert_array_equal(asset.pose(None, 0).parts[0].indices, [[0, 1, 2]])
    assert len(glb.sha256) == 64 and glb.sha256 != gltf.sha256


def test_missing_file(tmp_path):
    problem(tmp_path / "absent.glb", "^file not found$")


def test_not_gltf_at_all(tmp_path):
    path = tmp_path / "x.glb"
    path.write_bytes(b"\x89PNG\r\n\x1a\n not a model")
    assert problem(path, "not a glTF 2.0 file").startswith("not a glTF 2.0 file (neither GLB")


def test_json_that_is_not_gltf(tmp_path):
    path = tmp_path / "x.gltf"
    path.write_text('{"hello": 1}')
    problem(path, r"not a glTF 2.0 file \(JSON without an 'asset' object\)")
    path.write_text('{"asset": {"version": "1.0"}}')
    problem(path, r"asset.version is '1.0'")
    path.write_text('{"asset": ')
    problem(path, r"invalid JSON")


def test_truncated_glb_reports_both_sizes(tmp_path, soldier_glb):
    path = tmp_path / "Soldier.glb"
    path.write_bytes(soldier_glb.read_bytes()[:1000])
    with pytest.raises(InputError) as caught:
        load_asset(path)
    assert str(caught.value) == f"{path}: truncated GLB: header says 1714008 bytes, file has 1000"


def test_glb_with_bad_chunks_or_version(tmp_path):
    good = glb_bytes({"asset": {"version": "2.0"}}, b"")
    path = tmp_path / "x.glb"
    path.write_bytes(good[:12] + struct.pack("<I", 999) + good[16:])
    problem(path, r"corrupt GLB: chunk at byte 12 says 999 bytes")
    path.write_bytes(good[:4] + struct.pack("<I", 1) + good[8:])
    problem(path, r"GLB container version 1")
    path.write_bytes(good + b"junk")
    problem(path, r"trailing data")
    path.write_bytes(b"glTF\x02\x00")
    problem(path, r"truncated GLB: 6 bytes")


def test_external_buffer_next_to_the_file_is_read(tmp_path):
    gltf = one_triangle()
    doc = gltf._finish("tri.bin")  # pads the buffer
    (tmp_path / "tri.bin").write_bytes(bytes(gltf.blob))
    path = tmp_path / "tri.gltf"
    path.write_text(json.dumps(doc))
    assert load_asset(path).pose(None, 0).vertex_count == 3


@pytest.mark.parametrize("uri", ["../outside.bin", "/etc/passwd", "sub/../../outside.bin"])
def test_external_uri_escaping_the_folder_is_refused(tmp_path, uri):
    folder = tmp_path / "asset"
    folder.mkdir()
    (tmp_path / "outside.bin").write_bytes(bytes(one_triangle().blob))
    path = folder / "tri.gltf"
    path.write_text(json.dumps(one_triangle()._finish(uri)))
    message = problem(path, "refused")
    assert f'URI "{uri}"' in message and message.startswith("buffer 0:")


def test_symlink_escaping_the_folder_is_refused(tmp_path):
    folder = tmp_path / "asset"
    folder.mkdir()
    (tmp_path / "secret.bin").write_bytes(bytes(one_triangle().blob))
    os.symlink(tmp_path / "secret.bin", folder / "link.bin")
    path = folder / "tri.gltf"
    path.write_text(json.dumps(one_triangle()._finish("link.bin")))
    problem(path, r'buffer 0: URI "link.bin" points outside the asset folder \(refused\)')


def test_remote_uri_is_refused(tmp_path):
    path = tmp_path / "tri.gltf"
    path.write_text(json.dumps(one_triangle()._finish("https://example.com/tri.bin")))
    problem(path, "not a relative file path")


def test_accessor_count_larger_than_its_buffer_view(tmp_path):
    gltf = one_triangle()
    gltf.doc["accessors"][0]["count"] = 1000  # POSITION: 3 vertices stored
    path = gltf.write_glb(tmp_path / "x.glb")
    message = problem(path, r"accessors\[0\]: 1,000 elements of 12 bytes")
    assert "bufferView 0 has 36" in message


def test_buffer_view_outside_its_buffer(tmp_path):
    gltf = one_triangle()
    gltf.doc["bufferViews"][0]["byteOffset"] = 10_000
    problem(gltf.write_glb(tmp_path / "x.glb"), r"bufferViews\[0\] spans bytes 10000")


def test_absurd_counts_and_sizes_refused_before_allocating(tmp_path):
    gltf = one_triangle()
    gltf.doc["accessors"].append(
        {"componentType": 5126, "count": 4_000_000_000, "type": "VEC3"}  # no bufferView: zeros
    )
    gltf.doc["meshes"][0]["primitives"][0]["attributes"]["NORMAL"] = 2
    problem(gltf.write_glb(tmp_path / "x.glb"), r"count is 4,000,000,000, more than")
    huge = one_triangle()._finish(None)
    huge["buffers"][0]["byteLength"] = 3 * 1024**3
    path = tmp_path / "y.glb"
    path.write_bytes(glb_bytes(huge, bytes(one_triangle().blob)))
    problem(path, r"buffers declare 3,221,225,472 bytes")


def test_stride_smaller_than_element_is_refused(tmp_path):
    gltf = one_triangle()
    gltf.doc["bufferViews"][0]["byteStride"] = 8
    problem(gltf.write_glb(tmp_path / "x.glb"), r"byteStride 8 is smaller than one VEC3 element")


def test_index_out_of_range_and_dangling_references(tmp_path):
    gltf = one_triangle()
    gltf.doc["nodes"][0]["mesh"] = 5
    problem(gltf.write_glb(tmp_path / "x.glb"), r"nodes\[0\].mesh = 5 refers to a missing meshes")
    gltf = HandmadeGltf()
    mesh = gltf.triangle_mesh(np.zeros((3, 3), np.float32), [0, 1, 7])
    gltf.scene(gltf.node(mesh=mesh))
    problem(gltf.write_glb(tmp_path / "y.glb"), r"index 7 is out of range for 3 vertices")


def _png(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", (width, height), (255, 0, 0, 255)).save(out, "PNG")
    return out.getvalue()


def _textured_triangle(png: bytes) -> HandmadeGltf:
    gltf = one_triangle()
    gltf.doc["meshes"][0]["primitives"][0]["material"] = 0
    gltf.doc["materials"] = [{"pbrMetallicRoughness": {"baseColorTexture": {"index": 0}}}]
    gltf.doc["textures"] = [{"source": 0}]
    gltf.doc["images"] = [{"uri": "data:image/png;base64," + base64.b64encode(png).decode()}]
    return gltf


def test_texture_is_decoded_once_and_shared(tmp_path):
    asset = load_asset(_textured_triangle(_png(4, 2)).write_gltf(tmp_path / "t.gltf"))
    first, second = asset.pose(None, 0).parts[0], asset.pose(None, 0).parts[0]
    assert first.material.texture.shape == (2, 4, 4)
    assert first.material.texture[0, 0].tolist() == [255, 0, 0, 255]
    assert first.material.texture is second.material.texture
    assert asset.summary(clips=[]).images[0].width == 4


def test_image_too_large_is_refused_from_its_header(tmp_path):
    path = _textured_triangle(_png(20_000, 1)).write_gltf(tmp_path / "big.gltf")
    problem(path, r"^image 0 is 20000x1 pixels, more than 16384 per side$")


def test_corrupt_image_is_refused(tmp_path):
    path = _textured_triangle(b"\x89PNG\r\n\x1a\nbroken").write_gltf(tmp_path / "bad.gltf")
    problem(path, r"^image 0: not a PNG, JPEG or WebP image$")


@pytest.mark.parametrize(
    ("extension", "expected"),
    [
        (
            "EXT_meshopt_compression",
            "uses EXT_meshopt_compression, which avatar4d cannot decode "
            "(re-export without meshopt compression)",
        ),
        (
            "KHR_texture_basisu",
            "uses KHR_texture_basisu, which avatar4d cannot decode "
            "(re-export with PNG or JPEG textures)",
        ),
        (
            "VENDOR_magic",
            "requires extension VENDOR_magic, which avatar4d does not support "
            "(re-export without it)",
        ),
    ],
)
def test_unsupported_required_extension(tmp_path, extension, expected):
    gltf = one_triangle()
    gltf.doc["extensionsUsed"] = gltf.doc["extensionsRequired"] = [extension]
    path = gltf.write_glb(tmp_path / "x.glb")
    with pytest.raises(InputError) as caught:
        load_asset(path)
    assert str(caught.value) == f"{path}: {expected}"


def test_harmless_extensions_are_accepted(tmp_path):
    gltf = one_triangle()
    gltf.doc["extensionsUsed"] = ["KHR_materials_emissive_strength", "VENDOR_optional"]
    gltf.doc["extensionsRequired"] = ["KHR_mesh_quantization", "KHR_materials_unlit"]
    assert load_asset(gltf.write_glb(tmp_path / "x.glb")).pose(None, 0).vertex_count == 3


def test_draco_compressed_primitive_is_decoded(tmp_path):
    draco = pytest.importorskip("DracoPy")
    positions = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [1, 1, 0]], np.float32)
    faces = np.array([[0, 1, 2], [1, 3, 2]], np.uint32)
    encoded = draco.encode(positions, faces, quantization_bits=14)
    decoded = draco.decode(encoded)
    gltf = HandmadeGltf()
    view = gltf.view(encoded)
    gltf.doc["accessors"] = [{"componentType": 5126, "count": 4, "type": "VEC3"}]
    primitive = {
        "attributes": {"POSITION": 0},
        "extensions": {
            "KHR_draco_mesh_compression": {
                "bufferView": view,
                "attributes": {"POSITION": decoded.attributes[0]["unique_id"]},
            }
        },
    }
    gltf.doc["meshes"] = [{"primitives": [primitive]}]
    gltf.doc["extensionsUsed"] = gltf.doc["extensionsRequired"] = ["KHR_draco_mesh_compression"]
    gltf.scene(gltf.node(mesh=0))
    part = load_asset(gltf.write_glb(tmp_path / "d.glb")).pose(None, 0).parts[0]
    assert part.indices.shape == (2, 3)
    corners = {tuple(np.round(p, 3)) for p in part.positions[part.indices.reshape(-1)]}
    assert corners == {(0, 0, 0), (1, 0, 0), (0, 1, 0), (1, 1, 0)}
    np.testing.assert_allclose(np.abs(part.normals[:, 2]), 1.0, atol=1e-6)  # computed normals


def test_scrambled_json_values_only_ever_raise_input_error(tmp_path, robot_glb):
    """Real-file JSON with random values swapped for wrong types: one InputError, no traceback."""
    data = robot_glb.read_bytes()
    (length,) = struct.unpack_from("<I", data, 12)
    document = json.loads(data[20 : 20 + length])
    binary = data[28 + length :]

    def leaves(node, path=()):
        if path:
            yield path
        if isinstance(node, dict):
            children = list(node.items())
        elif isinstance(node, list):
            children = list(enumerate(node[:4]))
        else:
            children = []
        for key, child in children:
            yield from leaves(child, (*path, key))

    paths = list(leaves(document))
    junk = [None, -1, 10**12, "x", 2.5, [], {}, True, [1, 2], {"a": 1}, 0]
    rng = np.random.default_rng(7)
    for trial in range(40):
        scrambled = json.loads(json.dumps(document))
        for _ in range(2):
            *parents, key = paths[rng.integers(len(paths))]
            target = scrambled
            try:  # an earlier change in this trial may have removed the path
                for parent in parents:
                    target = target[parent]
                target[key] = junk[rng.integers(len(junk))]
            except (KeyError, IndexError, TypeError):
                continue
        path = tmp_path / f"scrambled_{trial}.glb"
        path.write_bytes(glb_bytes(scrambled, binary))
        try:
            asset = load_asset(path)
            asset.pose(asset.clips[0].name if asset.clips else None, 0.5)
        except InputError as error:
            assert "\n" not in str(error)


def test_draco_without_dracopy_is_refused_with_a_hint(tmp_path, monkeypatch):
    import avatar4d.asset.extensions as extensions

    monkeypatch.setattr(extensions, "draco_available", lambda: False)
    gltf = one_triangle()
    gltf.doc["extensionsUsed"] = gltf.doc["extensionsRequired"] = ["KHR_draco_mesh_compression"]
    problem(
        gltf.write_glb(tmp_path / "d.glb"),
        r"^uses KHR_draco_mesh_compression, which avatar4d cannot decode without the DracoPy "
        r"package \(pip install DracoPy, or re-export without Draco compression\)$",
    )


def test_webp_texture_through_ext_texture_webp(tmp_path):
    out = io.BytesIO()
    Image.new("RGBA", (3, 2), (0, 0, 255, 128)).save(out, "WEBP", lossless=True)
    gltf = _textured_triangle(_png(1, 1))  # image 0: the PNG fallback
    gltf.doc["images"].append(
        {"uri": "data:image/webp;base64," + base64.b64encode(out.getvalue()).decode()}
    )
    gltf.doc["textures"][0]["extensions"] = {"EXT_texture_webp": {"source": 1}}
    gltf.doc["extensionsUsed"] = ["EXT_texture_webp"]
    texture = (
        load_asset(gltf.write_gltf(tmp_path / "w.gltf")).pose(None, 0).parts[0].material.texture
    )
    assert texture.shape == (2, 3, 4) and texture[0, 0].tolist() == [0, 0, 255, 128]
