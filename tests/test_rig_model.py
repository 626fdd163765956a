"""The mesh-driven motion model (``--motion rig``): Gaussians bound to the character's own
triangles, driven by any clip of its rig, judged on a clip it never saw (novel_pose)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from cli_output import one_error_line
from fuzz_inputs import write_small_skinned_glb
from PIL import Image

from avatar4d.asset.demo.character import write_demo_character
from avatar4d.cli import main
from avatar4d.data.clip_timeline import train_segments
from avatar4d.data.dnerf import load_dataset
from avatar4d.errors import InputError
from avatar4d.model.rig_deformation import RigDeformation
from avatar4d.raster.cameras import Cameras
from avatar4d.run.trained import TrainedModel, load_trained_model

GRID = [
    "--clip", "wave", "--novel-clip", "walk", "--res", "24", "--train-times", "4",
    "--novel-times", "2", "--train-azimuths", "0", "90", "180", "270", "--train-elevations",
    "10", "40", "--novel-azimuths", "45", "225", "--novel-elevations", "25",
    "--track-points", "2000",
]  # fmt: skip
TRAIN = ["--device", "cpu", "--steps", "120", "--init-points", "800", "--val-every", "0"]


@pytest.fixture(scope="module")
def grid(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("rig")
    glb = write_demo_character(folder / "demo.glb")
    assert main(["grid", str(glb), "--out", str(folder / "grid"), *GRID]) == 0
    return folder / "grid"


def train_run(grid: Path, run: Path, motion: str, *more: str) -> Path:
    assert (
        main(["train", str(grid), "--out", str(run), "--quiet", "--motion", motion, *TRAIN, *more])
        == 0
    )
    return run


@pytest.fixture(scope="module")
def rig_run(grid, tmp_path_factory) -> Path:
    return train_run(grid, tmp_path_factory.mktemp("runs") / "rig", "rig")


def subset_psnr(run: Path) -> dict[str, float]:
    assert main(["eval", str(run), "--force"]) == 0
    metrics = json.loads((run / "eval" / "metrics.json").read_text())
    return {name: values["psnr"]["mean"] for name, values in metrics["subsets"].items()}


def test_a_rig_run_records_its_character_and_timeline(grid, rig_run):
    document = yaml.safe_load((rig_run / "config.yml").read_text())
    scene = json.loads((grid / "scene.json").read_text())
    motion = document["model"]["motion"]
    assert document["train"]["motion"] == {
        "name": "rig",
        "residual_points": 0,
        "lr_residual": 0.005,
    }
    assert motion["name"] == "rig" and motion["asset_sha256"] == scene["asset"]["sha256"]
    assert Path(motion["asset"]) == (grid / scene["asset"]["file"]).resolve()
    assert [segment[0] for segment in motion["segments"]] == ["wave"]
    model = load_trained_model(rig_run, device="cpu")
    assert model.params["face"].dtype == torch.int32
    assert int(model.params["face"].max()) < motion["faces"]


def test_the_anchor_pose_is_the_canonical_one_and_other_times_follow_the_mesh(rig_run):
    model = load_trained_model(rig_run, device="cpu")
    deformation = model.deformation
    assert isinstance(deformation, RigDeformation)
    at_anchor = deformation.deform(model.params, model.spec.anchor_time)
    assert torch.allclose(at_anchor.means, model.params["means"], atol=1e-5)
    # A Gaussian at a triangle's centroid stays at that triangle's centroid at every time.
    face = int(model.params["face"][0])
    corners = torch.from_numpy(deformation.poser.mesh.faces[face])
    params = {name: tensor[:1].clone() for name, tensor in model.params.items()}
    anchor_clip, anchor_seconds = deformation.pose_of(model.spec.anchor_time)
    anchor_vertices = deformation.poser.pose(anchor_clip, [anchor_seconds])[0]
    params["means"] = torch.from_numpy(anchor_vertices[corners].mean(axis=0))[None]
    for t in (0.1, 0.37, 0.8):
        clip, seconds = deformation.pose_of(t)
        vertices = deformation.poser.pose(clip, [seconds])[0]
        expected = torch.from_numpy(vertices[corners].mean(axis=0))
        assert torch.allclose(deformation.deform(params, t).means[0], expected, atol=1e-4)


def test_the_rig_model_performs_a_clip_it_never_saw(grid, rig_run, tmp_path):
    rig = subset_psnr(rig_run)
    spline = subset_psnr(train_run(grid, tmp_path / "spline", "spline"))
    assert set(rig) == {"novel_view", "novel_time", "novel_both", "novel_pose"}
    # Measured at this size (2-core CPU): rig novel_pose 23.2 dB, spline about 18.
    assert rig["novel_pose"] > spline["novel_pose"] + 3.0, (rig, spline)
    assert rig["novel_pose"] > rig["novel_view"] - 3.0, rig
    assert abs(rig["novel_time"] - rig["novel_view"]) < 2.0, rig


def test_render_performs_any_clip_and_morph_weights(rig_run, tmp_path, capsys):
    def frames(name: str, *more: str) -> list[np.ndarray]:
        out = tmp_path / name
        words = ["render", str(rig_run), "--out", str(out), "--frames", "3", "--device", "cpu"]
        assert main([*words, *more]) == 0
        return [np.asarray(Image.open(path)) for path in sorted(out.glob("*.png"))]

    wave, walk = frames("wave", "--clip", "wave"), frames("walk", "--clip", "walk")
    assert len(walk) == 3 and any(not np.array_equal(a, b) for a, b in zip(wave, walk, strict=True))
    performed = []
    original = TrainedModel.performing

    def spy(self, clip, morph=None):
        performed.append((clip, morph))
        return original(self, clip, morph)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(TrainedModel, "performing", spy)
        assert len(frames("mouth", "--clip", "walk", "--morph", "mouth_open=1")) == 3
    assert performed == [("walk", {"mouth_open": 1.0})]
    capsys.readouterr()
    assert main(["render", str(rig_run), "--out", str(tmp_path / "x"), "--clip", "dance"]) == 2
    assert 'clip "dance" not found in demo.glb; clips: wave' in one_error_line(capsys)
    words = ["render", str(rig_run), "--out", str(tmp_path / "y"), "--clip", "walk"]
    assert main([*words, "--morph", "smile=1"]) == 2
    assert 'morph target "smile" not found' in one_error_line(capsys)
    assert main([*words, "--morph", "mouth_open"]) == 2
    assert one_error_line(capsys).endswith(
        "--morph: expected NAME=WEIGHT with a finite weight, got 'mouth_open'"
    )


def test_a_rig_run_resumes_bit_identically(grid, tmp_path):
    whole = train_run(grid, tmp_path / "whole", "rig", "--steps", "12", "--refine-every", "4")
    parts = tmp_path / "parts"
    words = [
        "--steps",
        "12",
        "--refine-every",
        "4",
        "--checkpoint-every",
        "6",
        "--keep-checkpoints",
        "3",
    ]
    train_run(grid, parts, "rig", *words)
    shutil.rmtree(parts)
    train_run(grid, parts, "rig", *words[:-2], "--keep-checkpoints", "3")
    # stop after 6 by resuming from step 6
    assert (
        main(["train", str(grid), "--out", str(parts), "--resume", "--from", "6", "--quiet"]) == 0
    )
    a = load_trained_model(whole, device="cpu").params
    b = load_trained_model(parts, device="cpu").params
    assert a.keys() == b.keys()
    for name in a:
        assert torch.equal(a[name], b[name]), name


def test_rig_needs_a_dataset_that_carries_its_character(grid, tmp_path, capsys):
    bare = tmp_path / "bare"
    shutil.copytree(grid, bare)
    scene = json.loads((bare / "scene.json").read_text())
    del scene["asset"]
    (bare / "scene.json").write_text(json.dumps(scene))
    assert (
        main(["train", str(bare), "--out", str(tmp_path / "run"), "--motion", "rig", *TRAIN]) == 2
    )
    assert "--motion rig needs a dataset that carries its character" in one_error_line(capsys)
    assert not (tmp_path / "run").exists()


def test_a_changed_character_is_refused_in_one_line(grid, rig_run, tmp_path, capsys):
    run = tmp_path / "run"
    shutil.copytree(rig_run, run)
    document = yaml.safe_load((run / "config.yml").read_text())
    moved = tmp_path / "other.glb"
    write_small_skinned_glb(moved)  # another character where the run's was
    document["model"]["motion"]["asset"] = str(moved)
    (run / "config.yml").write_text(yaml.safe_dump(document, sort_keys=False))
    assert main(["export", str(run), "--out", str(tmp_path / "ply")]) == 2
    line = one_error_line(capsys)
    assert f"{moved}: " in line and "not the character the run was trained on" in line


def test_only_a_rig_run_performs_a_clip(grid, tmp_path, capsys):
    run = train_run(grid, tmp_path / "nodes", "nodes", "--steps", "2", "--motion.nodes", "16")
    capsys.readouterr()
    assert main(["render", str(run), "--out", str(tmp_path / "x"), "--clip", "walk"]) == 2
    assert "--clip: only a run of the mesh-driven motion model (train --motion rig)" in (
        one_error_line(capsys)
    )


def test_train_segments_read_the_timeline_back(grid):
    dataset = load_dataset(grid)
    ((clip, start, length),) = train_segments(dataset.train, "x")
    assert clip == "wave" and abs(start) < 1e-6 and abs(length - 1.0) < 1e-6
    frame = dataset.train[0]
    broken = [frame, type(frame)(**{**frame.__dict__, "clip_time": 0.5, "time": 0.9})]
    broken.append(type(frame)(**{**frame.__dict__, "clip_time": 0.25, "time": 0.25}))
    with pytest.raises(
        InputError, match=r'clip "wave": time 0.25 at clip time 0.25 is off the line'
    ):
        train_segments(broken, "x")


def test_lambert_shading_starts_each_normal_from_its_triangle(grid, tmp_path):
    run = train_run(
        grid, tmp_path / "lit", "rig", "--shading", "lambert", "--steps", "1",
        "--track-weight", "0",
    )  # fmt: skip
    model = load_trained_model(run, device="cpu")
    params = model.params
    deformation = model.deformation.inner
    expected = deformation.anchor_frames(torch.device("cpu")).normals[params["face"].long()]
    normals = torch.nn.functional.normalize(params["normals"], dim=-1)
    # One step of Adam moves a normal by about its learning rate; the start was the triangle's.
    assert (normals * expected).sum(dim=-1).mean() > 0.99
    outward = torch.nn.functional.normalize(params["means"] - params["means"].mean(0), dim=-1)
    assert (outward * expected).sum(dim=-1).mean() < 0.9  # not the generic outward start


def test_morph_weights_move_the_gaussians_on_the_morphed_triangles(rig_run):
    """mouth_open moves exactly the Gaussians bound to triangles its deltas move."""
    model = load_trained_model(rig_run, device="cpu")
    layout = model.deformation.poser.asset.skin_layout()
    moved = np.zeros(len(layout.rest), bool)
    for block in layout.morphs:
        moving = (np.abs(block.deltas) > 1e-6).any(axis=(0, 2))
        moved[block.first_vertex : block.first_vertex + len(moving)] |= moving
    on_mouth = moved[model.deformation.poser.mesh.faces].any(axis=1)
    on_mouth = torch.from_numpy(on_mouth[model.params["face"].long().numpy()])
    assert 0 < int(on_mouth.sum()) < len(on_mouth)
    still = model.performing("walk").deformation.deform(model.params, 0.5).means
    open_ = model.performing("walk", {"mouth_open": 1.0}).deformation.deform(model.params, 0.5)
    shift = (open_.means - still).norm(dim=-1)
    assert float(shift[on_mouth].max()) > 1e-4
    assert float(shift[~on_mouth].max()) < 1e-6  # deltas under 1e-6 (float dust) aside


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_posing_new_times_on_the_gpu_never_waits_for_it(grid, rig_run):
    """The host poses the next batch while the device still draws the last one: posing times
    never seen (bone matrices on the host, skinning and triangle frames on the device) and
    moving the batch's cameras there must not synchronise; the result is the CPU's."""
    model = load_trained_model(rig_run, device="cuda")
    on_cpu = load_trained_model(rig_run, device="cpu")
    frames = load_dataset(grid).train[:3]
    # Uploads the mesh and anchor once and meets each buffer size once (a first page-locked
    # buffer of a size is allocated, not taken from the cache).
    model.deformation.deform_many(model.params, [0.05, 0.35, 0.65])
    Cameras.from_frames(frames).to("cuda")
    times = [0.123, 0.456, 0.789]
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode("error")
    try:
        posed = model.deformation.deform_many(model.params, times)
        cameras = Cameras.from_frames(frames).to("cuda")
    finally:
        torch.cuda.set_sync_debug_mode("default")
    expected = on_cpu.deformation.deform_many(on_cpu.params, times)
    assert torch.allclose(posed.means.cpu(), expected.means, atol=1e-5)
    assert torch.allclose(posed.quats.cpu(), expected.quats, atol=1e-5)
    expected_cameras = Cameras.from_frames(frames)
    assert torch.equal(cameras.c2w.cpu(), expected_cameras.c2w)
    assert torch.equal(cameras.Ks.cpu(), expected_cameras.Ks)
