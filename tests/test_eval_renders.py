"""`avatar4d eval --renders DIR DATA`: renders made by anything, scored as a run's are."""

from __future__ import annotations

import hashlib
import json
import math
import shutil

import numpy as np
import pytest
from cli_output import one_error_line
from PIL import Image
from test_train_end_to_end import TINY
from test_train_synthetic import TIMES, write_moving_blobs_dataset

from avatar4d.cli import main
from avatar4d.evaluate.metrics import PSNR_CAP_DB
from avatar4d.evaluate.results import RENDERS_SCORED, RUN_SCORED
from avatar4d.train.trainer import train


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return write_moving_blobs_dataset(tmp_path_factory.mktemp("blobs") / "data")


@pytest.fixture(scope="module")
def run_dir(data, tmp_path_factory):
    run = tmp_path_factory.mktemp("runs") / "run"
    train(data, run, TINY, quiet=True)
    return run


def frame_names():
    return [f"test/novel_view_c08_t{i:03d}.png" for i in range(TIMES)]


def ground_truth_copy(data, folder):
    """A renders folder holding the ground truth itself: every image exact."""
    for name in frame_names():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(data / name, folder / name)
    return folder


def metrics(folder):
    return json.loads((folder / "metrics.json").read_text())


def on_white(rgba: np.ndarray) -> np.ndarray:
    """(H, W, 3) float64 in [0, 1] of an (H, W, 4) uint8 straight-alpha image (numpy only)."""
    alpha = rgba[..., 3:4] / 255.0
    return rgba[..., :3] / 255.0 * alpha + (1.0 - alpha)


def psnr_db(a: np.ndarray, b: np.ndarray) -> float:
    return -10.0 * math.log10(float(np.mean((a - b) ** 2)))


def test_render_test_then_eval_renders_gives_the_numbers_of_eval_run(run_dir, data, tmp_path):
    run_eval, renders = tmp_path / "run_eval", tmp_path / "renders"
    assert main(["eval", str(run_dir), "--out", str(run_eval), "--device", "cpu"]) == 0
    args = ["render", str(run_dir), "--path", "test", "--out", str(renders), "--device", "cpu"]
    assert main(args) == 0
    assert sorted(p.relative_to(renders).as_posix() for p in renders.rglob("*.png")) == sorted(
        frame_names()
    )
    assert main(["eval", "--renders", str(renders), str(data), "--device", "cpu"]) == 0

    from_run, from_renders = metrics(run_eval), metrics(renders / "eval")
    # Both score the same 8-bit images: equal to the last digit metrics.json keeps.
    assert from_renders["subsets"] == from_run["subsets"]
    assert from_renders["subsets"]["novel_view"]["psnr"]["n"] == TIMES
    assert from_run["source"]["scored"] == RUN_SCORED
    assert from_run["train"]["psnr"]["n"] > 0
    assert from_renders["train"] == {"psnr": "not computed"}
    assert "train PSNR not computed: no training images were scored" in from_renders["notes"]

    digest = hashlib.sha256()
    for name in sorted(frame_names()):
        file_hash = hashlib.sha256((renders / name).read_bytes()).hexdigest()
        digest.update(f"{name}\0{file_hash}\n".encode())
    assert from_renders["source"] == {
        "renders": str(renders.resolve()),
        "images": TIMES,
        "sha256": digest.hexdigest(),
        "modes": {"RGBA": TIMES},
        "scored": RENDERS_SCORED,
    }
    report = (renders / "eval" / "report.md").read_text()
    assert f"Renders in `{renders.resolve()}`: {TIMES} PNG files ({TIMES} RGBA" in report
    assert list((renders / "eval" / "report_images").glob("novel_view_*.png"))

    # The evaluation is not overwritten without --force; with it, its own pictures inside the
    # folder are not taken for renders. Rendering anew with --force replaces both.
    assert main(["eval", "--renders", str(renders), str(data), "--device", "cpu"]) == 2
    assert main(["eval", "--renders", str(renders), str(data), "--force"]) == 0
    assert main(args) == 2  # the renders are there: not replaced without --force
    assert main([*args, "--force"]) == 0
    assert not (renders / "eval").exists()


