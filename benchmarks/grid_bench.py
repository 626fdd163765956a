"""Grid-24x60 benchmark: grid -> train -> eval -> render speed, one JSON of measured numbers.

Run on the GPU machine, e.g.::

    python benchmarks/grid_bench.py ../shared/assets/Soldier.glb --clip Walk --work /tmp/bench \
        --json out/soldier_walk.json

Each stage is skipped when its output already exists in --work (so a benchmark can be split
over several calls); the JSON says which stages ran in this process. Training wall-clock is
dataset on disk -> final checkpoint, and the one-time CUDA compile of gsplat is measured
separately (a warm-up render before training starts).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import subprocess
import sys
import time
from pathlib import Path

import torch
from bench_row import append_rows

from avatar4d import __version__
from avatar4d.capture.grid_plan import ClipTimes
from avatar4d.capture.grid_writer import GridClips, write_grid
from avatar4d.capture.rig import camera_distance
from avatar4d.capture.rig_settings import RigSettings
from avatar4d.data.dnerf import load_dataset
from avatar4d.evaluate.results import metrics_json_dict
from avatar4d.evaluate.run_eval import evaluate_model
from avatar4d.output.camera_paths import orbit_path
from avatar4d.output.half_precision import load_half_precision, save_half_precision
from avatar4d.output.render_frames import render_path
from avatar4d.output.time_mapping import time_mapping
from avatar4d.output.video import Mp4Writer
from avatar4d.run.config_file import config_to_dict
from avatar4d.run.presets import preset_config
from avatar4d.run.setting_assignments import with_assignments
from avatar4d.run.trained import load_trained_model
from avatar4d.train.trainer import train


def _save(result: dict, path: Path) -> None:
    """Write the results so far (after every stage: a later failure keeps them)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2) + "\n")


def _git_commit() -> str:
    import os

    if os.environ.get("AVATAR4D_COMMIT"):
        return os.environ["AVATAR4D_COMMIT"]
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True)
        commit = out.stdout.strip()
        return commit if len(commit) == 40 else "unknown"
    except OSError:
        return "unknown"


def _cuda_compile_seconds() -> float | None:
    """Time of the first gsplat call (JIT compile or load of its CUDA extension)."""
    if not torch.cuda.is_available():
        return None
    from avatar4d.raster.api import rasterize
    from avatar4d.raster.cameras import Cameras

    started = time.perf_counter()
    device = torch.device("cuda")
    c2w = torch.eye(4, device=device)[None]
    c2w[0, 2, 3] = 3.0
    cameras = Cameras(c2w, fl_x=32.0, fl_y=32.0, cx=16.0, cy=16.0, width=32, height=32)
    rasterize(
        torch.zeros(1, 3, device=device),
        torch.tensor([[1.0, 0, 0, 0]], device=device),
        torch.full((1, 3), 0.1, device=device),
        torch.ones(1, device=device),
        torch.ones(1, 3, device=device),
        cameras,
        torch.ones(3, device=device),
    )
    torch.cuda.synchronize()
    return time.perf_counter() - started


def _orbit(center, radius, size: int, frames: int):
    """The grid's framing (sphere at 80 % of the height), 15 deg up, time looping once."""
    distance = camera_distance(radius, 40.0, 0.8)
    return orbit_path(center, distance, 15.0, frames, 40.0, size, size), time_mapping(
        "loop", frames
    )


def _render_fps(model, center, radius, size: int, frames: int) -> float:
    cameras, times = _orbit(center, radius, size, frames)
    render_path(model, cameras[:5], times[:5])  # warm-up
    return render_path(model, cameras, times).frames_per_second


