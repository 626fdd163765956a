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
    """Evaluate a trained run, or renders made by anything, on a dataset's test split (novel
    views, novel times, both).

    Per subset: PSNR on white, foreground PSNR, SSIM (and LPIPS where its weights are already
    on this machine), each as a mean with a 95 % bootstrap confidence interval, beside the
    PSNR on a fixed sample of training images so overfitting shows. Writes metrics.json and
    report.md (with best/worst frames side by side), both naming what was scored (the step and
    checkpoint file, or the renders folder and a hash of its images), to RUN/eval (DIR/eval
    with --renders) unless --out says otherwise; an earlier evaluation there is refused before
    any work unless --force. With --gate, exits 1 when a condition is not met.

    `eval --renders DIR DATA` scores one PNG per test frame of DATA, named after the frame's
    file_path (DIR/test/r_000.png for "./test/r_000"; `render RUN --path test --out DIR`
    writes these), RGBA with straight alpha or RGB on white, each the frame's size: the same
    metrics, subsets, intervals, report and gates as a run's (no train PSNR: the folder has
    no train renders). A run's evaluation scores its renders quantised to 8 bits, exactly as
    those PNGs hold them, so both give the same numbers.
    """

    run_dir: Annotated[tyro.conf.Positional[Path], tyro.conf.arg(metavar="RUN|DATA")]
    """Run folder written by `avatar4d train`; with --renders, the dataset the renders are of."""

    renders: Path | None = None
    """Score the PNGs in this folder (one per test frame of DATA) instead of a run."""

    data: Path | None = None
    """Dataset to evaluate on. Default: the dataset the run was trained on."""

    out: Path | None = None
    """Folder for metrics.json, report.md and the comparison images. Default: RUN/eval, or
    DIR/eval with --renders DIR."""

    gate: list[str] = field(default_factory=list)
    """Conditions such as "novel_view.psnr>=30" (subset.metric op value; metrics psnr,
    fg_psnr, ssim, lpips; also train.psnr). Exit 1 when any is not met."""

    step: int | None = None
    """Checkpoint step to evaluate. Default: the newest. (A run only.)"""

    train_sample: int | None = None
    """How many training images (a fixed random sample) to score for the train PSNR; 0: none.
    Default: 32. (A run only.)"""

    device: str = "auto"
    """auto (CUDA when available), cpu or cuda."""

    force: tyro.conf.FlagCreatePairsOff[bool] = False
    """Replace an earlier evaluation of avatar4d's in the output folder (refused when the folder
    holds anything else)."""

    def run(self) -> int:
        require_extra("eval", ("torch",))  # the metrics (SSIM's window, LPIPS) run on PyTorch
        from avatar4d.evaluate.gate import parse_gate

        check_at_least("--train-sample", self.train_sample, 0)
        check_at_least("--step", self.step, 0)
        gates = [parse_gate(expression) for expression in self.gate]
        if self.renders is not None:
            evaluation, source, out = self._evaluate_renders()
        else:
            evaluation, source, out = self._evaluate_run()
        from avatar4d.evaluate.eval_folder import write_eval_folder
        from avatar4d.evaluate.gate import check_gates
        from avatar4d.evaluate.results import metrics_json_dict

        metrics_path, report_path = write_eval_folder(out, evaluation, source, self.force)
        print_summary(evaluation.result, source.title())
        print(f"metrics  {metrics_path}\nreport   {report_path}")

        results = check_gates(metrics_json_dict(evaluation.result, source), gates)
        for result in results:
            print(f"gate {'passed' if result.passed else 'FAILED'}: {result.message}")
        return EXIT_GATE_FAILED if any(not r.passed for r in results) else 0

    def _evaluate_run(self):
        from avatar4d.capture.progress import image_progress
        from avatar4d.data.dnerf import load_dataset
        from avatar4d.evaluate.eval_folder import check_eval_folder, checkpoint_source
        from avatar4d.evaluate.results import DEFAULT_TRAIN_SAMPLE, fixed_train_sample
        from avatar4d.evaluate.run_eval import evaluate_model
        from avatar4d.run.trained import load_trained_model

        train_sample = DEFAULT_TRAIN_SAMPLE if self.train_sample is None else self.train_sample
        out = self.out or self.run_dir / "eval"
        check_eval_folder(out, self.force)  # before any work
        model = load_trained_model(self.run_dir, self.step, self.device)
        model.check_dataset(self.data or model.dataset_root)
        source = checkpoint_source(self.run_dir, model.step)
        dataset = load_dataset(self.data or model.dataset_root)
        _check_test_split(dataset)
        total = len(dataset.splits["test"]) + len(
            fixed_train_sample(len(dataset.splits.get("train", [])), train_sample)
        )
        with image_progress(total, label="evaluating") as advance:
            evaluation = evaluate_model(model, dataset, train_sample, lambda *_: advance())
        return evaluation, source, out

    def _evaluate_renders(self):
        from avatar4d.capture.progress import image_progress
        from avatar4d.data.dnerf import load_dataset
        from avatar4d.evaluate.eval_folder import check_eval_folder
        from avatar4d.evaluate.renders_eval import evaluate_renders
        from avatar4d.run.device import resolve_device

        for option, value in (("--step", self.step), ("--data", self.data)):
            if value is not None:
                raise InputError(option, "applies to a run; with --renders DIR, give DATA only")
        if self.train_sample is not None:
            raise InputError("--train-sample", "applies to a run; a renders folder has no train")
        out = self.out or self.renders / "eval"
        if Path(out).resolve() == Path(self.renders).resolve():
            raise InputError(
                "--out",
                "must not be the renders folder itself; its report "
                "images would be taken for renders (default: DIR/eval)",
            )
        check_eval_folder(out, self.force)  # before any work
        dataset = load_dataset(self.run_dir)
        _check_test_split(dataset)
        device = resolve_device(self.device)
        with image_progress(len(dataset.splits["test"]), label="evaluating") as advance:
            evaluation, source = evaluate_renders(
                self.renders, dataset, out, device, lambda *_: advance()
            )
        return evaluation, source, out


def _check_test_split(dataset) -> None:
    if not dataset.splits.get("test"):
        raise InputError(dataset.root, "has no test split (transforms_test.json) to evaluate")


def _cell(summary, decimals: int) -> str:
    if summary is None:
        return "not computed"
    if not math.isfinite(summary.mean):
        return "-"
    return f"{summary.mean:.{decimals}f} [{summary.low:.{decimals}f}, {summary.high:.{decimals}f}]"


def print_summary(result, title: str) -> None:
    """A table of mean [95 % CI] per subset, then the train PSNR and any notes."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{title} (mean [95% CI])")
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
