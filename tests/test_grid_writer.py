"""Grid dataset writer and ``avatar4d grid`` end to end, on tiny grids."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import avatar4d
from avatar4d.asset.posed_mesh import Material, PosedMesh, PosedPart
from avatar4d.capture.asset_copy import sha256_of
from avatar4d.capture.clip_motion import MotionMeter, refuse_still_clip
from avatar4d.capture.grid_plan import novel_times, train_times
from avatar4d.capture.grid_writer import write_grid_for_asset
from avatar4d.capture.rig import RigSettings, camera_distance
from avatar4d.commands.grid import GridCommand
from avatar4d.errors import InputError

TINY = RigSettings(
    train_azimuths_deg=(0.0, 180.0),
    train_elevations_deg=(10.0,),
    novel_azimuths_deg=(90.0,),
    novel_elevations_deg=(0.0,),
    train_times=2,
    novel_times=1,
    width=24,
    height=24,
    samples=4,
)
TINY_IMAGES = 2 * 2 + 1 + 1 + 1  # train + novel_view + novel_time + novel_both
FRAME_KEYS = {
    "file_path",
    "transform_matrix",
    "time",
    "camera_index",
    "time_index",
    "w",
    "h",
    "fl_x",
    "fl_y",
    "cx",
    "cy",
}
TRAIN_FRAME_KEYS = FRAME_KEYS | {"depth_file_path"}
SCENE_KEYS = {
    "format",
    "format_version",
    "software",
    "source",
    "grid",
    "bounds",
    "camera_distance",
    "image",
    "tracks",
    "clips",  # the one clip, with its times
    "asset",  # the dataset's own copy of the asset
}


@dataclass(frozen=True)
class FakeClip:
    name: str
    duration: float


@dataclass
class SlidingQuadAsset:
    """A square that slides along +X as the clip plays; records the times it was posed at."""

    path: Path
    sha256: str = "0" * 64
    fail_after_poses: int | None = None
    posed_seconds: list[float] = field(default_factory=list)
    clip: FakeClip = FakeClip("Slide", 2.0)
    speed: float = 0.25  # along +X, in units per second

    def find_clip(self, name: str) -> FakeClip:
        if name != self.clip.name:
            raise InputError(self.path, f'clip "{name}" not found')
        return self.clip

    def pose(self, clip: str | None, seconds: float) -> PosedMesh:
        self.posed_seconds.append(seconds)
        if self.fail_after_poses is not None and len(self.posed_seconds) > self.fail_after_poses:
            raise RuntimeError("simulated crash while rendering")
        shift = self.speed * seconds
        positions = np.array(
            [
                [-0.5 + shift, -0.5, 0],
                [0.5 + shift, -0.5, 0],
                [0.5 + shift, 0.5, 0],
                [-0.5, 0.5, 0],
            ],
            np.float32,
        )
        part = PosedPart(
            positions=positions,
            normals=np.tile(np.float32([0, 0, 1]), (4, 1)),
            uvs=None,
            colors=None,
            indices=np.array([[0, 1, 2], [0, 2, 3]], np.uint32),
            material=Material(base_color_factor=np.float32([0.9, 0.5, 0.1, 1.0])),
        )
        return PosedMesh([part])

    def clip_bounds(self, clip: str | None, samples: int = 120) -> tuple[np.ndarray, float]:
        return np.array([0.0, 0.0, 0.0]), 0.5  # too small on purpose: the writer must grow it


@pytest.fixture()
def fake_asset(tmp_path: Path) -> SlidingQuadAsset:
    source = tmp_path / "sliding.glb"
    source.write_bytes(b"not read by the fake")
    return SlidingQuadAsset(path=source)


def write_tiny(asset, out: Path, force: bool = False, settings: RigSettings = TINY):
    try:
        return write_grid_for_asset(asset, "Slide", out, settings, force=force, progress=False)
    except InputError as error:
        if error.where == "EGL":
            pytest.skip(f"no OpenGL through EGL here: {error}")
        raise


def read_json(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def png_paths(folder: Path) -> set[str]:
    """The RGBA images (depth maps, under depth/, left out), as D-NeRF file_paths."""
    return {
        "./" + p.relative_to(folder).with_suffix("").as_posix()
        for p in folder.rglob("*.png")
        if p.relative_to(folder).parts[0] != "depth"
    }


def test_writes_images_and_transforms_as_the_format_says(fake_asset, tmp_path):
    out = tmp_path / "grid"
    summary = write_tiny(fake_asset, out)
    assert summary.images == TINY_IMAGES and summary.val_frames == 3
    assert summary.out_dir == out and summary.images_per_second > 0
    splits = {name: read_json(out / f"transforms_{name}.json") for name in ("train", "val", "test")}
    for name, document in splits.items():
        top_level = {"camera_angle_x", "frames"} | ({"depth_unit"} if name == "train" else set())
        assert set(document) == top_level
        assert document["camera_angle_x"] == pytest.approx(math.radians(40.0))
    train, val, test = splits["train"]["frames"], splits["val"]["frames"], splits["test"]["frames"]
    assert len(train) == 4 and len(test) == 3 and len(val) == 3
    assert all(set(frame) == TRAIN_FRAME_KEYS for frame in train)
    assert all(set(frame) == FRAME_KEYS | {"subset"} for frame in test + val)
    assert {f["subset"] for f in test} == {"novel_view", "novel_time", "novel_both"}
    assert {f["time"] for f in train} == {0.0, 0.5}
    assert {f["time_index"] for f in test if f["subset"] != "novel_view"} == {2}
    assert {f["camera_index"] for f in test if f["subset"] != "novel_time"} == {2}
    assert all(f["file_path"].startswith("./test/") for f in val)
    # Every listed image exists, and no image is missing from the lists.
    assert png_paths(out) == {f["file_path"] for f in train + test}
    assert {f["file_path"] for f in train} == {
        "./train/c00_t000",
        "./train/c00_t001",
        "./train/c01_t000",
        "./train/c01_t001",
    }
    frame = train[0]
    assert (frame["w"], frame["h"], frame["cx"], frame["cy"]) == (24, 24, 12.0, 12.0)
    c2w = np.array(frame["transform_matrix"])
    assert c2w.shape == (4, 4)
    np.testing.assert_allclose(c2w[3], [0, 0, 0, 1])
    assert not list(tmp_path.glob(".grid.*")), "no staging folder may be left behind"


def test_images_are_straight_alpha_rgba_of_the_posed_times(fake_asset, tmp_path):
    out = tmp_path / "grid"
    write_tiny(fake_asset, out)
    first = np.asarray(Image.open(out / "train/c00_t000.png"))
    later = np.asarray(Image.open(out / "train/c00_t001.png"))
    assert first.shape == (24, 24, 4) and first.dtype == np.uint8
    assert (first[..., 3] == 255).any() and first[0, 0, 3] == 0
    assert not np.array_equal(first, later), "the square moved between the two times"
    expected = {t * 2.0 for t in train_times(2) + novel_times(2, 1)}
    assert set(fake_asset.posed_seconds) == expected


def test_scene_json_records_provenance_and_grid(fake_asset, tmp_path):
    out = tmp_path / "grid"
    summary = write_tiny(fake_asset, out)
    scene = read_json(out / "scene.json")
    assert set(scene) == SCENE_KEYS
    assert scene["format"] == "avatar4d-grid" and scene["format_version"] == 1
    assert scene["software"] == {"name": "avatar4d", "version": avatar4d.__version__}
    assert scene["source"] == {
        "file": "sliding.glb",
        "sha256": fake_asset.sha256,
        "clip": "Slide",
        "clip_duration_s": 2.0,
    }
    grid = scene["grid"]
    assert grid["train_azimuths_deg"] == [0.0, 180.0]
    assert grid["novel_elevations_deg"] == [0.0]
    assert (grid["width"], grid["height"], grid["samples"]) == (24, 24, 4)
    assert (grid["train_times"], grid["novel_times"]) == (2, 1)
    assert (grid["fov_y_deg"], grid["sphere_fraction"]) == (40.0, 0.8)
    # Bounds grow from the asset's 0.5 to hold the square at its furthest (t = 0.75 of 2 s).
    far_corner = np.hypot(0.5 + 0.25 * 1.5, 0.5)
    assert scene["bounds"]["radius"] == pytest.approx(far_corner, rel=1e-6)
    assert scene["camera_distance"] == pytest.approx(camera_distance(far_corner, 40.0, 0.8))
    assert summary.radius == pytest.approx(far_corner, rel=1e-6)
    assert scene["image"] == {
        "background": "transparent",
        "alpha": "straight",
        "composite_on": "white",
    }
    assert scene["clips"] == [
        {"name": "Slide", "role": "train", "duration_s": 2.0, "train_times": 2, "novel_times": 1}
    ]
    copy = out / "asset" / "sliding.glb"
    assert copy.read_bytes() == b"not read by the fake"
    assert scene["asset"] == {"file": "asset/sliding.glb", "sha256": sha256_of(copy)}


def test_existing_dataset_is_refused_without_force(fake_asset, tmp_path):
    out = tmp_path / "grid"
    write_tiny(fake_asset, out)
    before = (out / "scene.json").read_bytes()
    with pytest.raises(InputError) as raised:
        write_tiny(fake_asset, out)
    assert raised.value.where == str(out) and "--force" in raised.value.problem
    assert (out / "scene.json").read_bytes() == before


def test_empty_existing_folder_is_used(fake_asset, tmp_path):
    out = tmp_path / "grid"
    out.mkdir()
    write_tiny(fake_asset, out)
    assert (out / "scene.json").is_file()


def test_force_replaces_a_previous_dataset(fake_asset, tmp_path):
    out = tmp_path / "grid"
    write_tiny(fake_asset, out)
    bigger = dataclasses.replace(TINY, width=32, height=32)
    write_tiny(fake_asset, out, force=True, settings=bigger)
    assert read_json(out / "scene.json")["grid"]["width"] == 32
    assert Image.open(out / "train/c00_t000.png").size == (32, 32)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["grid", "sliding.glb"]


def test_force_does_not_delete_a_folder_that_is_not_a_dataset(fake_asset, tmp_path):
    out = tmp_path / "documents"
    out.mkdir()
    (out / "thesis.tex").write_text("precious")
    with pytest.raises(InputError, match="'thesis.tex' not written by avatar4d"):
        write_tiny(fake_asset, out, force=True)
    assert (out / "thesis.tex").read_text() == "precious"


def test_output_folder_holding_the_source_is_refused(fake_asset, tmp_path):
    with pytest.raises(InputError, match="contains the input"):
        write_tiny(fake_asset, tmp_path, force=True)
    assert fake_asset.path.is_file()


def test_a_crash_mid_run_keeps_the_previous_dataset(fake_asset, tmp_path):
    out = tmp_path / "grid"
    write_tiny(fake_asset, out)
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    crashing = SlidingQuadAsset(path=fake_asset.path, fail_after_poses=4)  # during rendering
    with pytest.raises(RuntimeError, match="simulated crash"):
        write_tiny(crashing, out, force=True)
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["grid", "sliding.glb"]


def test_unknown_clip_is_an_input_error(fake_asset, tmp_path):
    with pytest.raises(InputError, match="not found"):
        write_grid_for_asset(fake_asset, "Nope", tmp_path / "grid", TINY, progress=False)
    assert not (tmp_path / "grid").exists()


def test_a_clip_of_zero_seconds_is_refused_before_any_file_is_written(fake_asset, tmp_path):
    still = dataclasses.replace(fake_asset, clip=FakeClip("Slide", 0.0))
    with pytest.raises(InputError, match='clip "Slide" lasts 0 s') as raised:
        write_tiny(still, tmp_path / "grid")
    assert raised.value.where == str(fake_asset.path)
    assert "asset info" in raised.value.problem
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sliding.glb"]


def test_a_clip_that_does_not_move_is_refused(fake_asset, tmp_path):
    still = dataclasses.replace(fake_asset, speed=0.0)
    with pytest.raises(InputError, match='clip "Slide" does not move') as raised:
        write_tiny(still, tmp_path / "grid")
    assert "no vertex moves more than 0 (the limit is" in raised.value.problem
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sliding.glb"]


def test_a_clip_that_barely_moves_is_still_written(fake_asset, tmp_path):
    # TINY poses 0, 0.25 and 0.5 of the 2 s clip: at 0.005 a second the quad moves 0.005,
    # 0.7 % of the bounds radius (0.707 once the writer grows it to hold the quad)
    slow = dataclasses.replace(fake_asset, speed=0.005)
    assert write_tiny(slow, tmp_path / "grid").images == TINY_IMAGES


@pytest.mark.parametrize(
    ("fraction", "refused"), [(1e-5, True), (0.9e-4, True), (1.1e-4, False), (1e-3, False)]
)
def test_the_still_limit_is_a_ten_thousandth_of_the_bounds_radius(fraction, refused, tmp_path):
    # 1e-3 of the radius is 0.4 px on a character filling a 1024² image: that clip moves
    radius = 2.0
    motion = fraction * radius
    clip = FakeClip("Idle", 1.0)
    if refused:
        with pytest.raises(InputError, match='"Idle" does not move'):
            refuse_still_clip(tmp_path / "a.glb", clip, motion, radius)
    else:
        refuse_still_clip(tmp_path / "a.glb", clip, motion, radius)
    refuse_still_clip(tmp_path / "a.glb", clip, None, radius)  # unknown motion: not judged


def motion_of(*poses: np.ndarray) -> float | None:
    meter = MotionMeter()
    for pose in poses:
        meter.add(pose)
    return meter.largest


def test_motion_meter_follows_each_vertex_from_the_first_pose():
    first = np.zeros((3, 3), np.float32)
    later = first.copy()
    later[1] = [0.0, 3.0, 4.0]
    back = first.copy()
    back[2] = [1.0, 0.0, 0.0]
    assert motion_of(first, later, back) == pytest.approx(5.0)
    assert motion_of(later, first) == pytest.approx(5.0)
    assert motion_of(first) == 0.0
    assert motion_of(np.zeros((0, 3)), np.zeros((0, 3))) == 0.0


def test_motion_meter_does_not_judge_poses_it_cannot_follow():
    first = np.zeros((3, 3), np.float32)
    broken = first.copy()
    broken[0, 0] = np.nan
    assert motion_of(first, np.zeros((4, 3), np.float32)) is None
    assert motion_of(first, broken, first) is None
    assert motion_of(broken, first) is None


def test_command_refuses_soldiers_t_pose_in_one_line(soldier_glb, tmp_path, capsys):
    out = tmp_path / "tpose"
    main = pytest.importorskip("avatar4d.cli").main
    assert main(["grid", str(soldier_glb), "--clip", "TPose", "--out", str(out)]) == 2
    printed = capsys.readouterr()
    lines = (printed.out + printed.err).strip().splitlines()
    assert len(lines) == 1 and '"TPose" lasts 0 s' in lines[0] and str(soldier_glb) in lines[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_an_existing_dataset_is_refused_before_the_clip_is_posed(fake_asset, tmp_path):
    out = tmp_path / "grid"
    write_tiny(fake_asset, out)
    still = dataclasses.replace(fake_asset, speed=0.0, posed_seconds=[])
    with pytest.raises(InputError, match="--force"):
        write_tiny(still, out)
    assert still.posed_seconds == []


def grid_command(file: Path, out: Path, **options) -> GridCommand:
    tiny = {
        "res": 24,
        "train_azimuths": (0.0, 180.0),
        "train_elevations": (10.0,),
        "novel_azimuths": (90.0,),
        "novel_elevations": (0.0,),
        "train_times": 2,
        "novel_times": 1,
    }
    return GridCommand(file=file, clip="Walk", out=out, **{**tiny, **options})


@pytest.mark.parametrize(
    ("options", "option"),
    [
        ({"res": 4}, "--res"),
        ({"res": 9000}, "--res"),
        ({"samples": 0}, "--samples"),
        ({"train_times": 0}, "--train-times"),
        ({"novel_times": 3}, "--novel-times"),
        ({"train_elevations": (95.0,)}, "--train-elevations"),
        ({"novel_azimuths": ()}, "--novel-azimuths"),
        ({"sphere_fraction": 0.0}, "--sphere-fraction"),
        ({"fov_y": 200.0}, "--fov-y"),
    ],
)
def test_command_refuses_bad_options_naming_them(options, option, tmp_path):
    with pytest.raises(InputError) as raised:
        grid_command(tmp_path / "x.glb", tmp_path / "out", **options).settings()
    assert raised.value.where == option


def test_command_renders_soldier_end_to_end(soldier_glb, tmp_path, capsys):
    out = tmp_path / "soldier_grid"
    try:
        assert grid_command(soldier_glb, out).run() == 0
    except InputError as error:
        if error.where == "EGL":
            pytest.skip(f"no OpenGL through EGL here: {error}")
        raise
    printed = capsys.readouterr().out
    assert f"wrote {TINY_IMAGES} images" in printed and str(out) in printed
    scene = read_json(out / "scene.json")
    assert scene["source"]["sha256"] == hashlib.sha256(soldier_glb.read_bytes()).hexdigest()
    assert scene["source"]["clip"] == "Walk" and scene["source"]["clip_duration_s"] > 0
    assert len(list(out.rglob("*.png"))) == TINY_IMAGES + 4  # and one depth map per train frame
    assert len(list((out / "depth").rglob("*.png"))) == 4
    for path in [*(out / "train").glob("*.png"), *(out / "test").glob("*.png")]:
        image = np.asarray(Image.open(path))
        alpha = image[..., 3]
        assert image.shape == (24, 24, 4)
        assert (alpha == 255).sum() > 20, f"{path.name}: the character is visible"
        border = np.concatenate([alpha[0], alpha[-1], alpha[:, 0], alpha[:, -1]])
        assert not border.any(), f"{path.name}: the character is not cropped"
