"""The numbers of a CoverageReport as short labelled lines for the terminal."""

from __future__ import annotations

import numpy as np

from avatar4d.data.coverage.clips import clip_lines
from avatar4d.data.coverage.report import CoverageReport


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _min_median_max(values: np.ndarray) -> str:
    return f"min {values.min()}, median {float(np.median(values)):g}, max {values.max()}"


def _times_range(times: list[float | None]) -> str:
    known = [t for t in times if t is not None]
    if not known:
        return "no 'time' key"
    if len(known) == 1:
        return f"t = {known[0]:.4g}"
    return f"t = {min(known):.4g} .. {max(known):.4g}"


def summary_lines(report: CoverageReport) -> list[tuple[str, str]]:
    """(label, text) pairs: splits, train grid, cameras per time, spread, tests, images."""
    train, spread, test, images = report.train, report.spread, report.test, report.images
    identity = (
        "derived from identical poses (no camera_index in the files)"
        if report.camera_index_derived
        else "camera_index from the files"
    )
    splits = ", ".join(f"{name} {count}" for name, count in report.split_counts.items())
    cells = len(train.camera_ids) * len(train.times)
    # Rounded so that a centre computed as 1e-17 prints as 0.
    centre = ", ".join(f"{x:.3g}" for x in np.round(spread.centre, 6) + 0.0)
    lines = [
        ("splits", f"{splits}; camera identity: {identity}"),
        (
            "train grid",
            f"{_plural(len(train.camera_ids), 'camera')} x {_plural(len(train.times), 'time')} "
            f"({_times_range(train.times)}); {train.filled_cells} of {cells} cells filled",
        ),
        ("per camera", f"frames {_min_median_max(train.frames_per_camera)}"),
        ("per time", f"frames {_min_median_max(train.frames_per_time)}"),
        ("cameras/time", _min_median_max(train.cameras_per_time)),
        (
            "spread",
            f"centre ({centre}) from {spread.centre_source}, up {spread.up_axis}; largest "
            f"azimuth gap {spread.largest_azimuth_gap_deg:.0f} deg; elevation "
            f"{spread.elevation_min_deg:.0f} .. {spread.elevation_max_deg:.0f} deg",
        ),
    ]
    if test is None:
        lines.append(("test", "no test split"))
    else:
        subsets = ", ".join(f"{name} {count}" for name, count in test.subset_counts.items())
        novel = ""
        if test.novel_cameras:
            closest = min(camera.angle_deg for camera in test.novel_cameras)
            novel += f"; novel cameras >= {closest:.1f} deg from train cameras"
        if test.novel_times:
            novel += f"; novel times equal to a train time: {len(test.novel_times_equal_to_train)}"
        lines.append(
            (
                "test",
                f"{subsets}{novel}; repeats of train frames: {len(test.test_duplicates_of_train)}",
            )
        )
    lines += clip_lines(report.clips, report.motion)
    if images is not None:
        decoded = (
            f"{images.decoded_count} decoded (a deterministic sample)"
            if images.sampled
            else "all decoded"
        )
        lines.append(
            (
                "images",
                f"{images.image_count} files, {images.width}x{images.height}; {decoded}; "
                f"empty alpha: {len(images.empty_alpha)}",
            )
        )
    return lines
