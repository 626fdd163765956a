"""What a training run shows while it works: a rich progress line, optional TensorBoard."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Column
from rich.text import Text

from avatar4d.errors import InputError


def tensorboard_available() -> bool:
    return importlib.util.find_spec("tensorboard") is not None


def require_tensorboard() -> None:
    if not tensorboard_available():
        raise InputError("--tensorboard", "tensorboard is not installed (pip install tensorboard)")


MAX_BAR_WIDTH = 24
MIN_BAR_WIDTH = 6
METRICS_WIDTH = 44  # "loss 0.0123  123,456 Gaussians  val 28.12 dB"
TIME_WIDTH = 7  # 0:00:00


class MetricsColumn(ProgressColumn):
    """The task's description on one line, cut with an ellipsis where the terminal is narrow.

    The only column a narrow terminal may shrink: rich otherwise cuts every column evenly,
    elapsed and remaining time down to ``0:00…``.
    """

    def __init__(self) -> None:
        super().__init__(table_column=Column(no_wrap=False, overflow="ellipsis"))

    def render(self, task: Task) -> Text:
        return Text(task.description, no_wrap=True, overflow="ellipsis")


def _fixed(column: ProgressColumn) -> ProgressColumn:
    column._table_column = Column(no_wrap=True)  # never shrunk by a narrow terminal
    return column


def training_columns(total: int, console_width: int) -> tuple[ProgressColumn, ...]:
    """The bar's columns: label, bar, steps, elapsed, remaining, then the metrics.

    The bar gives up width first (down to MIN_BAR_WIDTH), then the metrics; the counts and
    times are never cut (they fit 60 columns with a 6-digit step count).
    """
    counts = 2 * len(str(total)) + 1
    fixed = len("training") + counts + 2 * TIME_WIDTH + len("left") + 6  # 6 single spaces
    bar_width = max(MIN_BAR_WIDTH, min(MAX_BAR_WIDTH, console_width - fixed - METRICS_WIDTH))
    return (
        _fixed(TextColumn("training")),
        _fixed(BarColumn(bar_width=bar_width)),
        _fixed(MofNCompleteColumn()),
        _fixed(TimeElapsedColumn()),
        _fixed(TextColumn("left")),
        _fixed(TimeRemainingColumn()),
        MetricsColumn(),
    )


class TrainProgress:
    """Progress bar with ETA, loss, Gaussian count and the last validation PSNR.

    Silent when ``enabled`` is False. A TensorBoard writer logs the same scalars when
    ``tensorboard_dir`` is given.
    """

    def __init__(
        self,
        total: int,
        completed: int,
        enabled: bool,
        tensorboard_dir: Path | None = None,
        console: Console | None = None,
    ) -> None:
        self.console = console or Console(stderr=True)
        self._progress: Progress | None = None
        self._task = None
        self._writer = None
        self._fields = {"loss": "loss --", "gaussians": "", "psnr": "val --"}
        if enabled:
            self._progress = Progress(
                *training_columns(total, self.console.width), console=self.console
            )
            self._task = self._progress.add_task(
                self._description(), total=total, completed=completed
            )
        if tensorboard_dir is not None:
            require_tensorboard()
            from torch.utils.tensorboard import SummaryWriter

            self._writer = SummaryWriter(log_dir=str(tensorboard_dir), purge_step=completed)

    def _description(self) -> str:
        return "  ".join(value for value in self._fields.values() if value)

    def __enter__(self) -> TrainProgress:
        if self._progress is not None:
            self._progress.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._progress is not None:
            self._progress.stop()
        if self._writer is not None:
            self._writer.close()

    def advance_to(self, completed: int) -> None:
        if self._progress is not None:
            self._progress.update(self._task, completed=completed)

    def log_training(self, completed: int, loss: float, num_gaussians: int) -> None:
        self._fields["loss"] = f"loss {loss:.4f}"
        self._fields["gaussians"] = f"{num_gaussians:,} Gaussians"
        self._refresh(completed)
        if self._writer is not None:
            self._writer.add_scalar("train/loss", loss, completed)
            self._writer.add_scalar("train/gaussians", num_gaussians, completed)

    def log_validation(self, completed: int, psnr: float) -> None:
        self._fields["psnr"] = f"val {psnr:.2f} dB"
        self._refresh(completed)
        if self._writer is not None:
            self._writer.add_scalar("val/psnr", psnr, completed)

    def _refresh(self, completed: int) -> None:
        if self._progress is not None:
            self._progress.update(self._task, completed=completed, description=self._description())


@contextmanager
def loading_progress(total: int, enabled: bool) -> Iterator[Callable[[], None]]:
    """Yield ``advance()``, called once per decoded image (from any thread)."""
    if not enabled:
        yield lambda: None
        return
    columns = (TextColumn("loading images"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task("images", total=total)
        yield lambda: progress.advance(task)
