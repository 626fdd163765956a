"""GPU check of batched path rendering: same frames as one at a time, and frames/s per batch.

    python benchmarks/batched_render_check.py RUN_DIR [--frames 200]

Renders an orbit with time advancing at 512² and 1,024² with ``render_path(batch=B)`` for
B in 1, 4, 8, 16, 32, and compares every batched frame with the one-at-a-time frame.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from grid_bench import _orbit  # noqa: E402

from avatar4d.output.render_frames import render_path  # noqa: E402
from avatar4d.run.trained import load_trained_model  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path)
    parser.add_argument("--frames", type=int, default=200)
    args = parser.parse_args()
    model = load_trained_model(args.run)
    bounds_center, radius = model.spec.scene_center, model.spec.scene_radius
    worst = 0
    for size in (512, 1024):
        cameras, times = _orbit(bounds_center, radius, size, args.frames)
        render_path(model, cameras[:8], times[:8], batch=8)  # warm-up
        reference = render_path(model, cameras, times, batch=1)
        print(f"{size}²: batch 1: {reference.frames_per_second:.0f} frames/s")
        for batch in (4, 8, 16, 32):
            result = render_path(model, cameras, times, batch=batch)
            difference = max(
                int(np.abs(a.astype(int) - b.astype(int)).max())
                for a, b in zip(reference.frames, result.frames, strict=True)
            )
            worst = max(worst, difference)
            print(
                f"{size}²: batch {batch}: {result.frames_per_second:.0f} frames/s, "
                f"max |frame difference| {difference}/255"
            )
    print("agreement", "PASS" if worst <= 1 else "FAIL", f"(worst {worst}/255)")
    return 0 if worst <= 1 else 1


if __name__ == "__main__":
    raise SystemExit(main())
