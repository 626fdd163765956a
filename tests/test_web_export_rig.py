"""export --format web of the mesh-driven model (--motion rig): the package carries the
character's mesh and every clip's poses; the player, in headless Chromium, draws what
`avatar4d render` (and `render --clip`) draws."""

from __future__ import annotations

import json
import math
import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from test_train_end_to_end import TINY
from test_train_synthetic import look_at
from test_web_export import FOV_DEG, SIZE, lit, psnr, unlit
from web_browser import capture_frame, dump_dom, find_chromium, serve

from avatar4d.asset.demo.character import write_demo_character
from avatar4d.asset.loader import load_asset
from avatar4d.cli import main
from avatar4d.errors import InputError
from avatar4d.model.motions.rig import RigSettings
from avatar4d.model.shading import LIGHT_KEY, NORMALS_KEY, ShadedDeformation
from avatar4d.output import web_rig
from avatar4d.output.web_export import write_web_export
from avatar4d.output.web_package import (
    check_exportable,
    dequantised_params,
    read_array,
    web_package,
)
from avatar4d.output.web_rig import (
    POSE_RATE,
    clip_samples,
    ends_join,
    largest_step,
    pose_vector,
    sample_count,
    skinned,
)
from avatar4d.output.web_rig_pose import PackagedRig
from avatar4d.raster.cameras import Cameras
from avatar4d.run.config import with_settings
from avatar4d.run.trained import load_trained_model
from avatar4d.train.trainer import train

GRID = [
    "--clip", "wave", "--res", "16", "--train-times", "3", "--novel-times", "1",
    "--train-azimuths", "0", "120", "240", "--train-elevations", "10",
    "--novel-azimuths", "60", "--novel-elevations", "20", "--track-points", "200",
]  # fmt: skip
UNTRAINED_CLIP = "walk"


