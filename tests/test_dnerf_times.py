"""Frame times in transforms_*.json: D-NeRF's normalised [0, 1], finite, or refused."""

from __future__ import annotations

import json

import pytest
from dataset_builders import frame, write_dataset

from avatar4d import cli
from avatar4d.data.dnerf import load_dataset
from avatar4d.errors import InputError


def dataset_with_times(root, times):
    entries = [
        frame(f"./train/{i}", azimuth=60 * i, elevation=10, time=t) for i, t in enumerate(times)
    ]
    return write_dataset(root, {"train": entries})


@pytest.mark.parametrize("time", [1.5, -0.25, 2, 30.0])
def test_a_time_outside_0_1_is_refused_naming_file_frame_and_value(tmp_path, time, capsys):
    root = dataset_with_times(tmp_path / "data", [0.0, 0.5, time])
    expected = (
        f"{root / 'transforms_train.json'}: frame 2 time {time!r} is outside [0, 1] (D-NeRF "
        "times are normalised: 0 the clip's start, 1 its end); rescale the times"
    )
    with pytest.raises(InputError) as caught:
        load_dataset(root)
    assert str(caught.value) == expected
    assert cli.main(["check", str(root), "--no-figure"]) == 2
    assert capsys.readouterr().err == f"avatar4d: error: {expected}\n"


def test_times_at_both_ends_are_accepted(tmp_path):
    root = dataset_with_times(tmp_path / "data", [0, 0.5, 1])
    assert [f.time for f in load_dataset(root).train] == [0.0, 0.5, 1.0]


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_a_non_finite_time_is_refused(tmp_path, literal):
    root = dataset_with_times(tmp_path / "data", [0.0, 0.5, 0.75])
    path = root / "transforms_train.json"
    path.write_text(path.read_text().replace('"time": 0.75', f'"time": {literal}'))
    with pytest.raises(InputError) as caught:
        load_dataset(root)
    assert (
        str(caught.value) == f"{path}: frame 2 time must be a finite number, got {float(literal)!r}"
    )


def test_an_infinite_matrix_entry_is_refused(tmp_path):
    root = dataset_with_times(tmp_path / "data", [0.0, 0.5])
    path = root / "transforms_train.json"
    document = json.loads(path.read_text())
    document["frames"][1]["transform_matrix"][1][3] = float("inf")
    path.write_text(json.dumps(document))
    with pytest.raises(InputError) as caught:
        load_dataset(root)
    assert str(caught.value) == f"{path}: frame 1 transform_matrix has non-finite values"
