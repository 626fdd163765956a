"""Per-subset summaries, metrics.json, the train/test gap and the markdown report."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
from PIL import Image

from avatar4d.errors import InputError
from avatar4d.evaluate.figures import comparison_image
from avatar4d.evaluate.metrics import score_image
from avatar4d.evaluate.report import BestWorstKeeper, extreme_frames, write_report
from avatar4d.evaluate.results import (
    FrameRecord,
    fixed_train_sample,
    metrics_json_dict,
    summarize,
    write_metrics_json,
)


def record(frame_id, subset, psnr, fg_psnr=None, ssim=0.9, lpips=None, camera=None, time=None):
    return FrameRecord(
        frame_id=frame_id,
        subset=subset,
        time=time,
        camera_index=camera,
        psnr=psnr,
        fg_psnr=psnr - 5.0 if fg_psnr is None else fg_psnr,
        ssim=ssim,
        lpips=lpips,
    )


def grid_records():
    test = [record(f"nv{i}", "novel_view", 24.0 + (i % 4)) for i in range(12)]
    test += [record(f"nt{i}", "novel_time", 29.0 + (i % 2), fg_psnr=math.nan) for i in range(1)]
    test += [record(f"nt{i}", "novel_time", 29.0 + (i % 2)) for i in range(1, 12)]
    train = [record(f"tr{i}", "train", 31.5) for i in range(8)]
    return test, train


def test_summaries_per_subset_with_gap_note():
    test, train = grid_records()
    result = summarize(test, train)

    assert list(result.subsets) == ["novel_view", "novel_time"]
    novel_view = result.subsets["novel_view"].metrics
    assert novel_view["psnr"].mean == pytest.approx(25.5)
    assert novel_view["psnr"].n == 12
    assert novel_view["psnr"].low < 25.5 < novel_view["psnr"].high
    assert novel_view["lpips"] is None
    assert result.subsets["novel_time"].metrics["fg_psnr"].n == 11  # the NaN is excluded
    assert result.gap_db["novel_view"] == pytest.approx(6.0)
    assert result.gap_db["novel_time"] == pytest.approx(31.5 - 29.5)
    assert result.notes[0] == (
        "train PSNR exceeds novel_view by 6.0 dB: the model overfits the training views"
    )
    assert not any("exceeds novel_time" in note for note in result.notes)
    assert any("1 of 12 novel_time images have no foreground" in note for note in result.notes)
    assert any(note.startswith("lpips: not computed") for note in result.notes)


def test_metrics_json_schema(tmp_path):
    test, train = grid_records()
    path = write_metrics_json(summarize(test, train), tmp_path / "metrics.json")
    data = json.loads(path.read_text())

    assert set(data) == {"subsets", "train", "gap_db", "notes"}
    assert set(data["subsets"]["novel_view"]) == {"psnr", "fg_psnr", "ssim", "lpips"}
    psnr = data["subsets"]["novel_view"]["psnr"]
    assert set(psnr) == {"mean", "ci95", "n"}
    assert psnr["mean"] == pytest.approx(25.5) and psnr["n"] == 12
    low, high = psnr["ci95"]
    assert low < 25.5 < high
    assert data["subsets"]["novel_view"]["lpips"] == "not computed"
    assert data["train"]["psnr"]["mean"] == pytest.approx(31.5)
    assert data["train"]["psnr"]["ci95"] == [31.5, 31.5]
    assert data["gap_db"] == {"novel_view": pytest.approx(6.0), "novel_time": pytest.approx(2.0)}

    with pytest.raises(InputError, match="already exists"):
        write_metrics_json(summarize(test, train), path)
    write_metrics_json(summarize(test[:3], train), path, force=True)
    assert json.loads(path.read_text())["subsets"]["novel_view"]["psnr"]["n"] == 3


def test_subsetless_dataset_is_test_and_lpips_summarised():
    records = [
        FrameRecord.from_scores(
            f"f{i}", None, 0.1 * i, 0, score_image(_image(0.5 + 0.01 * i), _image(0.5))
        )
        for i in range(1, 4)
    ]
    records = [FrameRecord(**{**r.__dict__, "lpips": 0.1 * (i + 1)}) for i, r in enumerate(records)]
    data = metrics_json_dict(summarize(records))
    assert list(data["subsets"]) == ["test"]
    assert data["subsets"]["test"]["lpips"]["mean"] == pytest.approx(0.2)
    assert data["train"] == {"psnr": "not computed"}
    assert data["gap_db"] == {}


def test_all_values_missing_gives_null_mean():
    data = metrics_json_dict(summarize([record("a", "novel_both", 20.0, fg_psnr=math.nan)]))
    assert data["subsets"]["novel_both"]["fg_psnr"] == {"mean": None, "ci95": [None, None], "n": 0}


def test_fixed_train_sample_is_deterministic_and_spread():
    sample = fixed_train_sample(1440, 32)
    assert sample == fixed_train_sample(1440, 32)
    assert len(set(sample)) == 32 and sample == sorted(sample)
    assert len({index % 60 for index in sample}) > 10  # not one time index over and over
    assert fixed_train_sample(5, 32) == [0, 1, 2, 3, 4]


def _image(value: float, size: int = 6) -> torch.Tensor:
    image = torch.full((size, size, 4), value)
    image[..., 3] = 1.0
    return image


def test_comparison_image_panels():
    gt, pred = _image(0.5), _image(0.5)
    pred[0, 0, :3] = 0.0  # one wrong pixel
    picture = comparison_image(pred, gt)
    assert picture.shape == (6, 3 * 6 + 2 * 4, 3) and picture.dtype == np.uint8
    assert picture[0, 0].tolist() == [128, 128, 128]  # ground truth
    assert picture[0, 10].tolist() == [0, 0, 0]  # render
    assert picture[0, 6].tolist() == [200, 200, 200]  # grey gutter
    heat = picture[:, 20:]
    assert heat[1, 1].tolist() == [255, 245, 240]  # zero error: Reds at 0, near white
    assert heat[0, 0].tolist() == [103, 0, 13]  # error 0.5: Reds at 1, dark red


def test_write_report_with_best_and_worst_pictures(tmp_path):
    values = {"nv0": 0.55, "nv1": 0.51, "nv2": 0.7, "nt0": 0.6}
    subsets = {"nv0": "novel_view", "nv1": "novel_view", "nv2": "novel_view", "nt0": "novel_time"}
    gt = _image(0.5)
    keeper = BestWorstKeeper()
    records = []
    for frame_id, value in values.items():
        pred = _image(value)
        scored = FrameRecord.from_scores(frame_id, subsets[frame_id], 0.5, 3, score_image(pred, gt))
        records.append(scored)
        keeper.offer(scored, pred, gt)
    train = [FrameRecord.from_scores("tr", "train", 0.0, 0, score_image(_image(0.5001), gt))]
    result = summarize(records, train)

    best, worst = extreme_frames(result)["novel_view"]
    assert (best.frame_id, worst.frame_id) == ("nv1", "nv2")

    report = write_report(result, keeper, tmp_path / "eval")
    text = report.read_text()
    assert report.name == "report.md"
    assert "## novel_view (3 images)" in text and "## novel_time (1 image)" in text
    assert "| LPIPS (lower is better) | not computed | – |" in text
    assert "train PSNR exceeds novel_view by" in text
    assert (
        "![novel_view best: ground truth | render | error](report_images/novel_view_best.png)"
        in text
    )
    assert "report_images/novel_time_worst.png" not in text  # one image: best only

    worst_picture = np.asarray(Image.open(tmp_path / "eval/report_images/novel_view_worst.png"))
    assert worst_picture.shape == (6, 26, 3)
    assert worst_picture[0, 10].tolist() == [178, 178, 178]  # the render of nv2 (0.7)

    with pytest.raises(InputError, match="already exists"):
        write_report(result, keeper, tmp_path / "eval")
    write_report(result, None, tmp_path / "eval", force=True)
    assert "report_images" not in (tmp_path / "eval/report.md").read_text()
