"""Timing of the rig model's geometry: posing a character's mesh, triangle frames, embedding.

    python benchmarks/rig_geometry_timing.py [ASSET.glb ...] [--device cpu|cuda]

Without assets: the built-in demo character and, when found, the shared Soldier and
RobotExpressive (``AVATAR4D_SHARED_ASSETS`` or ../shared/assets). For each asset: posing one
frame and 60 frames of its first clip (numpy, CPU). Then triangle frames for 60 poses of a
~50k-triangle mesh (the demo character's mesh four times over, each copy moved) and embedding
200k Gaussians at 4 of those poses with a backward pass, on ``--device``.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from avatar4d.asset.demo.character import write_demo_character
from avatar4d.asset.loader import load_asset
from avatar4d.asset.rig_mesh import RigPoser, embeddable_faces
from avatar4d.model.mesh_embedding import embed, initial_embedding
from avatar4d.model.triangle_frames import triangle_frames

REPEATS = 5


def _best(function, device: str) -> float:
    """Fastest of REPEATS runs, seconds (after one warm-up run)."""
    function()
    times = []
    for _ in range(REPEATS):
        if device == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        function()
        if device == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return min(times)


def pose_timings(path: Path) -> RigPoser:
    poser = RigPoser(load_asset(path))
    clip, duration = next(iter(poser.mesh.clips.items()))
    one = _best(lambda: poser.pose(clip, [0.37 * duration]), "cpu")
    sixty = _best(lambda: poser.pose(clip, np.linspace(0.0, duration, 60)), "cpu")
    print(
        f"{path.name} clip {clip}: {poser.mesh.vertex_count:,} vertices, "
        f"{len(poser.mesh.faces):,} faces; pose 1 frame {one * 1e3:.1f} ms, "
        f"60 frames {sixty * 1e3:.0f} ms"
    )
    return poser


def frame_timings(poser: RigPoser, device: str) -> None:
    clip, duration = next(iter(poser.mesh.clips.items()))
    posed = torch.from_numpy(poser.pose(clip, np.linspace(0.0, duration, 60)))
    copies = 4
    shift = torch.arange(copies, dtype=torch.float32)[:, None, None, None] * 2.0
    vertices = (posed[None] + shift * torch.tensor([1.0, 0, 0])).permute(1, 0, 2, 3)
    vertices = vertices.reshape(60, -1, 3).to(device)  # the copies side by side
    count = poser.mesh.vertex_count
    faces = torch.cat([torch.from_numpy(poser.mesh.faces) + k * count for k in range(copies)])
    faces = faces.to(device)
    seconds = _best(lambda: triangle_frames(vertices, faces), device)
    print(
        f"triangle_frames on {device}: 60 poses x {len(faces):,} triangles "
        f"{seconds * 1e3:.0f} ms ({seconds / 60 * 1e3:.1f} ms a pose)"
    )
    frames = triangle_frames(vertices, faces)
    embeddable = torch.from_numpy(
        np.tile(embeddable_faces(poser.mesh, poser.pose(clip, [0.0])[0]), copies)
    ).to(device)
    start = initial_embedding(vertices[0], faces, embeddable, 200_000, seed=0)
    params = {
        name: getattr(start, name).clone().requires_grad_()
        for name in ("bary_logits", "offsets", "quats", "log_scales")
    }
    chosen = torch.tensor([3, 17, 31, 45], device=device)

    def step() -> None:
        placed = embed(vertices[chosen], faces, start.face, **params, frames=frames.select(chosen))
        (placed.means.sum() + placed.quats.sum() + placed.log_scales.sum()).backward()

    seconds = _best(step, device)
    print(
        f"embed + backward on {device}: 200,000 Gaussians x 4 poses (frames cached) "
        f"{seconds * 1e3:.0f} ms"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("assets", type=Path, nargs="*")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    print(f"torch threads {torch.get_num_threads()}, cpu count {os.cpu_count()}")
    with tempfile.TemporaryDirectory() as folder:
        demo = write_demo_character(Path(folder) / "demo.glb")
        assets = args.assets or [demo, *_shared_assets()]
        posers = [pose_timings(path) for path in assets]
    frame_timings(posers[0], args.device)
    return 0


def _shared_assets() -> list[Path]:
    root = Path(__file__).resolve().parents[1]
    shared = Path(os.environ.get("AVATAR4D_SHARED_ASSETS") or root.parent / "shared" / "assets")
    return [
        shared / name
        for name in ("Soldier.glb", "RobotExpressive.glb")
        if (shared / name).is_file()
    ]


if __name__ == "__main__":
    raise SystemExit(main())
