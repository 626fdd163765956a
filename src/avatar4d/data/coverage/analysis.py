"""Camera x time coverage of a dataset: the numbers behind ``avatar4d check``.

Pure functions of a loaded Dataset (and, optionally, the image checks already run on it);
the sentences shown to the user are made in findings.py.
"""

from __future__ import annotations

import numpy as np

from avatar4d.data.camera_identity import RELATIVE_POSE_TOLERANCE, scene_scale
from avatar4d.data.camera_layout import (
    angle_between_deg,
    azimuth_elevation,
    estimate_up_frame,
    largest_azimuth_gap,
    subject_centre,
)
from avatar4d.data.coverage.clips import clip_coverage, clip_motion, motion_findings
from avatar4d.data.coverage.findings import coverage_findings
from avatar4d.data.coverage.report import (
    NOVEL_TIME_SUBSETS,
    NOVEL_VIEW_SUBSETS,
    TIME_TOLERANCE,
    CameraPlacement,
    CameraSpread,
    CoverageReport,
    Finding,
    HeldOutSanity,
    NovelCamera,
    TrainCoverage,
)
from avatar4d.data.dataset import Dataset, Frame
from avatar4d.data.image_sanity import ImageSanity
from avatar4d.data.tracks import SurfaceTracks

__all__ = ["CoverageReport", "Finding", "analyse_coverage"]

# Beyond this many cells the dense camera x time matrix is not built (counts are kept).
MAX_MATRIX_CELLS = 4_000_000
ANGLE_CHUNK = 1024


def time_key(time: float | None) -> float | None:
    return None if time is None else round(time / TIME_TOLERANCE) * TIME_TOLERANCE


def _sort_times(keys) -> list[float | None]:
    return sorted(set(keys), key=lambda t: (t is not None, t or 0.0))


def train_coverage(frames: list[Frame]) -> TrainCoverage:
    cameras = np.array([frame.camera_index for frame in frames], dtype=np.int64)
    times = _sort_times(time_key(frame.time) for frame in frames)
    column_of = {t: i for i, t in enumerate(times)}
    columns = np.array([column_of[time_key(frame.time)] for frame in frames], dtype=np.int64)
    camera_ids, rows = np.unique(cameras, return_inverse=True)

    cells, cell_counts = np.unique(rows * len(times) + columns, return_counts=True)
    cell_rows, cell_columns = np.divmod(cells, len(times))
    matrix = None
    if len(camera_ids) * len(times) <= MAX_MATRIX_CELLS:
        matrix = np.zeros((len(camera_ids), len(times)), dtype=np.int64)
        matrix[cell_rows, cell_columns] = cell_counts
    return TrainCoverage(
        camera_ids=camera_ids.tolist(),
        times=times,
        matrix=matrix,
        frames_per_camera=np.bincount(rows, minlength=len(camera_ids)),
        frames_per_time=np.bincount(columns, minlength=len(times)),
        cameras_per_time=np.bincount(cell_columns, minlength=len(times)),
        filled_cells=len(cells),
        crowded_cells=int(np.count_nonzero(cell_counts > 1)),
        frame_count=len(frames),
    )


def _camera_positions(frames: list[Frame]) -> dict[int, np.ndarray]:
    """Mean position per camera id (frames of one camera share a pose up to tolerance)."""
    grouped: dict[int, list[np.ndarray]] = {}
    for frame in frames:
        grouped.setdefault(frame.camera_index, []).append(frame.position)
    return {camera: np.mean(points, axis=0) for camera, points in grouped.items()}


def cameras_with_mixed_poses(frames: list[Frame]) -> list[int]:
    """camera_index values shared by frames whose poses differ beyond the identity tolerance."""
    poses = np.stack([frame.c2w[:3, :4] for frame in frames])
    cameras = np.array([frame.camera_index for frame in frames])
    ids, first, group = np.unique(cameras, return_index=True, return_inverse=True)
    difference = np.abs(poses - poses[first][group])
    position_tolerance = RELATIVE_POSE_TOLERANCE * scene_scale(poses[:, :, 3])
    mixed = (difference[:, :, 3].max(axis=1) > position_tolerance) | (
        difference[:, :, :3].max(axis=(1, 2)) > RELATIVE_POSE_TOLERANCE
    )
    return sorted({int(ids[g]) for g in group[mixed]})


def camera_spread(dataset: Dataset) -> CameraSpread:
    train = dataset.train
    train_poses = np.stack([frame.c2w for frame in train])
    bounds_center = None if dataset.bounds is None else dataset.bounds.center
    centre, centre_source = subject_centre(train_poses, bounds_center)
    up_frame = estimate_up_frame(train_poses)

    train_positions = _camera_positions(train)
    test_frames = dataset.splits.get("test", [])
    test_positions = {
        camera: position
        for camera, position in _camera_positions(test_frames).items()
        if camera not in train_positions
    }
    subsets_of: dict[int, set[str]] = {}
    for frame in test_frames:
        subsets_of.setdefault(frame.camera_index, set()).add(frame.subset or "untagged")

    ids = list(train_positions) + list(test_positions)
    roles = ["train"] * len(train_positions) + ["test"] * len(test_positions)
    positions = np.array([*train_positions.values(), *test_positions.values()])
    azimuth, elevation, distance = azimuth_elevation(positions, centre, up_frame)
    placements = [
        CameraPlacement(
            camera_id=int(camera),
            role=role,
            subsets=sorted(subsets_of.get(camera, ())),
            azimuth_deg=float(azimuth[i]),
            elevation_deg=float(elevation[i]),
            distance=float(distance[i]),
        )
        for i, (camera, role) in enumerate(zip(ids, roles, strict=True))
    ]
    train_count = len(train_positions)
    up_name = up_frame.names[2] or "estimated"
    return CameraSpread(
        centre=centre.tolist(),
        centre_source=centre_source,
        up_axis=up_name,
        largest_azimuth_gap_deg=largest_azimuth_gap(azimuth[:train_count]),
        elevation_min_deg=float(elevation[:train_count].min()),
        elevation_max_deg=float(elevation[:train_count].max()),
        cameras=placements,
        bounds_radius=None if dataset.bounds is None else dataset.bounds.radius,
    )


