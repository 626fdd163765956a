"""export --format web: the player, in headless Chromium, draws what `avatar4d render` draws."""

from __future__ import annotations

import json
import math
import os
import re
import signal
import subprocess
import sys
import urllib.request
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from cli_output import one_error_line
from test_train_end_to_end import TINY
from test_train_synthetic import look_at, write_moving_blobs_dataset
from web_browser import capture_frame, find_chromium, serve

from avatar4d.cli import main
from avatar4d.errors import InputError
from avatar4d.model.deformation import SplineDeformation
from avatar4d.model.motions.nodes import NodeSettings
from avatar4d.model.motions.spline import SplineSettings
from avatar4d.model.shading import LIGHT_KEY, NORMALS_KEY, ShadedDeformation, initial_light
from avatar4d.output.web_export import WEB_FILES, write_web_export
from avatar4d.output.web_package import check_exportable, dequantised_params, web_package
from avatar4d.raster.cameras import Cameras
from avatar4d.run.config import with_settings
from avatar4d.run.trained import load_trained_model
from avatar4d.train.trainer import train

SOURCES = str(Path(__file__).resolve().parents[1] / "src")
SIZE = 256
FOV_DEG = 40.0
# the node model with a per-Gaussian residual, so that the player's residual is drawn too
MOTIONS = {"spline": SplineSettings(), "nodes": NodeSettings(nodes=24, residual_points=4)}
VIEWS = [(30.0, 10.0, 0.3), (200.0, -5.0, 0.8)]  # azimuth, elevation (degrees), time


@pytest.fixture(scope="module")
def dataset_root(tmp_path_factory):
    return write_moving_blobs_dataset(tmp_path_factory.mktemp("blobs") / "data")


@pytest.fixture(scope="module", params=sorted(MOTIONS))
def lambert_run(request, dataset_root, tmp_path_factory):
    """An initial model of each motion model with --shading lambert."""
    run = tmp_path_factory.mktemp("lambert") / request.param
    config = with_settings(TINY, motion=MOTIONS[request.param], shading="lambert")
    train(dataset_root, run, config, stop_after=0, quiet=True)
    return run


@pytest.fixture(scope="module", params=sorted(MOTIONS))
def run(request, dataset_root, tmp_path_factory):
    """An initial model of each motion model (no training: the motion is set below)."""
    run = tmp_path_factory.mktemp("runs") / request.param
    config = with_settings(TINY, motion=MOTIONS[request.param])
    train(dataset_root, run, config, stop_after=0, quiet=True)
    return run


# A light from the upper front right, a little warmer on red, at most about 1 (the initial
# light is 1 everywhere: no shading at all).
LIGHT = [
    [0.60, 0.25, 0.30, 0.15, 0.05, 0.00, 0.05, 0.05, 0.00],
    [0.55, 0.20, 0.30, 0.20, 0.00, 0.05, 0.00, 0.05, 0.03],
    [0.50, 0.15, 0.30, 0.25, 0.05, 0.00, 0.00, 0.00, 0.05],
]


def lit(model):
    """The lambert model under LIGHT, its normals turned a little at random."""
    generator = torch.Generator().manual_seed(0)
    normals = model.params[NORMALS_KEY]
    model.params[NORMALS_KEY] = normals + 0.2 * torch.randn(normals.shape, generator=generator)
    model.params[LIGHT_KEY] = torch.tensor(LIGHT, dtype=torch.float32)
    return model


def unlit(model):
    """The same model with the shading switched off (a light of 1 in every direction)."""
    light = initial_light(model.params[LIGHT_KEY])
    return replace(model, params=dict(model.params, **{LIGHT_KEY: light}))


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
        for view, (azimuth, elevation, t) in enumerate(VIEWS):
            c2w = camera(azimuth, elevation)
            drawn = capture_frame(chromium, url, c2w, FOV_DEG, SIZE, t, tmp_path / "profile")
            expected = reference_frame(model, c2w, t)
            still = reference_frame(model, c2w, 0.0 if t > 0.5 else 0.99)
            assert drawn.shape == expected.shape == (SIZE, SIZE, 3)
            assert (expected < 0.9).mean() > 0.01  # the avatar is in view
            assert psnr(drawn, expected) >= 30.0, (run.name, azimuth, t)
            # and the motion shows: another time is further from the drawn frame
            assert psnr(drawn, still) < psnr(drawn, expected) - 3.0
            if view == 0:  # the CPU path (?posing=cpu) draws the same frame
                on_cpu = capture_frame(
                    chromium, url, c2w, FOV_DEG, SIZE, t, tmp_path / "profile", posing="cpu"
                )
                assert psnr(on_cpu, expected) >= 30.0, (run.name, "cpu")
                assert psnr(on_cpu, drawn) >= 60.0, (run.name, psnr(on_cpu, drawn))


