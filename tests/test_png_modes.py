"""Dataset PNGs of every colour type decode at their own scale, and missing alpha is said."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from dataset_builders import grid_splits, write_dataset, write_grid, write_image
from PIL import Image

from avatar4d.data.coverage.analysis import analyse_coverage
from avatar4d.data.dnerf import load_dataset
from avatar4d.data.image_sanity import check_images
from avatar4d.data.images import decode_rgba
from avatar4d.errors import InputError

GREY16 = np.array([[0, 257, 32896, 65535]], dtype=np.uint16)  # 0, 1, 128 and 255 in 8 bits
GREY8 = np.array([[0, 1, 128, 255]], dtype=np.uint8)
SMALL_GRID = {
    "azimuths": 4,
    "elevations": (0.0, 30.0),
    "times": 6,
    "novel_cameras": 4,
    "novel_times": 3,
}


def write_png(path: Path, pixels: np.ndarray, color_type: int, bit_depth: int) -> Path:
    """A PNG written byte by byte (Pillow cannot write 16-bit RGB or grey + alpha)."""
    height, width = pixels.shape[:2]
    sample = ">u2" if bit_depth == 16 else "u1"
    rows = b"".join(b"\x00" + pixels[y].astype(sample).tobytes() for y in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data)
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )
    return path


def test_16_bit_grey_is_scaled_not_clipped(tmp_path):
    rgba, has_alpha = decode_rgba(write_png(tmp_path / "g.png", GREY16[..., None], 0, 16))
    assert not has_alpha
    np.testing.assert_array_equal(rgba[..., 0], GREY8)
    np.testing.assert_array_equal(rgba[..., 2], GREY8)
    np.testing.assert_array_equal(rgba[..., 3], 255)


def test_16_bit_grey_saved_by_pillow_with_a_transparent_value(tmp_path):
    path = tmp_path / "g.png"
    image = Image.fromarray(GREY16)
    assert image.mode == "I;16"
    image.save(path, transparency=32896)
    rgba, has_alpha = decode_rgba(path)
    assert has_alpha
    np.testing.assert_array_equal(rgba[..., 1], GREY8)
    np.testing.assert_array_equal(rgba[..., 3], [[255, 255, 0, 255]])


@pytest.mark.parametrize("bit_depth", [8, 16])
def test_grey_and_alpha(tmp_path, bit_depth):
    grey = GREY16 if bit_depth == 16 else GREY8
    alpha = grey[:, ::-1]
    pixels = np.stack([grey, alpha], axis=-1)
    rgba, has_alpha = decode_rgba(write_png(tmp_path / "ga.png", pixels, 4, bit_depth))
    assert has_alpha
    np.testing.assert_array_equal(rgba[..., 0], GREY8)
    np.testing.assert_array_equal(rgba[..., 3], GREY8[:, ::-1])


@pytest.mark.parametrize("bit_depth", [8, 16])
def test_rgb_and_rgba(tmp_path, bit_depth):
    grey = GREY16 if bit_depth == 16 else GREY8
    rgb = np.stack([grey, grey[:, ::-1], grey[:, [1, 2, 3, 0]]], axis=-1)
    expected = np.stack([GREY8, GREY8[:, ::-1], GREY8[:, [1, 2, 3, 0]]], axis=-1)
    rgba, has_alpha = decode_rgba(write_png(tmp_path / "rgb.png", rgb, 2, bit_depth))
    assert not has_alpha
    np.testing.assert_array_equal(rgba[..., :3], expected)
    np.testing.assert_array_equal(rgba[..., 3], 255)
    with_alpha = np.concatenate([rgb, grey[..., None]], axis=-1)
    rgba, has_alpha = decode_rgba(write_png(tmp_path / "rgba.png", with_alpha, 6, bit_depth))
    assert has_alpha
    np.testing.assert_array_equal(rgba, np.concatenate([expected, GREY8[..., None]], axis=-1))


def test_8_bit_grey(tmp_path):
    path = tmp_path / "l.png"
    Image.fromarray(GREY8, "L").save(path)
    rgba, has_alpha = decode_rgba(path)
    assert not has_alpha
    np.testing.assert_array_equal(rgba[..., 0], GREY8)
    np.testing.assert_array_equal(rgba[..., 3], 255)


def test_palette_with_transparency(tmp_path):
    path = tmp_path / "p.png"
    image = Image.fromarray(np.array([[0, 1, 2]], dtype=np.uint8), "P")
    image.putpalette([255, 0, 0, 0, 255, 0, 0, 0, 255] + [0] * (256 * 3 - 9))
    image.save(path, transparency=bytes([255, 0, 128]))
    rgba, has_alpha = decode_rgba(path)
    assert has_alpha
    np.testing.assert_array_equal(rgba, [[[255, 0, 0, 255], [0, 255, 0, 0], [0, 0, 255, 128]]])


def test_float_pixels_are_refused_in_one_line(tmp_path):
    path = tmp_path / "f.tiff"
    Image.fromarray(np.zeros((2, 2), dtype=np.float32), "F").save(path)
    with pytest.raises(InputError, match="32-bit float pixels cannot be read"):
        decode_rgba(path)


def warnings_of(root: Path) -> list[str]:
    dataset = load_dataset(root)
    return [
        finding.message for finding in analyse_coverage(dataset, check_images(dataset)).warnings
    ]


def test_check_warns_when_no_image_has_alpha(tmp_path):
    splits = grid_splits(**SMALL_GRID)
    root = write_dataset(tmp_path / "rgb", splits, write_images=False)
    for split in splits.values():
        for entry in split:
            write_image(root / f"{entry['file_path']}.png", mode="RGB")
    warnings = warnings_of(root)
    assert any(w.startswith("No alpha channel in the ") and "visual hull" in w for w in warnings)


def test_check_warns_when_some_images_have_no_alpha(tmp_path):
    root = write_grid(tmp_path / "grid", **SMALL_GRID)
    write_image(root / "train" / "c01_t002.png", mode="RGB")
    (warning,) = warnings_of(root)
    assert (
        warning.startswith("1 of ") and "have no alpha channel, e.g. train/c01_t002.png" in warning
    )
