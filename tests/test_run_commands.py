"""eval, render and export on a tiny trained run, through the command line."""

from __future__ import annotations

import json

import av
import numpy as np
import pytest
from cli_output import one_error_line
from PIL import Image
from test_train_end_to_end import TINY
from test_train_synthetic import TIMES, write_moving_blobs_dataset

from avatar4d.cli import main
from avatar4d.output.ply_export import read_3dgs_ply
from avatar4d.run.trained import load_trained_model
from avatar4d.train.trainer import train


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    data = write_moving_blobs_dataset(tmp_path_factory.mktemp("blobs") / "data")
    run = tmp_path_factory.mktemp("runs") / "run"
    train(data, run, TINY, quiet=True)
    return run


def test_eval_writes_metrics_with_confidence_intervals(run_dir, tmp_path):
    out = tmp_path / "eval"
    assert main(["eval", str(run_dir), "--out", str(out), "--device", "cpu"]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    psnr = metrics["subsets"]["novel_view"]["psnr"]
    assert psnr["n"] == TIMES  # one novel-view frame per time
    assert psnr["ci95"][0] <= psnr["mean"] <= psnr["ci95"][1]
    assert 5.0 < psnr["mean"] < 100.0
    assert metrics["subsets"]["novel_view"]["lpips"] == "not computed"
    assert metrics["train"]["psnr"]["n"] > 0
    assert (out / "report.md").read_text().startswith("# Evaluation report")


def test_eval_gate_exit_codes(run_dir, tmp_path, capsys):
    args = ["eval", str(run_dir), "--device", "cpu", "--force", "--out", str(tmp_path / "e")]
    assert main([*args, "--gate", "novel_view.psnr>=1"]) == 0
    assert main([*args, "--gate", "novel_view.psnr>=99"]) == 1
    assert "FAILED" in capsys.readouterr().out
    assert main([*args, "--gate", "novel_view.psnr=>1"]) == 2
    assert "novel_view.psnr=>1" in one_error_line(capsys)


def test_eval_refuses_to_overwrite_without_force(run_dir, tmp_path, capsys):
    out = tmp_path / "eval"
    assert main(["eval", str(run_dir), "--out", str(out), "--device", "cpu"]) == 0
    capsys.readouterr()
    assert main(["eval", str(run_dir), "--out", str(out), "--device", "cpu"]) == 2
    assert "metrics.json" in one_error_line(capsys)


def test_eval_of_a_folder_that_is_not_a_run(tmp_path, capsys):
    assert main(["eval", str(tmp_path / "nothing")]) == 2
    assert "nothing" in one_error_line(capsys)


def test_render_orbit_to_mp4(run_dir, tmp_path, capsys):
    video = tmp_path / "orbit.mp4"
    args = ["render", str(run_dir), "--out", str(video), "--frames", "6", "--res", "32"]
    assert main([*args, "--device", "cpu"]) == 0
    assert "frames/s rendering" in capsys.readouterr().out
    with av.open(str(video)) as container:
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    assert len(frames) == 6
    assert frames[0].shape == (32, 32, 3)
    assert main([*args, "--device", "cpu"]) == 2  # exists, no --force
    assert "orbit.mp4" in one_error_line(capsys)


def test_render_test_cameras_to_png_frames_holding_a_time(run_dir, tmp_path):
    out = tmp_path / "frames"
    args = ["render", str(run_dir), "--out", str(out), "--path", "test", "--device", "cpu"]
    assert main(args) == 0
    written = sorted(out.glob("test/novel_view_*.png"))  # named after the frames' file_path
    assert len(written) == TIMES  # one frame per test camera
    assert not list(out.glob("frame_*.png"))
    assert Image.open(written[0]).mode == "RGBA"  # straight alpha, as eval --renders scores it
    held = tmp_path / "held"
    assert main([*args[:3], str(held), "--frames", "2", "--time", "hold", "--t", "0.5"]) == 0
    a, b = (np.asarray(Image.open(p)) for p in sorted(held.glob("*.png")))
    assert not np.array_equal(a, b)  # the orbit moves the camera while time holds


def test_export_ply_sequence_reads_back(run_dir, tmp_path):
    out = tmp_path / "ply"
    assert main(["export", str(run_dir), "--out", str(out), "--times", "3"]) == 0
    files = sorted(out.glob("avatar_*.ply"))
    assert [f.name for f in files] == ["avatar_0000.ply", "avatar_0001.ply", "avatar_0002.ply"]
    model = load_trained_model(run_dir, device="cpu")
    expected = model.gaussians_at(1 / 3)
    loaded = read_3dgs_ply(files[1])
    assert loaded["means"].shape == (model.num_gaussians, 3)
    np.testing.assert_allclose(loaded["means"], expected["means"].numpy(), atol=1e-6)
    np.testing.assert_allclose(loaded["quats"], expected["quats"].numpy(), atol=1e-6)
    assert json.loads((out / "times.json").read_text())["times"] == [0.0, 1 / 3, 2 / 3]


@pytest.mark.parametrize(
    "args",
    [
        ["export", "{run}", "--out", "{file}", "--times", "2"],
        ["render", "{run}", "--out", "{file}", "--frames", "2", "--res", "16", "--device", "cpu"],
        ["eval", "{run}", "--out", "{file}", "--device", "cpu"],
    ],
)
def test_output_folder_that_is_a_file_is_refused_in_one_line(run_dir, tmp_path, capsys, args):
    blocker = tmp_path / "afile"
    blocker.write_text("keep me")
    argv = [a.format(run=run_dir, file=blocker) for a in args]
    assert main(argv) == 2
    assert one_error_line(capsys).endswith("afile: exists and is not a folder")
    assert blocker.read_text() == "keep me"


def test_unreadable_run_config_is_one_line(tmp_path, capsys):
    run = tmp_path / "broken"
    run.mkdir()
    (run / "config.yml").write_text("steps: [\n")
    assert main(["eval", str(run)]) == 2
    assert "config.yml" in one_error_line(capsys)


def test_batched_path_rendering_gives_the_frames_of_one_by_one(run_dir):
    from avatar4d.output.camera_paths import orbit_path
    from avatar4d.output.render_frames import render_path

    model = load_trained_model(run_dir, device="cpu")
    cameras = orbit_path([0.0, 0.0, 0.0], 3.0, 15.0, 5, 40.0, 24, 20)
    cameras[4] = orbit_path([0.0, 0.0, 0.0], 3.0, 15.0, 1, 40.0, 16, 12)[0]  # another size
    times = [0.0, 0.21, 0.5, 0.73, 0.9]
    one_by_one = render_path(model, cameras, times, batch=1).frames
    batched = render_path(model, cameras, times, batch=3).frames
    assert [frame.shape for frame in batched] == [(20, 24, 3)] * 4 + [(12, 16, 3)]
    for single, grouped in zip(one_by_one, batched, strict=True):
        assert np.abs(single.astype(int) - grouped.astype(int)).max() <= 1
    assert np.abs(batched[0].astype(int) - batched[2].astype(int)).max() > 0
