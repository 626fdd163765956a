"""The manifest and the ownership survey behind --force (io/manifest.py, io/ownership.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from avatar4d.errors import InputError
from avatar4d.io.manifest import MANIFEST_NAME, files_under, read_manifest, write_manifest
from avatar4d.io.output_kinds import EVALUATION, FRAME_SEQUENCE, GRID_DATASET, TRAIN_RUN
from avatar4d.io.ownership import (
    MAX_FOREIGN_LISTED,
    avatar4d_files,
    check_owned_output,
    remove_avatar4d_files,
)


def write_files(folder: Path, *names: str) -> None:
    for name in names:
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(name)


def test_only_listed_files_and_the_kinds_own_files_are_removed(tmp_path):
    run = tmp_path / "run"
    write_files(run, "config.yml", "checkpoints/step_000010.json", "checkpoints/latest.json")
    write_files(run, "checkpoints/.step_000020.safetensors.0a1b2c3d.tmp")  # a killed write
    write_files(run, "tensorboard/events.out.tfevents.1700000000.host.1.0")
    write_manifest(run, TRAIN_RUN.name, [])
    write_files(run, "eval/metrics.json", "eval/report.md", "eval/report_images/test_best.png")
    write_manifest(run / "eval", EVALUATION.name, files_under(run / "eval"))

    survey = avatar4d_files(run, TRAIN_RUN)
    assert survey.foreign == []
    assert survey.files[-1] == MANIFEST_NAME  # the manifest goes last
    assert survey.files.index("eval/metrics.json") < survey.files.index(f"eval/{MANIFEST_NAME}")
    remove_avatar4d_files(run, TRAIN_RUN)
    assert list(run.iterdir()) == []


def test_a_nested_output_of_a_kind_that_does_not_go_with_the_folder_is_foreign(tmp_path):
    run = tmp_path / "run"
    write_files(run, "config.yml", "grid/scene.json")
    write_manifest(run, TRAIN_RUN.name, [])
    write_manifest(run / "grid", GRID_DATASET.name, ["scene.json"])
    with pytest.raises(InputError, match=f"holds 'grid/{MANIFEST_NAME}' and 1 more entry"):
        avatar4d_files(run, TRAIN_RUN)


def test_a_listed_name_does_not_cover_a_folder_of_that_name(tmp_path):
    out = tmp_path / "frames"
    write_files(out, "frame_00000.png/inside.txt")
    write_manifest(out, FRAME_SEQUENCE.name, ["frame_00000.png"])
    with pytest.raises(InputError, match="holds 'frame_00000.png/inside.txt' not written"):
        remove_avatar4d_files(out, FRAME_SEQUENCE)
    assert (out / "frame_00000.png" / "inside.txt").is_file()


def test_a_symbolic_link_is_foreign_and_what_it_points_to_is_never_touched(tmp_path):
    precious = tmp_path / "precious"
    write_files(precious, "a.txt")
    out = tmp_path / "frames"
    write_files(out, "frame_00000.png")
    (out / "link").symlink_to(precious)
    write_manifest(out, FRAME_SEQUENCE.name, ["frame_00000.png"])
    with pytest.raises(InputError, match="holds 'link' not written"):
        remove_avatar4d_files(out, FRAME_SEQUENCE)
    assert (precious / "a.txt").is_file()


def test_a_huge_foreign_folder_is_refused_without_walking_all_of_it(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    for i in range(MAX_FOREIGN_LISTED + 500):
        (home / f"f{i:05d}").touch()
    with pytest.raises(InputError) as raised:
        avatar4d_files(home, GRID_DATASET)
    expected = f"holds 'f00000' and at least {MAX_FOREIGN_LISTED - 1} more entries not written"
    assert raised.value.problem.startswith(expected)


def test_an_empty_folder_the_tool_did_not_make_is_foreign(tmp_path):
    out = tmp_path / "eval"
    write_files(out, "metrics.json")
    (out / "report_images").mkdir()
    (out / "drafts").mkdir()
    write_manifest(out, EVALUATION.name, ["metrics.json"])
    with pytest.raises(InputError, match="holds 'drafts/' not written"):
        avatar4d_files(out, EVALUATION)


@pytest.mark.parametrize(
    "document",
    [
        {"format": "avatar4d-manifest", "kind": "frame-sequence", "files": ["../../etc/passwd"]},
        {"format": "avatar4d-manifest", "kind": "frame-sequence", "files": ["/etc/passwd"]},
        {"format": "avatar4d-manifest", "kind": "frame-sequence", "files": "frame_00000.png"},
        {"format": "something-else", "kind": "frame-sequence", "files": []},
        ["not", "an", "object"],
    ],
)
def test_a_manifest_that_is_not_ours_is_refused_in_one_line(document, tmp_path):
    out = tmp_path / "frames"
    out.mkdir()
    (out / MANIFEST_NAME).write_text(json.dumps(document))
    with pytest.raises(InputError) as raised:
        read_manifest(out)
    assert raised.value.where == str(out / MANIFEST_NAME)
    assert raised.value.problem == "is not a valid avatar4d manifest; remove the folder yourself"


def test_adding_outputs_keeps_the_earlier_ones_that_still_exist(tmp_path):
    out = tmp_path / "eval"
    write_files(out, "a.png", "b.png")
    write_manifest(out, EVALUATION.name, ["a.png", "b.png", "gone.png"])
    write_files(out, "c.png")
    write_manifest(out, EVALUATION.name, ["c.png"])
    assert read_manifest(out).files == {"a.png", "b.png", "c.png"}


def test_without_force_only_an_earlier_output_or_another_kind_is_refused(tmp_path):
    out = tmp_path / "mixed"
    write_files(out, "notes.txt")
    check_owned_output(out, FRAME_SEQUENCE, force=False)  # nothing of ours to replace
    with pytest.raises(InputError, match="already holds frame_\\*.png files; use --force"):
        check_owned_output(out, FRAME_SEQUENCE, force=False, existing="frame_*.png files")
    with pytest.raises(InputError, match="holds 'notes.txt' not written"):
        check_owned_output(out, FRAME_SEQUENCE, force=True)  # --force would delete it
    write_manifest(out, EVALUATION.name, [])
    with pytest.raises(InputError, match="holds avatar4d's evaluation, not its rendered frames"):
        check_owned_output(out, FRAME_SEQUENCE, force=False)
    (tmp_path / "file").write_text("x")
    with pytest.raises(InputError, match="exists and is not a folder"):
        check_owned_output(tmp_path / "file", FRAME_SEQUENCE, force=True)


def test_a_folder_nested_too_deep_is_one_line_and_nothing_is_touched(tmp_path):
    """A thousand levels made the recursive survey raise RecursionError (a traceback); the
    survey now stops past 64 levels (100 here: pytest's own clean-up recurses too)."""
    run = tmp_path / "run"
    write_files(run, "config.yml")
    write_manifest(run, TRAIN_RUN.name, [])
    deep = run
    for _ in range(100):
        deep = deep / "d"
        deep.mkdir()
    (deep / "keep.txt").write_text("mine")
    with pytest.raises(InputError, match=r"is more than 64 folders deep inside the output folder"):
        remove_avatar4d_files(run, TRAIN_RUN)
    assert (deep / "keep.txt").read_text() == "mine"
    assert (run / "config.yml").is_file()


def test_a_temporary_is_ours_only_where_the_file_it_was_to_become_is(tmp_path):
    run = tmp_path / "run"
    write_files(run, "config.yml", "checkpoints/step_000002.json")
    write_files(run, ".config.yml.0a1b2c3d.tmp", "checkpoints/.step_000004.json.0a1b2c3d.tmp")
    write_files(run, "mydata/.thesis.cafebabe.tmp", "checkpoints/.notes.txt.cafebabe.tmp")
    write_manifest(run, TRAIN_RUN.name, [])
    with pytest.raises(InputError, match=r"holds 'checkpoints/\.notes\.txt\.cafebabe\.tmp' and 1"):
        remove_avatar4d_files(run, TRAIN_RUN)
    assert (run / "mydata" / ".thesis.cafebabe.tmp").is_file()
    (run / "mydata" / ".thesis.cafebabe.tmp").unlink()
    (run / "mydata").rmdir()
    (run / "checkpoints" / ".notes.txt.cafebabe.tmp").unlink()
    remove_avatar4d_files(run, TRAIN_RUN)
    assert list(run.iterdir()) == []
