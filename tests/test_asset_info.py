"""`avatar4d asset info`: tables, --json, --clip, and one-line errors."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from gltf_handmade import one_triangle

from avatar4d.commands.asset_info import AssetInfoCommand
from avatar4d.errors import InputError


@pytest.fixture
def moving_triangle(tmp_path):
    gltf = one_triangle(name="Tri")
    gltf.animation(0, "translation", [0, 2], np.array([[0, 0, 0], [4, 0, 0]]), name="Slide")
    gltf.animation(0, "scale", [0, 1], np.ones((2, 3)), name="Still")
    return gltf.write_glb(tmp_path / "tri.glb")


@pytest.fixture
def cli():
    return pytest.importorskip("avatar4d.cli")


def test_json_output_holds_clips_meshes_and_bounds(moving_triangle, capsys):
    assert AssetInfoCommand(moving_triangle, json=True).run() == 0
    info = json.loads(capsys.readouterr().out)
    assert [(c["name"], c["duration"], c["channels"]) for c in info["clips"]] == [
        ("Slide", 2.0, 1),
        ("Still", 1.0, 1),
    ]
    slide = info["clips"][0]["bounds"]
    np.testing.assert_allclose(slide["center"], [2.5, 0.5, 0.0])
    assert slide["radius"] == pytest.approx(math.sqrt(6.5))
    assert info["meshes"] == [
        {
            "name": "Tri",
            "primitives": 1,
            "vertices": 3,
            "triangles": 1,
            "skipped_primitives": 0,
            "morph_targets": [],
            "instances": 1,
            "skinned": False,
        }
    ]
    assert (info["vertices"], info["triangles"], info["joints"], info["textures"]) == (3, 1, 0, 0)
    assert info["sha256"] and info["file"] == str(moving_triangle)


def test_clip_option_limits_bounds_to_that_clip(moving_triangle, capsys):
    AssetInfoCommand(moving_triangle, json=True, clip="Still").run()
    clips = json.loads(capsys.readouterr().out)["clips"]
    assert clips[0]["bounds"] is None and clips[1]["bounds"] is not None


def test_human_output_is_a_readable_table(moving_triangle, capsys):
    assert AssetInfoCommand(moving_triangle).run() == 0
    out = capsys.readouterr().out
    for expected in ("Animation clips", "Slide", "2.000", "Meshes", "Tri", "radius"):
        assert expected in out


def test_missing_clip_lists_the_available_ones(moving_triangle):
    with pytest.raises(InputError) as caught:
        AssetInfoCommand(moving_triangle, clip="Jog").run()
    assert caught.value.problem == (
        'clip "Jog" not found in tri.glb; clips: Slide (2.00 s), Still (1.00 s)'
    )


def test_soldier_json_bounds_match_the_loader(soldier_glb, capsys):
    from avatar4d.asset.loader import load_asset

    AssetInfoCommand(soldier_glb, json=True, clip="Walk").run()
    info = json.loads(capsys.readouterr().out)
    walk = next(c for c in info["clips"] if c["name"] == "Walk")
    center, radius = load_asset(soldier_glb).clip_bounds("Walk")
    np.testing.assert_allclose(walk["bounds"]["center"], center)
    assert walk["bounds"]["radius"] == pytest.approx(radius)
    assert [i["width"] for i in info["images"]] == [1024, 1024]


def test_cli_end_to_end(cli, moving_triangle, capsys):
    assert cli.main(["asset", "info", str(moving_triangle), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["clips"][0]["name"] == "Slide"


def test_cli_missing_clip_exits_2_with_one_line(cli, moving_triangle, capsys):
    assert cli.main(["asset", "info", str(moving_triangle), "--clip", "Jog"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err == (
        f'avatar4d: error: {moving_triangle}: clip "Jog" not found in tri.glb; '
        "clips: Slide (2.00 s), Still (1.00 s)\n"
    )


def test_cli_not_gltf_exits_2_with_one_line(cli, tmp_path, capsys):
    path = tmp_path / "x.glb"
    path.write_text("hello")
    assert cli.main(["asset", "info", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"avatar4d: error: {path}: not a glTF 2.0 file")
