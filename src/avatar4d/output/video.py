"""Rendered frames to an H.264 MP4 (PyAV) or to a PNG sequence.

Frames are (H, W, 3) uint8 numpy arrays, all the same size. MP4s use libx264 at constant
quality (CRF) when PyAV's FFmpeg has it, else FFmpeg's own MPEG-4 Part 2 encoder at a high bit
rate; ``VideoInfo.codec`` says which. Pixels are yuv420p so every player decodes them, which
needs even dimensions: an odd width or height is padded by repeating the last column / row.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from types import TracebackType

import numpy as np

from avatar4d.io.atomic import atomic_path
from avatar4d.io.manifest import write_manifest
from avatar4d.io.output_kinds import FRAME_SEQUENCE
from avatar4d.io.ownership import check_owned_output, remove_avatar4d_files
from avatar4d.io.png import check_rgb_frame, write_png

H264 = "libx264"
FALLBACK_CODEC = "mpeg4"
DEFAULT_CRF = 18
FALLBACK_BITS_PER_PIXEL = 0.5  # per pixel per frame; visually near-lossless for MPEG-4 Part 2
PNG_NAME = "frame_{:05d}.png"
_PNG_PATTERN = re.compile(r"^frame_\d{5,}\.png$")


def available_video_codec() -> str:
    """libx264 when PyAV's FFmpeg can encode with it, else the mpeg4 fallback."""
    import av

    try:
        av.codec.Codec(H264, "w")
    except Exception:  # PyAV raises its own UnknownCodecError, or ValueError in older versions
        return FALLBACK_CODEC
    return H264


@dataclass(frozen=True)
class VideoInfo:
    path: Path
    codec: str  # "libx264" or "mpeg4"
    frames: int
    width: int  # encoded size: the frame size rounded up to even numbers
    height: int
    fps: float


def _pad_to_even(frame: np.ndarray) -> np.ndarray:
    pad_rows, pad_cols = frame.shape[0] % 2, frame.shape[1] % 2
    if not (pad_rows or pad_cols):
        return frame
    return np.pad(frame, ((0, pad_rows), (0, pad_cols), (0, 0)), mode="edge")


class Mp4Writer:
    """Context manager: ``with Mp4Writer(path, fps) as video: video.write(frame)``.

    The file appears at ``path`` only when the block ends without an exception.
    """

    def __init__(
        self,
        path: str | Path,
        fps: float,
        crf: int = DEFAULT_CRF,
        codec: str | None = None,
        force: bool = False,
    ) -> None:
        if not fps > 0:
            raise ValueError(f"fps must be positive, got {fps}")
        self.path = Path(path)
        self.fps = float(fps)
        self.crf = crf
        self.codec = codec or available_video_codec()
        self.force = force
        self._cleanup: contextlib.ExitStack | None = None
        self._container = None
        self._stream = None
        self._frame_shape: tuple[int, int] | None = None
        self._frames = 0

    def __enter__(self) -> Mp4Writer:
        import av

        with contextlib.ExitStack() as stack:
            temp_path = stack.enter_context(atomic_path(self.path, self.force))
            self._container = av.open(
                str(temp_path), mode="w", format="mp4", options={"movflags": "+faststart"}
            )
            stack.callback(self._container.close)
            # Closes the container, then renames (or on an error removes) the temporary file.
            self._cleanup = stack.pop_all()
        return self

    def _open_stream(self, height: int, width: int) -> None:
        rate = Fraction(self.fps).limit_denominator(1001)
        stream = self._container.add_stream(self.codec, rate=rate)
        stream.width, stream.height = width, height
        stream.pix_fmt = "yuv420p"
        if self.codec == H264:
            stream.options = {"crf": str(self.crf)}
        else:
            stream.bit_rate = int(FALLBACK_BITS_PER_PIXEL * width * height * self.fps)
        self._stream = stream

    def write(self, frame: np.ndarray) -> None:
        import av

        if self._container is None:
            raise RuntimeError("Mp4Writer.write called outside its with-block")
        frame = check_rgb_frame(frame)
        if self._frame_shape is None:
            self._frame_shape = frame.shape[:2]
            padded_height, padded_width = _pad_to_even(frame).shape[:2]
            self._open_stream(padded_height, padded_width)
        elif frame.shape[:2] != self._frame_shape:
            raise ValueError(
                f"frame {self._frames} is {frame.shape[1]}x{frame.shape[0]}, "
                f"the first was {self._frame_shape[1]}x{self._frame_shape[0]}"
            )
        video_frame = av.VideoFrame.from_ndarray(_pad_to_even(frame), format="rgb24")
        for packet in self._stream.encode(video_frame):
            self._container.mux(packet)
        self._frames += 1

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        cleanup, self._cleanup = self._cleanup, None
        if exc_type is not None:
            cleanup.__exit__(exc_type, exc, traceback)  # the file is discarded
            self._container = None
            return
        with cleanup:
            if self._frames == 0:
                raise ValueError(f"{self.path}: no frames were written")
            for packet in self._stream.encode(None):  # flush the encoder
                self._container.mux(packet)
        self._container = None

    def info(self) -> VideoInfo:
        if self._stream is None:
            raise RuntimeError("no frame has been written")
        return VideoInfo(
            self.path,
            self.codec,
            self._frames,
            self._stream.width,
            self._stream.height,
            self.fps,
        )


def write_mp4(
    frames: Iterable[np.ndarray],
    path: str | Path,
    fps: float,
    crf: int = DEFAULT_CRF,
    codec: str | None = None,
    force: bool = False,
) -> VideoInfo:
    """Encode ``frames`` to an MP4 at ``path`` atomically; returns what was written."""
    with Mp4Writer(path, fps, crf=crf, codec=codec, force=force) as video:
        for frame in frames:
            video.write(frame)
    return video.info()


def _existing_frames(out_dir: Path) -> list[Path]:
    if not out_dir.is_dir():
        return []
    return sorted(p for p in out_dir.iterdir() if _PNG_PATTERN.match(p.name))


def check_frame_folder(
    out_dir: str | Path, force: bool, names: Sequence[str] | None = None
) -> None:
    """InputError unless frames may go into ``out_dir``: without ``force`` it must hold no
    frame_*.png (or none of ``names``, when the frames are named so); with ``force``
    everything in it must be frames avatar4d rendered there."""
    out_dir = Path(out_dir)
    if names is None:
        existing = "frame_*.png files" if _existing_frames(out_dir) else None
    else:
        present = [name for name in names if (out_dir / name).exists()]
        existing = f"{present[0]} and {len(present) - 1} more" if len(present) > 1 else None
        existing = existing or (present[0] if present else None)
    check_owned_output(out_dir, FRAME_SEQUENCE, force, existing)


def write_png_sequence(
    frames: Iterable[np.ndarray], out_dir: str | Path, force: bool = False
) -> list[Path]:
    """Write frame_00000.png, frame_00001.png, ... into ``out_dir``; returns the paths.

    Without ``force``, a folder that already holds frame_*.png files is refused. With it, the
    folder must hold only frames avatar4d rendered there (its manifest lists them): they are
    removed first, so the folder holds exactly this sequence; anything else is refused.
    """
    out_dir = Path(out_dir)
    check_frame_folder(out_dir, force)
    if force and out_dir.is_dir():
        remove_avatar4d_files(out_dir, FRAME_SEQUENCE)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = [
        write_png(out_dir / PNG_NAME.format(i), frame, force) for i, frame in enumerate(frames)
    ]
    write_manifest(out_dir, FRAME_SEQUENCE.name, [path.name for path in written])
    return written
