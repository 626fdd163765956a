"""Dataset image sizes come from the file headers and are refused before any pixel is decoded."""

from __future__ import annotations

import time
import tracemalloc

import pytest
import torch
from dataset_builders import frame, write_dataset, write_image
from test_gltf_limits import png_header_only

from avatar4d.cli import main
from avatar4d.data.dnerf import load_dataset
from avatar4d.data.image_limits import (
    FRAMES_SHARE_OF_MEMORY,
    MAX_DATASET_IMAGE_PIXELS,
    memory_bytes,
)
from avatar4d.errors import InputError
from avatar4d.train import frames as frames_module
from avatar4d.train.frames import stack_frames

CPU = torch.device("cpu")


def dataset_of_headers(root, size: int, declared: int | None = None):
    """Eight train frames whose PNGs claim ``size``² pixels (headers only: nothing to decode)."""
    extra = {} if declared is None else {"w": declared, "h": declared}
    train = [frame(f"./train/r_{i}", 45.0 * i, 20.0, i / 8, **extra) for i in range(8)]
    write_dataset(root, {"train": train}, write_images=False)
    for i in range(8):
        (root / "train" / f"r_{i}.png").parent.mkdir(exist_ok=True)
        (root / "train" / f"r_{i}.png").write_bytes(png_header_only(size, size))
    return root


def test_eight_13000_squared_pngs_are_one_line_exit_2(tmp_path, capsys):
    root = dataset_of_headers(tmp_path / "data", 13000)
    tracemalloc.start()
    started = time.perf_counter()
    try:
        assert main(["check", str(root), "--no-figure"]) == 2
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert time.perf_counter() - started < 2.0 and peak < 32 << 20
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines == [
        f"avatar4d: error: {root / 'train' / 'r_0.png'}: image is 13000x13000 = 169,000,000 "
        f"pixels, more than the {MAX_DATASET_IMAGE_PIXELS:,} allowed for a dataset image"
    ]


def test_a_declared_size_does_not_hide_a_huge_image_from_training(tmp_path):
    root = dataset_of_headers(tmp_path / "data", 13000, declared=8)
    frames = load_dataset(root).train  # w/h given: the header is not needed to load
    with pytest.raises(InputError, match="13000x13000 = 169,000,000 pixels"):
        stack_frames(frames, CPU)


def test_training_checks_each_header_against_its_frame_before_decoding(tmp_path):
    train = [frame(f"./train/r_{i}", 90.0 * i, 20.0, i / 4, w=8, h=8) for i in range(4)]
    root = write_dataset(tmp_path / "data", {"train": train})
    write_image(root / "train" / "r_2.png", 16, 16)
    with pytest.raises(InputError) as raised:
        stack_frames(load_dataset(root).train, CPU)
    assert (
        str(raised.value)
        == f"{root / 'train' / 'r_2.png'}: image is 16x16, not 8x8 as its frame says"
    )


def test_frames_needing_more_than_the_memory_share_are_refused_with_numbers(tmp_path, monkeypatch):
    root = dataset_of_headers(tmp_path / "data", 8000)  # 64 M pixels each: under the image limit
    frames = load_dataset(root).train
    monkeypatch.setattr(frames_module, "memory_bytes", lambda: 6 * 10**9)
    with pytest.raises(InputError) as raised:
        stack_frames(frames, CPU)  # the headers hold no pixels: any decoding would fail
    assert str(raised.value) == (
        f"{root / 'train'}: the 8 frames at 8000x8000 need 4.1 GB decoded; this machine has "
        f"6.0 GB of memory, at most {FRAMES_SHARE_OF_MEMORY:.0%} of it is for the frames; use a "
        "smaller grid (avatar4d grid --res)"
    )


def test_this_machine_reports_its_memory():
    assert memory_bytes() > 1 << 28
