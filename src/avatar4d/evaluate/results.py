"""Per-frame scores -> per-subset summaries with confidence intervals, and metrics.json.

metrics.json schema (every number a float; a mean with no finite value is null)::

    {
      "source": {"run": "/abs/run", "step": 3000,          # what was evaluated: a run ...
                 "checkpoint": "checkpoints/step_003000.safetensors", "sha256": "...",
                 "scored": "renders quantised to 8-bit straight-alpha RGBA, ..."},
             | {"renders": "/abs/renders", "images": 96,    # ... or a folder of renders
                "sha256": "...", "modes": {"RGBA": 96}, "scored": "the PNG files, ..."},
      "subsets": {
        "novel_view": {
          "psnr":    {"mean": 28.4, "ci95": [27.9, 28.9], "n": 96},
          "fg_psnr": {...}, "ssim": {...},
          "lpips":   "not computed" | {...}
        }, ...
      },
      "train":  {"psnr": {...} | "not computed"},
      "gap_db": {"novel_view": 6.1, ...},       # train PSNR mean minus the subset's PSNR mean
      "notes":  ["train PSNR exceeds novel_view by 6.1 dB: ...", ...]
    }

``n`` counts the images whose value entered the mean; images without a finite value (no
foreground for fg_psnr) are excluded, and the notes say how many.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from avatar4d.dataset_format import TEST_SUBSETS
from avatar4d.evaluate.bootstrap import MeanCI, bootstrap_mean
from avatar4d.evaluate.metrics import PSNR_CAP_DB, ImageScores
from avatar4d.io.atomic import write_text_atomic

DEFAULT_SUBSET = "test"  # test frames of datasets without subset tags (plain D-NeRF)
METRIC_NAMES = ("psnr", "fg_psnr", "ssim", "lpips")
NOT_COMPUTED = "not computed"
OVERFIT_GAP_DB = 3.0
FEW_IMAGES = 10  # below this, a bootstrap interval is only a rough guide
DEFAULT_TRAIN_SAMPLE = 32

# What a large train/test gap says, by test subset.
_GAP_MEANING = {
    "novel_view": "the model overfits the training views",
    "novel_time": "the model overfits the training times",
    "novel_both": "the model overfits the training views and times",
    "novel_pose": "the model does not carry over to poses of clips it was not trained on",
}


@dataclass(frozen=True)
class FrameRecord:
    """Scores of one rendered test (or train) image."""

    frame_id: str  # e.g. the dataset file_path: "./test/novel_view_c24_t000"
    subset: str  # novel_view | novel_time | novel_both | test | train
    time: float | None
    camera_index: int | None
    psnr: float
    fg_psnr: float
    ssim: float
    lpips: float | None  # None: not computed

    @classmethod
    def from_scores(
        cls,
        frame_id: str,
        subset: str | None,
        time: float | None,
        camera_index: int | None,
        scores: ImageScores,
    ) -> FrameRecord:
        """A record from ``score_image``'s output; a missing subset becomes "test"."""
        return cls(
            frame_id=frame_id,
            subset=subset or DEFAULT_SUBSET,
            time=time,
            camera_index=camera_index,
            psnr=scores.psnr,
            fg_psnr=scores.fg_psnr,
            ssim=scores.ssim,
            lpips=scores.lpips,
        )

    def value(self, metric: str) -> float | None:
        return getattr(self, metric)


RUN_SCORED = (
    "renders quantised to 8-bit straight-alpha RGBA, the PNGs `avatar4d render RUN --path test` "
    "writes, composited on white"
)
RENDERS_SCORED = (
    "the PNG files as stored: RGBA composited on white, RGB (no alpha) taken as on white with "
    "the foreground of fg_psnr from the ground truth's alpha alone"
)


@dataclass(frozen=True)
class CheckpointSource:
    """The checkpoint an evaluation scored, so results can be told from a later run's."""

    run: Path  # the run folder, absolute
    step: int
    checkpoint: str  # the tensors file, relative to the run folder
    sha256: str  # of that file

    def to_json(self) -> dict:
        return {
            "run": str(self.run),
            "step": self.step,
            "checkpoint": self.checkpoint,
            "sha256": self.sha256,
            "scored": RUN_SCORED,
        }

    def describe(self) -> str:
        return (
            f"Run `{self.run}` at step {self.step}: checkpoint `{self.checkpoint}` "
            f"(sha256 `{self.sha256}`). Scored: {RUN_SCORED}."
        )

    def title(self) -> str:
        return f"held-out quality at step {self.step}"


@dataclass(frozen=True)
class RendersSource:
    """A folder of renders made by anything, so results can be told from another folder's."""

    folder: Path  # absolute
    images: int
    sha256: str  # over the images' relative paths and contents (renders_folder.images_digest)
    modes: dict[str, int]  # "RGBA" | "RGB" -> how many images store alpha or not

    def to_json(self) -> dict:
        return {
            "renders": str(self.folder),
            "images": self.images,
            "sha256": self.sha256,
            "modes": dict(self.modes),
            "scored": RENDERS_SCORED,
        }

    def describe(self) -> str:
        modes = ", ".join(f"{count} {mode}" for mode, count in sorted(self.modes.items()))
        return (
            f"Renders in `{self.folder}`: {self.images} PNG files ({modes}; sha256 of the "
            f"images `{self.sha256}`). Scored: {RENDERS_SCORED}."
        )

    def title(self) -> str:
        return f"held-out quality of {self.folder.name}"


Source = CheckpointSource | RendersSource


@dataclass(frozen=True)
class SubsetSummary:
    name: str
    images: int
    metrics: dict[str, MeanCI | None]  # None: not computed (LPIPS only)


