"""The one scoring path of every evaluation: predictions of dataset frames against their images.

A run's evaluation (``run_eval``) and a folder of renders made by anything (``renders_eval``)
differ only in where each frame's prediction comes from; both hand ``evaluate_predictions`` a
function that yields ``(frame, prediction)`` pairs, and everything after that (ground truth,
metrics, records in dataset order, the report's best and worst frames, the summary) is here.

Predictions are 8-bit images, as a PNG holds them: (H, W, 4) uint8 straight-alpha RGBA, or
(H, W, 3) uint8 RGB already on white. A run's renders are quantised to 8 bits before scoring
(``quantize_rgba``), so that ``avatar4d eval RUN`` and ``avatar4d eval --renders`` on the PNGs
``avatar4d render RUN --path test`` writes give the same numbers, and so that avatar4d is
scored on exactly what any other method's PNGs are scored on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from avatar4d.data.dataset import Dataset, Frame
from avatar4d.data.image_limits import check_header_size
from avatar4d.data.images import load_image_rgba
from avatar4d.evaluate.lpips_metric import LpipsMetric, lpips_available
from avatar4d.evaluate.metrics import score_image
from avatar4d.evaluate.report import BestWorstKeeper
from avatar4d.evaluate.results import EvaluationResult, FrameRecord, summarize

Progress = Callable[[int, int], None]
# Frames in, (frame, 8-bit prediction) pairs out, in any order, one per frame.
Predict = Callable[[Sequence[Frame]], Iterable[tuple[Frame, torch.Tensor]]]


@dataclass
class RunEvaluation:
    result: EvaluationResult
    images: BestWorstKeeper  # the best and worst frame of each subset, for the report


def quantize_rgba(image: torch.Tensor) -> torch.Tensor:
    """Float straight-alpha RGBA in [0, 1] -> uint8, rounded to nearest, as a PNG stores it."""
    return (image.clamp(0.0, 1.0) * 255.0 + 0.5).to(torch.uint8)


def frame_id(frame: Frame) -> str:
    """How records and reports name a frame: its image's folder and stem ("test/r_000")."""
    return f"{frame.image_path.parent.name}/{frame.image_path.stem}"


def _score_frames(
    frames: Sequence[Frame],
    predict: Predict,
    subset_of: Callable[[Frame], str | None],
    lpips: LpipsMetric | None,
    keeper: BestWorstKeeper | None,
    progress: Progress | None,
    done: int,
    total: int,
) -> list[FrameRecord]:
    scored = {}
    for frame, prediction in predict(frames):
        pred = prediction.float() / 255.0
        gt = torch.as_tensor(np.array(load_image_rgba(frame)), device=pred.device).float() / 255.0
        record = FrameRecord.from_scores(
            frame_id=frame_id(frame),
            subset=subset_of(frame),
            time=frame.time,
            camera_index=frame.camera_index,
            scores=score_image(pred, gt, lpips),
        )
        scored[id(frame)] = (record, pred, gt)
        done += 1
        if progress is not None:
            progress(done, total)
    records = []
    for frame in frames:  # records in dataset order, whatever order they were predicted in
        record, pred, gt = scored[id(frame)]
        if keeper is not None:
            keeper.offer(record, pred, gt)
        records.append(record)
    return records


def evaluate_predictions(
    dataset: Dataset,
    predict: Predict,
    train_frames: Sequence[Frame] = (),
    progress: Progress | None = None,
) -> RunEvaluation:
    """Every test frame scored by subset, plus ``train_frames`` for the train PSNR."""
    test = dataset.splits.get("test", [])
    total = len(test) + len(train_frames)
    for frame in [*test, *train_frames]:  # every image readable at its frame's size, first
        check_header_size(frame.image_path, frame.width, frame.height)
    lpips = LpipsMetric() if lpips_available() else None
    keeper = BestWorstKeeper()
    with torch.no_grad():
        records = _score_frames(
            test, predict, lambda f: f.subset, lpips, keeper, progress, 0, total
        )
        train_records = _score_frames(
            train_frames, predict, lambda f: "train", lpips, None, progress, len(test), total
        )
    return RunEvaluation(result=summarize(records, train_records), images=keeper)


def as_prediction(pixels: np.ndarray, has_alpha: bool, device: torch.device | str) -> torch.Tensor:
    """A decoded (H, W, 4) uint8 image as a prediction: RGBA, or RGB when it stores no alpha."""
    return torch.as_tensor(np.array(pixels if has_alpha else pixels[..., :3]), device=device)
