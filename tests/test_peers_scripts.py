"""benchmarks/peers: our own helpers around the peers (no peer code is imported here).

prepare_dataset.py moves and scales a grid's camera poses into D-NeRF's scene scale,
collect_renders.py names a peer's renders for `eval --renders`, peer_stats.py reads a
trained peer model's Gaussian count and size.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pytest

PEERS = Path(__file__).resolve().parents[1] / "benchmarks" / "peers"


def _load(name: str):
    spec = importlib.util.spec_from_file_location(f"peers_{name}", PEERS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


CENTER = [0.5, 2.3, -1.0]
RADIUS = 3.1


def _pose(azimuth_deg: float, distance: float) -> list[list[float]]:
    """An OpenGL camera-to-world matrix looking at CENTER from distance along the azimuth."""
    a = np.radians(azimuth_deg)
    back = np.array([np.sin(a), 0.0, np.cos(a)])  # the camera's +Z (it looks down -Z)
    right = np.cross([0.0, 1.0, 0.0], back)
    pose = np.eye(4)
    pose[:3, 0], pose[:3, 1], pose[:3, 2] = right, [0.0, 1.0, 0.0], back
    pose[:3, 3] = np.asarray(CENTER) + distance * back
    return pose.tolist()


def _grid(root: Path) -> Path:
    """A minimal avatar4d grid: scene.json, three transforms files, 3 tiny 'images'."""
    grid = root / "grid"
    (grid / "train").mkdir(parents=True)
    (grid / "test").mkdir()
    scene = {"format": "avatar4d-grid", "bounds": {"center": CENTER, "radius": RADIUS}}
    (grid / "scene.json").write_text(json.dumps(scene))
    frames = {
        "train": [("./train/c00_t000", 0.0, 0.0), ("./train/c01_t001", 90.0, 0.5)],
        "val": [("./test/novel_view_c02_t000", 45.0, 0.0)],
        "test": [("./test/novel_view_c02_t000", 45.0, 0.0)],
    }
    for split, entries in frames.items():
        content = {
            "camera_angle_x": 0.6981,
            "frames": [
                {"file_path": fp, "transform_matrix": _pose(az, 11.1), "time": t, "subset": "x"}
                for fp, az, t in entries
            ],
        }
        (grid / f"transforms_{split}.json").write_text(json.dumps(content))
        for fp, _, _ in entries:
            (grid / (fp + ".png")).write_bytes(f"png of {fp}".encode())
    return grid


def test_prepare_moves_the_bounds_sphere_to_the_origin_and_keeps_everything_else(tmp_path):
    prepare = _load("prepare_dataset")
    grid = _grid(tmp_path)
    record = prepare.prepare(grid, tmp_path / "out", 1.2)

    scale = 1.2 / RADIUS
    assert record["scale"] == pytest.approx(scale)
    assert record["frames"] == {"train": 2, "val": 1, "test": 1}
    assert record["train_camera_distance"] == pytest.approx([11.1 * scale, 11.1 * scale])
    assert json.loads((tmp_path / "out" / "prepared.json").read_text()) == record
    for split in ("train", "val", "test"):
        before = json.loads((grid / f"transforms_{split}.json").read_text())
        after = json.loads((tmp_path / "out" / f"transforms_{split}.json").read_text())
        assert after["camera_angle_x"] == before["camera_angle_x"]
        for b, a in zip(before["frames"], after["frames"], strict=True):
            pb, pa = np.asarray(b["transform_matrix"]), np.asarray(a["transform_matrix"])
            np.testing.assert_allclose(pa[:3, :3], pb[:3, :3], atol=0)  # rotation unchanged
            np.testing.assert_allclose(pa[:3, 3], (pb[:3, 3] - CENTER) * scale, atol=1e-12)
            np.testing.assert_allclose(pa[3], [0, 0, 0, 1])
            # the camera still looks at the (moved) bounds centre: the origin
            np.testing.assert_allclose(np.cross(pa[:3, 2], pa[:3, 3]), 0, atol=1e-12)
            assert {k: v for k, v in a.items() if k != "transform_matrix"} == {
                k: v for k, v in b.items() if k != "transform_matrix"
            }
            png = a["file_path"] + ".png"
            assert (tmp_path / "out" / png).read_bytes() == (grid / png).read_bytes()
    assert not (tmp_path / "out" / "scene.json").exists()


def test_prepare_refuses_bad_input_naming_the_file(tmp_path):
    prepare = _load("prepare_dataset")
    grid = _grid(tmp_path)
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("mine")
    with pytest.raises(prepare.PrepareError, match="full: exists and is not empty"):
        prepare.prepare(grid, tmp_path / "full")
    assert (tmp_path / "full" / "keep.txt").read_text() == "mine"

    (grid / "test" / "novel_view_c02_t000.png").unlink()
    with pytest.raises(prepare.PrepareError, match=r"novel_view_c02_t000\.png: missing"):
        prepare.prepare(grid, tmp_path / "out1")
    assert not (tmp_path / "out1").exists()

    content = json.loads((grid / "transforms_train.json").read_text())
    content["frames"][1]["transform_matrix"] = [[1, 0], [0, 1]]
    (grid / "transforms_train.json").write_text(json.dumps(content))
    with pytest.raises(prepare.PrepareError, match=r"transforms_train\.json: frame 1: .*4x4"):
        prepare.prepare(grid, tmp_path / "out2")

    (grid / "scene.json").write_text(json.dumps({"format": "something-else"}))
    with pytest.raises(prepare.PrepareError, match=r"scene\.json: not an avatar4d grid"):
        prepare.prepare(grid, tmp_path / "out3")
    assert prepare.main([str(grid), str(tmp_path / "out4")]) == 2


def test_collect_renders_names_the_ith_render_after_the_ith_test_frame(tmp_path):
    collect = _load("collect_renders")
    data = tmp_path / "data"
    data.mkdir()
    paths = [
        "./test/novel_view_c24_t000",
        "./test/novel_time_c00_t060",
        "./test/novel_both_c25_t061",
    ]
    frames = [{"file_path": p} for p in paths]
    (data / "transforms_test.json").write_text(json.dumps({"frames": frames}))
    renders = tmp_path / "renders"
    renders.mkdir()
    for i in range(3):
        (renders / f"{i:05d}.png").write_bytes(f"render {i}".encode())

    assert collect.collect(renders, data, tmp_path / "out") == 3
    for i, p in enumerate(paths):
        assert (tmp_path / "out" / (p + ".png")).read_bytes() == f"render {i}".encode()

    (renders / "00001.png").unlink()
    with pytest.raises(ValueError, match=r"2 PNGs for 3 test frames \(missing \['00001\.png'\]"):
        collect.collect(renders, data, tmp_path / "out2")
    assert not (tmp_path / "out2").exists()


def test_peer_stats_reads_the_last_iteration(tmp_path):
    stats = _load("peer_stats")
    model = tmp_path / "model"
    for n, count in ((7000, 5), (40000, 123456)):
        folder = model / "point_cloud" / f"iteration_{n}"
        folder.mkdir(parents=True)
        header = f"ply\nformat binary_little_endian 1.0\nelement vertex {count}\n"
        header += "property float x\nend_header\n"
        (folder / "point_cloud.ply").write_bytes(header.encode() + b"\0" * 16)
    deform = model / "deform" / "iteration_40000"
    deform.mkdir(parents=True)
    (deform / "deform.pth").write_bytes(b"x" * 1000)

    result = stats.stats(model)
    ply = model / "point_cloud" / "iteration_40000" / "point_cloud.ply"
    assert result["iteration"] == 40000
    assert result["gaussians"] == 123456
    assert result["model_bytes"] == ply.stat().st_size + 1000
    assert result["model_files"] == [
        "deform/iteration_40000/deform.pth",
        "point_cloud/iteration_40000/point_cloud.ply",
    ]
    with pytest.raises(ValueError, match="no iteration_N folder"):
        stats.stats(tmp_path / "empty")
