"""What the web export of a rig run costs against the model's own exact posing: PSNR (on
white) of frames posed as the player poses them (output/web_rig_pose.py: the decoded mesh,
the sampled clip poses blended linearly) against the model's frames, both rendered by the
reference rasteriser from orbit cameras, on the trained timeline and performing every clip.

    PYTHONPATH=src python benchmarks/web_rig_cost.py RUN [--size 256] [--views 4]

One cost at a time (the rest float32 and exact), then the export as written; and the size of
avatar.bin at each pose rate.
"""

from __future__ import annotations

import argparse
import math
import sys
from dataclasses import replace

import numpy as np
import torch
from web_player_check import orbit  # the same orbit cameras (benchmarks/ is on the path)

from avatar4d.model.rig_deformation import RigDeformation
from avatar4d.output.web_package import dequantised_params, read_array, web_package
from avatar4d.output.web_rig import POSE_RATE
from avatar4d.output.web_rig_pose import PackagedRig
from avatar4d.raster.cameras import Cameras
from avatar4d.run.trained import load_trained_model

FOV_DEG = 40.0
GOLDEN = (math.sqrt(5) - 1) / 2  # times that fall anywhere between pose samples


def psnr(a: torch.Tensor, b: torch.Tensor) -> float:
    return 10.0 * math.log10(1.0 / max(float((a - b).square().mean()), 1e-12))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run")
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--views", type=int, default=4, help="orbit cameras per clip")
    args = parser.parse_args()
    model = load_trained_model(args.run, device="cpu")
    rig = model.deformation
    if not isinstance(rig, RigDeformation):  # a lambert run: the costs below would be unlit
        sys.exit(f"web_rig_cost.py: {args.run}: needs a run of --motion rig --shading static")
    asset = rig.poser.asset
    centre = np.asarray(model.spec.scene_center)
    distance = 1.1 * model.spec.scene_radius / math.tan(math.radians(FOV_DEG) / 2)
    focal = 0.5 * args.size / math.tan(math.radians(FOV_DEG) / 2)
    shots = []  # (clip or None, camera, t)
    for clip in [None, *rig.poser.mesh.clips]:
        for k in range(args.views):
            c2w = orbit(centre, distance, 360.0 * k / args.views + 20.0, 10.0 + 10.0 * (k % 2))
            shots.append((clip, c2w, ((len(shots) + 1) * GOLDEN) % 1.0))

    def packaged(**options) -> tuple[dict, bytes, PackagedRig]:
        header, blob = web_package(model.params, rig, "rig", **options)
        return header, blob, PackagedRig(header, lambda name: read_array(header, blob, name))

    def render(params: dict, deformation, clip, c2w, t) -> torch.Tensor:
        posed = deformation if clip is None else deformation.performing(clip)
        cameras = Cameras(
            torch.tensor(c2w, dtype=torch.float32),
            focal, focal, args.size / 2, args.size / 2, args.size, args.size,
        )  # fmt: skip
        out = replace(model, params=params, deformation=posed)
        return out.render(cameras, t, backend="reference").rgb[0].clamp(0, 1)

    reference = [render(model.params, rig, *shot) for shot in shots]
    header, blob, player = packaged()
    floats = model.params
    decoded = dequantised_params(header, blob, floats)
    exact_mesh_poses = PackagedRig(header, player.read, exact=asset)
    rows = {"canonical Gaussians (8/16 bits)": (decoded, rig)}
    rows["mesh (16 bits), exact poses"] = (floats, exact_mesh_poses)
    for rate in (10.0, POSE_RATE, 60.0):
        *_, sampled = packaged(rate=rate, pose_bits=None, mesh_bits=None)
        rows[f"poses sampled at {rate:g}/s (float32), blended"] = (floats, sampled)
    *_, sampled16 = packaged(mesh_bits=None)
    rows[f"poses at {POSE_RATE:g}/s in 16 bits, blended"] = (floats, sampled16)
    rows["all: the export"] = (decoded, player)
    print(
        f"rig model, {model.num_gaussians:,} Gaussians, step {model.step}; {len(shots)} frames "
        f"at {args.size}^2 (timeline and {len(rig.poser.mesh.clips)} clips x {args.views} views)"
    )
    for label, (params, deformation) in rows.items():
        values = [
            psnr(render(params, deformation, *shot), expected)
            for shot, expected in zip(shots, reference, strict=True)
        ]
        print(f"{label:<46} {np.mean(values):6.2f} dB (min {np.min(values):.2f})")
    sizes = {name: info for name, info in header["arrays"].items()}
    rig_bytes = sum(
        math.prod(info["shape"]) * {"f32": 4, "u32": 4, "u16": 2, "q16": 2, "q8": 1}[info["type"]]
        for name, info in sizes.items()
        if name.startswith("rig_") or name == "face"
    )
    print(f"avatar.bin {len(blob) / 1e6:.3f} MB, of which the rig (mesh, poses, faces) "
          f"{rig_bytes / 1e6:.3f} MB")  # fmt: skip
    for rate in (10.0, POSE_RATE, 60.0):
        header, blob = web_package(model.params, rig, "rig", rate=rate)
        poses = header["arrays"]["rig_poses"]["shape"]
        print(f"pose rate {rate:g}/s: {poses[0]} poses of {poses[1]} numbers, "
              f"avatar.bin {len(blob) / 1e6:.3f} MB")  # fmt: skip


if __name__ == "__main__":
    main()
