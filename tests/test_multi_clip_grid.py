"""Grids of several clips: frames name their clip, novel_pose holds a clip never trained, the
dataset carries its asset, check reports clips and motion, and grid chooses train times from
the motion when --train-times is not given."""

from __future__ import annotations

import json
import shutil
import struct
from pathlib import Path

import pytest
from cli_output import one_error_line

from avatar4d.asset.demo.character import write_demo_character
from avatar4d.asset.loader import load_asset
from avatar4d.capture.asset_copy import sha256_of
from avatar4d.capture.rig_settings import RigSettings
from avatar4d.capture.time_choice import MIN_TRAIN_TIMES, choose_train_times, pixels_per_unit
from avatar4d.cli import main
from avatar4d.data.dnerf import load_dataset
from avatar4d.errors import InputError
from avatar4d.evaluate.results import _subset_order

TINY = [
    *("--res", "16", "--samples", "1", "--track-points", "64"),
    *("--train-azimuths", "0", "120", "240", "--train-elevations", "10"),
    *("--novel-azimuths", "60", "180", "--novel-elevations", "0"),
]
TRAIN_CAMERAS, NOVEL_CAMERAS = {0, 1, 2}, {3, 4}


@pytest.fixture(scope="module")
def demo_glb(tmp_path_factory) -> Path:
    return write_demo_character(tmp_path_factory.mktemp("demo") / "demo.glb")


