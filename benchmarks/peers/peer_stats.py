"""Gaussian count and model size of a trained peer model folder, as one JSON line.

    python benchmarks/peers/peer_stats.py MODEL

MODEL is a peer's -m folder. The last saved iteration is the largest N in
MODEL/point_cloud/iteration_N; the count is the vertex count in that point_cloud.ply's header,
and the size is every file the peer saves for that iteration and loads to render: the
point_cloud/iteration_N folder (4DGaussians: point_cloud.ply and its deformation network
files) plus, for Deformable-3DGS, MODEL/deform/iteration_N (its deformation MLP).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path


def ply_vertex_count(path: Path) -> int:
    with path.open("rb") as f:
        for _ in range(200):
            line = f.readline().decode("ascii", "replace").strip()
            match = re.fullmatch(r"element vertex (\d+)", line)
            if match:
                return int(match.group(1))
            if line == "end_header" or not line:
                break
    raise ValueError(f"{path}: no 'element vertex' line in the PLY header")


def stats(model: Path) -> dict:
    iterations = [
        int(p.name.split("_")[1])
        for p in (model / "point_cloud").glob("iteration_*")
        if p.name.split("_")[1].isdigit()
    ]
    if not iterations:
        raise ValueError(f"{model / 'point_cloud'}: no iteration_N folder")
    n = max(iterations)
    folders = [model / "point_cloud" / f"iteration_{n}", model / "deform" / f"iteration_{n}"]
    files = [p for folder in folders if folder.is_dir() for p in folder.rglob("*") if p.is_file()]
    return {
        "iteration": n,
        "gaussians": ply_vertex_count(folders[0] / "point_cloud.ply"),
        "model_bytes": sum(p.stat().st_size for p in files),
        "model_files": sorted(str(p.relative_to(model)) for p in files),
    }


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: peer_stats.py MODEL", file=sys.stderr)
        return 2
    try:
        print(json.dumps(stats(Path(argv[0]))))
    except (OSError, ValueError) as e:
        print(f"peer_stats.py: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
