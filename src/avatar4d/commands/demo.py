"""``avatar4d demo``: the built-in character through the whole pipeline, in a new folder."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import tyro

from avatar4d.commands.extras import require_extra
from avatar4d.errors import InputError

DEMO_CLIP = "wave"


@dataclass(frozen=True)
class DemoScale:
    """Size of the demo: small on a CPU (minutes on two cores), the benchmark grid on a GPU."""

    res: int
    train_times: int
    novel_times: int
    train_steps: int | None  # None: the trainer's preset for the device
    video_frames: int


CPU_SCALE = DemoScale(res=64, train_times=12, novel_times=4, train_steps=1500, video_frames=60)
GPU_SCALE = DemoScale(res=512, train_times=60, novel_times=12, train_steps=None, video_frames=240)


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
    """Run the built-in demo: character -> grid -> check -> train -> eval -> orbit video.

    Makes the project's own animated character, renders its camera x time grid, checks the
    grid, trains a 4D Gaussian avatar, evaluates it on held-out views and times, renders an
    orbit video, and prints a summary with the paths of the report and the video. Small
    settings on a CPU (a few minutes on two cores), the benchmark grid on a GPU. Everything
    goes into a new folder (./avatar4d_demo_<date>_<time> unless --out names one that does
    not exist yet); an earlier demo is never touched.
    """

    out: Path | None = None
    """Folder for the demo's outputs; must not exist yet. Default: a new dated folder here."""

    res: int | None = None
    """Image size of the demo grid (square). Default: 64 on a CPU, 512 on a GPU."""

    gpu: tyro.conf.FlagCreatePairsOff[bool] = False
    """Use the benchmark-sized grid even when no GPU is found."""

    def run(self) -> int:
        require_extra("demo", ("torch", "gsplat", "av"))  # it trains and renders an .mp4
        from avatar4d.asset.demo.character import write_demo_character
        from avatar4d.commands.check import CheckCommand
        from avatar4d.commands.evaluate import EvalCommand
        from avatar4d.commands.grid import GridCommand
        from avatar4d.commands.render import RenderCommand
        from avatar4d.commands.train import TrainCommand
        from avatar4d.commands.train_preset import auto_preset
        from avatar4d.run.presets import preset_config

        folder = self.out if self.out is not None else new_demo_folder(Path.cwd())
        if folder.exists():
            raise InputError(folder, "already exists; the demo writes a new folder each run")
        folder.mkdir(parents=True)
        scale = GPU_SCALE if self.gpu or _has_cuda() else CPU_SCALE
        started = time.perf_counter()

        character = write_demo_character(folder / "demo_character.glb")
        _stage(f"wrote the built-in character to {character}")
        dataset = folder / "grid"
        GridCommand(
            file=character,
            clip=DEMO_CLIP,
            out=dataset,
            res=self.res or scale.res,
            train_times=scale.train_times,
            novel_times=scale.novel_times,
        ).run()
        _stage("checking the grid")
        # Not --strict: check now also warns where the clip moves more than 2 px between
        # consecutive train times, which the demo's fixed, small time counts do on purpose.
        CheckCommand(dir=dataset, strict=False, figure=folder / "coverage.png").run()
        _stage("training")
        config = preset_config(auto_preset("auto"))  # what train picks here
        if scale.train_steps is not None:
            config.steps = scale.train_steps
        run_dir = folder / "run"
        command = TrainCommand(data=dataset, out=run_dir, config=config, motion_from_data=True)
        if command.run() != 0:
            return 1
        _stage("evaluating on held-out views and times")
        EvalCommand(run_dir=run_dir, out=folder / "eval").run()
        _stage("rendering an orbit video")
        video = folder / "orbit.mp4"
        RenderCommand(run_dir=run_dir, out=video, frames=scale.video_frames).run()
        print_demo_summary(folder, time.perf_counter() - started)
        return 0


def _stage(text: str) -> None:
    print(f"\n[demo] {text}", flush=True)


def print_demo_summary(folder: Path, seconds: float) -> None:
    """Held-out PSNR per subset, the train PSNR, and where the outputs are."""
    from avatar4d.io.json_file import read_json_file

    metrics = read_json_file(folder / "eval" / "metrics.json")
    print(f"\n[demo] done in {seconds:.0f} s; everything is in {folder}")
    print(f"{'subset':<12}{'PSNR dB (95% CI)':<28}{'SSIM':<8}")
    for name, subset in metrics["subsets"].items():
        psnr, ssim = subset["psnr"], subset["ssim"]
        interval = f"{psnr['mean']:.2f} [{psnr['ci95'][0]:.2f}, {psnr['ci95'][1]:.2f}]"
        print(f"{name:<12}{interval:<28}{ssim['mean']:.4f}")
    train = metrics.get("train", {}).get("psnr")
    if train:
        print(f"{'train':<12}{train['mean']:.2f}")
    print(f"report: {folder / 'eval' / 'report.md'}")
    print(f"video:  {folder / 'orbit.mp4'}")


def _has_cuda() -> bool:
    try:
        import torch
    except ImportError:
        return False
    return bool(torch.cuda.is_available())
