"""Print one line per grid_bench JSON: PSNR and foreground PSNR per subset, train, time."""

from __future__ import annotations

import json
import sys
from pathlib import Path


def line(path: Path) -> str:
    result = json.loads(path.read_text())
    if "eval" not in result:
        return f"{path.stem}: no eval"
    subsets = result["eval"]["subsets"]
    cells = []
    for name, metrics in subsets.items():
        psnr = metrics["psnr"]["mean"]
        fg = metrics.get("fg_psnr", {}).get("mean", float("nan"))
        cells.append(f"{name} {psnr:.2f}/{fg:.2f}")
    train = result["eval"]["train"]["psnr"]["mean"]
    seconds = result.get("train", {}).get("seconds", float("nan"))
    gaussians = result.get("train", {}).get("gaussians", 0)
    text = f"{path.stem}: {' | '.join(cells)} | train {train:.2f} | {seconds:.0f} s | {gaussians} G"
    if "render_fps" in result:
        fps = result["render_fps"]
        text += f" | {fps['512']:.0f}/{fps['1024']:.0f} FPS"
    if "model_size_mb" in result:
        text += f" | {result['model_size_mb']['parameters_fp16_file']:.1f} MB fp16"
    return text


if __name__ == "__main__":
    for argument in sys.argv[1:]:
        if Path(argument).stem != "grid":
            print(line(Path(argument)))