def test_ground_truth_as_renders_scores_the_cap(data, tmp_path, capsys):
    renders = ground_truth_copy(data, tmp_path / "gt")
    (renders / "notes.txt").write_text("not an image: left alone")
    out = tmp_path / "scores"
    args = ["eval", "--renders", str(renders), str(data), "--out", str(out)]
    assert main([*args, "--gate", "novel_view.psnr>=99", "--gate", "novel_view.ssim>=0.9999"]) == 0
    novel_view = metrics(out)["subsets"]["novel_view"]
    assert novel_view["psnr"]["mean"] == PSNR_CAP_DB
    assert novel_view["fg_psnr"]["mean"] == PSNR_CAP_DB
    assert novel_view["ssim"]["mean"] == pytest.approx(1.0, abs=1e-12)
    assert "held-out quality of gt" in capsys.readouterr().out
    # No train renders: a train gate cannot be checked, so it fails.
    assert main([*args, "--force", "--gate", "train.psnr>=1"]) == 1


def _first_frames(data):
    gt = np.asarray(Image.open(data / frame_names()[0]))
    assert gt.shape[2] == 4 and 0 < (gt[..., 3] > 0).mean() < 1  # a foreground on a clear field
    return gt


@pytest.mark.parametrize("mode", ["RGB", "L", "LA", "P", "P+tRNS"])
def test_every_png_colour_type_is_scored_as_decoded(data, tmp_path, mode):
    """RGB is taken as on white, grey and palette PNGs as their colours; alpha where stored.

    Expected values come from numpy on the pixels Pillow decodes, composited on white; the
    foreground of an image without alpha is the ground truth's alone.
    """
    renders = ground_truth_copy(data, tmp_path / "renders")
    gt = _first_frames(data)
    white = (on_white(gt) * 255.0 + 0.5).astype(np.uint8)
    picture = {
        "RGB": Image.fromarray(white),
        "L": Image.fromarray(white).convert("L"),
        "LA": Image.fromarray(gt).convert("LA"),
        "P": Image.fromarray(white).quantize(colors=7),
        "P+tRNS": Image.fromarray(gt).quantize(16, method=Image.Quantize.FASTOCTREE),
    }[mode]
    path = renders / frame_names()[0]
    picture.save(path)
    stores_alpha = mode in ("LA", "P+tRNS")
    with Image.open(path) as saved:
        assert saved.mode == mode.removesuffix("+tRNS")
        assert ("transparency" in saved.info) == (mode == "P+tRNS")
        decoded = np.asarray(saved.convert("RGBA"))
    pred = on_white(decoded)

    # Alpha above 1/255 as the scorer sees it: 8-bit / 255 in float32, where 1/255 itself
    # lands a hair above the float64 threshold.
    def foreground(rgba):
        return (rgba[..., 3].astype(np.float32) / np.float32(255.0)).astype(np.float64) > 1 / 255

    mask = foreground(gt) | (foreground(decoded) if stores_alpha else False)

    out = tmp_path / "scores"
    assert main(["eval", "--renders", str(renders), str(data), "--out", str(out)]) == 0
    document = metrics(out)
    others = PSNR_CAP_DB * (TIMES - 1)  # the other frames are the ground truth itself
    expected_psnr = min(psnr_db(pred, on_white(gt)), PSNR_CAP_DB)
    expected_fg = min(psnr_db(pred[mask], on_white(gt)[mask]), PSNR_CAP_DB)
    novel_view = document["subsets"]["novel_view"]
    assert novel_view["psnr"]["mean"] == pytest.approx((expected_psnr + others) / TIMES, abs=1e-5)
    assert novel_view["fg_psnr"]["mean"] == pytest.approx((expected_fg + others) / TIMES, abs=1e-5)
    if mode != "RGB":
        assert expected_psnr < 60.0  # the conversion lost something, so the test can fail
    modes = {"RGBA": TIMES - 1, ("RGBA" if stores_alpha else "RGB"): 1}
    if stores_alpha:
        modes = {"RGBA": TIMES}
    assert document["source"]["modes"] == modes


