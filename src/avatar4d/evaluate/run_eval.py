"""Score a trained model on a dataset's test frames (and a fixed sample of train frames)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import groupby

import numpy as np
import torch

from avatar4d.data.dataset import Dataset, Frame
from avatar4d.data.dnerf import load_image_rgba
from avatar4d.data.image_limits import check_header_size
from avatar4d.evaluate.lpips_metric import LpipsMetric, lpips_available
from avatar4d.evaluate.metrics import score_image
from avatar4d.evaluate.report import BestWorstKeeper
from avatar4d.evaluate.results import EvaluationResult, FrameRecord, fixed_train_sample, summarize
from avatar4d.raster.cameras import Cameras
from avatar4d.run.trained import TrainedModel

MAX_CAMERAS_PER_BATCH = 16
Progress = Callable[[int, int], None]


@dataclass
class RunEvaluation:
    result: EvaluationResult
    images: BestWorstKeeper  # the best and worst frame of each subset, for the report


def render_straight_rgba(model: TrainedModel, frames: Sequence[Frame], t: float) -> torch.Tensor:
    """(C, H, W, 4) straight-alpha renders of frames that share one time and image size."""
    black = torch.zeros(3, device=model.device)
    out = model.render(Cameras.from_frames(frames), t, background=black)
    alpha = out.alpha.clamp(0.0, 1.0)
    straight = torch.where(alpha > 0, out.rgb / alpha.clamp_min(1e-8), torch.zeros_like(out.rgb))
    return torch.cat([straight.clamp(0.0, 1.0), alpha], dim=-1)


def _batches(frames: Sequence[Frame]) -> list[list[Frame]]:
    """Frames grouped by (time, size) so one deformation serves a batch of cameras."""

    def key(frame: Frame) -> tuple[float, int, int]:
        return (frame.time or 0.0, frame.width, frame.height)

    batches = []
    for _, group in groupby(sorted(frames, key=key), key=key):
        group = list(group)
        for start in range(0, len(group), MAX_CAMERAS_PER_BATCH):
            batches.append(group[start : start + MAX_CAMERAS_PER_BATCH])
    return batches


def _score_frames(
    model: TrainedModel,
    frames: Sequence[Frame],
    subset_of: Callable[[Frame], str | None],
    lpips: LpipsMetric | None,
    keeper: BestWorstKeeper | None,
    progress: Progress | None,
    done: int,
    total: int,
) -> list[FrameRecord]:
    scored = {}
    for batch in _batches(frames):
        renders = render_straight_rgba(model, batch, batch[0].time or 0.0)
        for frame, pred in zip(batch, renders, strict=True):
            gt = (
                torch.as_tensor(np.array(load_image_rgba(frame)), device=pred.device).float()
                / 255.0
            )
            scores = score_image(pred, gt, lpips)
            record = FrameRecord.from_scores(
                frame_id=f"{frame.image_path.parent.name}/{frame.image_path.stem}",
                subset=subset_of(frame),
                time=frame.time,
                camera_index=frame.camera_index,
                scores=scores,
            )
            scored[id(frame)] = (record, pred, gt)
            done += 1
            if progress is not None:
                progress(done, total)
    records = []
    for frame in frames:  # records in dataset order, whatever order they were rendered in
        record, pred, gt = scored[id(frame)]
        if keeper is not None:
            keeper.offer(record, pred, gt)
        records.append(record)
    return records


def evaluate_model(
    model: TrainedModel,
    dataset: Dataset,
    train_sample: int = 32,
    progress: Progress | None = None,
) -> RunEvaluation:
    """Every test frame scored by subset, plus a fixed sample of train frames."""
    test = dataset.splits.get("test", [])
    train = dataset.splits.get("train", [])
    train_frames = [train[i] for i in fixed_train_sample(len(train), train_sample)]
    total = len(test) + len(train_frames)
    for frame in [*test, *train_frames]:  # every image readable at its frame's size, first
        check_header_size(frame.image_path, frame.width, frame.height)
    lpips = LpipsMetric() if lpips_available() else None
    keeper = BestWorstKeeper()
    with torch.no_grad():
        records = _score_frames(model, test, lambda f: f.subset, lpips, keeper, progress, 0, total)
        train_records = _score_frames(
            model, train_frames, lambda f: "train", lpips, None, progress, len(test), total
        )
    return RunEvaluation(result=summarize(records, train_records), images=keeper)
