"""``avatar4d eval``: held-out quality of a trained run, per test subset, with CIs."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

import tyro

from avatar4d.commands.extras import require_extra
from avatar4d.commands.option_checks import check_at_least
from avatar4d.errors import InputError

EXIT_GATE_FAILED = 1


@dataclass
class EvalCommand:
    """Evaluate a trained run on its dataset's test split (novel views, novel times, both).

    Per subset: PSNR on white, foreground PSNR, SSIM (and LPIPS where its weights are already
    on this machine), each as a mean with a 95 % bootstrap confidence interval, beside the
    PSNR on a fixed sample of training images so overfitting shows. Writes metrics.json and
    report.md (with best/worst frames side by side), both naming the step and checkpoint file
    scored, to RUN/eval unless --out says otherwise; an earlier evaluation there is refused
    before any work unless --force. With --gate, exits 1 when a condition is not met.
    """

    run_dir: Annotated[tyro.conf.Positional[Path], tyro.conf.arg(metavar="RUN")]
    """Run folder written by `avatar4d train`."""

    data: Path | None = None
    """Dataset to evaluate on. Default: the dataset the run was trained on."""

    out: Path | None = None
    """Folder for metrics.json, report.md and the comparison images. Default: RUN/eval."""

    gate: list[str] = field(default_factory=list)
    """Conditions such as "novel_view.psnr>=30" (subset.metric op value; metrics psnr,
    fg_psnr, ssim, lpips; also train.psnr). Exit 1 when any is not met."""

    step: int | None = None
    """Checkpoint step to evaluate. Default: the newest."""

    train_sample: int = 32
    """How many training images (a fixed random sample) to score for the train PSNR; 0: none."""

    device: str = "auto"
    """auto (CUDA when available), cpu or cuda."""

    force: tyro.conf.FlagCreatePairsOff[bool] = False
    """Replace an earlier evaluation of avatar4d's in the output folder (refused when the folder
    holds anything else)."""

    def run(self) -> int:
        require_extra("eval", ("torch",))
        from avatar4d.capture.progress import image_progress
        from avatar4d.data.dnerf import load_dataset
        from avatar4d.evaluate.eval_folder import (
            check_eval_folder,
            checkpoint_source,
            write_eval_folder,
        )
        from avatar4d.evaluate.gate import check_gates, parse_gate
        from avatar4d.evaluate.results import fixed_train_sample, metrics_json_dict
        from avatar4d.evaluate.run_eval import evaluate_model
        from avatar4d.run.trained import load_trained_model

        check_at_least("--train-sample", self.train_sample, 0)
        check_at_least("--step", self.step, 0)
        gates = [parse_gate(expression) for expression in self.gate]
        out = self.out or self.run_dir / "eval"
        check_eval_folder(out, self.force)  # before any work
        model = load_trained_model(self.run_dir, self.step, self.device)
        model.check_dataset(self.data or model.dataset_root)
        source = checkpoint_source(self.run_dir, model.step)
        dataset = load_dataset(self.data or model.dataset_root)
        if not dataset.splits.get("test"):
            raise InputError(dataset.root, "has no test split (transforms_test.json) to evaluate")

        total = len(dataset.splits["test"]) + len(
            fixed_train_sample(len(dataset.splits.get("train", [])), self.train_sample)
        )
        with image_progress(total, label="evaluating") as advance:
            evaluation = evaluate_model(
                model, dataset, self.train_sample, lambda done, total: advance()
            )
        metrics_path, report_path = write_eval_folder(out, evaluation, source, self.force)
        print_summary(evaluation.result, model.step)
        print(f"metrics  {metrics_path}\nreport   {report_path}")

        results = check_gates(metrics_json_dict(evaluation.result, source), gates)
        for result in results:
            print(f"gate {'passed' if result.passed else 'FAILED'}: {result.message}")
        return EXIT_GATE_FAILED if any(not r.passed for r in results) else 0


def _cell(summary, decimals: int) -> str:
    if summary is None:
        return "not computed"
    if not math.isfinite(summary.mean):
        return "-"
    return f"{summary.mean:.{decimals}f} [{summary.low:.{decimals}f}, {summary.high:.{decimals}f}]"


def print_summary(result, step: int) -> None:
    """A table of mean [95 % CI] per subset, then the train PSNR and any notes."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"held-out quality at step {step} (mean [95% CI])")
    for column in ("subset", "images", "PSNR dB", "fg PSNR dB", "SSIM", "LPIPS"):
        table.add_column(column)
    for name, subset in result.subsets.items():
        metrics = subset.metrics
        table.add_row(
            name,
            str(subset.images),
            _cell(metrics.get("psnr"), 2),
            _cell(metrics.get("fg_psnr"), 2),
            _cell(metrics.get("ssim"), 4),
            _cell(metrics.get("lpips"), 4),
        )
    if result.train_psnr is not None:
        table.add_row("train", str(result.train_psnr.n), _cell(result.train_psnr, 2), "", "", "")
    console = Console(highlight=False, width=max(Console().width, 110))
    console.print(table)
    for note in result.notes:
        console.print(f"note: {note}")