@dataclass(frozen=True)
class EvaluationResult:
    subsets: dict[str, SubsetSummary]  # grid subsets in their canonical order, then others
    train_psnr: MeanCI | None  # None: no training image was scored
    gap_db: dict[str, float]
    notes: list[str]
    records: list[FrameRecord] = field(repr=False)  # test frames, in the order given
    train_records: list[FrameRecord] = field(repr=False)


def fixed_train_sample(
    frame_count: int, sample_size: int = DEFAULT_TRAIN_SAMPLE, seed: int = 0
) -> list[int]:
    """Sorted indices of a fixed random sample of training frames (all of them if fewer).

    Random rather than evenly spaced: a grid's frames are ordered camera by camera, so a
    regular stride would keep hitting the same few times.
    """
    if frame_count <= sample_size:
        return list(range(frame_count))
    rng = np.random.default_rng(seed)
    return sorted(int(i) for i in rng.choice(frame_count, size=sample_size, replace=False))


def _subset_order(names: Iterable[str]) -> list[str]:
    names = set(names)
    known = [name for name in TEST_SUBSETS if name in names]
    return known + sorted(names - set(known))


def _summarize_subset(
    name: str, records: Sequence[FrameRecord], resamples: int, seed: int, notes: list[str]
) -> SubsetSummary:
    metrics: dict[str, MeanCI | None] = {}
    for metric in METRIC_NAMES:
        values = [record.value(metric) for record in records]
        if metric == "lpips" and all(value is None for value in values):
            metrics[metric] = None
            continue
        numeric = [math.nan if value is None else value for value in values]
        summary = bootstrap_mean(numeric, resamples=resamples, seed=seed)
        metrics[metric] = summary
        if summary.excluded:
            reason = "have no foreground" if metric == "fg_psnr" else "have no finite value"
            notes.append(
                f"{metric}: {summary.excluded} of {len(records)} {name} images {reason} "
                "and are excluded from its mean"
            )
    capped = sum(1 for record in records if record.psnr >= PSNR_CAP_DB)
    if capped:
        notes.append(
            f"psnr: {capped} {name} image(s) match the ground truth exactly; "
            f"their PSNR is capped at {PSNR_CAP_DB:g} dB"
        )
    if len(records) < FEW_IMAGES:
        count = f"{len(records)} image" + ("" if len(records) == 1 else "s")
        notes.append(f"{name}: only {count}; its confidence intervals are rough")
    return SubsetSummary(name=name, images=len(records), metrics=metrics)


def summarize(
    records: Sequence[FrameRecord],
    train_records: Sequence[FrameRecord] = (),
    resamples: int = 2000,
    seed: int = 0,
) -> EvaluationResult:
    """Per-subset means with 95 % bootstrap intervals, train PSNR, and the train/test gap."""
    notes: list[str] = []
    by_subset: dict[str, list[FrameRecord]] = {}
    for record in records:
        by_subset.setdefault(record.subset or DEFAULT_SUBSET, []).append(record)
    subsets = {
        name: _summarize_subset(name, by_subset[name], resamples, seed, notes)
        for name in _subset_order(by_subset)
    }
    if any(summary.metrics["lpips"] is None for summary in subsets.values()):
        notes.append(
            "lpips: not computed (the lpips package or its backbone weights are not on this "
            "machine; nothing was downloaded)"
        )

    train_psnr = None
    gap_db: dict[str, float] = {}
    gap_notes: list[str] = []  # listed first: the most important thing the report says
    if train_records:
        train_psnr = bootstrap_mean([r.psnr for r in train_records], resamples=resamples, seed=seed)
        for name, summary in subsets.items():
            test_psnr = summary.metrics["psnr"]
            if test_psnr is None or not math.isfinite(test_psnr.mean):
                continue
            gap = train_psnr.mean - test_psnr.mean
            gap_db[name] = gap
            if gap > OVERFIT_GAP_DB:
                meaning = _GAP_MEANING.get(name, "the model overfits the training images")
                gap_notes.append(f"train PSNR exceeds {name} by {gap:.1f} dB: {meaning}")
    else:
        notes.append("train PSNR not computed: no training images were scored")

    return EvaluationResult(
        subsets=subsets,
        train_psnr=train_psnr,
        gap_db=gap_db,
        notes=gap_notes + notes,
        records=list(records),
        train_records=list(train_records),
    )


def _number(value: float) -> float | None:
    return round(value, 6) if math.isfinite(value) else None


def _summary_json(summary: MeanCI | None) -> dict | str:
    if summary is None:
        return NOT_COMPUTED
    return {
        "mean": _number(summary.mean),
        "ci95": [_number(summary.low), _number(summary.high)],
        "n": summary.n,
    }


def metrics_json_dict(result: EvaluationResult, source: Source | None = None) -> dict:
    """The metrics.json content (schema in the module docstring; no "source" without one)."""
    document = {} if source is None else {"source": source.to_json()}
    return document | {
        "subsets": {
            name: {metric: _summary_json(summary.metrics[metric]) for metric in METRIC_NAMES}
            for name, summary in result.subsets.items()
        },
        "train": {"psnr": _summary_json(result.train_psnr)},
        "gap_db": {name: _number(gap) for name, gap in result.gap_db.items()},
        "notes": list(result.notes),
    }


def write_metrics_json(
    result: EvaluationResult,
    path: str | Path,
    force: bool = False,
    source: Source | None = None,
) -> Path:
    """Write metrics.json atomically; an existing file is replaced only with ``force``."""
    text = json.dumps(metrics_json_dict(result, source), indent=2, allow_nan=False) + "\n"
    return write_text_atomic(path, text, force)
