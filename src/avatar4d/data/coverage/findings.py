"""Turn coverage numbers into findings: a warning or an "ok" sentence per concern.

Thresholds come from what breaks 4D Gaussian training in practice (GRID_BENCHMARK.md): a few
views at one time teach no motion, and motion seen by one camera teaches no new viewpoints.
"""

from __future__ import annotations

import numpy as np

from avatar4d.data.coverage.report import CoverageReport, Finding, NovelCamera

MIN_CAMERAS_PER_TIME = 4
MAX_CAMERA_SHARE = 0.5  # of train frames held by one camera
MAX_AZIMUTH_GAP_DEG = 90.0
MIN_ELEVATION_RANGE_DEG = 10.0
MIN_NOVEL_VIEW_ANGLE_DEG = 2.0
EXAMPLES_SHOWN = 1


def _warn(message: str) -> Finding:
    return Finding("warning", message)


def _ok(message: str) -> Finding:
    return Finding("info", message)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _time_findings(report: CoverageReport) -> list[Finding]:
    train = report.train
    if len(train.times) == 1:
        note = " (the frames have no 'time' key)" if train.times[0] is None else ""
        return [
            _warn(
                f"Only 1 distinct time in the train split{note}: the model cannot learn motion "
                "from it; render the character at many times (e.g. 60 across the clip) from "
                "every camera."
            )
        ]
    return [_ok(f"{len(train.times)} distinct train times.")]


def _cameras_per_time_findings(report: CoverageReport) -> list[Finding]:
    train = report.train
    per_time = train.cameras_per_time
    single = int(np.count_nonzero(per_time == 1))
    advice = f"render each time from at least {MIN_CAMERAS_PER_TIME} cameras"
    if len(train.times) > 1 and single > 0:
        return [
            _warn(
                f"{single} of {len(train.times)} train times are seen by only 1 camera: new "
                f"viewpoints at those times will be poor; {advice}."
            )
        ]
    median = float(np.median(per_time))
    summary = f"median {median:g}, min {per_time.min()}, max {per_time.max()}"
    if median < MIN_CAMERAS_PER_TIME:
        return [
            _warn(
                f"Train times are seen by few cameras ({summary}): new viewpoints will be "
                f"poor; {advice}."
            )
        ]
    return [_ok(f"Each train time is seen by at least {per_time.min()} cameras ({summary}).")]


def _camera_balance_findings(report: CoverageReport) -> list[Finding]:
    train = report.train
    if len(train.camera_ids) == 1:
        return [
            _warn(
                f"All {train.frame_count} train frames come from a single camera: the model "
                "cannot learn other viewpoints; render the character from cameras all around it."
            )
        ]
    busiest = int(np.argmax(train.frames_per_camera))
    count = int(train.frames_per_camera[busiest])
    share = count / train.frame_count
    if share > MAX_CAMERA_SHARE:
        return [
            _warn(
                f"Camera {train.camera_ids[busiest]} holds {count} of {train.frame_count} train "
                f"frames ({share:.0%}): training will fit that viewpoint and neglect the others; "
                "spread the frames evenly over the cameras."
            )
        ]
    return [
        _ok(
            f"No camera dominates: the busiest holds {count} of {train.frame_count} train "
            f"frames ({share:.0%})."
        )
    ]


def _camera_identity_findings(report: CoverageReport) -> list[Finding]:
    mixed = report.cameras_with_mixed_poses
    if not mixed:
        return []
    shown = ", ".join(str(camera) for camera in mixed[:5]) + (", ..." if len(mixed) > 5 else "")
    return [
        _warn(
            f"{_plural(len(mixed), 'camera_index')} ({shown}) label frames with different poses: "
            "per-camera counts and novelty checks are unreliable; give each fixed camera its "
            "own camera_index."
        )
    ]


def _grid_findings(report: CoverageReport) -> list[Finding]:
    train = report.train
    cells = len(train.camera_ids) * len(train.times)
    findings = []
    if train.crowded_cells:
        findings.append(
            _warn(
                f"{_plural(train.crowded_cells, 'camera x time cell')} hold more than one train "
                "image: those views count twice in training; keep one image per camera and time."
            )
        )
    if train.filled_cells == cells and not train.crowded_cells and cells > 1:
        findings.append(
            _ok(
                f"The train split is a complete grid: {_plural(len(train.camera_ids), 'camera')}"
                f" x {_plural(len(train.times), 'time')}."
            )
        )
    elif train.filled_cells < cells:
        findings.append(
            _ok(f"Train images fill {train.filled_cells} of {cells} camera x time cells.")
        )
    return findings


def _spread_findings(report: CoverageReport) -> list[Finding]:
    spread = report.spread
    if len(report.train.camera_ids) < 2:
        return []
    findings = []
    gap = spread.largest_azimuth_gap_deg
    if gap > MAX_AZIMUTH_GAP_DEG:
        findings.append(
            _warn(
                f"The train cameras leave a {gap:.0f} deg gap in azimuth around the subject: "
                f"views from that side will be poor; add cameras so that no gap exceeds "
                f"{MAX_AZIMUTH_GAP_DEG:.0f} deg."
            )
        )
    else:
        findings.append(_ok(f"Train cameras surround the subject (largest gap {gap:.0f} deg)."))
    low, high = spread.elevation_min_deg, spread.elevation_max_deg
    if high - low < MIN_ELEVATION_RANGE_DEG:
        where = (
            f"at one elevation ({low:.0f} deg)"
            if high - low < 1
            else f"within {high - low:.0f} deg of elevation ({low:.0f} to {high:.0f} deg)"
        )
        findings.append(
            _warn(
                f"All train cameras are {where}: views from higher or lower will be poor; add "
                "cameras at other heights."
            )
        )
    else:
        findings.append(_ok(f"Train elevations span {low:.0f} to {high:.0f} deg."))
    return findings


