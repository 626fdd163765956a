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
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from avatar4d.errors import InputError


def tensorboard_available() -> bool:
    return importlib.util.find_spec("tensorboard") is not None


def require_tensorboard() -> None:
    if not tensorboard_available():
        raise InputError("--tensorboard", "tensorboard is not installed (pip install tensorboard)")


class TrainProgress:
    """Progress bar with ETA, loss, Gaussian count and the last validation PSNR.

    Silent when ``enabled`` is False. A TensorBoard writer logs the same scalars when
    ``tensorboard_dir`` is given.
    """

    def __init__(
        self, total: int, completed: int, enabled: bool, tensorboard_dir: Path | None = None
    ) -> None:
        self.console = Console(stderr=True)
        self._progress: Progress | None = None
        self._task = None
        self._writer = None
        self._fields = {"loss": "loss --", "gaussians": "", "psnr": "val --"}
        if enabled:
            self._progress = Progress(
                TextColumn("training"),
                BarColumn(bar_width=24),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                TextColumn("left"),
                TimeRemainingColumn(),
                TextColumn("{task.description}"),
                console=self.console,
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
