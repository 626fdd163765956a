"""``avatar4d check``: camera x time coverage, balance and split sanity of a dataset."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import tyro

from avatar4d.errors import InputError

EXIT_CLEAN = 0
EXIT_WARNINGS_STRICT = 1
LABEL_WIDTH = 14


def default_figure_path(dataset_dir: Path) -> Path:
    """``./<dataset folder name>_coverage.png`` in the current folder, never inside the dataset."""
    name = Path(dataset_dir).resolve().name or "dataset"
    return Path.cwd() / f"{name}_coverage.png"


@dataclass
class CheckCommand:
    """Check a D-NeRF-style dataset before training: is every time seen by enough cameras?

    Reads transforms_{train,val,test}.json (any D-NeRF-style set, not only avatar4d grids) and
    prints the camera x time coverage, cameras per time, camera spread around the subject,
    test-split sanity (novel cameras and times really novel, no test image in train) and image
    sanity (one size, alpha not empty), then one WARNING or ok sentence per concern. Writes a
    coverage figure to ./<DIR name>_coverage.png in the current folder (never into the
    dataset) unless --figure or --no-figure says otherwise; when that default figure exists from
    an earlier check it is kept (--force rewrites it). Exit 0 when done, 1 with --strict
    and any warning, 2 on bad input.
    """

    dir: Annotated[tyro.conf.Positional[Path], tyro.conf.arg(metavar="DIR")]
    """Dataset folder holding transforms_train.json (val and test optional) and the images."""

    strict: tyro.conf.FlagCreatePairsOff[bool] = False
    """Exit with code 1 when any warning is found (for scripts and CI)."""

    figure: Path | None = None
    """Coverage figure (PNG) path. Default: ./<DIR name>_coverage.png in the current folder."""

    no_figure: tyro.conf.FlagCreatePairsOff[bool] = False
    """Write no coverage figure."""

    json: Path | None = None
    """Also write the full report (numbers and findings) as JSON to this path."""

    force: tyro.conf.FlagCreatePairsOff[bool] = False
    """Overwrite an existing figure or JSON report."""

    def kept_default_figure(self) -> Path | None:
        """The default figure path when it already exists and is kept (no --figure, no --force).

        A second check of the same dataset then still runs; only the figure is not rewritten.
        """
        if self.no_figure or self.figure is not None or self.force:
            return None
        default = default_figure_path(self.dir)
        return default if default.exists() else None

    def output_paths(self) -> tuple[Path | None, Path | None]:
        """(figure, json report) paths; refused before any work if they exist without --force."""
        from avatar4d.io.atomic import refuse_existing

        figure = None if self.no_figure else (self.figure or default_figure_path(self.dir))
        if self.kept_default_figure() is not None:
            figure = None
        if figure is not None and figure.suffix.lower() != ".png":
            raise InputError(figure, "the coverage figure is a PNG; give a path ending in .png")
        if figure is not None and self.json is not None and figure.resolve() == self.json.resolve():
            raise InputError(figure, "--figure and --json name the same file")
        for path in (figure, self.json):
            if path is not None:
                refuse_existing(path, self.force)
        return figure, self.json

    def run(self) -> int:
        import json

        from rich.console import Console
        from rich.markup import escape

        from avatar4d.data.coverage.analysis import analyse_coverage
        from avatar4d.data.coverage.figure import write_coverage_figure
        from avatar4d.data.coverage.summary import summary_lines
        from avatar4d.data.dnerf import load_dataset
        from avatar4d.data.tracks import check_covers, read_tracks
        from avatar4d.io.atomic import write_text_atomic

        figure_path, json_path = self.output_paths()
        console = Console(highlight=False, soft_wrap=True)
        status = Console(file=sys.stderr)
        progress_console = status if status.is_terminal else None

        if progress_console is not None:
            with progress_console.status(f"reading {self.dir}"):
                dataset = load_dataset(self.dir)
        else:
            dataset = load_dataset(self.dir)
        tracks = read_tracks(dataset)  # a damaged tracks file is an error, like an image
        if tracks is not None:
            check_covers(tracks, sorted({f.time for f in dataset.train if f.time is not None}))
        report = analyse_coverage(dataset, _check_images(dataset, progress_console), tracks)

        def line(label: str, text: str) -> None:
            console.print(f"[bold]{label:<{LABEL_WIDTH}}[/]{escape(text)}")

        console.print(f"[bold]avatar4d check[/] {escape(str(dataset.root))}")
        for label, text in summary_lines(report):
            line(label, text)
        if tracks is not None:
            normals = ", with normals" if tracks.normals is not None else ""
            line(
                "tracks",
                f"{tracks.point_count:,} surface points at {len(tracks.times)} times{normals}",
            )
        console.print("[bold]findings[/]")
        for finding in report.findings:
            if finding.severity == "warning":
                console.print(f"  [bold yellow]WARNING:[/] {escape(finding.message)}")
            else:
                console.print(f"  [green]ok:[/] {escape(finding.message)}")

        if figure_path is not None:
            with _output_errors(figure_path):
                write_coverage_figure(report, figure_path, force=self.force)
            line("figure", str(figure_path))
        elif (kept := self.kept_default_figure()) is not None:
            note = "exists, kept (--force rewrites it, --figure PATH writes another)"
            line("figure", f"{kept} {note}")
        if json_path is not None:
            document = report.to_dict()
            document["figure"] = None if figure_path is None else str(figure_path)
            with _output_errors(json_path):
                text = json.dumps(document, indent=2) + "\n"
                write_text_atomic(json_path, text, force=self.force)
            line("report", str(json_path))

        count = len(report.warnings)
        if count:
            console.print(f"[bold yellow]check found {count} warning{'s' * (count != 1)}[/]")
        else:
            console.print("[bold green]check passed[/]")
        return EXIT_WARNINGS_STRICT if count and self.strict else EXIT_CLEAN


@contextlib.contextmanager
def _output_errors(path: Path) -> Iterator[None]:
    """An output that cannot be written is bad input (a wrong path), not a crash."""
    try:
        yield
    except OSError as error:
        raise InputError(path, f"cannot write ({error.strerror or error})") from None


def _check_images(dataset, progress_console):
    """Image sanity, with a progress bar only on an interactive terminal."""
    from avatar4d.data.image_sanity import check_images

    if progress_console is None:
        return check_images(dataset)
    from rich.progress import Progress

    with Progress(console=progress_console, transient=True) as progress:
        task = progress.add_task("checking images", total=None)

        def advance(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        return check_images(dataset, progress=advance)
