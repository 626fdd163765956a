"""`grid --force` replaces only a dataset avatar4d wrote (issue 18): the manifest, old datasets
without one, a home-like folder, a user's file inside a dataset, `--out .` inside a dataset."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
from pathlib import Path

import pytest
from test_grid_writer import TINY, SlidingQuadAsset, write_tiny

from avatar4d.asset.demo.character import write_demo_character
from avatar4d.cli import main
from avatar4d.errors import InputError
from avatar4d.io.manifest import MANIFEST_NAME, files_under, read_manifest, write_manifest
from avatar4d.io.output_kinds import TRAIN_RUN

FORCE_ONLY_OURS = "--force only replaces avatar4d's own grid dataset"


def snapshot(folder: Path) -> dict[str, tuple[int, bytes | None]]:
    """Every entry below ``folder`` (itself included): mode and, for files, content."""
    entries = {".": (folder.stat().st_mode, None)}
    for path in sorted(folder.rglob("*")):
        content = path.read_bytes() if path.is_file() else None
        entries[path.relative_to(folder).as_posix()] = (path.stat().st_mode, content)
    return entries


def one_error_line(capsys) -> str:
    printed = capsys.readouterr()
    lines = (printed.out + printed.err).strip().splitlines()
    assert len(lines) == 1, lines
    return lines[0]


@pytest.fixture()
def fake_asset(tmp_path: Path) -> SlidingQuadAsset:
    source = tmp_path / "assets" / "sliding.glb"
    source.parent.mkdir()
    source.write_bytes(b"not read by the fake")
    return SlidingQuadAsset(path=source)


@pytest.fixture(scope="module")
def demo_glb(tmp_path_factory) -> Path:
    return write_demo_character(tmp_path_factory.mktemp("demo") / "demo.glb")


def grid_args(glb: Path, out: Path | str) -> list[str]:
    tiny = ["--res", "16", "--train-azimuths", "0", "180", "--train-elevations", "10"]
    tiny += ["--novel-azimuths", "90", "--novel-elevations", "0"]
    tiny += ["--train-times", "2", "--novel-times", "1", "--track-points", "0"]
    return ["grid", str(glb), "--clip", "wave", "--out", str(out), *tiny]


def test_a_home_like_folder_is_refused_in_one_line_and_nothing_changes(demo_glb, tmp_path, capsys):
    home = tmp_path / "home"
    (home / "Documents").mkdir(parents=True)
    (home / ".bashrc").write_text("export PATH=~/bin:$PATH\n")
    (home / "Documents" / "thesis.tex").write_text("\\chapter{Results}\n")
    (home / "scene.json").write_text(json.dumps({"format": "blender-scene", "objects": 3}))
    os.chmod(home / ".bashrc", 0o600)
    os.chmod(home, 0o751)
    before = snapshot(home)

    assert main([*grid_args(demo_glb, home), "--force"]) == 2
    assert one_error_line(capsys) == (
        f"avatar4d: error: {home}: holds '.bashrc' and 2 more entries not written by avatar4d "
        f"(it has no {MANIFEST_NAME}, and no scene.json of an avatar4d grid); "
        f"{FORCE_ONLY_OURS}: move them away or choose another --out"
    )
    assert snapshot(home) == before  # contents and modes, the folder's own 0751 included
    assert sorted(p.name for p in tmp_path.iterdir()) == ["home"]  # no hidden partial left


def test_the_manifest_lists_every_file_of_the_dataset(fake_asset, tmp_path):
    out = tmp_path / "grid"
    write_tiny(fake_asset, out)
    manifest = read_manifest(out)
    assert manifest is not None and manifest.kind == "grid-dataset"
    assert sorted(manifest.files) == files_under(out)
    assert {"scene.json", "transforms_train.json", "train/c00_t000.png"} <= manifest.files
    document = json.loads((out / MANIFEST_NAME).read_text())
    assert document["tool"] == "avatar4d" and document["format"] == "avatar4d-manifest"


def test_a_users_file_inside_a_dataset_is_refused_and_nothing_is_deleted(fake_asset, tmp_path):
    out = tmp_path / "grid"
    write_tiny(fake_asset, out)
    (out / "keep.txt").write_text("my notes on this dataset")
    before = snapshot(out)
    bigger = dataclasses.replace(TINY, width=32, height=32)
    with pytest.raises(InputError) as raised:
        write_tiny(fake_asset, out, force=True, settings=bigger)
    assert raised.value.problem == (
        f"holds 'keep.txt' not written by avatar4d; {FORCE_ONLY_OURS}: "
        "move it away or choose another --out"
    )
    assert snapshot(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["assets", "grid"]


def test_a_file_added_below_a_dataset_folder_is_named_with_its_path(fake_asset, tmp_path):
    out = tmp_path / "grid"
    write_tiny(fake_asset, out)
    (out / "train" / "c00_t000_retouched.png").write_bytes(b"by hand")
    (out / "mine").mkdir()
    with pytest.raises(InputError, match=r"holds 'mine/' and 1 more entry not written"):
        write_tiny(fake_asset, out, force=True)
    assert (out / "train" / "c00_t000_retouched.png").read_bytes() == b"by hand"


def forget_manifest(dataset: Path) -> None:
    """Make ``dataset`` look as datasets written before manifests did (they had no copy of
    their asset either)."""
    (dataset / MANIFEST_NAME).unlink()
    shutil.rmtree(dataset / "asset")


def test_a_dataset_from_before_manifests_is_replaced_when_it_holds_only_its_layout(
    fake_asset, tmp_path
):
    out = tmp_path / "grid"
    write_tiny(fake_asset, out)
    forget_manifest(out)
    bigger = dataclasses.replace(TINY, width=32, height=32)
    write_tiny(fake_asset, out, force=True, settings=bigger)
    assert json.loads((out / "scene.json").read_text())["grid"]["width"] == 32
    assert read_manifest(out) is not None
    assert sorted(p.name for p in tmp_path.iterdir()) == ["assets", "grid"]


def test_a_dataset_from_before_manifests_with_a_users_file_is_refused(fake_asset, tmp_path):
    out = tmp_path / "grid"
    write_tiny(fake_asset, out)
    forget_manifest(out)
    (out / "keep.txt").write_text("mine")
    before = snapshot(out)
    with pytest.raises(InputError, match="holds 'keep.txt' not written by avatar4d;"):
        write_tiny(fake_asset, out, force=True)
    assert snapshot(out) == before


def test_without_manifest_a_scene_json_of_another_format_is_not_recognised(fake_asset, tmp_path):
    out = tmp_path / "grid"
    write_tiny(fake_asset, out)
    forget_manifest(out)
    scene = json.loads((out / "scene.json").read_text())
    (out / "scene.json").write_text(json.dumps({**scene, "format": "other-tool"}))
    with pytest.raises(InputError, match=f"no {MANIFEST_NAME}, and no scene.json of an avatar4d"):
        write_tiny(fake_asset, out, force=True)
    assert (out / "train" / "c00_t000.png").is_file()


def test_another_kind_of_avatar4d_output_is_not_replaced_by_a_grid(fake_asset, tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / "config.yml").write_text("software:\n  name: avatar4d\n")
    write_manifest(out, TRAIN_RUN.name, [])
    with pytest.raises(InputError) as raised:
        write_tiny(fake_asset, out, force=True)
    assert raised.value.problem == (
        "holds avatar4d's run folder, not its grid dataset; choose another --out"
    )
    assert (out / "config.yml").is_file()


def test_a_damaged_manifest_is_one_line_and_nothing_is_deleted(demo_glb, tmp_path, capsys):
    out = tmp_path / "grid"
    out.mkdir()
    (out / MANIFEST_NAME).write_text("[" * 100_000)
    (out / "scene.json").write_text("{}")
    assert main([*grid_args(demo_glb, out), "--force"]) == 2
    line = one_error_line(capsys)
    assert line.startswith(f"avatar4d: error: {out / MANIFEST_NAME}: unreadable avatar4d manifest")
    assert (out / "scene.json").read_text() == "{}"


@pytest.mark.parametrize("inside", [".", "train"])
def test_grid_out_dot_from_inside_a_dataset_is_one_line(
    inside, fake_asset, demo_glb, tmp_path, monkeypatch, capsys
):
    dataset = tmp_path / "grid"
    write_tiny(fake_asset, dataset)
    before = snapshot(dataset)
    monkeypatch.chdir(dataset / inside)
    out = "." if inside == "." else ".."
    assert main([*grid_args(demo_glb, out), "--force"]) == 2
    assert one_error_line(capsys) == (
        f"avatar4d: error: {out}: is the current folder or holds it, and replacing it would "
        "leave this shell in a deleted folder; run avatar4d from another folder"
    )
    assert snapshot(dataset) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["assets", "grid"]


def test_grid_out_a_parent_of_the_input_asset_is_refused(demo_glb, tmp_path, capsys):
    nested = tmp_path / "project" / "characters"
    nested.mkdir(parents=True)
    glb = nested / "demo.glb"
    glb.write_bytes(demo_glb.read_bytes())
    for out in (nested, tmp_path / "project"):
        assert main([*grid_args(glb, out), "--force"]) == 2
        assert one_error_line(capsys) == (
            f"avatar4d: error: {out}: contains the input {glb}; choose another output folder"
        )
    assert glb.read_bytes() == demo_glb.read_bytes()


def test_grid_force_through_the_command_replaces_its_own_dataset(demo_glb, tmp_path, capsys):
    out = tmp_path / "grid"
    assert main(grid_args(demo_glb, out)) == 0
    first = (out / "scene.json").read_bytes()
    capsys.readouterr()
    assert main(grid_args(demo_glb, out)) == 2
    assert "already exists and is not empty; add --force to replace it" in one_error_line(capsys)
    assert main([*grid_args(demo_glb, out), "--force", "--res", "24"]) == 0
    assert (out / "scene.json").read_bytes() != first
    assert sorted(read_manifest(out).files) == files_under(out)


def test_an_out_that_is_a_symbolic_link_is_refused(fake_asset, tmp_path):
    dataset = tmp_path / "grid"
    write_tiny(fake_asset, dataset)
    before = snapshot(dataset)
    link = tmp_path / "latest"
    link.symlink_to(dataset)
    with pytest.raises(InputError, match="is a symbolic link; give the folder it points to"):
        write_tiny(fake_asset, link, force=True)
    assert snapshot(dataset) == before and link.is_symlink()