@pytest.fixture(scope="module")
def multi(demo_glb, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("multi") / "grid"
    argv = ["grid", str(demo_glb), "--clip", "wave", "--clip", "walk", "--novel-clip", "talk"]
    argv += ["--out", str(out), "--train-times", "4", "6", "--novel-times", "2", *TINY]
    assert main(argv) == 0
    return out


def frames(root: Path, split: str) -> list[dict]:
    return json.loads((root / f"transforms_{split}.json").read_text())["frames"]


def test_frames_name_their_clip_and_lie_on_one_timeline(multi):
    train = frames(multi, "train")
    assert len(train) == 3 * (4 + 6)
    by_clip = {name: [f for f in train if f["clip"] == name] for name in ("wave", "walk")}
    assert sorted({f["clip_time"] for f in by_clip["wave"]}) == [0.0, 0.25, 0.5, 0.75]
    assert sorted({round(f["clip_time"], 6) for f in by_clip["walk"]}) == [
        round(i / 6, 6) for i in range(6)
    ]
    # time: the clips end to end, 10 train times i / 10 (wave 0 .. 0.3, walk 0.4 .. 0.9)
    assert sorted({round(f["time"], 9) for f in train}) == [i / 10 for i in range(10)]
    for frame in by_clip["walk"]:
        assert frame["time"] == pytest.approx((4 + 6 * frame["clip_time"]) / 10)
    novel_time = [f for f in frames(multi, "test") if f["subset"] == "novel_time"]
    assert {(f["clip"], f["clip_time"]) for f in novel_time} == {
        ("wave", 0.375),
        ("wave", 0.875),
        ("walk", 0.25),
        ("walk", 0.75),
    }


def test_novel_pose_is_the_novel_clip_from_novel_cameras_only(multi):
    test = frames(multi, "test")
    posed = [f for f in test if f["subset"] == "novel_pose"]
    assert len(posed) == 2 * 2  # 2 novel cameras x 2 times
    assert {f["clip"] for f in posed} == {"talk"}
    assert {f["camera_index"] for f in posed} == NOVEL_CAMERAS
    assert sorted({f["clip_time"] for f in posed}) == [0.25, 0.75]
    assert all(f["clip"] != "talk" for f in frames(multi, "train"))
    assert all(f["subset"] != "novel_pose" or f["clip"] == "talk" for f in test)
    val = frames(multi, "val")
    assert [f["subset"] for f in val].count("novel_pose") == 2
    assert all((multi / f"{f['file_path']}.png").is_file() for f in posed)


def test_the_dataset_carries_its_asset(multi, demo_glb):
    scene = json.loads((multi / "scene.json").read_text())
    copy = multi / scene["asset"]["file"]
    assert scene["asset"]["file"] == "asset/demo.glb"
    assert sha256_of(copy) == scene["asset"]["sha256"] == sha256_of(demo_glb)
    assert copy.read_bytes() == demo_glb.read_bytes()
    manifest = (multi / ".avatar4d-manifest.json").read_text()
    assert "asset/demo.glb" in manifest  # a file avatar4d wrote: --force may replace it
    assert [(c["name"], c["role"]) for c in scene["clips"]] == [
        ("wave", "train"),
        ("walk", "train"),
        ("talk", "novel_pose"),
    ]
    assert load_dataset(multi).asset_file == copy.resolve()


def test_the_reader_exposes_each_frames_clip(multi):
    dataset = load_dataset(multi)
    assert {f.clip for f in dataset.train} == {"wave", "walk"}
    posed = [f for f in dataset.splits["test"] if f.subset == "novel_pose"]
    assert {(f.clip, f.clip_time) for f in posed} == {("talk", 0.25), ("talk", 0.75)}


def test_a_single_clip_grid_is_as_before_and_its_reader_names_the_clip(demo_glb, tmp_path):
    out = tmp_path / "single"
    argv = ["grid", str(demo_glb), "--clip", "wave", "--out", str(out), *TINY]
    assert main([*argv, "--train-times", "3", "--novel-times", "1"]) == 0
    assert all("clip" not in f for f in frames(out, "train") + frames(out, "test"))
    assert {f["time"] for f in frames(out, "train")} == {0.0, 1 / 3, 2 / 3}
    assert {f["subset"] for f in frames(out, "test")} == {"novel_view", "novel_time", "novel_both"}
    dataset = load_dataset(out)
    assert {(f.clip, f.clip_time) for f in dataset.train} == {
        ("wave", f.time) for f in dataset.train
    }


def test_check_names_the_clips_and_warns_on_motion_in_numbers(multi, tmp_path, capsys):
    assert main(["check", str(multi), "--no-figure", "--json", str(tmp_path / "r.json")]) == 0
    out = capsys.readouterr().out
    assert "wave: 4 train times x 3 cameras, 2 novel times" in out
    assert "walk: 6 train times x 3 cameras, 2 novel times" in out
    assert "talk (novel pose, never trained): 2 times x 2 novel cameras" in out
    report = json.loads((tmp_path / "r.json").read_text())
    motion = {item["name"]: item for item in report["motion"]}
    assert set(motion) == {"wave", "walk"}
    assert (motion["wave"]["steps"], motion["walk"]["steps"]) == (3, 5)  # within each clip
    largest = motion["wave"]["largest_px"]
    assert 2.0 < largest < 16  # 4 train times of the wave are too few even at 16x16
    assert 1 <= motion["wave"]["over"] <= 3
    assert f"Clip wave: a surface point moves up to {largest:.1f} px" in out
    assert "WARNING: Clip wave" in out


def test_motion_chooses_at_least_60_and_more_for_a_faster_clip(demo_glb):
    asset = load_asset(demo_glb)
    _, radius = asset.clip_bounds("wave")
    scale = pixels_per_unit(RigSettings(width=64, height=64), radius)

    def choice(name: str):
        clip = asset.find_clip(name)
        return choose_train_times(
            name, lambda t: asset.pose(name, t * clip.duration).all_positions(), scale
        )

    talk, wave = choice("talk"), choice("wave")
    assert talk.train_times == MIN_TRAIN_TIMES and talk.needed < MIN_TRAIN_TIMES
    assert wave.train_times > 80 and wave.needed == wave.train_times
    assert wave.step_pixels <= 2.0 < wave.pixels_per_clip / MIN_TRAIN_TIMES
    # the blinks are keyed as STEPs: jumps, left out rather than sampled ever finer
    assert talk.jumps >= 2


def test_grid_without_train_times_chooses_them_and_says_so(demo_glb, tmp_path, capsys):
    out = tmp_path / "chosen"
    argv = ["grid", str(demo_glb), "--clip", "walk", "--out", str(out), "--res", "16"]
    argv += ["--samples", "1", "--track-points", "0", "--train-azimuths", "0"]
    argv += ["--train-elevations", "0", "--novel-azimuths", "90", "--novel-times", "1"]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert 'train times of "walk" from its motion: 60 (' in printed
    scene = json.loads((out / "scene.json").read_text())
    chosen = scene["clips"][0]["train_times_from_motion"]
    assert scene["clips"][0]["train_times"] == 60 and chosen["needed"] < 60
    assert chosen["largest_step_px"] <= 2.0 and not chosen["capped"]
    assert len(frames(out, "train")) == 60


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (["--clip", "Nope"], 'clip "Nope" not found in demo.glb; clips: wave (2.00 s)'),
        (
            ["--clip", "wave", "--novel-clip", "wave"],
            'avatar4d: error: --novel-clip: "wave" is also a --clip: a novel clip must be one '
            "never trained on",
        ),
        (
            ["--clip", "wave", "--clip", "walk", "--train-times", "2", "3", "4"],
            "avatar4d: error: --train-times: give one count, or one per clip (2), not 3",
        ),
        (
            ["--clip", "wave", "--clip", "wave"],
            'avatar4d: error: --clip: "wave" is named twice',
        ),
    ],
)
def test_bad_clips_are_one_line(demo_glb, tmp_path, capsys, extra, expected):
    argv = ["grid", str(demo_glb), "--out", str(tmp_path / "bad"), *TINY, *extra]
    assert main(argv) == 2
    assert expected in one_error_line(capsys)
    assert not (tmp_path / "bad").exists()