def _nearest_train_cameras(
    cameras: list[int], positions: dict[int, np.ndarray], train: dict[int, np.ndarray], centre
) -> list[NovelCamera]:
    """For each camera, the train camera at the smallest angle about the centre."""
    if not cameras:
        return []
    train_ids = list(train)
    train_directions = np.array([train[c] for c in train_ids]) - centre
    nearest = []
    for start in range(0, len(cameras), ANGLE_CHUNK):  # bounded memory for huge splits
        chunk = cameras[start : start + ANGLE_CHUNK]
        angles = angle_between_deg(
            np.array([positions[c] for c in chunk]) - centre, train_directions
        )
        best = angles.argmin(axis=1)
        nearest += [
            NovelCamera(int(camera), int(train_ids[j]), float(angles[i, j]))
            for i, (camera, j) in enumerate(zip(chunk, best, strict=True))
        ]
    return nearest


def _duplicates(frames: list[Frame], train: list[Frame], root) -> list[str]:
    train_files = {frame.image_path for frame in train}
    train_views = {(frame.camera_index, time_key(frame.time)) for frame in train}
    duplicates = []
    for frame in frames:
        view = (frame.camera_index, time_key(frame.time))
        if frame.image_path in train_files or view in train_views:
            try:
                duplicates.append(str(frame.image_path.relative_to(root)))
            except ValueError:
                duplicates.append(str(frame.image_path))
    return duplicates


def held_out_sanity(dataset: Dataset, centre: np.ndarray) -> HeldOutSanity | None:
    test = dataset.splits.get("test")
    if test is None:
        return None
    train = dataset.train
    train_positions = _camera_positions(train)
    test_positions = _camera_positions(test)
    train_times = np.array(sorted({frame.time for frame in train if frame.time is not None}))

    def cameras_of(subsets) -> list[int]:
        return sorted({frame.camera_index for frame in test if frame.subset in subsets})

    def time_gaps(times: list[float]) -> np.ndarray:
        """Distance from each time to the nearest train time (inf without train times)."""
        if not len(train_times) or not times:
            return np.full(len(times), np.inf)
        times = np.asarray(times)
        after = np.searchsorted(train_times, times).clip(1, len(train_times) - 1)
        before = after - 1
        return np.minimum(np.abs(times - train_times[before]), np.abs(times - train_times[after]))

    novel_times = sorted(
        {f.time for f in test if f.subset in NOVEL_TIME_SUBSETS and f.time is not None}
    )
    gaps = time_gaps(novel_times)
    untagged_times = [f.time for f in test if f.subset is None and f.time is not None]

    subset_counts: dict[str, int] = {}
    for frame in test:
        name = frame.subset or "untagged"
        subset_counts[name] = subset_counts.get(name, 0) + 1

    return HeldOutSanity(
        frame_count=len(test),
        subset_counts=subset_counts,
        novel_cameras=_nearest_train_cameras(
            cameras_of(NOVEL_VIEW_SUBSETS), test_positions, train_positions, centre
        ),
        novel_times=novel_times,
        novel_times_equal_to_train=[
            t for t, g in zip(novel_times, gaps, strict=True) if g <= TIME_TOLERANCE
        ],
        closest_novel_time_gap=float(gaps.min()) if len(gaps) and np.isfinite(gaps.min()) else None,
        untagged_cameras=_nearest_train_cameras(
            cameras_of((None,)), test_positions, train_positions, centre
        ),
        untagged_times_equal_to_train=int(
            np.count_nonzero(time_gaps(untagged_times) <= TIME_TOLERANCE)
        ),
        test_duplicates_of_train=_duplicates(test, train, dataset.root),
        val_duplicates_of_train=_duplicates(dataset.splits.get("val", []), train, dataset.root),
    )


def analyse_coverage(
    dataset: Dataset, images: ImageSanity | None = None, tracks: SurfaceTracks | None = None
) -> CoverageReport:
    """Numbers and findings for ``avatar4d check``; ``images`` from check_images, if run;
    ``tracks`` (the dataset's surface tracks) to measure the motion between train times."""
    spread = camera_spread(dataset)
    report = CoverageReport(
        root=str(dataset.root),
        split_counts={split: len(frames) for split, frames in dataset.splits.items()},
        camera_index_derived=dataset.camera_index_derived,
        train=train_coverage(dataset.train),
        spread=spread,
        test=held_out_sanity(dataset, np.asarray(spread.centre)),
        images=images,
        cameras_with_mixed_poses=cameras_with_mixed_poses(dataset.all_frames()),
    )
    report.clips = clip_coverage(dataset)
    if tracks is not None:
        report.motion = clip_motion(dataset, tracks, np.asarray(spread.centre))
    report.findings = coverage_findings(report) + motion_findings(report.motion)
    return report
