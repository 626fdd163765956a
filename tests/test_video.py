"""MP4 (PyAV) and PNG sequence output: decodable, right size and count, atomic, no overwrite."""

from __future__ import annotations

import av
import numpy as np
import pytest
from PIL import Image

from avatar4d.errors import InputError
from avatar4d.output.video import (
    FALLBACK_CODEC,
    Mp4Writer,
    available_video_codec,
    write_mp4,
    write_png_sequence,
)


def frames(count: int, height: int = 32, width: int = 48):
    """Frames whose left half brightens over time: decoded brightness shows the order."""
    for i in range(count):
        frame = np.full((height, width, 3), 255, np.uint8)
        frame[:, : width // 2] = 40 + 20 * i
        yield frame


def decode(path):
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        decoded = [f.to_ndarray(format="rgb24") for f in container.decode(stream)]
        return stream.codec_context.name, stream.codec_context.pix_fmt, decoded


def test_mp4_written_and_decodable(tmp_path):
    path = tmp_path / "orbit.mp4"
    info = write_mp4(frames(6), path, fps=24)

    assert info.codec == available_video_codec() == "libx264"  # PyAV wheels carry libx264
    assert (info.frames, info.width, info.height, info.fps) == (6, 48, 32, 24.0)
    codec, pix_fmt, decoded = decode(path)
    assert codec == "h264" and pix_fmt == "yuv420p"
    assert len(decoded) == 6
    assert decoded[0].shape == (32, 48, 3)
    left = [float(f[:, :20].mean()) for f in decoded]
    assert left == pytest.approx([40 + 20 * i for i in range(6)], abs=4)  # crf 18: close
    assert float(decoded[0][:, 28:].mean()) == pytest.approx(255, abs=3)
    assert [p.name for p in tmp_path.iterdir()] == ["orbit.mp4"]  # no temporary left


def test_odd_size_is_padded_to_even(tmp_path):
    info = write_mp4(frames(3, height=31, width=45), tmp_path / "odd.mp4", fps=10)
    assert (info.width, info.height) == (46, 32)
    _, _, decoded = decode(tmp_path / "odd.mp4")
    assert decoded[0].shape == (32, 46, 3) and len(decoded) == 3


def test_mpeg4_fallback(tmp_path):
    info = write_mp4(frames(4), tmp_path / "fallback.mp4", fps=12, codec=FALLBACK_CODEC)
    codec, _, decoded = decode(tmp_path / "fallback.mp4")
    assert info.codec == codec == "mpeg4"
    assert len(decoded) == 4


def test_refuses_overwrite_unless_forced(tmp_path):
    path = tmp_path / "v.mp4"
    write_mp4(frames(2), path, fps=5)
    with pytest.raises(InputError, match="already exists"):
        write_mp4(frames(2), path, fps=5)
    write_mp4(frames(5), path, fps=5, force=True)
    assert len(decode(path)[2]) == 5


def test_failure_leaves_no_file(tmp_path):
    path = tmp_path / "broken.mp4"

    def failing():
        yield from frames(2)
        raise RuntimeError("renderer crashed")

    with pytest.raises(RuntimeError, match="renderer crashed"):
        write_mp4(failing(), path, fps=5)
    with pytest.raises(ValueError, match="no frames"):
        write_mp4(iter(()), path, fps=5)
    with pytest.raises(ValueError, match="the first was 48x32"), Mp4Writer(path, fps=5) as video:
        video.write(next(frames(1)))
        video.write(np.zeros((10, 10, 3), np.uint8))
    assert list(tmp_path.iterdir()) == []


def test_png_sequence(tmp_path):
    out = tmp_path / "pngs"
    paths = write_png_sequence(frames(3, 8, 10), out)
    assert [p.name for p in paths] == ["frame_00000.png", "frame_00001.png", "frame_00002.png"]
    second = np.asarray(Image.open(paths[1]))
    assert second.shape == (8, 10, 3) and second[0, 0].tolist() == [60, 60, 60]

    with pytest.raises(InputError, match="already holds frame_"):
        write_png_sequence(frames(2, 8, 10), out)
    write_png_sequence(frames(2, 8, 10), out, force=True)  # the longer sequence's third goes
    assert sorted(p.name for p in out.iterdir()) == [
        ".avatar4d-manifest.json",
        "frame_00000.png",
        "frame_00001.png",
    ]
    (out / "notes.txt").write_text("kept")
    with pytest.raises(InputError, match="holds 'notes.txt' not written by avatar4d"):
        write_png_sequence(frames(1, 8, 10), out, force=True)
    assert (out / "frame_00001.png").is_file() and (out / "notes.txt").read_text() == "kept"
