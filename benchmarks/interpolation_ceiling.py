"""How well can anything trained on the 60 train times predict the novel times? A ceiling.

For the Grid-24x60 novel_time frames (train cameras, times half-way between train times)
this renders the character posed by interpolating every vertex between the train times
instead of by the clip itself, and scores it against the true pose (whole-image and
foreground PSNR, as ``avatar4d eval``):

- ``cubic``: each vertex's position (and normal) by cubic interpolation of the four nearest
  train times (a smooth per-point trajectory: what a per-Gaussian or per-node motion spline
  can at best recover, with perfect appearance);
- ``joints``: the skeleton's local translations, rotations (quaternions, signs aligned,
  renormalised), scales and morph weights by the same cubic interpolation, then skinned: a
  motion that turns parts about their joints between train times (what a model with a
  skeleton, or nodes that turn about the right pivots, could at best recover);
- ``nearest``: the pose of the nearest train time (no motion between train times);
- ``static_shading``: the true pose, but every vertex shaded with its normal averaged over
  the train times, as a colour that does not change over time would have it (the lights are
  fixed in the world, so a turning limb's true shading changes): the ceiling of the model's
  time-invariant colours, apart from the motion.

It also reports the vertices' motion between consecutive train times and the cubic
interpolation's error in pixels. CPU is enough (the grid's OpenGL renderer)::

    python benchmarks/interpolation_ceiling.py ../shared/assets/Soldier.glb --clip Walk
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
from pathlib import Path

import numpy as np
import torch

from avatar4d.asset.loader import load_asset
from avatar4d.asset.posed_mesh import PosedMesh
from avatar4d.asset.scene_graph import NodePose
from avatar4d.capture.gl_renderer import GroundTruthRenderer
from avatar4d.capture.grid_plan import plan_grid
from avatar4d.capture.grid_writer import dataset_bounds
from avatar4d.capture.rig import build_rig, camera_distance
from avatar4d.capture.rig_settings import RigSettings
from avatar4d.evaluate.metrics import foreground_psnr, psnr

CUBIC_WEIGHTS = (-1.0 / 16, 9.0 / 16, 9.0 / 16, -1.0 / 16)  # half-way, from t-1, t, t+1, t+2


def blend_meshes(meshes: list[PosedMesh], weights: tuple[float, ...]) -> PosedMesh:
    """Positions and normals as the weighted sum of the meshes' (same topology)."""
    parts = []
    for index, part in enumerate(meshes[0].parts):
        positions = sum(w * m.parts[index].positions for w, m in zip(weights, meshes, strict=True))
        normals = sum(w * m.parts[index].normals for w, m in zip(weights, meshes, strict=True))
        normals = normals / np.linalg.norm(normals, axis=1, keepdims=True).clip(1e-8)
        parts.append(
            dataclasses.replace(
                part, positions=positions.astype(np.float32), normals=normals.astype(np.float32)
            )
        )
    return PosedMesh(parts=parts)


def blend_node_poses(poses: list[NodePose], weights: tuple[float, ...]) -> NodePose:
    """Every node's local TRS and morph weights as the weighted sum of the poses'; rotations
    sign-aligned to the second pose (the interval's start) and renormalised."""
    reference = poses[1].rotations
    rotations = []
    for pose in poses:
        sign = np.where((pose.rotations * reference).sum(axis=1, keepdims=True) < 0, -1.0, 1.0)
        rotations.append(pose.rotations * sign)
    rotation = sum(w * r for w, r in zip(weights, rotations, strict=True))
    rotation = rotation / np.linalg.norm(rotation, axis=1, keepdims=True).clip(1e-12)
    morphs = {
        node: sum(w * pose.weights[node] for w, pose in zip(weights, poses, strict=True))
        for node in poses[0].weights
    }
    return NodePose(
        translations=sum(w * p.translations for w, p in zip(weights, poses, strict=True)),
        rotations=rotation,
        scales=sum(w * p.scales for w, p in zip(weights, poses, strict=True)),
        trs_animated=poses[0].trs_animated.copy(),
        weights=morphs,
    )


def with_normals(mesh: PosedMesh, normals: list[np.ndarray]) -> PosedMesh:
    parts = [
        dataclasses.replace(part, normals=normals[index].astype(np.float32))
        for index, part in enumerate(mesh.parts)
    ]
    return PosedMesh(parts=parts)


