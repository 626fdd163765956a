"""A rich progress bar for image rendering: images done / total and images per second."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from contextlib import contextmanager

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


class ImagesPerSecondColumn(ProgressColumn):
    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text("-- img/s" if speed is None else f"{speed:.1f} img/s", style="cyan")


@contextmanager
def image_progress(
    total: int, enabled: bool = True, label: str = "rendering"
) -> Iterator[Callable[[], None]]:
    """Yield ``advance()``, to call once per finished image; silent when not ``enabled``."""
    if not enabled:
        yield lambda: None
        return
    with Progress(*image_columns(label), console=Console(stderr=True)) as progress:
        task = progress.add_task("images", total=total)
        try:
            yield lambda: progress.advance(task)
        except BaseException:
            # The error's one line is then the only thing left on stderr: a bar stopped
            # part-way says nothing the error does not (a log gets no last frame of it).
            if progress.console.is_terminal:
                progress.live.transient = True
            else:
                progress.console.file = io.StringIO()
            raise


def image_columns(label: str) -> tuple[ProgressColumn, ...]:
    """Label, bar, count, speed and times; only the bar shrinks in a narrow terminal (rich
    would cut every column evenly, the times to ``0:00…``)."""

    def whole() -> Column:
        return Column(no_wrap=True)

    return (
        TextColumn(label, table_column=whole()),
        BarColumn(),
        MofNCompleteColumn(table_column=whole()),
        ImagesPerSecondColumn(table_column=whole()),
        TimeElapsedColumn(table_column=whole()),
        TextColumn("left", table_column=whole()),
        TimeRemainingColumn(table_column=whole()),
    )