def test_browser_shades_a_lambert_run(lambert_run, tmp_path):
    """The turning normals' light, on the GPU and the CPU path (the rig's: in
    test_web_export_rig.py)."""
    chromium = find_chromium()
    if chromium is None:
        pytest.skip("chromium not found (apt-get install chromium; scripts/setup.sh does)")
    model = lit(moving(load_trained_model(lambert_run, device="cpu")))
    out = tmp_path / "web"
    out.mkdir()
    write_web_export(out, model.params, model.deformation, lambert_run.name, model.step, False)
    azimuth, elevation, t = VIEWS[1]
    c2w = camera(azimuth, elevation)
    with serve(out) as url:
        drawn = capture_frame(chromium, url, c2w, FOV_DEG, SIZE, t, tmp_path / "profile")
        on_cpu = capture_frame(
            chromium, url, c2w, FOV_DEG, SIZE, t, tmp_path / "profile", posing="cpu"
        )
    expected = reference_frame(model, c2w, t)
    shaded, ignored = psnr(drawn, expected), psnr(drawn, reference_frame(unlit(model), c2w, t))
    print(f"lambert {lambert_run.name}: gpu {shaded:.2f} dB, unlit {ignored:.2f} dB")
    assert shaded >= 30.0 and psnr(on_cpu, expected) >= 30.0, (lambert_run.name, shaded)
    assert psnr(on_cpu, drawn) >= 60.0, psnr(on_cpu, drawn)
    assert ignored < shaded - 5.0, (lambert_run.name, ignored)


def test_export_web_command_writes_the_player_and_refuses_to_overwrite(run, tmp_path, capsys):
    out = tmp_path / "web"
    assert main(["export", str(run), "--format", "web", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert f"{run.name} motion" in printed and str(out) in printed
    assert sorted(p.name for p in out.iterdir()) == sorted([*WEB_FILES, ".avatar4d-manifest.json"])
    header = json.loads((out / "avatar.json").read_text())
    model = load_trained_model(run, device="cpu")
    assert header["motion"]["name"] == run.name
    assert header["count"] == model.num_gaussians and header["step"] == model.step
    assert (out / "avatar.bin").stat().st_size == header_end(header)
    html = (out / "index.html").read_text()
    assert "http://" not in html and "https://" not in html  # nothing from the internet

    assert main(["export", str(run), "--format", "web", "--out", str(out)]) == 2
    assert "use --force to replace it" in one_error_line(capsys)
    (out / "avatar.bin").write_bytes(b"stale")
    assert main(["export", str(run), "--format", "web", "--out", str(out), "--force"]) == 0
    assert (out / "avatar.bin").stat().st_size == header_end(header)


def header_end(header: dict) -> int:
    """Where the last array of avatar.bin ends (4-byte aligned)."""
    sizes = {"f32": 4, "u32": 4, "u16": 2, "q16": 2, "q8": 1}
    ends = [
        info["offset"] + math.prod(info["shape"]) * sizes[info["type"]]
        for info in header["arrays"].values()
    ]
    return max(ends) + (-max(ends) % 4)


def test_quantisation_costs_little_and_saves_most_bytes(run):
    """The model decoded from the file renders within 35 dB of the float32 one."""
    model = moving(load_trained_model(run, device="cpu"), seed=1)
    header, blob = web_package(model.params, model.deformation, run.name)
    sizes = {"q16": 2, "q8": 1}
    canonical = ("means", "log_scales", "quats", "rgb", "opacity")
    stored = sum(
        math.prod(header["arrays"][k]["shape"]) * sizes[header["arrays"][k]["type"]]
        for k in canonical
    )
    assert stored == 17 * model.num_gaussians  # 6 + 3 + 4 + 3 + 1 bytes, not 14 float32s
    decoded = load_trained_model(run, device="cpu")
    decoded.params = dequantised_params(header, blob, model.params)
    for azimuth, elevation, t in VIEWS:
        c2w = camera(azimuth, elevation)
        cost = psnr(reference_frame(decoded, c2w, t), reference_frame(model, c2w, t))
        assert 35.0 <= cost < 100.0  # close, and not the same numbers (they were quantised)


@pytest.mark.parametrize("deformation", [object(), ShadedDeformation(object())])
def test_models_the_player_cannot_play_are_refused_in_one_line(deformation):
    with pytest.raises(InputError) as refused:
        check_exportable(deformation, "hexplane")
    message = str(refused.value)
    assert "the 'hexplane' motion model of this run" in message
    assert "--motion spline, nodes or rig (--shading static or lambert)" in message
    assert "\n" not in message
    check_exportable(ShadedDeformation(SplineDeformation(4, True)), "spline")  # lit: plays


def test_view_serves_the_player_on_localhost_until_stopped(run):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([SOURCES, os.environ.get("PYTHONPATH", "")])}
    command = [sys.executable, "-m", "avatar4d.cli", "view", str(run), "--port", "0"]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env) as view:
        try:
            line = view.stdout.readline()
            url = re.search(r"at (http://127\.0\.0\.1:\d+/) \(Ctrl-C stops\)", line).group(1)
            page = urllib.request.urlopen(url, timeout=10).read().decode()
            header = json.loads(urllib.request.urlopen(url + "avatar.json", timeout=10).read())
        finally:
            view.send_signal(signal.SIGTERM)  # SIGINT is ignored in background jobs
        assert view.wait(timeout=30) == 0
    assert '<script type="module">' in page
    assert header["motion"]["name"] == run.name


def test_view_refuses_a_bad_port_in_one_line(run, capsys):
    assert main(["view", str(run), "--port", "70000"]) == 2
    assert "--port" in one_error_line(capsys)
