"""A tiny synthetic 4D dataset for the training tests, and checks of the dataset itself.

Three coloured blobs of Gaussians move on circles (one loop over t in [0, 1)); the reference
rasteriser renders them into 24 x 24 RGBA images from 8 train cameras x 6 times, plus one
held-out camera (test split, every train time) whose first two frames are also the val split.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from avatar4d.data.dnerf import load_dataset
from avatar4d.raster.api import rasterize
from avatar4d.raster.cameras import Cameras

SIZE = 24
TRAIN_CAMERAS = 8
TIMES = 6
DISTANCE = 3.2
FOV_X = math.radians(45.0)
BLOB_COLORS = ((0.9, 0.2, 0.1), (0.1, 0.7, 0.2), (0.2, 0.3, 0.9))
GAUSSIANS_PER_BLOB = 30
HELD_OUT_AZIMUTH = 22.5
HELD_OUT_ELEVATION = 10.0


def look_at(azimuth_deg: float, elevation_deg: float, distance: float = DISTANCE) -> np.ndarray:
    """OpenGL camera-to-world for a camera on a sphere around the origin, looking at it."""
    az, el = math.radians(azimuth_deg), math.radians(elevation_deg)
    position = distance * np.array(
        [math.cos(el) * math.sin(az), math.sin(el), math.cos(el) * math.cos(az)]
    )
    back = position / np.linalg.norm(position)
    right = np.cross([0.0, 1.0, 0.0], back)
    right /= np.linalg.norm(right)
    c2w = np.eye(4)
    c2w[:3, 0], c2w[:3, 1], c2w[:3, 2], c2w[:3, 3] = right, np.cross(back, right), back, position
    return c2w


def blob_centre(k: int, t: float) -> torch.Tensor:
    """Blob k's centre at time t: each moves on its own circle, once per loop."""
    phase = 2.0 * math.pi * (t + k / 3.0)
    return torch.tensor(
        [
            0.25 * math.cos(phase),
            0.1 * math.sin(2 * phase) + 0.25 * (k - 1),
            0.25 * math.sin(phase),
        ]
    )


def blob_gaussians(t: float) -> dict[str, torch.Tensor]:
    """The scene at time t: each blob moves rigidly with its centre."""
    generator = torch.Generator().manual_seed(7)
    means, colors = [], []
    for k, color in enumerate(BLOB_COLORS):
        centre = blob_centre(k, t)
        means.append(centre + 0.12 * torch.randn(GAUSSIANS_PER_BLOB, 3, generator=generator))
        colors.append(torch.tensor(color).expand(GAUSSIANS_PER_BLOB, 3))
    count = len(BLOB_COLORS) * GAUSSIANS_PER_BLOB
    quats = torch.zeros(count, 4)
    quats[:, 0] = 1.0
    return {
        "means": torch.cat(means),
        "quats": quats,
        "scales": torch.full((count, 3), 0.07),
        "opacities": torch.full((count,), 0.9),
        "colors": torch.cat(colors),
    }


def focal() -> float:
    return 0.5 * SIZE / math.tan(0.5 * FOV_X)


def render_rgba(c2w: np.ndarray, t: float) -> np.ndarray:
    """(H, W, 4) uint8 straight-alpha image of the scene at time t."""
    cameras = Cameras(
        torch.tensor(c2w, dtype=torch.float32)[None],
        fl_x=focal(),
        fl_y=focal(),
        cx=SIZE / 2,
        cy=SIZE / 2,
        width=SIZE,
        height=SIZE,
    )
    g = blob_gaussians(t)
    out = rasterize(
        g["means"], g["quats"], g["scales"], g["opacities"], g["colors"], cameras, torch.zeros(3)
    )
    alpha = out.alpha[0]
    rgb = out.rgb[0] / alpha.clamp_min(1e-6)  # premultiplied (over black) -> straight
    rgba = torch.cat([rgb.clamp(0, 1), alpha], dim=-1)
    return (rgba.numpy() * 255.0 + 0.5).astype(np.uint8)


