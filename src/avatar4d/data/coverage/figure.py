"""Coverage figure: the camera x time matrix, and camera positions from above and the side."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from avatar4d.data.coverage.report import CoverageReport
from avatar4d.io.atomic import write_bytes_atomic

TRAIN_STYLE = {"color": "tab:blue", "marker": "o", "label": "train camera"}
TEST_STYLE = {"color": "tab:orange", "marker": "^", "label": "test-only camera"}


def _draw_matrix(axes, report: CoverageReport) -> None:
    train = report.train
    axes.set_title(f"train images per camera x time ({train.frame_count} images)")
    axes.set_xlabel(f"time (sorted, {len(train.times)} distinct)")
    axes.set_ylabel(f"camera ({len(train.camera_ids)} distinct)")
    if train.matrix is None:
        axes.text(0.5, 0.5, "too many cells to draw", ha="center", va="center")
        return
    image = axes.imshow(
        train.matrix,
        aspect="auto",
        interpolation="nearest",
        cmap="viridis",
        vmin=0,
        vmax=max(1, int(train.matrix.max())),
    )
    axes.figure.colorbar(image, ax=axes, label="images")


def _views(report: CoverageReport):
    """Camera coordinates about the centre: horizontal a, b (azimuth 90 / 0 deg) and height."""
    by_role = {}
    for role in ("train", "test"):
        cameras = [c for c in report.spread.cameras if c.role == role]
        azimuth = np.radians([c.azimuth_deg for c in cameras])
        elevation = np.radians([c.elevation_deg for c in cameras])
        distance = np.array([c.distance for c in cameras])
        horizontal = distance * np.cos(elevation)
        by_role[role] = (
            horizontal * np.sin(azimuth),
            horizontal * np.cos(azimuth),
            horizontal,
            distance * np.sin(elevation),
        )
    return by_role


def _draw_bounds(axes, radius: float | None) -> None:
    from matplotlib.patches import Circle

    axes.plot([0], [0], marker="+", color="black", markersize=10)
    if radius is not None:
        axes.add_patch(
            Circle((0, 0), radius, fill=False, linestyle="--", color="gray", label="bounds sphere")
        )


def _draw_positions(top, side, report: CoverageReport) -> None:
    spread = report.spread
    up = spread.up_axis
    top.set_title(f"cameras from above (up {up})")
    top.set_xlabel("horizontal, azimuth 90 deg")
    top.set_ylabel("horizontal, azimuth 0 deg")
    side.set_title("cameras from the side")
    side.set_xlabel("horizontal distance from centre")
    side.set_ylabel(f"height along {up}")
    for role, style in (("train", TRAIN_STYLE), ("test", TEST_STYLE)):
        a, b, horizontal, height = _views(report)[role]
        if len(a):
            top.scatter(a, b, s=18, **style)
            side.scatter(horizontal, height, s=18, **style)
    for axes in (top, side):
        _draw_bounds(axes, spread.bounds_radius)
        axes.set_aspect("equal", adjustable="datalim")
        axes.grid(True, alpha=0.3)
    top.legend(loc="upper right", fontsize="small")


def render_coverage_figure(report: CoverageReport) -> bytes:
    """PNG bytes of the figure (Agg backend, no window, no global pyplot state)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(16, 5), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    matrix_axes, top_axes, side_axes = figure.subplots(1, 3)
    _draw_matrix(matrix_axes, report)
    _draw_positions(top_axes, side_axes, report)
    figure.suptitle(f"avatar4d check: {report.root}")
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def write_coverage_figure(report: CoverageReport, path: Path, force: bool = False) -> None:
    """Write the figure as PNG at ``path`` atomically; an existing file needs ``force``."""
    write_bytes_atomic(Path(path), render_coverage_figure(report), force=force)
