"""What the web export's quantisation costs: PSNR (on white) of the model decoded from
avatar.bin against the float32 model, both rendered by the reference rasteriser at the
dataset's test cameras and times; each quantised group alone, then all of them.

    PYTHONPATH=src python benchmarks/web_quantisation_cost.py RUN [--frames 16]

Also prints the export's size and each model's PSNR against the ground truth.
"""

from __future__ import annotations

import argparse
import math

import numpy as np
import torch

from avatar4d.data.dnerf import load_dataset, load_image_rgba
from avatar4d.output.web_package import dequantised_params, web_package
from avatar4d.raster.cameras import Cameras
from avatar4d.run.trained import load_trained_model

GROUPS = {
    "positions (16 bit)": ("means",),
    "log scales (8 bit)": ("scales",),
    "rotations (8 bit)": ("quats",),
    "colours (8 bit)": ("colors",),
    "opacities (8 bit)": ("opacities",),
    "motion curves (16 bit)": (
        "motion_means", "motion_quats", "node_motion_means", "node_motion_quats",
    ),
}  # fmt: skip


def psnr(a: torch.Tensor, b: torch.Tensor) -> float:
    return 10.0 * math.log10(1.0 / max(float((a - b).square().mean()), 1e-12))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run")
    parser.add_argument("--frames", type=int, default=16, help="test frames used (evenly)")
    args = parser.parse_args()
    model = load_trained_model(args.run, device="cpu")
    header, blob = web_package(model.params, model.deformation, model.spec.motion.name)
    decoded = dequantised_params(header, blob, model.params)
    frames = load_dataset(model.dataset_root).splits["test"]
    frames = [frames[i] for i in np.linspace(0, len(frames) - 1, args.frames).astype(int)]
    floats = model.params

    def render(params: dict, frame) -> torch.Tensor:
        model.params = params
        out = model.render(Cameras.from_frames([frame]), frame.time or 0.0, backend="reference")
        return out.rgb[0].clamp(0, 1)

    def truth(frame) -> torch.Tensor:
        rgba = torch.from_numpy(load_image_rgba(frame).copy()).float() / 255.0
        return rgba[..., :3] * rgba[..., 3:] + (1 - rgba[..., 3:])

    reference = [render(floats, f) for f in frames]
    print(f"{model.spec.motion.name} model, {model.num_gaussians:,} Gaussians, step {model.step}")
    print(
        f"avatar.bin: {len(blob) / 1e6:.3f} MB "
        f"({len(blob) / model.num_gaussians:.1f} B per Gaussian)"
    )
    for label, keys in [*GROUPS.items(), ("all (the export)", tuple(decoded))]:
        params = {k: decoded[k] if k in keys else v for k, v in floats.items()}
        if params is floats or all(params[k] is floats[k] for k in floats):
            continue
        values = [psnr(render(params, f), r) for f, r in zip(frames, reference, strict=True)]
        print(f"{label:<40} {np.mean(values):6.2f} dB (min {np.min(values):.2f}) vs float32")
    for label, params in (("float32", floats), ("decoded", decoded)):
        values = [psnr(render(params, f), truth(f)) for f in frames]
        print(f"{label} model vs ground truth: {np.mean(values):.2f} dB")


if __name__ == "__main__":
    main()
