"""Where a training step's time goes: the top operators by GPU time and by host time.

Run on the GPU machine after a grid exists (e.g. from ``grid_bench.py --stages grid``)::

    python3 benchmarks/profile_train.py /tmp/w/grid --out /tmp/prof --set motion.nodes=2048

Trains ``--warmup`` steps of the GPU preset (so densification has grown the model), then
times ``--steps`` more without the profiler (mean wall-clock per step, synchronised at the
ends only) and profiles ``--profile-steps`` with torch.profiler. Prints both tables and the
mean step time; ``--json`` also writes them.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch
from torch.profiler import ProfilerActivity, profile

from avatar4d.run.presets import preset_config
from avatar4d.run.setting_assignments import with_assignments
from avatar4d.train.session import TrainingSession, start_session
from avatar4d.train.trainer import training_step


def _sync() -> None:
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def add_run_arguments(parser: argparse.ArgumentParser, warmup: int) -> None:
    """The grid, run folder, overrides, warm-up and window of a timing script."""
    parser.add_argument("grid", type=Path)
    parser.add_argument("--out", type=Path, required=True, help="run folder (replaced)")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE")
    parser.add_argument("--motion", default=None, help="motion model (default: the preset's)")
    parser.add_argument("--warmup", type=int, default=warmup)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--json", type=Path)


def warmed_session(args: argparse.Namespace) -> TrainingSession:
    """A new run of the GPU preset (with ``--set``) trained ``--warmup`` steps."""
    config = with_assignments(preset_config("gpu", args.motion), args.set)
    # Densification runs as in a real run; the schedule is the preset's.
    session = start_session(args.grid, args.out, config, resume=False, force=True, quiet=True)
    for step in range(args.warmup):
        training_step(session, step)
    return session


def write_result(path: Path | None, result: dict) -> None:
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(result, indent=2) + "\n")


def timed_steps(session: TrainingSession, first: int, count: int) -> float:
    """Mean milliseconds per step over ``count`` steps from ``first`` (synchronised at the
    ends only)."""
    _sync()
    start = time.perf_counter()
    for step in range(first, first + count):
        training_step(session, step)
    _sync()
    return (time.perf_counter() - start) * 1000.0 / count


def _top(events, key: str, count: int) -> list[dict]:
    rows = sorted(events, key=lambda e: getattr(e, key), reverse=True)[:count]
    return [
        {
            "name": e.key,
            "calls": e.count,
            "self_device_ms": e.self_device_time_total / 1000.0,
            "self_cpu_ms": e.self_cpu_time_total / 1000.0,
        }
        for e in rows
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_run_arguments(parser, warmup=3000)
    parser.add_argument("--profile-steps", type=int, default=50)
    args = parser.parse_args()

    session = warmed_session(args)
    base = args.warmup
    step_ms = timed_steps(session, base, args.steps)

    base += args.steps
    with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as profiler:
        for step in range(base, base + args.profile_steps):
            training_step(session, step)
        _sync()
    events = profiler.key_averages()
    launches = sum(e.count for e in events if e.key in ("cudaLaunchKernel", "cuLaunchKernel"))
    waits = sum(e.count for e in events if e.key == "cudaStreamSynchronize")
    by_device = _top(events, "self_device_time_total", 15)
    by_host = _top(events, "self_cpu_time_total", 15)
    result = {
        "settings": args.set,
        "motion": args.motion or "the preset's",
        "gaussians": len(session.params["means"]),
        "step_ms": step_ms,
        "profiled_steps": args.profile_steps,
        "kernel_launches_per_step": launches / args.profile_steps,
        "host_waits_per_step": waits / args.profile_steps,
        "top_by_device_time": by_device,
        "top_by_host_time": by_host,
    }
    print(f"{result['gaussians']} Gaussians, {step_ms:.2f} ms per step (mean of {args.steps})")
    print(
        f"{result['kernel_launches_per_step']:.0f} kernel launches and "
        f"{result['host_waits_per_step']:.1f} host waits per profiled step"
    )
    for title, rows in (("GPU time", by_device), ("host time", by_host)):
        print(f"top operators by self {title} over {args.profile_steps} steps:")
        for row in rows:
            print(
                f"  {row['self_device_ms']:9.1f} ms GPU {row['self_cpu_ms']:9.1f} ms host "
                f"{row['calls']:7d} calls  {row['name'][:70]}"
            )
    write_result(args.json, result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
