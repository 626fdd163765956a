"""`pip install avatar4d` without the [train] extra: asset, pose, grid and check run; the commands
that need PyTorch say in one line which extra to install.

Each command runs in a fresh interpreter in which torch, gsplat, av, torchvision and lpips cannot
be imported (a finder at the front of sys.meta_path refuses them, as if not installed)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from fuzz_inputs import CLIP, write_small_skinned_glb

SOURCES = Path(__file__).resolve().parents[1] / "src"
TRAIN_EXTRA_MODULES = ("torch", "gsplat", "av", "torchvision", "lpips")
BOOTSTRAP = f"""
import json, sys

class NotInstalled:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {TRAIN_EXTRA_MODULES!r}:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
        return None

sys.meta_path.insert(0, NotInstalled())
from avatar4d.cli import main

codes = [main(argv) for argv in json.loads(sys.argv[1])]
loaded = sorted({{m.split(".")[0] for m in sys.modules}} & set({TRAIN_EXTRA_MODULES!r}))
print("EXIT CODES", json.dumps(codes), "LOADED", json.dumps(loaded))
"""
GRID = [
    *("--clip", CLIP, "--res", "32", "--samples", "1"),
    *("--train-azimuths", "0", "90", "180", "270", "--train-elevations", "-10", "30"),
    *("--novel-azimuths", "45", "--novel-elevations", "10"),
    *("--train-times", "3", "--novel-times", "1", "--track-points", "16"),
]
COMMANDS = ("demo", "asset", "pose", "grid", "check", "train", "eval", "render", "export", "view")


def run_without_torch(*argvs: list[str], cwd: Path | None = None) -> tuple[list[int], str, str]:
    """Run ``main(argv)`` for each argv in one interpreter without the [train] extra.

    -> (exit codes, stdout before the summary line, stderr)."""
    env = {**os.environ, "PYTHONPATH": f"{SOURCES}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    result = subprocess.run(
        [sys.executable, "-c", BOOTSTRAP, json.dumps([list(map(str, a)) for a in argvs])],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    output, _, summary = result.stdout.rpartition("EXIT CODES ")
    codes, _, loaded = summary.partition(" LOADED ")
    assert json.loads(loaded) == [], f"imported {loaded.strip()} (stderr: {result.stderr})"
    return json.loads(codes), output, result.stderr


def test_importing_the_cli_imports_no_torch() -> None:
    env = {**os.environ, "PYTHONPATH": f"{SOURCES}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    probe = "import sys, avatar4d.cli; print(sorted(m for m in sys.modules if m.startswith(%r)))"
    heavy = subprocess.run(
        [sys.executable, "-c", probe % ("torch",)],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    assert heavy.stdout.strip() == "[]"


def test_every_help_without_torch() -> None:
    codes, output, stderr = run_without_torch(["--help"], *([name, "--help"] for name in COMMANDS))
    assert codes == [0] * (len(COMMANDS) + 1), stderr
    for name in COMMANDS:
        assert f"usage: avatar4d {name}" in output


@pytest.fixture(scope="module")
def small_glb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_small_skinned_glb(tmp_path_factory.mktemp("glb") / "small.glb")


def test_asset_pose_grid_check_without_torch(small_glb: Path, tmp_path: Path) -> None:
    grid, report = tmp_path / "grid", tmp_path / "check.json"
    codes, output, stderr = run_without_torch(
        ["asset", "info", small_glb],
        ["asset", "info", small_glb, "--json"],
        ["pose", small_glb, "--clip", CLIP, "--time", "0.5", "--out", tmp_path / "posed.ply"],
        ["grid", small_glb, "--out", grid, *GRID],
        ["check", grid, "--json", report, "--figure", tmp_path / "coverage.png"],
        cwd=tmp_path,
    )
    assert codes == [0, 0, 0, 0, 0], stderr
    assert "6 vertices, 4 triangles drawn" in output  # asset info's table
    summary = json.loads(output[output.index("\n{") + 1 : output.index("\n}") + 2])
    assert [clip["name"] for clip in summary["clips"]] == [CLIP]
    assert (tmp_path / "posed.ply").read_bytes().startswith(b"ply\n")
    assert f"wrote {tmp_path / 'posed.ply'}" in output
    train = json.loads((grid / "transforms_train.json").read_text())
    assert len(train["frames"]) == 8 * 3  # 8 cameras x 3 times
    assert len(list((grid / "train").rglob("*.png"))) == 8 * 3
    assert (tmp_path / "coverage.png").read_bytes().startswith(b"\x89PNG")
    assert json.loads(report.read_text())["split_counts"] == {"train": 24, "val": 3, "test": 3}
    assert "8 cameras x 3 times (t = 0 .. 0.6667); 24 of 24 cells filled" in output


@pytest.mark.parametrize(
    ("argv", "needs"),
    [
        (["train", "DATA", "--out", "RUN"], "PyTorch and gsplat"),
        (["train", "DATA", "--out", "RUN", "--resume"], "PyTorch and gsplat"),
        (["train", "DATA", "--out", "RUN", "--resume", "--help"], None),
        (["eval", "RUN"], "PyTorch"),
        (["eval", "--renders", "DIR", "DATA"], "PyTorch"),  # SSIM's window and LPIPS use it
        (["render", "RUN", "--out", "orbit.mp4"], "PyTorch and PyAV"),
        (["render", "RUN", "--out", "frames"], "PyTorch"),
        (["export", "RUN", "--out", "ply"], "PyTorch"),
        (["view", "RUN"], "PyTorch"),
        (["demo", "--out", "demo"], "PyTorch, gsplat and PyAV"),
    ],
)
def test_training_commands_name_the_extra(
    argv: list[str], needs: str | None, tmp_path: Path
) -> None:
    codes, output, stderr = run_without_torch(argv, cwd=tmp_path)
    if needs is None:  # --help: parsing a resume reads the run, which needs torch: not here
        assert codes == [0] and "--resume" in output and stderr == ""
        return
    assert codes == [2]
    command = argv[0]
    line = f"avatar4d: error: {command}: needs {needs}: pip install 'avatar4d[train]'"
    assert stderr.splitlines() == [line]
    assert output == ""
    assert list(tmp_path.iterdir()) == []  # refused before writing anything
