"""Diagnostic: a grid cut down to one time, to measure the static ceiling of the trainer.

    python benchmarks/one_time_subset.py GRID OUT --time-index 0

OUT holds copies of the train frames (and their depth maps) at that time and of the
novel-view test frames at that time (the val split is those test frames too); no surface
tracks, since nothing moves. Training
and evaluating on OUT shows how well the Gaussians and densification alone do, with no
motion to learn, so a gap to the full run is the cost of the motion.
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path


def subset(frames: list[dict], time_index: int, subset_name: str | None) -> list[dict]:
    return [
        frame
        for frame in frames
        if frame.get("time_index") == time_index
        and (subset_name is None or frame.get("subset") == subset_name)
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("grid", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--time-index", type=int, default=0)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=False)
    splits = {}
    for split in ("train", "test"):
        data = json.loads((args.grid / f"transforms_{split}.json").read_text())
        wanted = "novel_view" if split == "test" else None
        data["frames"] = subset(data["frames"], args.time_index, wanted)
        if not data["frames"]:
            raise SystemExit(f"{args.grid}: no {split} frames at time index {args.time_index}")
        splits[split] = data
        for frame in data["frames"]:
            files = [Path(frame["file_path"] + ".png")]
            if "depth_file_path" in frame:
                files.append(Path(frame["depth_file_path"]))
            for name in files:
                (args.out / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(args.grid / name, args.out / name)
    splits["val"] = splits["test"]
    for split, data in splits.items():
        (args.out / f"transforms_{split}.json").write_text(json.dumps(data, indent=1))
    scene = json.loads((args.grid / "scene.json").read_text())
    scene.setdefault("source", {})["loop"] = False
    scene.pop("tracks", None)  # one time: no motion to track
    (args.out / "scene.json").write_text(json.dumps(scene, indent=1))
    counts = {split: len(data["frames"]) for split, data in splits.items()}
    print(f"{args.out}: {counts} frames at time index {args.time_index}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
