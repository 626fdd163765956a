"""The evaluation report: report.md with a table per subset and its best and worst frames.

Layout written by ``write_report``::

    out_dir/report.md
    out_dir/report_images/<subset>_best.png    ground truth | render | error, on white
    out_dir/report_images/<subset>_worst.png

Best and worst are by whole-image PSNR (the headline metric); ties go to the earlier record.
The images of those frames come from ``images``: a mapping or a callable from frame id to
``(prediction, ground_truth)`` tensors. ``BestWorstKeeper`` collects exactly those while
frames are scored one by one, so the caller need not hold every image or render twice.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from pathlib import Path

import torch

from avatar4d.evaluate.bootstrap import MeanCI
from avatar4d.evaluate.figures import ERROR_COLORMAP, ERROR_SCALE_MAX, comparison_image
from avatar4d.evaluate.metrics import PSNR_CAP_DB
from avatar4d.evaluate.results import (
    METRIC_NAMES,
    EvaluationResult,
    FrameRecord,
    Source,
)
from avatar4d.io.atomic import refuse_existing, write_text_atomic
from avatar4d.io.png import write_png

ImagePair = tuple[torch.Tensor, torch.Tensor]  # (prediction, ground truth), (H, W, 4)
ImageSource = Mapping[str, ImagePair] | Callable[[str], ImagePair]

REPORT_NAME = "report.md"
IMAGES_DIR = "report_images"

_METRIC_LABELS = {
    "psnr": ("PSNR (dB)", "{:.2f}"),
    "fg_psnr": ("foreground PSNR (dB)", "{:.2f}"),
    "ssim": ("SSIM", "{:.4f}"),
    "lpips": ("LPIPS (lower is better)", "{:.4f}"),
}


def _with_record(extremes: dict[str, tuple[FrameRecord, FrameRecord]], record: FrameRecord) -> None:
    """Update the (best, worst) pair of the record's subset; ties keep the earlier record."""
    if not math.isfinite(record.psnr):
        return
    best, worst = extremes.get(record.subset, (record, record))
    if record.psnr > best.psnr:
        best = record
    if record.psnr < worst.psnr:
        worst = record
    extremes[record.subset] = (best, worst)


def extreme_frames(result: EvaluationResult) -> dict[str, tuple[FrameRecord, FrameRecord]]:
    """Per subset: (best, worst) record by PSNR; subsets without a finite PSNR are left out."""
    extremes: dict[str, tuple[FrameRecord, FrameRecord]] = {}
    for record in result.records:
        _with_record(extremes, record)
    return extremes


class BestWorstKeeper:
    """Keeps, while frames are scored, the images ``write_report`` will ask for.

    Offer every scored test frame in the order its record goes into ``summarize``; then pass
    the keeper as ``images``. Holds at most two image pairs per subset, on the CPU.
    """

    def __init__(self) -> None:
        self._extremes: dict[str, tuple[FrameRecord, FrameRecord]] = {}
        self._images: dict[str, ImagePair] = {}

    def offer(self, record: FrameRecord, pred: torch.Tensor, gt: torch.Tensor) -> None:
        _with_record(self._extremes, record)
        if any(record is kept for kept in self._extremes.get(record.subset, ())):
            self._images[record.frame_id] = (pred.detach().cpu(), gt.detach().cpu())
        kept = {r.frame_id for pair in self._extremes.values() for r in pair}
        for frame_id in list(self._images):
            if frame_id not in kept:
                del self._images[frame_id]

    def __call__(self, frame_id: str) -> ImagePair:
        if frame_id not in self._images:
            raise KeyError(f"frame {frame_id!r} was not kept: offer frames in record order")
        return self._images[frame_id]


def _fetch(images: ImageSource, frame_id: str) -> ImagePair:
    if isinstance(images, Mapping):
        return images[frame_id]
    return images(frame_id)


def _format_summary(metric: str, summary: MeanCI | None) -> tuple[str, str]:
    if summary is None:
        return "not computed", "–"
    if not math.isfinite(summary.mean):
        return "no value", str(summary.n)
    number = _METRIC_LABELS[metric][1]
    text = f"{number.format(summary.mean)} [{number.format(summary.low)}, "
    text += f"{number.format(summary.high)}]"
    return text, str(summary.n)


def _images(count: int) -> str:
    return f"{count} image" if count == 1 else f"{count} images"


