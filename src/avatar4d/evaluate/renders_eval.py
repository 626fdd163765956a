"""Score a folder of renders made by anything on a dataset's test frames.

The same scoring path as a run's evaluation (``scoring.evaluate_predictions``); only the
predictions differ: read from the folder's PNGs instead of rendered. A folder holds renders
of the test frames only, so no train PSNR is computed (the notes say so, and a train gate
fails as any gate without a value does).
"""

from __future__ import annotations

from pathlib import Path

import torch

from avatar4d.data.dataset import Dataset
from avatar4d.evaluate.renders_folder import (
    RendersFolder,
    check_renders_folder,
    images_digest,
    read_renders,
)
from avatar4d.evaluate.results import RendersSource
from avatar4d.evaluate.scoring import Progress, RunEvaluation, evaluate_predictions


def renders_source(renders: RendersFolder) -> RendersSource:
    """What metrics.json and report.md name as scored: the folder and a hash of its images."""
    return RendersSource(
        renders.folder.resolve(), len(renders.paths), images_digest(renders), renders.modes
    )


def evaluate_renders(
    folder: Path,
    dataset: Dataset,
    out: Path | None = None,
    device: torch.device | str = "cpu",
    progress: Progress | None = None,
) -> tuple[RunEvaluation, RendersSource]:
    """Every test frame's render in ``folder`` scored by subset (``out``: skipped in it)."""
    renders = check_renders_folder(folder, dataset, out)  # InputError before any scoring
    source = renders_source(renders)
    evaluation = evaluate_predictions(
        dataset, lambda frames: read_renders(renders, dataset, frames, device), (), progress
    )
    return evaluation, source
