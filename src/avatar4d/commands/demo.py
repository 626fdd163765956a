"""``avatar4d demo``: the built-in character through the whole pipeline, in a new folder."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import tyro

from avatar4d.errors import InputError

DEMO_CLIP = "wave"


@dataclass(frozen=True)
class DemoScale:
    """Grid size of the demo: small on a CPU, the benchmark grid on a GPU."""

    res: int
    train_times: int
    novel_times: int


CPU_SCALE = DemoScale(res=64, train_times=12, novel_times=4)
GPU_SCALE = DemoScale(res=512, train_times=60, novel_times=12)


def new_demo_folder(parent: Path, now: datetime | None = None) -> Path:
    """A new ``avatar4d_demo_YYYYmmdd_HHMMSS`` folder path under parent (not existing yet)."""
    stamp = (now or datetime.now()).strftime("%Y%m%d_%H%M%S")
    candidate = parent / f"avatar4d_demo_{stamp}"
    suffix = 2
    while candidate.exists():
        candidate = parent / f"avatar4d_demo_{stamp}_{suffix}"
        suffix += 1
    return candidate


@dataclass
class DemoCommand:
    """Run the built-in demo: make the demo character, render its camera x time grid, check it.

    Everything goes into a new folder (./avatar4d_demo_<date>_<time> unless --out names one
    that does not exist yet); an earlier demo is never touched.
    """

    out: Path | None = None
    """Folder for the demo's outputs; must not exist yet. Default: a new dated folder here."""

    res: int | None = None
    """Image size of the demo grid (square). Default: 64 on a CPU, 512 on a GPU."""

    gpu: tyro.conf.FlagCreatePairsOff[bool] = False
    """Use the benchmark-sized grid even when no GPU is found."""

    def run(self) -> int:
        from avatar4d.asset.demo_character import write_demo_character
        from avatar4d.commands.check import CheckCommand
        from avatar4d.commands.grid import GridCommand

        folder = self.out if self.out is not None else new_demo_folder(Path.cwd())
        if folder.exists():
            raise InputError(folder, "already exists; the demo writes a new folder each run")
        folder.mkdir(parents=True)
        scale = GPU_SCALE if self.gpu or _has_cuda() else CPU_SCALE
        res = self.res or scale.res
        started = time.perf_counter()

        character = write_demo_character(folder / "demo_character.glb")
        print(f"demo: wrote the built-in character to {character}")
        dataset = folder / "grid"
        GridCommand(
            file=character,
            clip=DEMO_CLIP,
            out=dataset,
            res=res,
            train_times=scale.train_times,
            novel_times=scale.novel_times,
        ).run()
        check_code = CheckCommand(
            dir=dataset, strict=True, figure=folder / "coverage.png", json=folder / "check.json"
        ).run()
        seconds = time.perf_counter() - started
        print(f"demo: done in {seconds:.1f} s; outputs in {folder}")
        return check_code


def _has_cuda() -> bool:
    try:
        import torch
    except ImportError:
        return False
    return bool(torch.cuda.is_available())