def test_rgb_on_white_of_the_ground_truth_is_exact(data, tmp_path):
    renders = ground_truth_copy(data, tmp_path / "renders")
    for name in frame_names():
        white = (on_white(np.asarray(Image.open(data / name))) * 255.0 + 0.5).astype(np.uint8)
        Image.fromarray(white).save(renders / name)
    assert main(["eval", "--renders", str(renders), str(data), "--device", "cpu"]) == 0
    document = metrics(renders / "eval")
    assert document["source"]["modes"] == {"RGB": TIMES}
    # Rounding on white stays within half a level: PSNR above 20 log10(2 * 255) = 54.2 dB.
    assert document["subsets"]["novel_view"]["psnr"]["mean"] > 54.1


def _refused(capsys, args) -> str:
    assert main(args) == 2
    line = one_error_line(capsys)
    assert line.startswith("avatar4d: error: ")
    return line.removeprefix("avatar4d: error: ")


def test_missing_extra_wrongly_sized_and_unreadable_renders_are_refused(data, tmp_path, capsys):
    renders = ground_truth_copy(data, tmp_path / "renders")
    args = ["eval", "--renders", str(renders), str(data)]
    first, second = (renders / name for name in frame_names()[:2])

    second.unlink()
    line = _refused(capsys, args)
    assert line.startswith(f"{renders}: 1 of {TIMES} test frames have no render: ")
    assert "test/novel_view_c08_t001.png" in line and "named after its file_path" in line
    shutil.copyfile(first, second)

    (renders / "test" / "extra.png").write_bytes(first.read_bytes())
    (renders / "frame_00000.jpg").write_bytes(b"any image file counts")
    line = _refused(capsys, args)
    assert line.startswith(f"{renders}: holds 2 image(s) that render no test frame of ")
    assert "frame_00000.jpg, test/extra.png" in line
    (renders / "test" / "extra.png").unlink()
    (renders / "frame_00000.jpg").unlink()

    Image.new("RGBA", (5, 7)).save(second)
    line = _refused(capsys, args)
    assert line.startswith(f"{second}: image is 5x7, but its test frame (transforms_test.json")
    shutil.copyfile(first, second)

    Image.open(first).convert("RGB").save(second, format="JPEG")
    assert _refused(capsys, args) == f"{second}: is a JPEG file, not a PNG"

    second.write_bytes(b"\x89PNG\r\n\x1a\n but no more")
    assert _refused(capsys, args).startswith(f"{second}: not a readable image")

    second.write_bytes(first.read_bytes()[:-200])  # a valid header, the pixels cut short
    assert _refused(capsys, args).startswith(f"{second}: cannot decode image")
    assert not (renders / "eval").exists()  # nothing written by any refusal

    assert _refused(capsys, ["eval", "--renders", str(tmp_path / "none"), str(data)]) == (
        f"{tmp_path / 'none'}: is not a folder of renders"
    )


def test_out_may_not_be_the_renders_folder(data, tmp_path, capsys):
    renders = ground_truth_copy(data, tmp_path / "renders")
    line = _refused(capsys, ["eval", "--renders", str(renders), str(data), "--out", str(renders)])
    assert line.startswith("--out: must not be the renders folder itself")
    assert not (renders / "metrics.json").exists()


@pytest.mark.parametrize(
    ("option", "value"), [("--step", "3"), ("--data", "x"), ("--train-sample", "4")]
)
def test_run_options_are_refused_with_renders(data, tmp_path, capsys, option, value):
    renders = ground_truth_copy(data, tmp_path / "renders")
    line = _refused(capsys, ["eval", "--renders", str(renders), str(data), option, value])
    assert line.startswith(f"{option}: applies to a run")
