"""benchmarks/bench_row.py: a grid_bench JSON becomes one row of the results table."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def _subset(psnr: float, fg: float, ssim: float) -> dict:
    return {"psnr": {"mean": psnr}, "fg_psnr": {"mean": fg}, "ssim": {"mean": ssim}}


# The shape grid_bench.py writes (numbers of the Soldier run at ba26ae3).
RESULT = {
    "asset": "Soldier.glb",
    "clip": "Walk",
    "res": 512,
    "git_commit": "ba26ae3848b945041de17e135c7e33b1e4271c71",
    "gpu": "NVIDIA H200",
    "eval": {
        "subsets": {
            "novel_view": _subset(33.278749, 23.309226, 0.989238),
            "novel_time": _subset(33.14, 21.63, 0.9845),
            "novel_both": _subset(31.58, 21.9, 0.984),
        }
    },
    "train": {"seconds": 125.23},
    "render_fps": {"512": 3132.03, "1024": 2776.2},
    "orbit_mp4_1024_seconds": 3.461,
    "model_size_mb": {"parameters_fp32": 87.876992},
    "command": "python3 benchmarks/grid_bench.py .assets/Soldier.glb --clip Walk",
}


def _bench_row():
    spec = importlib.util.spec_from_file_location("bench_row", BENCHMARKS / "bench_row.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_row_of_a_measured_result_and_appending_it(tmp_path):
    bench_row = _bench_row()
    result = json.loads(json.dumps(RESULT))
    row = bench_row.row_markdown(result)
    cells = [cell.strip() for cell in row.strip("|").split("|")]
    assert cells[:7] == [
        "Soldier Walk",
        "512²",
        "`ba26ae3`",
        "NVIDIA H200",
        "33.28",
        "33.14",
        "31.58",
    ]
    assert cells[7] == "21.63" and cells[9] == "125 s" and cells[10] == "3,132"
    assert cells[13] == "87.9 MB" and cells[14] == "-"  # no half-precision file in that run
    table = tmp_path / "benchmarks.md"
    table.write_text("# Results\n\nsome text\n")
    bench_row.append_rows([result], table)
    bench_row.append_rows([result], table)
    text = table.read_text()
    assert text.startswith("# Results\n\nsome text\n")
    assert text.count(bench_row.TABLE_TITLE) == 1 and text.count(row) == 2
    assert text.endswith(row + "\n")


def test_unmeasured_cells_are_dashes():
    row = _bench_row().row_markdown({"asset": "x.glb", "clip": "Idle"})
    cells = [cell.strip() for cell in row.strip("|").split("|")]
    assert cells[0] == "x Idle" and cells[4:15] == ["-"] * 11