def _frame(root: Path, name: str, c2w: np.ndarray, t: float, camera: int, time_index: int, **extra):
    Image.fromarray(render_rgba(c2w, t), "RGBA").save(root / f"{name}.png")
    return {
        "file_path": f"./{name}",
        "transform_matrix": c2w.tolist(),
        "time": t,
        "camera_index": camera,
        "time_index": time_index,
        **extra,
    }


TRACK_POINTS_PER_BLOB = 4000
TRACK_BALL_RADIUS = 0.35  # about three times a blob's spread: the points cover it


def write_blob_tracks(path: Path) -> None:
    """Tracks of points filling a ball around each blob, moved with it, at each train time."""
    from safetensors.numpy import save_file

    generator = torch.Generator().manual_seed(11)
    directions = torch.randn(TRACK_POINTS_PER_BLOB, 3, generator=generator)
    directions = directions / directions.norm(dim=-1, keepdim=True)
    lengths = TRACK_BALL_RADIUS * torch.rand(TRACK_POINTS_PER_BLOB, 1, generator=generator) ** (
        1 / 3
    )
    offsets = directions * lengths
    times = [i / TIMES for i in range(TIMES)]
    positions = torch.stack(
        [torch.cat([blob_centre(k, t) + offsets for k in range(len(BLOB_COLORS))]) for t in times]
    )
    normals = directions.expand(len(times), len(BLOB_COLORS), -1, -1).reshape(len(times), -1, 3)
    tensors = {"times": np.asarray(times), "positions": positions.numpy()}
    save_file(tensors | {"normals": normals.numpy().astype(np.float16)}, str(path))


def write_moving_blobs_dataset(
    root: Path, with_scene: bool = True, with_tracks: bool = False
) -> Path:
    (root / "train").mkdir(parents=True)
    (root / "test").mkdir()
    train, test = [], []
    for i in range(TIMES):
        t = i / TIMES
        for c in range(TRAIN_CAMERAS):
            c2w = look_at(360.0 * c / TRAIN_CAMERAS, 15.0 if c % 2 else -5.0)
            train.append(_frame(root, f"train/c{c:02d}_t{i:03d}", c2w, t, c, i))
        c2w = look_at(HELD_OUT_AZIMUTH, HELD_OUT_ELEVATION)
        name = f"test/novel_view_c{TRAIN_CAMERAS:02d}_t{i:03d}"
        test.append(_frame(root, name, c2w, t, TRAIN_CAMERAS, i, subset="novel_view"))
    for split, frames in (("train", train), ("test", test), ("val", test[:2])):
        document = {"camera_angle_x": FOV_X, "frames": frames}
        (root / f"transforms_{split}.json").write_text(json.dumps(document))
    if with_scene:
        scene: dict = {
            "bounds": {"center": [0.0, 0.0, 0.0], "radius": 1.0},
            "source": {"loop": True},
        }
        if with_tracks:
            write_blob_tracks(root / "tracks.safetensors")
            scene["tracks"] = {"file": "tracks.safetensors"}
        (root / "scene.json").write_text(json.dumps(scene))
    return root


def test_synthetic_dataset_loads_with_moving_visible_blobs(tmp_path):
    dataset = load_dataset(write_moving_blobs_dataset(tmp_path / "data"))
    assert len(dataset.splits["train"]) == TRAIN_CAMERAS * TIMES
    assert len(dataset.splits["test"]) == TIMES
    first = np.asarray(Image.open(dataset.train[0].image_path))
    later = np.asarray(Image.open(dataset.train[TRAIN_CAMERAS * 2].image_path))  # t = 2/6, cam 0
    coverage = (first[..., 3] > 128).mean()
    assert 0.05 < coverage < 0.8  # the blobs are in view and do not fill the image
    assert np.abs(first.astype(int) - later.astype(int)).mean() > 5  # and they move