def _safe_name(subset: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", subset)


def _describe(record: FrameRecord) -> str:
    parts = [f"`{record.frame_id}`"]
    if record.camera_index is not None:
        parts.append(f"camera {record.camera_index}")
    if record.time is not None:
        parts.append(f"t = {record.time:.4f}")
    return ", ".join(parts) + f": PSNR {record.psnr:.2f} dB, SSIM {record.ssim:.4f}"


def _markdown(
    result: EvaluationResult,
    pictures: dict[str, list[tuple[str, FrameRecord, str]]],
    source: Source | None = None,
) -> str:
    lines = ["# Evaluation report", ""]
    if source is not None:
        lines += [source.describe(), ""]
    lines += [
        "Every metric is computed on images composited on a white background. Each cell is "
        "the mean over the subset's images with its 95 % percentile-bootstrap confidence "
        "interval; `n` counts the images that entered the mean. SSIM uses an 11 × 11 Gaussian "
        "window (σ 1.5) with zero padding, as the reference 3DGS code does; PSNR is capped at "
        f"{PSNR_CAP_DB:g} dB.",
        "",
    ]
    if result.notes:
        lines += ["## Notes", ""] + [f"- {note}" for note in result.notes] + [""]

    lines += ["## Train vs test", ""]
    if result.train_psnr is None:
        lines += ["Train PSNR was not computed.", ""]
    else:
        train_text, _ = _format_summary("psnr", result.train_psnr)
        lines += [
            f"Train PSNR on a fixed sample of training images ({_images(result.train_psnr.n)}): "
            f"{train_text} dB.",
            "",
            "| subset | test PSNR (dB) | train − test (dB) |",
            "|---|---|---|",
        ]
        for name, summary in result.subsets.items():
            test_text, _ = _format_summary("psnr", summary.metrics["psnr"])
            gap = result.gap_db.get(name)
            lines.append(f"| {name} | {test_text} | {'–' if gap is None else f'{gap:.2f}'} |")
        lines.append("")

    for name, summary in result.subsets.items():
        lines += [
            f"## {name} ({_images(summary.images)})",
            "",
            "| metric | mean [95 % CI] | n |",
            "|---|---|---|",
        ]
        for metric in METRIC_NAMES:
            text, count = _format_summary(metric, summary.metrics[metric])
            lines.append(f"| {_METRIC_LABELS[metric][0]} | {text} | {count} |")
        lines.append("")
        for label, record, relative_path in pictures.get(name, []):
            lines += [
                f"{label} frame: {_describe(record)}",
                "",
                f"![{name} {label.lower()}: ground truth | render | error]({relative_path})",
                "",
            ]
    if pictures:
        lines += [
            "Pictures: ground truth | render | error heat map. The heat map shows the per-pixel "
            f"RMS error over RGB, from white (0) to dark red ({ERROR_SCALE_MAX:g} or more; "
            f"matplotlib's {ERROR_COLORMAP} colour map).",
            "",
        ]
    return "\n".join(lines)


def write_report(
    result: EvaluationResult,
    images: ImageSource | None,
    out_dir: str | Path,
    force: bool = False,
    source: Source | None = None,
) -> Path:
    """Write report.md (and its pictures unless ``images`` is None); returns the report path.

    Nothing is written when any output already exists and ``force`` is not set.
    """
    out_dir = Path(out_dir)
    report_path = out_dir / REPORT_NAME
    planned: dict[str, list[tuple[str, FrameRecord, Path]]] = {}
    if images is not None:
        for subset, (best, worst) in extreme_frames(result).items():
            pairs = [("Best", best)] if best is worst else [("Best", best), ("Worst", worst)]
            planned[subset] = [
                (label, record, out_dir / IMAGES_DIR / f"{_safe_name(subset)}_{label.lower()}.png")
                for label, record in pairs
            ]
    for path in [report_path] + [p for entries in planned.values() for *_, p in entries]:
        refuse_existing(path, force)

    pictures: dict[str, list[tuple[str, FrameRecord, str]]] = {}
    for subset, entries in planned.items():
        for label, record, path in entries:
            pred, gt = _fetch(images, record.frame_id)
            write_png(path, comparison_image(pred, gt), force)
            relative = path.relative_to(out_dir).as_posix()
            pictures.setdefault(subset, []).append((label, record, relative))
    return write_text_atomic(report_path, _markdown(result, pictures, source), force)