def _orbit_video_seconds(model, center, radius, path: Path, size: int, frames: int) -> float:
    started = time.perf_counter()
    rendered = render_path(model, *_orbit(center, radius, size, frames))
    with Mp4Writer(path, 30.0, force=True) as video:
        for frame in rendered.frames:
            video.write(frame)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("asset", type=Path)
    parser.add_argument(
        "--clip", required=True, action="append", help="train clip (repeat for several)"
    )
    parser.add_argument(
        "--novel-clip", action="append", default=[], help="a clip of the novel_pose subset"
    )
    parser.add_argument("--train-times", type=int, default=60, help="per train clip")
    parser.add_argument("--novel-times", type=int, default=12, help="per clip")
    parser.add_argument("--work", type=Path, required=True, help="folder for grid and run")
    parser.add_argument("--json", type=Path, required=True, help="where to write the results")
    parser.add_argument("--res", type=int, default=512)
    parser.add_argument("--steps", type=int, default=None, help="training steps (GPU preset)")
    parser.add_argument("--stages", default="grid,train,eval,speed")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="override a training setting of the preset, e.g. --set grow_grad2d=1e-4 or "
        "--set motion.nodes=512",
    )
    parser.add_argument(
        "--motion", default=None, help="motion model (default: the preset's), e.g. spline"
    )
    parser.add_argument("--run-name", default="run", help="run folder name inside --work")
    parser.add_argument("--video-frames", type=int, default=500)
    parser.add_argument("--fps-frames", type=int, default=200)
    parser.add_argument(
        "--docs", type=Path, help="also append the result's row to this markdown file"
    )
    args = parser.parse_args()
    stages = set(args.stages.split(","))
    grid_dir, run_dir = args.work / "grid", args.work / args.run_name
    result: dict = {
        "asset": args.asset.name,
        "clip": "+".join(args.clip),
        "novel_clips": args.novel_clip,
        "res": args.res,
        "git_commit": _git_commit(),
        "avatar4d": __version__,
        "gpu": torch.cuda.get_device_name() if torch.cuda.is_available() else "none (CPU)",
        "torch": torch.__version__,
        "stages_run": [],
        "command": "python3 benchmarks/grid_bench.py " + " ".join(sys.argv[1:]),
    }

    if "grid" in stages and not (grid_dir / "scene.json").exists():
        settings = RigSettings(  # Grid-24x60 by default
            width=args.res,
            height=args.res,
            train_times=args.train_times,
            novel_times=args.novel_times,
        )
        clips = GridClips(
            [ClipTimes(name, args.train_times, args.novel_times) for name in args.clip],
            [ClipTimes(name, 0, args.novel_times) for name in args.novel_clip],
        )
        summary = write_grid(args.asset, args.clip[0], grid_dir, settings, clips=clips)
        result["grid"] = {
            "images": summary.images,
            "seconds": summary.seconds,
            "images_per_second": summary.images_per_second,
            "gl_renderer": summary.gl_renderer,
        }
        result["stages_run"].append("grid")
        _save(result, args.json)

    if "train" in stages:
        result["cuda_compile_seconds"] = _cuda_compile_seconds()
        preset = "gpu" if torch.cuda.is_available() else "cpu"
        config = preset_config(preset, args.motion)
        if args.steps is not None:
            config.steps = args.steps
        try:
            config = with_assignments(config, args.set)
        except ValueError as error:
            raise SystemExit(f"--set {error}") from None
        result["config"] = config_to_dict(config)
        if torch.cuda.is_available():
            torch.cuda.reset_peak_memory_stats()
        trained = train(grid_dir, run_dir, config, force=True, quiet=True)
        result["train"] = {
            "steps": trained.steps,
            "seconds": trained.seconds,
            "gaussians": trained.num_gaussians,
            "last_val_psnr": trained.last_val_psnr,
            "peak_gpu_memory_gb": torch.cuda.max_memory_allocated() / 1e9
            if torch.cuda.is_available()
            else None,
        }
        checkpoint = trained.checkpoint.with_suffix(".safetensors")
        result["model_size_mb"] = {
            "checkpoint_with_optimiser": checkpoint.stat().st_size / 1e6,
            "parameters_fp32": sum(
                v.numel() for v in load_trained_model(run_dir, device="cpu").params.values()
            )
            * 4
            / 1e6,
        }
        result["stages_run"].append("train")
        _save(result, args.json)

    if not stages & {"eval", "speed"}:
        _save(result, args.json)
        return 0
    model = load_trained_model(run_dir)
    dataset = load_dataset(grid_dir)
    if "eval" in stages:
        started = time.perf_counter()
        evaluation = evaluate_model(model, dataset)
        result["eval"] = metrics_json_dict(evaluation.result)
        result["eval_seconds"] = time.perf_counter() - started
        # The same model stored in half precision: its size on disk and its own metrics.
        half_path = save_half_precision(
            model.params, run_dir / "model_fp16.safetensors", model.spec.full_precision_keys, True
        )
        half_model = dataclasses.replace(
            model, params=load_half_precision(half_path, device=model.device)
        )
        result.setdefault("model_size_mb", {})["parameters_fp16_file"] = (
            half_path.stat().st_size / 1e6
        )
        result["eval_fp16"] = metrics_json_dict(evaluate_model(half_model, dataset).result)
        result["stages_run"].append("eval")
        _save(result, args.json)

    if "speed" in stages:
        center, radius = dataset.bounds.center, dataset.bounds.radius
        result["render_fps"] = {
            str(size): _render_fps(model, center, radius, size, args.fps_frames)
            for size in (512, 1024)
        }
        video = args.work / "orbit_1024.mp4"
        result["orbit_mp4_1024_seconds"] = _orbit_video_seconds(
            model, center, radius, video, 1024, args.video_frames
        )
        result["orbit_mp4_frames"] = args.video_frames
        result["stages_run"].append("speed")

    _save(result, args.json)
    if args.docs:
        append_rows([result], args.docs)
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
