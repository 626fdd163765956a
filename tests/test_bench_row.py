"""benchmarks/bench_row.py: a grid_bench JSON becomes one row of the results table."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def _bench_row():
    spec = importlib.util.spec_from_file_location("bench_row", BENCHMARKS / "bench_row.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_row_of_a_measured_result_and_appending_it(tmp_path):
    bench_row = _bench_row()
    path = BENCHMARKS / "results" / "soldier_walk_512_h200.json"
    result = json.loads(path.read_text())
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
    assert cells[14] == "-"  # no half-precision file in that run
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
