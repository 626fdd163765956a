"""Time the node deformation against another version of it, on random Gaussians (GPU).

    git show 2bfeb3b:src/avatar4d/model/node_deformation.py > .exp/old_nodes.py
    python3 benchmarks/node_pose_speed.py .exp/old_nodes.py

Prints, for each version, the time to pose 8 times at once (``deform_many``) and to pose one
time with its backward pass, and the largest difference between the two versions' positions.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
from pathlib import Path

import torch

from avatar4d.model import node_deformation
from avatar4d.model.gaussians import make_params


def load_module(path: Path):
    spec = importlib.util.spec_from_file_location("other_node_deformation", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while being built
    spec.loader.exec_module(module)
    return module


def random_model(module, count: int, nodes: int, device: str):
    deformation = module.NodeDeformation(nodes, 4, 30, True)
    generator = torch.Generator().manual_seed(0)
    means = torch.randn(count, 3, generator=generator).to(device)
    tensors = {
        "means": means,
        "scales": (torch.randn(count, 3, generator=generator) - 3).to(device),
        "quats": torch.randn(count, 4, generator=generator).to(device),
        "opacities": torch.randn(count, generator=generator).to(device),
        "colors": torch.randn(count, 3, generator=generator).to(device),
        **deformation.init_motion(means),
    }
    for key in ("node_motion_means", "node_motion_quats"):
        tensors[key] = 0.1 * torch.randn(tensors[key].shape, generator=generator).to(device)
    return deformation, make_params(tensors)


def milliseconds(function, repeats: int = 20) -> float:
    function()
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    started = time.perf_counter()
    for _ in range(repeats):
        function()
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    return (time.perf_counter() - started) / repeats * 1000.0


def time_version(module, args, device: str, times: list[float]):
    deformation, params = random_model(module, args.gaussians, args.nodes, device)
    with torch.no_grad():
        pose_ms = milliseconds(lambda: deformation.deform_many(params, times))
        positions = deformation.deform_many(params, times).means

    def step() -> None:
        posed = deformation.deform(params, 0.3)
        (posed.means.sum() + posed.quats.sum()).backward()

    return pose_ms, milliseconds(step), positions


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("other", type=Path, help="another version of node_deformation.py")
    parser.add_argument("--gaussians", type=int, default=156_000)
    parser.add_argument("--nodes", type=int, default=2048)
    args = parser.parse_args()
    device = "cuda" if torch.cuda.is_available() else "cpu"
    times = [i / 8 for i in range(8)]
    positions = {}
    for name, module in (("other", load_module(args.other)), ("this", node_deformation)):
        pose_ms, step_ms, positions[name] = time_version(module, args, device, times)
        print(f"{name}: deform_many(8 times) {pose_ms:.2f} ms, deform+backward {step_ms:.2f} ms")
    difference = (positions["other"] - positions["this"]).abs().max()
    print(f"max |other - this| positions {float(difference):.3g}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
