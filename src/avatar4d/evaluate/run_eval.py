"""Score a trained model on a dataset's test frames (and a fixed sample of train frames).

The model's renders go through the same scoring path as any folder of renders
(``scoring.evaluate_predictions``), quantised to 8-bit straight-alpha RGBA first: exactly the
PNGs ``avatar4d render RUN --path test`` writes (``render_frames_rgba8`` makes both).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from itertools import groupby

import torch

from avatar4d.data.dataset import Dataset, Frame
from avatar4d.dataset_format import NOVEL_POSE
from avatar4d.evaluate.results import fixed_train_sample
from avatar4d.evaluate.scoring import (
    Progress,
    RunEvaluation,
    evaluate_predictions,
    quantize_rgba,
)
from avatar4d.raster.cameras import Cameras
from avatar4d.run.trained import TrainedModel

__all__ = ["RunEvaluation", "evaluate_model", "render_frames_rgba8", "render_straight_rgba"]

MAX_CAMERAS_PER_BATCH = 16


def performed_clip(frame: Frame) -> str | None:
    """The clip a novel_pose frame shows (never on the trained timeline), else None."""
    return frame.clip if frame.subset == NOVEL_POSE else None


def pose_for(model: TrainedModel, frame: Frame) -> tuple[TrainedModel, float]:
    """The model and time that render ``frame``: a novel_pose frame's clip performed by a
    model that can (the mesh-driven one); any other model is asked for the frame's time, as
    it would be by a user (it learned one timeline and cannot perform another clip)."""
    clip = performed_clip(frame)
    if clip is not None and model.can_perform:
        return model.performing(clip), frame.clip_time or 0.0
    return model, frame.time or 0.0


def render_straight_rgba(model: TrainedModel, frames: Sequence[Frame], t: float) -> torch.Tensor:
    """(C, H, W, 4) straight-alpha renders of frames that share one time and image size."""
    black = torch.zeros(3, device=model.device)
    out = model.render(Cameras.from_frames(frames), t, background=black)
    alpha = out.alpha.clamp(0.0, 1.0)
    straight = torch.where(alpha > 0, out.rgb / alpha.clamp_min(1e-8), torch.zeros_like(out.rgb))
    return torch.cat([straight.clamp(0.0, 1.0), alpha], dim=-1)


def _batches(frames: Sequence[Frame]) -> list[list[Frame]]:
    """Frames grouped by (time, size) so one deformation serves a batch of cameras."""

    def key(frame: Frame) -> tuple[str, float, int, int]:
        return (performed_clip(frame) or "", frame.time or 0.0, frame.width, frame.height)

    batches = []
    for _, group in groupby(sorted(frames, key=key), key=key):
        group = list(group)
        for start in range(0, len(group), MAX_CAMERAS_PER_BATCH):
            batches.append(group[start : start + MAX_CAMERAS_PER_BATCH])
    return batches


def render_frames_rgba8(
    model: TrainedModel, frames: Sequence[Frame]
) -> Iterator[tuple[Frame, torch.Tensor]]:
    """(frame, (H, W, 4) uint8 straight-alpha render on the model's device), batch by batch.

    Frames come grouped by time, not in the order given. The evaluation and ``render --path
    test`` both render through here, so the two see the very same bytes.
    """
    with torch.no_grad():
        for batch in _batches(frames):
            posed_model, t = pose_for(model, batch[0])
            renders = quantize_rgba(render_straight_rgba(posed_model, batch, t))
            yield from zip(batch, renders, strict=True)


def evaluate_model(
    model: TrainedModel,
    dataset: Dataset,
    train_sample: int = 32,
    progress: Progress | None = None,
) -> RunEvaluation:
    """Every test frame scored by subset, plus a fixed sample of train frames."""
    train = dataset.splits.get("train", [])
    train_frames = [train[i] for i in fixed_train_sample(len(train), train_sample)]
    return evaluate_predictions(
        dataset, lambda frames: render_frames_rgba8(model, frames), train_frames, progress
    )
