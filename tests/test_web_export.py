"""export --format web: the player, in headless Chromium, draws what `avatar4d render` draws."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
from test_train_end_to_end import TINY
from test_train_synthetic import look_at, write_moving_blobs_dataset
from web_browser import capture_frame, find_chromium, serve

from avatar4d import cli
from avatar4d.errors import InputError
from avatar4d.model.deformation import SplineDeformation
from avatar4d.model.motions.nodes import NodeSettings
from avatar4d.model.motions.spline import SplineSettings
from avatar4d.model.shading import ShadedDeformation
from avatar4d.output.web_export import WEB_FILES, write_web_export
from avatar4d.output.web_package import check_exportable, dequantised_params, web_package
from avatar4d.raster.cameras import Cameras
from avatar4d.run.config import with_settings
from avatar4d.run.trained import load_trained_model
from avatar4d.train.trainer import train

SIZE = 256
FOV_DEG = 40.0
MOTIONS = {"spline": SplineSettings(), "nodes": NodeSettings(nodes=24)}
VIEWS = [(30.0, 10.0, 0.3), (200.0, -5.0, 0.8)]  # azimuth, elevation (degrees), time


@pytest.fixture(scope="module")
def dataset_root(tmp_path_factory):
    return write_moving_blobs_dataset(tmp_path_factory.mktemp("blobs") / "data")


@pytest.fixture(scope="module", params=sorted(MOTIONS))
def run(request, dataset_root, tmp_path_factory):
    """An initial model of each motion model (no training: the motion is set below)."""
    run = tmp_path_factory.mktemp("runs") / request.param
    config = with_settings(TINY, motion=MOTIONS[request.param])
    train(dataset_root, run, config, stop_after=0, quiet=True)
    return run


def moving(model, seed: int = 0):
    """The model with large random motion curves, so that posing is really exercised."""
    generator = torch.Generator().manual_seed(seed)
    for key, size in (
        ("motion_means", 0.15),
        ("motion_quats", 0.3),
        ("node_motion_means", 0.15),
        ("node_motion_quats", 0.3),
    ):
        if key in model.params:
            tensor = model.params[key]
            tensor += size * torch.randn(tensor.shape, generator=generator)
    return model


def camera(azimuth: float, elevation: float) -> np.ndarray:
    return np.asarray(look_at(azimuth, elevation), dtype=np.float64)


def reference_frame(model, c2w: np.ndarray, t: float) -> np.ndarray:
    """`avatar4d render`'s frame: the trained model through the reference rasteriser."""
    focal = 0.5 * SIZE / math.tan(math.radians(FOV_DEG) / 2)
    cameras = Cameras(
        torch.tensor(c2w, dtype=torch.float32), focal, focal, SIZE / 2, SIZE / 2, SIZE, SIZE
    )
    rgb = model.render(cameras, t, backend="reference").rgb[0].clamp(0, 1)
    return rgb.numpy().astype(np.float64)


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    return 10.0 * math.log10(1.0 / max(float(np.mean((a - b) ** 2)), 1e-12))


def test_browser_frame_matches_render(run, tmp_path):
    chromium = find_chromium()
    if chromium is None:
        pytest.skip("chromium not found (apt-get install chromium; scripts/setup.sh does)")
    model = moving(load_trained_model(run, device="cpu"))
    out = tmp_path / "web"
    out.mkdir()
    write_web_export(out, model.params, model.deformation, run.name, model.step, False)
    with serve(out) as url:
        for azimuth, elevation, t in VIEWS:
            c2w = camera(azimuth, elevation)
            drawn = capture_frame(chromium, url, c2w, FOV_DEG, SIZE, t, tmp_path / "profile")
            expected = reference_frame(model, c2w, t)
            still = reference_frame(model, c2w, 0.0 if t > 0.5 else 0.99)
            assert drawn.shape == expected.shape == (SIZE, SIZE, 3)
            assert (expected < 0.9).mean() > 0.01  # the avatar is in view
            assert psnr(drawn, expected) >= 30.0, (run.name, azimuth, t)
            # and the motion shows: another time is further from the drawn frame
            assert psnr(drawn, still) < psnr(drawn, expected) - 3.0