def test_a_gltf_is_copied_with_its_buffer_files(demo_glb, tmp_path):
    """A .gltf naming a .bin beside it: the copy keeps both, and loads on its own."""
    data = demo_glb.read_bytes()
    json_length = struct.unpack_from("<I", data, 12)[0]
    document = json.loads(data[20 : 20 + json_length])
    binary = data[20 + json_length + 8 :]
    source = tmp_path / "src"
    (source / "data").mkdir(parents=True)
    (source / "data" / "demo body.bin").write_bytes(binary)
    document["buffers"] = [{"byteLength": document["buffers"][0]["byteLength"]}]
    document["buffers"][0]["uri"] = "data/demo%20body.bin"
    gltf = source / "demo.gltf"
    gltf.write_text(json.dumps(document))
    out = tmp_path / "grid"
    argv = ["grid", str(gltf), "--clip", "wave", "--out", str(out), *TINY]
    assert main([*argv, "--train-times", "2", "--novel-times", "1"]) == 0
    scene = json.loads((out / "scene.json").read_text())
    assert scene["asset"]["file"] == "asset/demo.gltf"
    assert scene["asset"]["sha256"] == sha256_of(gltf)
    assert scene["asset"]["resources"] == {
        "asset/data/demo body.bin": sha256_of(source / "data" / "demo body.bin")
    }
    copied = load_asset(out / "asset" / "demo.gltf")
    assert [c.name for c in copied.clips] == [c.name for c in load_asset(gltf).clips]


def test_eval_orders_novel_pose_after_the_other_subsets():
    assert _subset_order(["novel_pose", "novel_both", "novel_view", "novel_time"]) == [
        "novel_view",
        "novel_time",
        "novel_both",
        "novel_pose",
    ]
    assert _subset_order(["novel_view", "novel_time", "novel_both"]) == [
        "novel_view",
        "novel_time",
        "novel_both",
    ]


def test_robot_two_clips_and_a_novel_clip(robot_glb, tmp_path, capsys):
    out = tmp_path / "robot"
    argv = ["grid", str(robot_glb), "--clip", "Walking", "--clip", "Idle"]
    argv += ["--novel-clip", "Jump", "--out", str(out), "--train-times", "3"]
    argv += ["--novel-times", "1", *TINY]
    assert main(argv) == 0
    assert "novel pose Jump 1 times (2 images)" in capsys.readouterr().out
    dataset = load_dataset(out)
    assert {f.clip for f in dataset.train} == {"Walking", "Idle"}
    posed = [f for f in dataset.splits["test"] if f.subset == "novel_pose"]
    assert {f.clip for f in posed} == {"Jump"} and {f.camera_index for f in posed} == NOVEL_CAMERAS
    scene = json.loads((out / "scene.json").read_text())
    assert sha256_of(out / scene["asset"]["file"]) == scene["asset"]["sha256"]
    assert scene["asset"]["sha256"] == sha256_of(robot_glb)


def test_a_clip_without_its_clip_time_is_one_line(multi, tmp_path):
    broken = Path(shutil.copytree(multi, tmp_path / "broken"))
    path = broken / "transforms_train.json"
    document = json.loads(path.read_text())
    del document["frames"][3]["clip_time"]
    path.write_text(json.dumps(document))
    with pytest.raises(InputError, match="frame 3 clip_time must be a number in \\[0, 1\\]"):
        load_dataset(broken)
