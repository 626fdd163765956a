"""The clean inputs the fuzz test corrupts: a GLB, a tiny grid dataset and a stopped run.

Built once (a few seconds on a CPU): the built-in demo character, a small hand-made skinned
GLB (cheap enough to corrupt often), a 16-pixel grid of the demo character
(8 train cameras x 3 times, with depth maps and surface tracks) and a run trained 4 of its 6
steps, with two checkpoints, so that ``train --resume`` has steps left to do.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from gltf_handmade import HandmadeGltf

from avatar4d.asset.demo.character import write_demo_character
from avatar4d.cli import main
from avatar4d.run.config import TrainConfig, with_settings
from avatar4d.train.trainer import train

CLIP = "wave"
GRID_RES = "16"
TINY_GRID = [  # what the fuzzed GLBs are rendered to: 3 cameras x 3 times
    *("--clip", CLIP, "--res", GRID_RES, "--samples", "1"),
    *("--train-azimuths", "0", "120", "240", "--train-elevations", "10"),
    *("--novel-azimuths", "60", "--novel-elevations", "0"),
    *("--train-times", "3", "--novel-times", "1", "--track-points", "16"),
]
CLEAN_GRID = [  # the clean dataset: 8 cameras x 3 times, enough to pass check --strict
    *("--clip", CLIP, "--res", GRID_RES, "--samples", "1"),
    *("--train-azimuths", "0", "90", "180", "270", "--train-elevations", "-10", "30"),
    *("--novel-azimuths", "45", "--novel-elevations", "10"),
    *("--train-times", "3", "--novel-times", "1", "--track-points", "16"),
]
TINY_TRAIN = [
    *("--preset", "cpu", "--device", "cpu", "--quiet", "--init-points", "100"),
    *("--init-hull-resolution", "16", "--val-every", "2", "--val-images", "1"),
    *("--checkpoint-every", "2"),
]
RUN_STEPS, RUN_STOPPED_AT = 6, 4


@dataclass(frozen=True)
class CleanInputs:
    glb: Path  # the built-in demo character (588 KB, three clips: asset info takes ~1.5 s)
    small_glb: Path  # a hand-made skinned strip with one clip (1 KB: ~50 ms)
    dataset: Path
    run: Path

    # Files a mutation picks from (relative path -> weight).

    def dataset_files(self) -> dict[str, float]:
        return {
            "transforms_train.json": 3.0,
            "transforms_test.json": 1.5,
            "transforms_val.json": 0.5,
            "scene.json": 2.0,
            "tracks.safetensors": 2.0,
            "train/c00_t000.png": 1.5,
            "test/novel_view_c08_t000.png": 0.5,
            first_depth_map(self.dataset): 1.0,
        }

    def run_files(self) -> dict[str, float]:
        step = f"checkpoints/step_{RUN_STOPPED_AT:06d}"
        return {
            "config.yml": 3.0,
            "checkpoints/latest.json": 1.0,
            f"{step}.json": 3.0,
            f"{step}.safetensors": 3.0,
            f"checkpoints/step_{RUN_STOPPED_AT // 2:06d}.json": 0.5,
        }


def write_small_skinned_glb(path: Path) -> Path:
    """A four-triangle strip on two joints; clip ``wave`` bends the upper joint by 90 deg."""
    gltf = HandmadeGltf()
    positions = np.array(
        [[0, 0, 0], [0.4, 0, 0], [0, 1, 0], [0.4, 1, 0], [0, 2, 0], [0.4, 2, 0]], np.float32
    )
    lower, upper = [1, 0, 0, 0], [0, 1, 0, 0]
    material = gltf.add("materials", {"pbrMetallicRoughness": {"baseColorFactor": [1, 0.5, 0, 1]}})
    mesh = gltf.triangle_mesh(
        positions,
        [0, 1, 2, 1, 3, 2, 2, 3, 4, 3, 5, 4],
        name="strip",
        NORMAL=gltf.accessor(np.tile(np.float32([0, 0, 1]), (6, 1))),
        JOINTS_0=gltf.accessor(np.array([lower, lower, upper, upper, upper, upper], np.uint8)),
        WEIGHTS_0=gltf.accessor(np.array([[1, 0, 0, 0]] * 2 + [[0, 1, 0, 0]] * 4, np.float32)),
    )
    gltf.doc["meshes"][mesh]["primitives"][0]["material"] = material
    upper_joint = gltf.node(name="upper", translation=[0, 1, 0])
    lower_joint = gltf.node(name="lower", children=[upper_joint])
    inverse_bind = np.stack([np.eye(4), np.eye(4)])
    inverse_bind[1, :3, 3] = [0, -1, 0]
    gltf.doc["skins"] = [
        {
            "joints": [lower_joint, upper_joint],
            "inverseBindMatrices": gltf.accessor(
                inverse_bind.transpose(0, 2, 1).reshape(2, 16).astype(np.float32), "MAT4"
            ),
        }
    ]
    body = gltf.node(mesh=mesh, skin=0, name="body")
    gltf.scene(lower_joint, body)
    half = np.sqrt(0.5)
    turns = np.array([[0, 0, 0, 1], [0, 0, half, half], [0, 0, 0, 1]], np.float32)
    gltf.animation(upper_joint, "rotation", [0, 0.5, 1], turns, name=CLIP)
    return gltf.write_glb(path)


def first_depth_map(dataset: Path) -> str:
    return sorted(p.relative_to(dataset).as_posix() for p in dataset.glob("depth/**/*.png"))[0]


def build_clean_inputs(folder: Path) -> CleanInputs:
    """Write the three clean inputs under ``folder`` (quietly; raises if any step fails)."""
    folder.mkdir(parents=True, exist_ok=True)
    glb = write_demo_character(folder / "demo.glb")
    small_glb = write_small_skinned_glb(folder / "small.glb")
    dataset = folder / "data"
    if main(["grid", str(glb), "--out", str(dataset), *CLEAN_GRID]) != 0:
        raise RuntimeError("the clean tiny grid could not be written")
    run = folder / "run"
    config = with_settings(
        TrainConfig(),
        steps=RUN_STEPS,
        device="cpu",
        init_points=100,
        init_hull_resolution=16,
        val_every=2,
        val_images=1,
        checkpoint_every=2,
    )
    train(dataset, run, config, quiet=True, stop_after=RUN_STOPPED_AT)
    return CleanInputs(glb, small_glb, dataset, run)
