"""Copy a peer's test renders into the layout `avatar4d eval --renders` reads.

    python benchmarks/peers/collect_renders.py RENDERS DATA OUT

Both peers' render.py write the i-th test camera of transforms_test.json, in file order, as
RENDERS/{i:05d}.png (RGB on the white background they trained with); check_readers.py shows
that their readers keep that order. This writes it as OUT/<file_path>.png, the name
`eval --renders OUT DATA` expects. Refuses (one line, exit 2) a folder whose PNGs are not
exactly 00000.png .. {n-1:05d}.png for DATA's n test frames, and an OUT that is not empty.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path


def collect(renders: Path, data: Path, out: Path) -> int:
    """Copy renders/{i:05d}.png to out/<frame i's file_path>.png; returns the number copied."""
    frames = json.loads((data / "transforms_test.json").read_text())["frames"]
    expected = [f"{i:05d}.png" for i in range(len(frames))]
    found = sorted(p.name for p in renders.glob("*.png"))
    if found != expected:
        extra = sorted(set(found) - set(expected))[:3]
        missing = sorted(set(expected) - set(found))[:3]
        raise ValueError(
            f"{renders}: {len(found)} PNGs for {len(frames)} test frames "
            f"(missing {missing or 'none'}, unexpected {extra or 'none'})"
        )
    if out.exists() and any(out.iterdir()):
        raise ValueError(f"{out}: exists and is not empty")
    for name, frame in zip(expected, frames, strict=True):
        target = out / (frame["file_path"] + ".png")
        if out.resolve() not in target.resolve().parents:
            raise ValueError(f"{data / 'transforms_test.json'}: {frame['file_path']} leaves {out}")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(renders / name, target)
    return len(frames)


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    renders, data, out = (Path(a) for a in argv)
    try:
        n = collect(renders, data, out)
    except (OSError, ValueError, KeyError) as e:
        print(f"collect_renders.py: {e}", file=sys.stderr)
        return 2
    print(f"{n} renders -> {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