def mean_normals(meshes: list[PosedMesh]) -> list[np.ndarray]:
    """Each vertex's normal averaged over the meshes (same topology), unit length."""
    means = []
    for index in range(len(meshes[0].parts)):
        total = sum(mesh.parts[index].normals for mesh in meshes)
        means.append(total / np.linalg.norm(total, axis=1, keepdims=True).clip(1e-8))
    return means


def to_tensor(rgba: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(rgba.astype(np.float32) / 255.0)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("asset", type=Path)
    parser.add_argument("--clip", required=True)
    parser.add_argument("--res", type=int, default=512)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    asset = load_asset(args.asset)
    clip = asset.find_clip(args.clip)
    settings = RigSettings(width=args.res, height=args.res)
    center, radius = dataset_bounds(asset, clip, settings)
    train_cameras, novel_cameras = build_rig(settings, center, radius)
    plan = plan_grid(train_cameras, novel_cameras, settings.train_times, settings.novel_times)
    count = settings.train_times

    def seconds_at_index(i: int) -> float:
        return ((i % count) / count) * clip.duration

    def pose_at_index(i: int) -> PosedMesh:
        return asset.pose(clip.name, seconds_at_index(i))

    frames = [f for f in plan.test if f.subset == "novel_time"]
    scores: dict[str, dict[str, list[float]]] = {
        name: {"psnr": [], "fg_psnr": []}
        for name in ("cubic", "joints", "nearest", "static_shading")
    }
    averaged_normals = mean_normals([pose_at_index(i) for i in range(count)])
    # World units to pixels at the distance of the bounds' centre, for a sense of scale.
    distance = camera_distance(radius, settings.fov_y_deg, settings.sphere_fraction)
    pixel_scale = 0.5 * args.res / (distance * math.tan(math.radians(settings.fov_y_deg) / 2.0))
    motion_px, cubic_error_px, joints_error_px = [], [], []
    with GroundTruthRenderer(args.res, args.res, settings.samples) as renderer:
        for time_index in sorted({f.time_index for f in frames}):
            t = plan.time_of(time_index)
            lower = math.floor(t * count)
            node_poses = [
                asset.node_pose(clip.name, seconds_at_index(lower + d)) for d in (-1, 0, 1, 2)
            ]
            neighbours = [asset.pose_from_nodes(node_pose) for node_pose in node_poses]
            truth = asset.pose(clip.name, t * clip.duration)
            joints = asset.pose_from_nodes(blend_node_poses(node_poses, CUBIC_WEIGHTS))
            poses = {
                "cubic": blend_meshes(neighbours, CUBIC_WEIGHTS),
                "joints": joints,
                "nearest": neighbours[1],
                "static_shading": with_normals(truth, averaged_normals),
            }
            step = neighbours[2].all_positions() - neighbours[1].all_positions()
            error = poses["cubic"].all_positions() - truth.all_positions()
            joint_error = joints.all_positions() - truth.all_positions()
            motion_px.append(np.linalg.norm(step, axis=1))
            cubic_error_px.append(np.linalg.norm(error, axis=1))
            joints_error_px.append(np.linalg.norm(joint_error, axis=1))
            for frame in (f for f in frames if f.time_index == time_index):
                gt = to_tensor(renderer.render(truth, frame.camera))
                for name, mesh in poses.items():
                    guess = to_tensor(renderer.render(mesh, frame.camera))
                    scores[name]["psnr"].append(psnr(guess, gt))
                    scores[name]["fg_psnr"].append(foreground_psnr(guess, gt))

    motion = np.concatenate(motion_px) * pixel_scale
    error = np.concatenate(cubic_error_px) * pixel_scale
    joints_error = np.concatenate(joints_error_px) * pixel_scale
    result = {
        "asset": args.asset.name,
        "clip": clip.name,
        "res": args.res,
        "images": len(frames),
        "vertex_motion_px": {"mean": float(motion.mean()), "p99": float(np.percentile(motion, 99))},
        "cubic_error_px": {"mean": float(error.mean()), "p99": float(np.percentile(error, 99))},
        "joints_error_px": {
            "mean": float(joints_error.mean()),
            "p99": float(np.percentile(joints_error, 99)),
        },
    }
    for name, values in scores.items():
        result[name] = {key: float(np.mean(v)) for key, v in values.items()}
    print(json.dumps(result, indent=1))
    if args.json:
        args.json.write_text(json.dumps(result, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
