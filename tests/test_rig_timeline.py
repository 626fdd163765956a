"""Which pose a time of a rig model's timeline names: the clips lie end to end, each segment
holds [start, start + length), and a boundary is the next clip's first frame, as the grid
writes it; the web player's rig.js decides the same way."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from avatar4d.asset.demo.character import write_demo_character
from avatar4d.asset.loader import load_asset
from avatar4d.cli import main
from avatar4d.data.clip_timeline import train_segments
from avatar4d.data.dnerf import load_dataset
from avatar4d.model.rig_deformation import Segment, pose_on

RIG_JS = Path(__file__).parents[1] / "src" / "avatar4d" / "output" / "web_player" / "rig.js"
SEGMENTS = (Segment("Dance", 0.0, 0.25), Segment("Walk", 0.25, 0.5), Segment("Idle", 0.75, 0.25))
DURATIONS = {"Dance": 4.0, "Walk": 2.0, "Idle": 8.0}
TIMES = [0.0, 0.1, 0.25 - 1e-9, 0.25, 0.25 + 1e-9, 0.5, 0.75 - 3e-8, 0.75, 0.9, 1.0, 1.2, -0.1]


def test_a_boundary_is_the_next_clips_start():
    assert pose_on(SEGMENTS, DURATIONS, 0.25) == ("Walk", 0.0)
    assert pose_on(SEGMENTS, DURATIONS, 0.75) == ("Idle", 0.0)
    assert pose_on(SEGMENTS, DURATIONS, 0.75 - 3e-8) == ("Idle", 0.0)  # a float32 0.75
    clip, seconds = pose_on(SEGMENTS, DURATIONS, 0.25 - 1e-5)
    assert clip == "Dance" and seconds == pytest.approx(4.0 * (1 - 4e-5))
    assert pose_on(SEGMENTS, DURATIONS, 0.5) == ("Walk", 1.0)
    assert pose_on(SEGMENTS, DURATIONS, 1.0) == ("Idle", 8.0)  # the last clip keeps its end
    assert pose_on(SEGMENTS, DURATIONS, 1.2) == ("Idle", 8.0)
    assert pose_on(SEGMENTS, DURATIONS, -0.1) == ("Dance", 0.0)
    assert pose_on((Segment("wave", 0.0, 1.0),), {"wave": 3.0}, 1.0) == ("wave", 3.0)


def test_the_player_names_the_same_poses(tmp_path):
    node = shutil.which("node")
    if node is None:
        pytest.skip("node not found (the player's rig.js is checked with Node.js)")
    module = tmp_path / "rig.mjs"
    module.write_text(RIG_JS.read_text())
    segments = json.dumps([[s.clip, s.start, s.length] for s in SEGMENTS])
    script = (
        f"import {{ poseOn }} from {json.dumps(module.as_uri())};\n"
        f"const times = {json.dumps(TIMES)};\n"
        f"console.log(JSON.stringify(times.map((t) => poseOn({segments}, "
        f"{json.dumps(DURATIONS)}, t))));\n"
    )
    done = subprocess.run(
        [node, "--input-type=module", "-e", script], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    player = json.loads(done.stdout)
    for t, (clip, seconds) in zip(TIMES, player, strict=True):
        expected_clip, expected_seconds = pose_on(SEGMENTS, DURATIONS, t)
        assert clip == expected_clip, t
        assert seconds == pytest.approx(expected_seconds, abs=1e-9), t


def test_every_frame_of_a_grid_of_clips_is_posed_as_its_clip(tmp_path):
    """The model poses each frame of a several-clip grid at the frame's own clip and clip
    time, the first frame of every clip but the first included."""
    asset = write_demo_character(tmp_path / "demo.glb")
    out = tmp_path / "grid"
    argv = ["grid", str(asset), "--clip", "wave", "--clip", "walk", "--clip", "talk"]
    argv += ["--out", str(out), "--train-times", "4", "--novel-times", "2", "--res", "8"]
    argv += ["--samples", "1", "--track-points", "0", "--train-azimuths", "0"]
    argv += ["--train-elevations", "10", "--novel-azimuths", "90", "--novel-elevations", "0"]
    assert main(argv) == 0
    dataset = load_dataset(out)
    segments = [Segment(*s) for s in train_segments(dataset.train, out)]
    durations = {clip.name: clip.duration for clip in load_asset(asset).clips}
    frames = [*dataset.train, *dataset.splits["test"]]
    starts = 0
    for frame in frames:
        if frame.clip not in durations or frame.clip_time is None:
            continue
        clip, seconds = pose_on(segments, durations, float(frame.time))
        assert clip == frame.clip, frame.source
        assert seconds == pytest.approx(frame.clip_time * durations[clip], abs=1e-6)
        starts += frame.clip_time == 0.0 and frame.clip != "wave"
    assert starts >= 2  # walk's and talk's first frames lie on a boundary
