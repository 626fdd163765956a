"""Render FPS of a trained peer model, measured as avatar4d's grid_bench.py measures its own.

Run from inside the peer's source folder (benchmarks/peers/.src/<peer>), on the GPU machine:

    python ../../peer_fps.py 4DGaussians -m MODEL --configs arguments/dnerf/avatar4d_grid.py
    python ../../peer_fps.py Deformable-3D-Gaussians -m MODEL

Like grid_bench.py: the deformation at each frame's time is included, nothing is written or
copied to the host, 5 frames are rendered first as a warm-up, and the clock stops after
torch.cuda.synchronize(). Unlike it, the frames are the dataset's test cameras (288 of them,
512² on Grid-24x60) rather than an orbit, because the peers' renderers take their own camera
objects. Prints one JSON line: {"peer", "frames", "seconds", "fps", "width", "height"}.
"""

from __future__ import annotations

import json
import sys
import time
from argparse import ArgumentParser


def _timed(render_one, views) -> float:  # noqa: ANN001
    import torch

    for view in views[:5]:
        render_one(view)
    torch.cuda.synchronize()
    started = time.perf_counter()
    for view in views:
        render_one(view)
    torch.cuda.synchronize()
    return time.perf_counter() - started


def fps_4dgaussians(argv: list[str]) -> dict:
    import torch
    from arguments import ModelHiddenParams, ModelParams, PipelineParams, get_combined_args
    from gaussian_renderer import GaussianModel, render
    from scene import Scene
    from utils.config_loader import load_config  # our patch's stand-in for mmcv.Config
    from utils.params_utils import merge_hparams

    parser = ArgumentParser()
    model, pipeline = ModelParams(parser, sentinel=True), PipelineParams(parser)
    hidden = ModelHiddenParams(parser)
    parser.add_argument("--configs", type=str)
    sys.argv = [sys.argv[0], *argv]
    args = get_combined_args(parser)
    if args.configs:
        args = merge_hparams(args, load_config(args.configs))
    dataset, hyper, pipe = model.extract(args), hidden.extract(args), pipeline.extract(args)
    with torch.no_grad():
        gaussians = GaussianModel(dataset.sh_degree, hyper)
        scene = Scene(dataset, gaussians, load_iteration=-1, shuffle=False)
        background = torch.tensor([1.0, 1.0, 1.0], device="cuda")
        views = [scene.getTestCameras()[i] for i in range(len(scene.getTestCameras()))]

        def one(view) -> None:  # noqa: ANN001
            render(view, gaussians, pipe, background, cam_type=scene.dataset_type)

        seconds = _timed(one, views)
    return {"frames": len(views), "seconds": seconds, "width": views[0].image_width,
            "height": views[0].image_height}  # fmt: skip


def fps_deformable(argv: list[str]) -> dict:
    import torch
    from arguments import ModelParams, PipelineParams, get_combined_args
    from gaussian_renderer import render
    from scene import DeformModel, GaussianModel, Scene

    parser = ArgumentParser()
    model, pipeline = ModelParams(parser, sentinel=True), PipelineParams(parser)
    sys.argv = [sys.argv[0], *argv]
    args = get_combined_args(parser)
    dataset, pipe = model.extract(args), pipeline.extract(args)
    with torch.no_grad():
        gaussians = GaussianModel(dataset.sh_degree)
        scene = Scene(dataset, gaussians, load_iteration=-1, shuffle=False)
        deform = DeformModel(dataset.is_blender, dataset.is_6dof)
        deform.load_weights(dataset.model_path)
        background = torch.tensor([1.0, 1.0, 1.0], device="cuda")
        views = scene.getTestCameras()

        def one(view) -> None:  # noqa: ANN001
            xyz = gaussians.get_xyz
            time_input = view.fid.unsqueeze(0).expand(xyz.shape[0], -1)
            d_xyz, d_rotation, d_scaling = deform.step(xyz.detach(), time_input)
            render(view, gaussians, pipe, background, d_xyz, d_rotation, d_scaling, dataset.is_6dof)

        seconds = _timed(one, views)
    return {"frames": len(views), "seconds": seconds, "width": views[0].image_width,
            "height": views[0].image_height}  # fmt: skip


def main() -> int:
    if len(sys.argv) < 2 or sys.argv[1] not in ("4DGaussians", "Deformable-3D-Gaussians"):
        print("usage: peer_fps.py 4DGaussians|Deformable-3D-Gaussians ARGS...", file=sys.stderr)
        return 2
    peer, argv = sys.argv[1], sys.argv[2:]
    result = fps_4dgaussians(argv) if peer == "4DGaussians" else fps_deformable(argv)
    result = {"peer": peer, **result, "fps": result["frames"] / result["seconds"]}
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