def _closest_example(cameras: list[NovelCamera]) -> str:
    closest = min(cameras, key=lambda camera: camera.angle_deg)
    return (
        f"camera {closest.camera_id} is {closest.angle_deg:.1f} deg from train camera "
        f"{closest.nearest_train_camera}"
    )


def _held_out_findings(report: CoverageReport) -> list[Finding]:
    findings = []
    if "val" not in report.split_counts:
        findings.append(_ok("No val split (it only shows progress during training)."))
    test = report.test
    if test is None:
        return findings + [
            _warn(
                "No test split (transforms_test.json): nothing measures how the model does on "
                "unseen views or times; hold out frames from novel cameras and at novel times."
            )
        ]

    near = [c for c in test.novel_cameras if c.angle_deg < MIN_NOVEL_VIEW_ANGLE_DEG]
    if near:
        findings.append(
            _warn(
                f"{len(near)} of {len(test.novel_cameras)} novel-view test cameras are within "
                f"{MIN_NOVEL_VIEW_ANGLE_DEG:g} deg of a train camera ({_closest_example(near)}): "
                "they do not test new viewpoints; place them between the train cameras."
            )
        )
    elif test.novel_cameras:
        findings.append(
            _ok(
                f"Novel-view test cameras differ from the train cameras "
                f"({_closest_example(test.novel_cameras)})."
            )
        )

    equal = test.novel_times_equal_to_train
    if equal:
        findings.append(
            _warn(
                f"{len(equal)} of {len(test.novel_times)} novel test times equal a train time "
                f"(e.g. t={equal[0]:g}): they do not test new times; place them between the "
                "train times."
            )
        )
    elif test.novel_times:
        findings.append(
            _ok(
                f"Novel test times differ from every train time (closest "
                f"{test.closest_novel_time_gap:.4g} apart)."
            )
        )

    if test.untagged_cameras:
        median = float(np.median([c.angle_deg for c in test.untagged_cameras]))
        findings.append(
            _ok(
                f"{_plural(test.subset_counts['untagged'], 'test frame')} without a subset tag "
                f"(not checked for novelty): their cameras are a median {median:.1f} deg from the "
                f"nearest train camera, and {test.untagged_times_equal_to_train} share a train "
                "time."
            )
        )

    duplicates = test.test_duplicates_of_train
    if duplicates:
        findings.append(
            _warn(
                f"{_plural(len(duplicates), 'test frame')} repeat train frames (same image file, "
                f"or same camera and time), e.g. {duplicates[0]}: test scores will be "
                "optimistic; remove them from one of the two splits."
            )
        )
    else:
        findings.append(_ok("No test frame repeats a train frame."))
    if test.val_duplicates_of_train:
        findings.append(
            _ok(
                f"{_plural(len(test.val_duplicates_of_train), 'val frame')} repeat train frames: "
                "progress shown during training will look better than test scores."
            )
        )
    return findings


def _image_findings(report: CoverageReport) -> list[Finding]:
    images = report.images
    if images is None:
        return []
    decoded = (
        f"{images.decoded_count} decoded images (a deterministic sample of {images.image_count})"
        if images.sampled
        else f"{images.image_count} images"
    )
    findings = [_ok(f"All {images.image_count} images are {images.width}x{images.height}.")]
    if images.empty_alpha:
        findings.append(
            _warn(
                f"{len(images.empty_alpha)} of {decoded} have an empty alpha channel (fully "
                f"transparent), e.g. {images.empty_alpha[0]}: the subject is missing from them; "
                "re-render or remove them."
            )
        )
    if images.files_with_alpha == 0:
        findings.append(
            _warn(
                f"No alpha channel in the {decoded}: no masks, so training cannot start from "
                "a visual hull (random points instead) and learns the background too; save "
                "the images as RGBA with a transparent background."
            )
        )
    elif images.no_alpha:
        findings.append(
            _warn(
                f"{len(images.no_alpha)} of {decoded} have no alpha channel, e.g. "
                f"{images.no_alpha[0]}: their background counts as the subject; save them as "
                "RGBA like the others."
            )
        )
    elif not images.empty_alpha:
        findings.append(_ok(f"Alpha is not empty in any of the {decoded}."))
    return findings


def coverage_findings(report: CoverageReport) -> list[Finding]:
    """All findings, warnings and ok sentences, in the order the summary shows them."""
    return [
        *_time_findings(report),
        *_cameras_per_time_findings(report),
        *_camera_balance_findings(report),
        *_camera_identity_findings(report),
        *_grid_findings(report),
        *_spread_findings(report),
        *_held_out_findings(report),
        *_image_findings(report),
    ]