@pytest.fixture(scope="module")
def grid(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("rigweb")
    glb = write_demo_character(folder / "demo.glb")
    assert main(["grid", str(glb), "--out", str(folder / "grid"), *GRID]) == 0
    return folder / "grid"


def rig_run(grid: Path, run: Path, residual: int = 0, shading: str = "static") -> Path:
    """An initial rig model (no training): Gaussians on the mesh, moved by it."""
    motion = RigSettings(residual_points=residual)
    config = with_settings(TINY, init_points=1500, motion=motion, shading=shading)
    train(grid, run, config, stop_after=0, quiet=True)
    return run


@pytest.fixture(scope="module")
def run(grid, tmp_path_factory) -> Path:
    return rig_run(grid, tmp_path_factory.mktemp("runs") / "rig")


@pytest.fixture(scope="module")
def lambert_run(grid, tmp_path_factory) -> Path:
    return rig_run(grid, tmp_path_factory.mktemp("runs") / "lambert", shading="lambert")


@pytest.fixture(scope="module")
def residual_run(grid, tmp_path_factory) -> Path:
    return rig_run(grid, tmp_path_factory.mktemp("runs") / "residual", residual=4)


def camera(model, azimuth: float, elevation: float) -> np.ndarray:
    """A camera on a sphere around the character, which fills most of the frame."""
    distance = 1.1 * model.spec.scene_radius / math.tan(math.radians(FOV_DEG) / 2)
    c2w = look_at(azimuth, elevation, distance)
    c2w[:3, 3] += np.asarray(model.spec.scene_center)
    return c2w


def frame(model, c2w: np.ndarray, t: float, size: int = SIZE) -> np.ndarray:
    focal = 0.5 * size / math.tan(math.radians(FOV_DEG) / 2)
    cameras = Cameras(
        torch.tensor(c2w, dtype=torch.float32), focal, focal, size / 2, size / 2, size, size
    )
    return model.render(cameras, t, backend="reference").rgb[0].clamp(0, 1).numpy()


def test_every_rig_array_decodes_and_the_indices_are_exact(run):
    model = load_trained_model(run, device="cpu")
    rig = model.deformation
    asset, mesh = rig.poser.asset, rig.poser.mesh
    layout = asset.skin_layout()
    header, blob = web_package(model.params, rig, "rig")
    motion = header["motion"]
    for name, info in header["arrays"].items():
        values = read_array(header, blob, name)
        assert list(values.shape) == info["shape"] and np.isfinite(values).all(), name
    assert np.array_equal(read_array(header, blob, "face"), model.params["face"].numpy())
    assert np.array_equal(read_array(header, blob, "rig_faces"), mesh.faces)
    assert np.array_equal(read_array(header, blob, "rig_bones"), layout.bones)
    step = np.ptp(layout.rest, axis=0) / 65_535
    assert (np.abs(read_array(header, blob, "rig_rest") - layout.rest) <= step * 0.51).all()
    assert np.abs(read_array(header, blob, "rig_weights") - layout.weights).max() < 1e-4
    deltas = np.concatenate([b.deltas.reshape(-1, 3) for b in layout.morphs])
    assert np.abs(read_array(header, blob, "rig_morph_deltas") - deltas).max() < 1e-4
    assert dequantised_params(header, blob, model.params)["face"].equal(model.params["face"])

    anchor_clip, anchor_seconds = motion["anchor"]
    assert rig.segments[0].start == 0.0 and rig.segments[0].length == 1.0  # one 2 s clip
    assert (anchor_clip, anchor_seconds) == ("wave", pytest.approx(2.0 * rig.anchor_time))
    exact_anchor = pose_vector(asset.pose_state(anchor_clip, anchor_seconds))
    assert np.array_equal(read_array(header, blob, "rig_anchor"), exact_anchor)
    assert motion["segments"] == [[s.clip, s.start, s.length] for s in rig.segments]
    assert [(c["name"], c["duration"]) for c in motion["clips"]] == list(mesh.clips.items())
    poses = read_array(header, blob, "rig_poses")
    span = np.ptp(poses, axis=0)
    for clip in motion["clips"]:
        assert clip["samples"] == sample_count(clip["duration"]) == clip["duration"] * 30 + 1
        row = clip["first"] + clip["samples"] // 3
        seconds = clip["duration"] * (clip["samples"] // 3) / (clip["samples"] - 1)
        exact = pose_vector(asset.pose_state(clip["name"], seconds))
        assert (np.abs(poses[row] - exact) <= span / 65_535 * 0.51 + 1e-6).all()
        assert clip["loops"]  # the demo's clips end where they start
    assert motion["timeline_loops"] and motion["pose_rate"] == POSE_RATE


def test_a_clip_wraps_only_where_its_ends_join(run):
    asset = load_trained_model(run, device="cpu").deformation.poser.asset
    walk = clip_samples(asset, "walk", 1.0)  # the demo's walk ends as it starts
    step = largest_step(asset, walk)
    meshes = [skinned(asset, pose) for pose in walk]
    assert step == max(
        float(np.abs(b - a).max()) for a, b in zip(meshes[:-1], meshes[1:], strict=True)
    )
    assert step > 0 and ends_join(meshes[0], meshes[-1], step)
    half = walk[: len(walk) // 2 + 1]  # half a walk cycle: the feet swap
    assert not ends_join(meshes[0], meshes[len(half) - 1], largest_step(asset, half))
    cycle = walk[:-1]  # a cycle whose last key is one frame before its first (Soldier's Walk)
    assert ends_join(meshes[0], meshes[-2], largest_step(asset, cycle))
    assert not ends_join(meshes[0], meshes[-2], 0.5 * largest_step(asset, cycle))


def test_cycles_keyed_one_frame_short_wrap_and_one_way_clips_do_not(soldier_glb, robot_glb):
    """Soldier's Walk ends one frame before its start (wraps); RobotExpressive's Death and
    Sitting end elsewhere (forwards and back); exact loops wrap."""
    verdicts = {}
    for glb, clips in ((soldier_glb, ("Walk", "Idle")), (robot_glb, ("Death", "Sitting", "Wave"))):
        asset = load_asset(glb)
        durations = {clip.name: clip.duration for clip in asset.clips}
        for name in clips:
            poses = clip_samples(asset, name, durations[name])
            ends = skinned(asset, poses[0]), skinned(asset, poses[-1])
            verdicts[name] = ends_join(*ends, largest_step(asset, poses))
    assert verdicts == {"Walk": True, "Idle": True, "Death": False, "Sitting": False, "Wave": True}


def test_the_decoded_package_poses_as_the_model(run):
    """The player's posing (PackagedRig) from the decoded file against the model's own: with
    exact poses and float32 Gaussians the same frame; everything decoded, close."""
    model = load_trained_model(run, device="cpu")
    header, blob = web_package(model.params, model.deformation, "rig")

    def read(name: str) -> np.ndarray:
        return read_array(header, blob, name)

    asset = model.deformation.poser.asset
    decoded = dequantised_params(header, blob, model.params)
    c2w = camera(model, 30.0, 10.0)
    for clip, t in ((None, 0.3), (UNTRAINED_CLIP, 0.4)):
        reference = model if clip is None else model.performing(clip)
        expected = frame(reference, c2w, t, 64)
        mirror = PackagedRig(header, read, exact=asset)
        mirror = mirror if clip is None else mirror.performing(clip)
        assert psnr(frame(replace(model, deformation=mirror), c2w, t, 64), expected) > 70.0
        player = PackagedRig(header, read)
        player = player if clip is None else player.performing(clip)
        cost = psnr(frame(replace(model, params=decoded, deformation=player), c2w, t, 64), expected)
        assert 45.0 <= cost < 100.0, (clip, cost)


def test_a_residual_is_exported_on_the_trained_timeline_only(residual_run):
    model = load_trained_model(residual_run, device="cpu")
    generator = torch.Generator().manual_seed(0)
    model.params["motion_means"] += 0.05 * torch.randn(
        model.params["motion_means"].shape, generator=generator
    )
    header, blob = web_package(model.params, model.deformation, "rig")
    assert header["motion"]["residual_control"] == 4
    assert header["arrays"]["motion_means"]["shape"] == [model.num_gaussians, 4, 3]
    mirror = PackagedRig(header, lambda name: read_array(header, blob, name))
    decoded = dequantised_params(header, blob, model.params)
    c2w = camera(model, 200.0, -5.0)
    timeline = frame(replace(model, params=decoded, deformation=mirror), c2w, 0.8, 64)
    assert psnr(timeline, frame(model, c2w, 0.8, 64)) > 40.0
    without = dict(model.params, motion_means=torch.zeros_like(model.params["motion_means"]))
    assert psnr(timeline, frame(replace(model, params=without), c2w, 0.8, 64)) < 35.0
    clip = frame(replace(model, params=decoded, deformation=mirror.performing("talk")), c2w, 0.8)
    assert psnr(clip, frame(model.performing("talk"), c2w, 0.8)) > 40.0


def test_a_shaded_run_is_refused_only_for_a_motion_model_the_player_lacks(run):
    rig = load_trained_model(run, device="cpu").deformation
    check_exportable(ShadedDeformation(rig), "rig")
    with pytest.raises(InputError) as refused:
        check_exportable(ShadedDeformation(object()), "hexplane")
    message = str(refused.value)
    assert "the 'hexplane' motion model of this run" in message and "\n" not in message
    assert "--motion spline, nodes or rig (--shading static or lambert)" in message


def test_a_lambert_package_carries_normals_and_light_and_poses_as_the_model(lambert_run):
    """3 bytes of normal per Gaussian and the 27 light coefficients exact; the decoded
    package, lit by the player's posing, renders close to the model."""
    model = lit(load_trained_model(lambert_run, device="cpu"))
    assert isinstance(model.deformation, ShadedDeformation)
    header, blob = web_package(model.params, model.deformation, "rig")
    assert header["shading"] == "lambert"
    assert header["arrays"]["normals"]["type"] == "q8"
    assert header["arrays"]["normals"]["shape"] == [model.num_gaussians, 3]
    light = read_array(header, blob, "light")
    assert np.array_equal(light, model.params[LIGHT_KEY].numpy())
    normals = torch.nn.functional.normalize(model.params[NORMALS_KEY], dim=-1).numpy()
    assert np.abs(read_array(header, blob, "normals") - normals).max() <= 1.01 / 255
    decoded = dequantised_params(header, blob, model.params)
    player = ShadedDeformation(PackagedRig(header, lambda name: read_array(header, blob, name)))
    c2w = camera(model, 30.0, 10.0)
    expected = frame(model, c2w, 0.3, 64)
    cost = psnr(frame(replace(model, params=decoded, deformation=player), c2w, 0.3, 64), expected)
    assert 40.0 <= cost < 100.0, cost
    assert psnr(frame(unlit(model), c2w, 0.3, 64), expected) < cost - 10.0
    static, _ = web_package(model.params, model.deformation.inner, "rig")
    assert static["shading"] == "static" and "normals" not in static["arrays"]


def test_too_many_poses_are_refused_in_one_line_before_sampling(run, monkeypatch):
    model = load_trained_model(run, device="cpu")
    # the demo: 19 bones x 12 + 1 morph weight, 61 + 61 + 31 samples
    monkeypatch.setattr(web_rig, "MAX_POSE_NUMBERS", 153 * 229 - 1)
    monkeypatch.setattr(web_rig, "clip_samples", None)  # never reached
    with pytest.raises(InputError) as refused:
        web_package(model.params, model.deformation, "rig")
    message = str(refused.value)
    assert "its 3 clips sampled 30 times a second are 35,037 pose numbers" in message
    assert "demo" in message and "\n" not in message


def test_export_web_command_writes_a_rig_player(run, tmp_path, capsys):
    out = tmp_path / "web"
    assert main(["export", str(run), "--format", "web", "--out", str(out)]) == 0
    assert "rig motion" in capsys.readouterr().out
    header = json.loads((out / "avatar.json").read_text())
    assert [c["name"] for c in header["motion"]["clips"]] == ["wave", "talk", "walk"]
    assert (out / "rig.js").read_text().startswith("// The mesh-driven (rig) model")


def chromium_or_skip() -> str:
    chromium = find_chromium()
    if chromium is None:
        pytest.skip("chromium not found (apt-get install chromium; scripts/setup.sh does)")
    return chromium


def chromium_and_export(run: Path, tmp_path: Path):
    """Chromium (or a skip), the trained model and its web export in tmp_path/web."""
    chromium = chromium_or_skip()
    model = load_trained_model(run, device="cpu")
    out = tmp_path / "web"
    out.mkdir()
    write_web_export(out, model.params, model.deformation, "rig", model.step, False)
    return chromium, model, out


def test_browser_frame_matches_render_on_the_timeline_and_an_untrained_clip(run, tmp_path):
    chromium, model, out = chromium_and_export(run, tmp_path)
    with serve(out) as url:
        for clip, (azimuth, elevation, t) in (
            (None, (30.0, 10.0, 0.3)),
            (UNTRAINED_CLIP, (200.0, -5.0, 0.4)),
        ):
            c2w = camera(model, azimuth, elevation)
            drawn = capture_frame(chromium, url, c2w, FOV_DEG, SIZE, t, tmp_path / "p", clip)
            performer = model if clip is None else model.performing(clip)
            expected = frame(performer, c2w, t)
            assert (expected < 0.9).mean() > 0.01  # the avatar is in view
            assert psnr(drawn, expected) >= 30.0, (clip, psnr(drawn, expected))
            # the pose shows: another time (and for the clip, the timeline) is further away
            elsewhere = frame(performer, c2w, t + 0.5)
            assert psnr(drawn, elsewhere) < psnr(drawn, expected) - 3.0
            if clip is not None:
                timeline = frame(model, c2w, t)
                assert psnr(drawn, timeline) < psnr(drawn, expected) - 3.0
            else:  # the CPU path (?posing=cpu) draws the same frame
                on_cpu = capture_frame(
                    chromium, url, c2w, FOV_DEG, SIZE, t, tmp_path / "p", clip, posing="cpu"
                )
                assert psnr(on_cpu, expected) >= 30.0
                assert psnr(on_cpu, drawn) >= 60.0, psnr(on_cpu, drawn)


def test_the_browser_shades_a_lambert_run_on_the_gpu_and_the_cpu(lambert_run, tmp_path):
    chromium = chromium_or_skip()
    model = lit(load_trained_model(lambert_run, device="cpu"))
    out = tmp_path / "web"
    out.mkdir()
    write_web_export(out, model.params, model.deformation, "rig", model.step, False)
    c2w = camera(model, 30.0, 10.0)
    with serve(out) as url:
        drawn = capture_frame(chromium, url, c2w, FOV_DEG, SIZE, 0.3, tmp_path / "p")
        on_cpu = capture_frame(chromium, url, c2w, FOV_DEG, SIZE, 0.3, tmp_path / "p", posing="cpu")
    expected = frame(model, c2w, 0.3)
    assert (expected < 0.9).mean() > 0.01  # the avatar is in view
    shaded, cpu = psnr(drawn, expected), psnr(on_cpu, expected)
    # a player that ignored the shading would draw the unlit frame
    ignored = psnr(drawn, frame(unlit(model), c2w, 0.3))
    print(
        f"lambert rig, browser against render: gpu {shaded:.2f}, cpu {cpu:.2f} dB; "
        f"unlit {ignored:.2f} dB"
    )
    assert shaded >= 30.0 and cpu >= 30.0, (shaded, cpu)
    assert psnr(on_cpu, drawn) >= 60.0, psnr(on_cpu, drawn)
    assert ignored < shaded - 5.0 and ignored < 30.0, ignored


def test_export_web_command_exports_a_lambert_run(lambert_run, tmp_path, capsys):
    out = tmp_path / "web"
    assert main(["export", str(lambert_run), "--format", "web", "--out", str(out)]) == 0
    assert "rig motion, lambert shading" in capsys.readouterr().out
    assert json.loads((out / "avatar.json").read_text())["shading"] == "lambert"


def test_the_browser_draws_the_residual_on_the_timeline_only(residual_run, tmp_path):
    chromium = chromium_or_skip()
    model = load_trained_model(residual_run, device="cpu")
    generator = torch.Generator().manual_seed(0)
    model.params["motion_means"] += 0.05 * torch.randn(
        model.params["motion_means"].shape, generator=generator
    )
    without = replace(
        model,
        params=dict(model.params, motion_means=torch.zeros_like(model.params["motion_means"])),
    )
    out = tmp_path / "web"
    out.mkdir()
    write_web_export(out, model.params, model.deformation, "rig", model.step, False)
    c2w = camera(model, 200.0, -5.0)
    with serve(out) as url:
        timeline = capture_frame(chromium, url, c2w, FOV_DEG, SIZE, 0.8, tmp_path / "p")
        talk = capture_frame(chromium, url, c2w, FOV_DEG, SIZE, 0.8, tmp_path / "p", "talk")
    expected = frame(model, c2w, 0.8)
    assert psnr(timeline, expected) >= 30.0
    assert psnr(timeline, frame(without, c2w, 0.8)) < psnr(timeline, expected) - 3.0
    assert psnr(talk, frame(model.performing("talk"), c2w, 0.8)) >= 30.0


def test_the_interactive_page_offers_every_clip_and_the_trained_timeline(run, tmp_path):
    chromium, model, out = chromium_and_export(run, tmp_path)
    with serve(out) as url:
        dom = dump_dom(chromium, url + "index.html?clip=talk", tmp_path / "p")
        missing = dump_dom(chromium, url + "index.html?c2w=1&fov=40&t=0&clip=nope", tmp_path / "p")
        posing = dump_dom(chromium, url + "index.html?posing=fast", tmp_path / "p")
    chooser = re.search(r'<label id="clipLabel">clip <select id="clip">(.*?)</select>', dom)
    assert chooser is not None  # shown: the model has clips
    assert re.findall(r'<option value="(\w*)"', chooser.group(1)) == ["", "wave", "talk", "walk"]
    assert '<option value="talk" selected="">talk</option>' in dom  # ?clip= chose it
    assert '<span id="status"></span>' in dom  # no error
    assert 'error: no clip "nope"; clips: wave, talk, walk' in missing
    assert 'error: posing is "gpu" or "cpu", not "fast"' in posing
