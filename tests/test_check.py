"""``avatar4d check``: coverage numbers, the warnings for lopsided datasets, and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from dataset_builders import (
    grid_scene,
    grid_splits,
    look_at,
    write_dataset,
    write_few_views_one_time,
    write_grid,
    write_image,
    write_motion_under_one_camera,
)
from PIL import Image

from avatar4d.commands.check import CheckCommand, default_figure_path
from avatar4d.data.camera_layout import (
    closest_point_to_axes,
    estimate_up_frame,
    largest_azimuth_gap,
)
from avatar4d.data.coverage.analysis import analyse_coverage
from avatar4d.data.coverage.figure import render_coverage_figure
from avatar4d.data.dnerf import load_dataset
from avatar4d.data.image_sanity import check_images
from avatar4d.errors import InputError

SMALL_GRID = {
    "azimuths": 4,
    "elevations": (0.0, 30.0),
    "times": 6,
    "novel_cameras": 4,
    "novel_times": 3,
}


def run_check(root: Path, tmp_path: Path, **options) -> int:
    options.setdefault("figure", tmp_path / "coverage.png")
    return CheckCommand(root, **options).run()


def warnings_of(root: Path) -> list[str]:
    dataset = load_dataset(root)
    report = analyse_coverage(dataset, check_images(dataset))
    return [finding.message for finding in report.warnings]


def test_clean_small_grid_passes_strict(tmp_path, capsys):
    root = write_grid(tmp_path / "grid", **SMALL_GRID)
    assert run_check(root, tmp_path, strict=True) == 0
    out = capsys.readouterr().out
    assert "WARNING" not in out
    assert out.rstrip().endswith("check passed")
    assert "8 cameras x 6 times" in out


def test_grid_24x60_has_zero_warnings(tmp_path):
    root = write_grid(tmp_path / "grid", size=(4, 4))
    dataset = load_dataset(root)
    assert len(dataset.train) == 1440
    assert {s: len(f) for s, f in dataset.splits.items()} == {"train": 1440, "val": 3, "test": 288}
    images = check_images(dataset)
    assert images.sampled and images.decoded_count == 400 and images.image_count == 1728
    report = analyse_coverage(dataset, images)
    assert report.warnings == []
    assert report.train.matrix.shape == (24, 60) and (report.train.matrix == 1).all()
    assert report.spread.largest_azimuth_gap_deg == pytest.approx(45.0)
    assert report.spread.elevation_min_deg == pytest.approx(-10.0)
    assert report.spread.elevation_max_deg == pytest.approx(40.0)
    assert min(c.angle_deg for c in report.test.novel_cameras) > 20.0


def test_few_views_at_one_time_warn_and_fail_strict(tmp_path, capsys):
    root = write_few_views_one_time(tmp_path / "few")
    assert run_check(root, tmp_path, strict=True) == 1
    out = capsys.readouterr().out
    assert "WARNING: Only 1 distinct time in the train split: the model cannot learn motion" in out
    assert "check found" in out.splitlines()[-1]


def test_few_views_at_one_time_exit_0_without_strict(tmp_path):
    root = write_few_views_one_time(tmp_path / "few")
    assert run_check(root, tmp_path) == 0


def test_motion_under_one_camera_warns_and_fails_strict(tmp_path, capsys):
    root = write_motion_under_one_camera(tmp_path / "mono")
    assert run_check(root, tmp_path, strict=True) == 1
    out = capsys.readouterr().out
    assert (
        "WARNING: 121 of 122 train times are seen by only 1 camera: new viewpoints at those "
        "times will be poor; render each time from at least 4 cameras." in out
    )
    assert "Camera 10 holds 121 of 131 train frames" in out


def _grid_with_test_edit(tmp_path: Path, edit) -> Path:
    splits = grid_splits(**SMALL_GRID)
    for entry in splits["test"]:
        edit(entry, splits["train"])
    return write_dataset(tmp_path / "grid", splits, scene=grid_scene())


def test_novel_camera_equal_to_a_train_camera_is_flagged(tmp_path):
    def move_onto_train_camera(entry, train):
        if entry["camera_index"] == 8:
            entry["transform_matrix"] = train[5 * 6]["transform_matrix"]

    root = _grid_with_test_edit(tmp_path, move_onto_train_camera)
    (warning,) = warnings_of(root)
    assert warning.startswith("1 of 4 novel-view test cameras are within 2 deg of a train camera")
    assert "camera 8 is 0.0 deg from train camera 5" in warning


def test_novel_time_equal_to_a_train_time_is_flagged(tmp_path):
    def move_to_train_time(entry, train):
        if entry["subset"] == "novel_time" and entry["time_index"] == 6:
            entry["time"] = 0.5

    root = _grid_with_test_edit(tmp_path, move_to_train_time)
    time_warning, repeat_warning = warnings_of(root)
    assert time_warning.startswith("1 of 4 novel test times equal a train time (e.g. t=0.5)")
    # A train camera at a train time is a train frame again.
    assert repeat_warning.startswith("3 test frames repeat train frames")  # cameras 0, 3, 6


def test_camera_index_naming_different_poses_is_flagged(tmp_path):
    def move_one_frame(entry, train):
        if entry["subset"] == "novel_view" and entry["camera_index"] == 9:
            entry["transform_matrix"] = train[0]["transform_matrix"]

    root = _grid_with_test_edit(tmp_path, move_one_frame)
    warnings = warnings_of(root)
    assert "1 camera_index (9) label frames with different poses" in warnings[0]


@pytest.mark.parametrize("same", ["file", "camera and time"])
def test_test_frame_repeating_a_train_frame_is_flagged(tmp_path, same):
    splits = grid_splits(**SMALL_GRID)
    repeat = dict(splits["train"][7])
    if same == "camera and time":
        repeat["file_path"] = "./test/copy"
    splits["test"].append(repeat)
    root = write_dataset(tmp_path / "grid", splits, scene=grid_scene())
    (warning,) = warnings_of(root)
    expected = "c01_t001.png" if same == "file" else "copy.png"
    assert warning.startswith("1 test frame repeat train frames")
    assert expected in warning


def test_empty_alpha_is_flagged_with_the_file(tmp_path):
    root = write_grid(tmp_path / "grid", **SMALL_GRID)
    write_image(root / "train" / "c03_t002.png", empty_alpha=True)
    (warning,) = warnings_of(root)
    assert "1 of " in warning and "have an empty alpha channel" in warning
    assert "c03_t002.png" in warning


def test_mixed_image_sizes_are_bad_input_naming_the_file_and_both_sizes(tmp_path):
    root = write_grid(tmp_path / "grid", **SMALL_GRID)
    write_image(root / "test" / "novel_view_c08_t000.png", 16, 16)
    with pytest.raises(InputError) as caught:
        run_check(root, tmp_path)
    message = str(caught.value)
    assert "novel_view_c08_t000.png" in message and "16x16" in message and "8x8" in message


def test_declared_size_must_match_the_image(tmp_path):
    splits = {"train": [{**e, "w": 8, "h": 8} for e in grid_splits(**SMALL_GRID)["train"]]}
    root = write_dataset(tmp_path / "grid", splits, size=(8, 8))
    write_image(root / "train" / "c00_t000.png", 8, 4)
    with pytest.raises(InputError, match=r"image is 8x4 but transforms_train.json frame 0"):
        check_images(load_dataset(root))


def test_unreadable_image_with_declared_size_is_bad_input(tmp_path):
    splits = {"train": [{**e, "w": 8, "h": 8} for e in grid_splits(**SMALL_GRID)["train"]]}
    root = write_dataset(tmp_path / "grid", splits)
    (root / "train" / "c02_t003.png").write_bytes(b"garbage")
    dataset = load_dataset(root)  # w/h given: the header is not needed to load
    with pytest.raises(InputError, match=r"c02_t003.png: not a readable image"):
        check_images(dataset)


def test_no_test_split_is_a_warning(tmp_path):
    splits = grid_splits(**SMALL_GRID)
    root = write_dataset(tmp_path / "grid", {"train": splits["train"]}, scene=grid_scene())
    (warning,) = warnings_of(root)
    assert warning.startswith("No test split (transforms_test.json)")


def test_static_set_without_time_key_warns_about_motion(tmp_path):
    splits = grid_splits(**SMALL_GRID)
    for entry in splits["train"]:
        del entry["time"]
    root = write_dataset(tmp_path / "static", {"train": splits["train"]}, scene=grid_scene())
    warnings = warnings_of(root)
    assert warnings[0].startswith(
        "Only 1 distinct time in the train split (the frames have no 'time' key)"
    )


def test_cameras_on_one_side_leave_an_azimuth_gap(tmp_path):
    splits = grid_splits(azimuths=8, elevations=(0.0, 30.0), times=4, novel_times=2)
    one_side = [e for e in splits["train"] if e["camera_index"] % 8 < 3]  # azimuths 0..90 deg
    splits["train"] = one_side
    splits["test"] = [e for e in splits["test"] if e["subset"] != "novel_view"]
    root = write_dataset(tmp_path / "grid", splits, scene=grid_scene())
    warnings = warnings_of(root)
    assert any(w.startswith("The train cameras leave a 270 deg gap in azimuth") for w in warnings)


def test_plain_dnerf_monocular_set_gets_the_warnings(tmp_path):
    """Blender-style (+Z up), one random camera per time, no camera_index or subset tags."""
    rng = np.random.default_rng(3)

    def random_frames(folder: str, count: int, time_offset: float) -> list[dict]:
        frames = []
        for i in range(count):
            azimuth, elevation = rng.uniform(0, 2 * np.pi), rng.uniform(0.1, 1.2)
            position = 4 * np.array(
                [
                    np.cos(elevation) * np.cos(azimuth),
                    np.cos(elevation) * np.sin(azimuth),
                    np.sin(elevation),
                ]
            )
            frames.append(
                {
                    "file_path": f"./{folder}/r_{i:03d}",
                    "transform_matrix": look_at(position, target=(0, 0, 0), up=(0, 0, 1)),
                    "time": (i + time_offset) / count,
                }
            )
        return frames

    splits = {"train": random_frames("train", 40, 0.0), "test": random_frames("test", 5, 0.5)}
    root = write_dataset(tmp_path / "dnerf", splits)
    dataset = load_dataset(root)
    report = analyse_coverage(dataset)
    assert dataset.camera_index_derived
    assert report.spread.up_axis == "+z"
    assert np.allclose(report.spread.centre, 0.0, atol=1e-6)
    messages = [w.message for w in report.warnings]
    assert messages[0].startswith("40 of 40 train times are seen by only 1 camera")


def test_figure_is_a_png_and_default_path_is_outside_the_dataset(tmp_path, monkeypatch):
    root = write_grid(tmp_path / "grid", **SMALL_GRID)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    assert default_figure_path(root) == work / "grid_coverage.png"
    assert CheckCommand(root).run() == 0
    with Image.open(work / "grid_coverage.png") as figure:
        assert figure.format == "PNG" and figure.size[0] > 400
    assert not list(root.glob("*.png"))


def test_second_check_keeps_the_default_figure_and_still_reports(tmp_path, monkeypatch, capsys):
    root = write_grid(tmp_path / "grid", **SMALL_GRID)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    (work / "grid_coverage.png").write_bytes(b"an earlier figure")
    capsys.readouterr()
    assert CheckCommand(root, strict=True).run() == 0
    out = capsys.readouterr().out
    assert "grid_coverage.png exists, kept" in out
    assert "findings" in out
    assert (work / "grid_coverage.png").read_bytes() == b"an earlier figure"
    assert CheckCommand(root, force=True).run() == 0
    assert (work / "grid_coverage.png").read_bytes().startswith(b"\x89PNG")


def test_figure_without_bounds_or_matrix_still_renders(tmp_path):
    root = write_motion_under_one_camera(tmp_path / "mono")
    report = analyse_coverage(load_dataset(root))
    report.train.matrix = None
    assert render_coverage_figure(report).startswith(b"\x89PNG\r\n\x1a\n")


def test_existing_figure_is_not_overwritten_without_force(tmp_path):
    root = write_grid(tmp_path / "grid", **SMALL_GRID)
    figure = tmp_path / "mine.png"
    figure.write_bytes(b"keep me")
    with pytest.raises(InputError, match="already exists"):
        run_check(root, tmp_path, figure=figure)
    assert figure.read_bytes() == b"keep me"
    assert run_check(root, tmp_path, figure=figure, force=True) == 0
    assert figure.read_bytes().startswith(b"\x89PNG")


def test_json_report_holds_numbers_and_findings(tmp_path):
    root = write_motion_under_one_camera(tmp_path / "mono")
    report_path = tmp_path / "report.json"
    assert run_check(root, tmp_path, json=report_path, no_figure=True) == 0
    report = json.loads(report_path.read_text())
    assert report["split_counts"] == {"train": 131, "test": 1}
    assert report["figure"] is None
    assert sorted(report["train"]["cameras_per_time"])[-1] == 10
    severities = [f["severity"] for f in report["findings"]]
    assert severities.count("warning") == 2
    assert not (tmp_path / "coverage.png").exists()


def test_layout_helpers():
    assert largest_azimuth_gap(np.array([350.0, 10.0, 100.0])) == pytest.approx(250.0)
    assert largest_azimuth_gap(np.array([5.0])) == 360.0
    target = np.array([0.3, -0.2, 1.5])
    poses = np.stack(
        [look_at(p, target=target) for p in ([4, 0, 0], [0, 3, 0.1], [0, 0, 5], [-2, 1, 1])]
    )
    assert np.allclose(closest_point_to_axes(poses), target, atol=1e-9)
    parallel = np.stack([look_at([x, 0, 5], target=[x, 0, 0]) for x in (0.0, 1.0, 2.0)])
    assert closest_point_to_axes(parallel) is None
    z_up = estimate_up_frame(np.stack([look_at([4, 1, 2], (0, 0, 0), up=(0, 0, 1))]))
    assert z_up.names[2] == "+z"


def test_cli_check_exit_codes(tmp_path, capsys):
    main = pytest.importorskip("avatar4d.cli").main
    clean = write_grid(tmp_path / "grid", **SMALL_GRID)
    lopsided = write_few_views_one_time(tmp_path / "few")
    figure = str(tmp_path / "figure.png")
    assert main(["check", str(clean), "--strict", "--figure", figure]) == 0
    assert main(["check", str(lopsided), "--strict", "--no-figure"]) == 1
    assert main(["check", str(lopsided), "--no-figure"]) == 0
    capsys.readouterr()

    write_image(clean / "train" / "c01_t001.png", 16, 16)
    assert main(["check", str(clean), "--figure", figure, "--force"]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith("avatar4d: error: ") and "c01_t001.png" in line
    assert "16x16" in line and "8x8" in line
