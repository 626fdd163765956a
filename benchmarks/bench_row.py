"""One markdown row per grid_bench JSON, appended to a results table (docs/benchmarks.md).

    python benchmarks/bench_row.py RESULT.json [...] --append docs/benchmarks.md

grid_bench.py calls ``append_rows`` itself with ``--docs``; on the GPU machine the repository
is a copy, so the usual way is to bring the JSON back and run this script here.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

HEADER = (
    "| character | res | commit | GPU | novel_view | novel_time | novel_both | fg PSNR min "
    "| SSIM min | train | FPS 512² | FPS 1024² | MP4 500 x 1024² | model fp32 | model fp16 "
    "| command |\n"
    "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
)
TABLE_TITLE = "## Rows written by benchmarks/grid_bench.py"


def _number(value: object, pattern: str) -> str:
    return pattern.format(value) if isinstance(value, (int, float)) else "-"


def row_markdown(result: dict) -> str:
    """The row of one grid_bench result; '-' for whatever the run did not measure."""
    subsets = result.get("eval", {}).get("subsets", {})

    def psnr(name: str) -> str:
        return _number(subsets.get(name, {}).get("psnr", {}).get("mean"), "{:.2f}")

    fg = [s["fg_psnr"]["mean"] for s in subsets.values() if "fg_psnr" in s]
    ssim = [s["ssim"]["mean"] for s in subsets.values() if "ssim" in s]
    fps = result.get("render_fps", {})
    size = result.get("model_size_mb", {})
    cells = [
        f"{Path(result.get('asset', '?')).stem} {result.get('clip', '')}",
        f"{result.get('res', '-')}²",
        f"`{str(result.get('git_commit', '?'))[:7]}`",
        str(result.get("gpu", "-")),
        psnr("novel_view"),
        psnr("novel_time"),
        psnr("novel_both"),
        _number(min(fg) if fg else None, "{:.2f}"),
        _number(min(ssim) if ssim else None, "{:.4f}"),
        _number(result.get("train", {}).get("seconds"), "{:.0f} s"),
        _number(fps.get("512"), "{:,.0f}"),
        _number(fps.get("1024"), "{:,.0f}"),
        _number(result.get("orbit_mp4_1024_seconds"), "{:.2f} s"),
        _number(size.get("parameters_fp32"), "{:.1f} MB"),
        _number(size.get("parameters_fp16_file"), "{:.1f} MB"),
        f"`{result.get('command', '-')}`",
    ]
    return "| " + " | ".join(cells) + " |"


def append_rows(results: list[dict], table_file: Path) -> None:
    """Append the rows to the table at the end of ``table_file`` (created when missing)."""
    text = table_file.read_text(encoding="utf-8") if table_file.exists() else ""
    if TABLE_TITLE not in text:
        text = text.rstrip("\n") + f"\n\n{TABLE_TITLE}\n\n{HEADER}\n"
    text = text.rstrip("\n") + "\n" + "\n".join(row_markdown(r) for r in results) + "\n"
    temp = table_file.with_name(table_file.name + ".tmp")
    temp.write_text(text, encoding="utf-8")
    temp.replace(table_file)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", type=Path, nargs="+", help="grid_bench JSON files")
    parser.add_argument("--append", type=Path, help="markdown file to append the rows to")
    args = parser.parse_args(argv)
    results = [json.loads(path.read_text(encoding="utf-8")) for path in args.results]
    if args.append:
        append_rows(results, args.append)
    else:
        print("\n".join(row_markdown(result) for result in results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
