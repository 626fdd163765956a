"""Turn an avatar4d grid dataset into the D-NeRF scene that 4DGaussians and Deformable-3DGS expect.

Both peers assume D-NeRF's scene scale: random initial points in [-1.3, 1.3]^3, and
4DGaussians bounds its deformation grid by that cloud. A grid's character sits wherever its
glTF put it (RobotExpressive: centre y = 2.3, bounds radius 3.1, cameras 11.1 away), so the
camera poses are moved and scaled (similarity about the bounds centre) until the bounds sphere
has radius --radius at the origin; with the default 1.2, cameras end up about 4.3 from the
origin (D-NeRF's are about 4.0). Rotations, intrinsics and images are unchanged, so what each
camera sees, and every score, is unchanged too. Depth maps and surface tracks are not carried
(the peers read neither).

    python benchmarks/peers/prepare_dataset.py GRID OUT [--radius 1.2]

Writes OUT/transforms_{train,val,test}.json, the train/ and test/ PNGs (hard links where the
file system allows, else copies) and OUT/prepared.json (source, centre, scale). Uses only the
standard library and numpy (no avatar4d import, no torch).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from pathlib import Path

import numpy as np

SPLITS = ("train", "val", "test")


class PrepareError(Exception):
    """A bad input: one line naming the file and the problem."""


def similarity(center: np.ndarray, radius: float, target_radius: float) -> tuple[np.ndarray, float]:
    """The shift and scale that map the bounds sphere (center, radius) to (0, target_radius)."""
    if not (np.isfinite(radius) and radius > 0):
        raise PrepareError(f"bounds radius {radius} is not a positive number")
    if not (np.isfinite(target_radius) and target_radius > 0):
        raise PrepareError(f"--radius {target_radius} is not a positive number")
    return -np.asarray(center, dtype=np.float64), target_radius / radius


def move_pose(matrix: list[list[float]], shift: np.ndarray, scale: float) -> list[list[float]]:
    """A camera-to-world matrix after the world moves by shift and then scales by scale."""
    pose = np.asarray(matrix, dtype=np.float64)
    if pose.shape != (4, 4) or not np.all(np.isfinite(pose)):
        raise PrepareError("transform_matrix is not a finite 4x4 matrix")
    out = pose.copy()
    out[:3, 3] = (pose[:3, 3] + shift) * scale
    return out.tolist()


def _read_json(path: Path) -> dict:
    try:
        with path.open() as f:
            return json.load(f)
    except FileNotFoundError:
        raise PrepareError(f"{path}: missing") from None
    except (OSError, json.JSONDecodeError) as e:
        raise PrepareError(f"{path}: not readable JSON ({e})") from None


def _link_or_copy(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def prepare(grid: Path, out: Path, target_radius: float = 1.2) -> dict:
    """Write the re-centred, re-scaled D-NeRF copy of grid into out; returns prepared.json."""
    scene = _read_json(grid / "scene.json")
    if scene.get("format") != "avatar4d-grid":
        raise PrepareError(
            f"{grid / 'scene.json'}: not an avatar4d grid (format {scene.get('format')!r})"
        )
    try:
        center = np.asarray(scene["bounds"]["center"], dtype=np.float64)
        radius = float(scene["bounds"]["radius"])
    except (KeyError, TypeError, ValueError):
        raise PrepareError(f"{grid / 'scene.json'}: no bounds centre and radius") from None
    if center.shape != (3,):
        raise PrepareError(f"{grid / 'scene.json'}: bounds centre is not 3 numbers")
    shift, scale = similarity(center, radius, target_radius)
    if out.exists() and any(out.iterdir()):
        raise PrepareError(f"{out}: exists and is not empty (choose another folder)")

    transforms = {split: _read_json(grid / f"transforms_{split}.json") for split in SPLITS}
    images: set[str] = set()
    for split, content in transforms.items():
        for i, frame in enumerate(content.get("frames", [])):
            try:
                frame["transform_matrix"] = move_pose(frame["transform_matrix"], shift, scale)
            except (PrepareError, KeyError, TypeError, ValueError) as e:
                raise PrepareError(f"{grid / f'transforms_{split}.json'}: frame {i}: {e}") from None
            images.add(frame["file_path"] + ".png")
    for name in sorted(images):
        src = (grid / name).resolve()
        if grid.resolve() not in src.parents or not src.is_file():
            raise PrepareError(f"{grid / name}: missing or outside the dataset")

    out.mkdir(parents=True, exist_ok=True)
    for name in sorted(images):
        _link_or_copy(grid / name, out / name)
    for split, content in transforms.items():
        (out / f"transforms_{split}.json").write_text(json.dumps(content, indent=1) + "\n")
    camera_distances = [
        float(np.linalg.norm(np.asarray(f["transform_matrix"])[:3, 3]))
        for f in transforms["train"]["frames"]
    ]
    record = {
        "source": str(grid.resolve()),
        "bounds_center": center.tolist(),
        "bounds_radius": radius,
        "scale": scale,
        "radius": target_radius,
        "pose": "t' = (t - bounds_center) * scale; rotations, intrinsics and images unchanged",
        "train_camera_distance": [min(camera_distances), max(camera_distances)]
        if camera_distances
        else None,
        "frames": {split: len(content.get("frames", [])) for split, content in transforms.items()},
    }
    (out / "prepared.json").write_text(json.dumps(record, indent=1) + "\n")
    return record


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("grid", type=Path, help="an avatar4d grid dataset folder")
    parser.add_argument("out", type=Path, help="output folder (absent or empty)")
    parser.add_argument(
        "--radius", type=float, default=1.2, help="bounds radius after scaling (default 1.2)"
    )
    args = parser.parse_args(argv)
    try:
        record = prepare(args.grid, args.out, args.radius)
    except PrepareError as e:
        print(f"prepare_dataset.py: {e}", file=sys.stderr)
        return 2
    lo, hi = record["train_camera_distance"] or (0.0, 0.0)
    print(
        f"{args.out}: {record['frames']} frames, scale {record['scale']:.4f}, "
        f"train cameras {lo:.3f} to {hi:.3f} from the origin"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
