"""The evaluation's output folder: refused before any work, replaced only when it is ours.

``avatar4d eval`` writes metrics.json, report.md and report_images/ into a folder (RUN/eval,
or DIR/eval for ``eval --renders DIR``, by default) with a manifest; an earlier evaluation
there needs --force, and --force replaces only avatar4d's own evaluation (io/ownership.py).
Both files name what was scored: the checkpoint, or the renders folder and a hash of its
images.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from avatar4d.errors import InputError
from avatar4d.evaluate.report import IMAGES_DIR, REPORT_NAME, write_report
from avatar4d.evaluate.results import CheckpointSource, Source, write_metrics_json
from avatar4d.evaluate.scoring import RunEvaluation
from avatar4d.io.manifest import write_manifest
from avatar4d.io.output_kinds import EVALUATION
from avatar4d.io.ownership import check_owned_output, remove_avatar4d_files
from avatar4d.run.checkpoint import checkpoint_name
from avatar4d.run.run_folder import CHECKPOINTS

METRICS_NAME = "metrics.json"
EVAL_OUTPUTS = (METRICS_NAME, REPORT_NAME, IMAGES_DIR)
_HASH_CHUNK = 2**20


def check_eval_folder(out: Path, force: bool) -> None:
    """InputError, before anything is evaluated, when ``out`` may not receive an evaluation."""
    present = [name for name in EVAL_OUTPUTS if (Path(out) / name).exists()]
    check_owned_output(out, EVALUATION, force, " and ".join(present) or None)


def checkpoint_source(run_dir: Path, step: int) -> CheckpointSource:
    """The run, step and tensors file (with its sha256) that ``load_trained_model`` read."""
    relative = f"{CHECKPOINTS}/{checkpoint_name(step)}.safetensors"
    digest = hashlib.sha256()
    try:
        with open(Path(run_dir) / relative, "rb") as handle:
            while chunk := handle.read(_HASH_CHUNK):
                digest.update(chunk)
    except OSError as error:
        raise InputError(Path(run_dir) / relative, f"unreadable ({error.strerror})") from None
    return CheckpointSource(Path(run_dir).resolve(), step, relative, digest.hexdigest())


def write_eval_folder(
    out: Path, evaluation: RunEvaluation, source: Source, force: bool
) -> tuple[Path, Path]:
    """Replace (with ``force``) or fill ``out``; returns (metrics.json, report.md)."""
    out = Path(out)
    check_eval_folder(out, force)  # again: the folder may have changed while evaluating
    if force and out.is_dir():
        remove_avatar4d_files(out, EVALUATION)
    out.mkdir(parents=True, exist_ok=True)
    metrics = write_metrics_json(evaluation.result, out / METRICS_NAME, force, source)
    report = write_report(evaluation.result, evaluation.images, out, force, source)
    pictures = sorted(f"{IMAGES_DIR}/{p.name}" for p in (out / IMAGES_DIR).glob("*.png"))
    write_manifest(out, EVALUATION.name, [METRICS_NAME, REPORT_NAME, *pictures])
    return metrics, report
