"""Surface tracks: sampled by the grid writer, read back with checks, used by the trainer."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.numpy import save_file
from test_grid_writer import TINY, read_json, write_tiny
from test_train_end_to_end import TINY as TINY_TRAINING
from test_train_synthetic import write_moving_blobs_dataset

from avatar4d.asset.posed_mesh import Material, PosedMesh, PosedPart
from avatar4d.capture.surface_tracks import (
    TrackRecorder,
    normals_on,
    positions_on,
    sample_surface,
    triangle_areas,
)
from avatar4d.data import tracks as tracks_module
from avatar4d.data.dnerf import load_dataset
from avatar4d.data.tracks import read_tracks
from avatar4d.errors import InputError
from avatar4d.model.motions.nodes import NodeSettings
from avatar4d.model.shading import LIGHT_KEY
from avatar4d.raster.quaternions import quat_to_rotation
from avatar4d.run.config import with_settings
from avatar4d.run.trained import load_trained_model
from avatar4d.train.track_loss import MAX_BIND_DISTANCE, TrackSupervision
from avatar4d.train.trainer import train


def part(positions, indices) -> PosedPart:
    positions = np.asarray(positions, np.float32)
    return PosedPart(
        positions=positions,
        normals=np.tile(np.float32([0, 0, 1]), (len(positions), 1)),
        uvs=None,
        colors=None,
        indices=np.asarray(indices, np.uint32),
        material=Material(base_color_factor=np.float32([1, 1, 1, 1])),
    )


def two_triangles() -> PosedMesh:
    """Part 0: one triangle of area 0.5; part 1: one of area 1.5 (three times as large)."""
    small = part([[0, 0, 0], [1, 0, 0], [0, 1, 0]], [[0, 1, 2]])
    large = part([[0, 0, 1], [3, 0, 1], [0, 1, 1]], [[0, 1, 2]])
    return PosedMesh([small, large])


def test_points_are_spread_by_area_and_lie_on_their_triangle():
    mesh = two_triangles()
    samples = sample_surface(mesh, 40_000, seed=3)
    assert samples.count == 40_000
    assert abs((samples.part == 1).mean() - 0.75) < 0.01
    assert (samples.barycentric >= 0).all()
    np.testing.assert_allclose(samples.barycentric.sum(axis=1), 1.0, atol=1e-12)
    points = positions_on(mesh, samples)
    on_large = points[samples.part == 1]
    assert np.allclose(on_large[:, 2], 1.0)
    assert (on_large[:, 0] + 3 * on_large[:, 1] <= 3 + 1e-5).all()  # inside the triangle
    # Uniform on the triangle: its centroid is the mean of the points.
    np.testing.assert_allclose(on_large[:, :2].mean(axis=0), [1.0, 1 / 3], atol=0.02)
    np.testing.assert_allclose(triangle_areas(mesh.parts[1].positions, mesh.parts[1].indices), 1.5)


def test_points_move_with_the_mesh():
    mesh = two_triangles()
    samples = sample_surface(mesh, 500, seed=0)
    turn = np.array([[1, 0, 0], [0, 0, -1], [0, 1, 0]], np.float32)  # 90 deg about x
    moved = PosedMesh(
        [
            dataclasses.replace(
                p, positions=p.positions @ turn.T + [0.5, 0, -2], normals=p.normals @ turn.T
            )
            for p in mesh.parts
        ]
    )
    expected = positions_on(mesh, samples) @ turn.T + [0.5, 0, -2]
    np.testing.assert_allclose(positions_on(moved, samples), expected, atol=1e-5)
    np.testing.assert_allclose(normals_on(mesh, samples), np.tile([0, 0, 1], (500, 1)))
    np.testing.assert_allclose(normals_on(moved, samples), np.tile([0, -1, 0], (500, 1)), atol=1e-6)


def test_a_mesh_without_area_or_a_changed_topology_is_refused():
    flat = PosedMesh([part([[0, 0, 0], [1, 0, 0], [2, 0, 0]], [[0, 1, 2]])])
    with pytest.raises(ValueError, match="no visible surface"):
        sample_surface(flat, 10)
    recorder = TrackRecorder(10)
    recorder.record(0.0, two_triangles())
    with pytest.raises(ValueError, match="changed its triangles at time 0.5"):
        recorder.record(0.5, PosedMesh(two_triangles().parts[:1]))


def test_the_grid_writes_tracks_at_the_train_times_only(fake_asset, tmp_path):
    out = tmp_path / "grid"
    summary = write_tiny(fake_asset, out, settings=dataclasses.replace(TINY, track_points=300))
    assert summary.track_points == 300
    scene = read_json(out / "scene.json")
    assert scene["tracks"] == {"file": "tracks.safetensors", "points": 300, "times": 2}
    tracks = read_tracks(load_dataset(out))
    assert tracks is not None and tracks.point_count == 300
    np.testing.assert_array_equal(tracks.times, [0.0, 0.5])  # not the novel time 0.25
    # The quad slides 0.25 per second over its right-hand corners: at t = 0.5 (1 s) every
    # point moved along +x by between 0 and 0.25, and not at all along y or z.
    moved = tracks.positions[1] - tracks.positions[0]
    assert np.allclose(moved[:, 1:], 0.0, atol=1e-6)
    assert (moved[:, 0] >= -1e-6).all() and (moved[:, 0] <= 0.25 + 1e-6).all()
    assert moved[:, 0].mean() > 0.05
    assert tracks.normals is not None and tracks.normals.shape == tracks.positions.shape
    lengths = np.linalg.norm(tracks.normals.astype(np.float32), axis=-1)
    np.testing.assert_allclose(lengths, 1.0, atol=2e-3)


def test_no_tracks_when_asked_for_none(fake_asset, tmp_path):
    out = tmp_path / "grid"
    write_tiny(fake_asset, out, settings=dataclasses.replace(TINY, track_points=0))
    assert "tracks" not in read_json(out / "scene.json")
    assert not (out / "tracks.safetensors").exists()
    assert read_tracks(load_dataset(out)) is None


@pytest.fixture()
def fake_asset(tmp_path: Path):
    from test_grid_writer import SlidingQuadAsset

    source = tmp_path / "sliding.glb"
    source.write_bytes(b"not read by the fake")
    return SlidingQuadAsset(path=source)


@pytest.fixture(scope="module")
def tracked_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("tracked") / "data"
    return write_moving_blobs_dataset(root, with_tracks=True)


def rewrite_tracks(root: Path, tensors: dict | None = None, entry: object = None) -> Path:
    if tensors is not None:
        save_file(tensors, str(root / "tracks.safetensors"))
    scene = json.loads((root / "scene.json").read_text())
    if entry is not None:
        scene["tracks"] = entry
    (root / "scene.json").write_text(json.dumps(scene))
    return root


@pytest.mark.parametrize(
    ("tensors", "entry", "message"),
    [
        (None, {"file": "missing.safetensors"}, "missing.safetensors: not found"),
        (None, {"file": "../outside.safetensors"}, "leaves the dataset folder"),
        (None, ["tracks.safetensors"], 'must be an object with a "file"'),
        ({"times": np.zeros(2)}, None, r"expected tensors times, positions \(and normals\)"),
        (
            {"times": np.arange(3.0), "positions": np.zeros((2, 5, 3), np.float32)},
            None,
            "3 times but positions for 2",
        ),
        (
            {"times": np.arange(2.0), "positions": np.zeros((2, 5, 2), np.float32)},
            None,
            r"positions \(T, P, 3\)",
        ),
        (
            {"times": np.arange(2.0), "positions": np.full((2, 5, 3), np.nan, np.float32)},
            None,
            "not all finite",
        ),
        (
            {"times": np.array([0.5, 0.0]), "positions": np.zeros((2, 5, 3), np.float32)},
            None,
            "strictly ascending",
        ),
        (
            {
                "times": np.arange(2.0),
                "positions": np.zeros((2, 5, 3), np.float32),
                "normals": np.zeros((2, 4, 3), np.float16),
            },
            None,
            r"normals \[2, 4, 3\] must match positions \[2, 5, 3\]",
        ),
        (
            {
                "times": np.arange(2.0),
                "positions": np.zeros((2, 5, 3), np.float32),
                "normals": np.full((2, 5, 3), np.inf, np.float16),
            },
            None,
            "normals are not all finite",
        ),
    ],
    ids=[
        "missing",
        "escapes",
        "not-an-object",
        "names",
        "counts",
        "shape",
        "nan",
        "order",
        "normals-shape",
        "normals-not-finite",
    ],
)
def test_bad_tracks_are_one_clear_error(tmp_path, tensors, entry, message):
    root = write_moving_blobs_dataset(tmp_path / "data", with_tracks=True)
    rewrite_tracks(root, tensors, entry)
    with pytest.raises(InputError, match=message):
        read_tracks(load_dataset(root))


def test_absurd_or_damaged_tracks_are_refused(tmp_path, monkeypatch):
    root = write_moving_blobs_dataset(tmp_path / "data", with_tracks=True)
    monkeypatch.setattr(tracks_module, "MAX_TRACK_POINTS", 10)
    with pytest.raises(InputError, match="12000 points; expected 1 to 10"):
        read_tracks(load_dataset(root))
    (root / "tracks.safetensors").write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json}")
    with pytest.raises(InputError, match="unreadable surface tracks"):
        read_tracks(load_dataset(root))


def supervision(positions: np.ndarray, anchor_time: float = 0.0) -> TrackSupervision:
    times = np.arange(len(positions)) / len(positions)
    tracks = tracks_module.SurfaceTracks(Path("t.safetensors"), times, positions)
    return TrackSupervision.for_train_times(
        tracks, times.tolist(), anchor_time, 1.0, torch.device("cpu")
    )


def test_the_loss_pulls_each_gaussian_along_its_nearest_track():
    start = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 1]], np.float32)
    shift = np.array([0.1, -0.2, 0.3], np.float32)
    positions = np.stack([start, start + shift])
    tracked = supervision(positions)
    canonical = torch.tensor(
        [[0.0, 0.0, 0.01], [1.0, 0.0, 0.0], [5.0, 5.0, 5.0]]  # the last: far from every point
    )
    tracked.bind(canonical)
    binding = tracked.binding
    assert binding.bound.tolist() == [1.0, 1.0, 0.0]
    assert int(binding.index[1, binding.weights[1].argmax()]) == 1  # its own track point
    torch.testing.assert_close(binding.weights.sum(dim=1), torch.tensor([1.0, 1.0, 0.0]))
    following = canonical + torch.from_numpy(shift)
    following[2] = torch.tensor([9.0, 9.0, 9.0])  # unbound: its motion is not supervised
    assert float(tracked.loss(1, canonical, following)) == pytest.approx(0.0, abs=1e-6)
    assert float(tracked.loss(0, canonical, canonical)) == pytest.approx(0.0, abs=1e-6)
    standing = canonical.clone().requires_grad_(True)
    loss = tracked.loss(1, canonical, standing)
    assert float(loss.detach()) == pytest.approx(0.6, abs=1e-5)  # |0.1| + |-0.2| + |0.3|
    loss.backward()
    assert torch.all(-standing.grad[:2].sign() == torch.from_numpy(np.sign(shift)))
    assert torch.all(standing.grad[2] == 0)
    assert MAX_BIND_DISTANCE < 1.0  # the far Gaussian is beyond it


def test_the_normal_loss_turns_each_gaussian_as_its_surface_turns():
    # Five track points that do not move; their normals turn from +z to +x (90 deg about y).
    start = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 1]], np.float32)
    normals = np.stack([np.tile([0, 0, 1], (5, 1)), np.tile([1, 0, 0], (5, 1))]).astype(np.float16)
    tracks = tracks_module.SurfaceTracks(
        Path("t.safetensors"), np.array([0.0, 0.5]), np.stack([start, start]), normals
    )
    tracked = TrackSupervision.for_train_times(tracks, [0.0, 0.5], 0.0, 1.0, torch.device("cpu"))
    tracked.bind(torch.tensor([[0.0, 0.0, 0.01], [1.0, 0.0, 0.0], [5.0, 5.0, 5.0]]))
    half = math.sqrt(0.5)
    turned = torch.tensor([[half, 0.0, half, 0.0]] * 3)  # 90 deg about y: +z -> +x
    still = torch.tensor([[1.0, 0.0, 0.0, 0.0]] * 3)
    assert float(tracked.normal_loss(0, still)) == pytest.approx(0.0, abs=1e-6)
    assert float(tracked.normal_loss(1, turned)) == pytest.approx(0.0, abs=1e-3)
    assert float(tracked.normal_loss(1, still)) == pytest.approx(1.0, abs=1e-3)  # 90 deg off
    rotation = still.clone().requires_grad_(True)
    tracked.normal_loss(1, rotation).backward()
    assert torch.all(rotation.grad[2] == 0)  # unbound: its rotation is not supervised
    assert float(rotation.grad[:2, 2].abs().min()) > 0  # pushed to turn about y
    without = supervision(np.stack([start, start]))
    without.bind(torch.zeros(1, 3))
    with pytest.raises(RuntimeError, match="no normals"):
        without.normal_loss(0, still[:1])


def test_the_normal_loss_follows_a_new_binding():
    # Point 0 faces +z, point 1 (far away) +x, at both times: no turn anywhere.
    start = np.array([[0, 0, 0], [10, 0, 0]], np.float32)
    normals = np.stack([[[0, 0, 1], [1, 0, 0]]] * 2).astype(np.float16)
    tracks = tracks_module.SurfaceTracks(
        Path("t.safetensors"), np.array([0.0, 0.5]), np.stack([start, start]), normals
    )
    tracked = TrackSupervision.for_train_times(tracks, [0.0, 0.5], 0.0, 1.0, torch.device("cpu"))
    still = torch.tensor([[1.0, 0.0, 0.0, 0.0]])
    for position in ([0.0, 0.0, 0.0], [10.0, 0.0, 0.0]):  # bound to point 0, then point 1
        tracked.bind(torch.tensor([position]))
        assert float(tracked.normal_loss(1, still)) == pytest.approx(0.0, abs=1e-3)


def test_the_normal_loss_uses_unit_blends_and_leaves_out_blends_that_cancel():
    s60, c60 = math.sin(math.radians(60)), math.cos(math.radians(60))
    pair = [[0, 0, 0], [0.02, 0, 0]]
    start = np.array([p for x in (0, 5, 10) for p in np.add(pair, [x, 0, 0])], np.float32)
    at_anchor = [[0, 0, 1], [s60, 0, c60], [1, 0, 0], [-1, 0, 0], [0, 0, 1], [0, 0, 1]]
    at_slot = [[0, 0, 1], [s60, 0, c60], [0, 0, 1], [0, 0, 1], [1, 0, 0], [-1, 0, 0]]
    normals = np.array([at_anchor, at_slot], np.float16)
    tracks = tracks_module.SurfaceTracks(
        Path("t.safetensors"), np.array([0.0, 0.5]), np.stack([start, start]), normals
    )
    tracked = TrackSupervision.for_train_times(tracks, [0.0, 0.5], 0.0, 1.0, torch.device("cpu"))
    # Gaussians half-way along each pair: a 60 deg blend (length 0.87), a blend that cancels
    # in the canonical pose (not at the slot), one that cancels at the slot (not in the
    # canonical pose); and one too far to be bound.
    tracked.bind(torch.tensor([[0.01, 0, 0], [5.01, 0, 0], [10.01, 0, 0], [100.0, 100, 100]]))
    still = torch.tensor([[1.0, 0, 0, 0]] * 4)
    assert float(tracked.normal_loss(1, still)) == pytest.approx(0.0, abs=1e-3)
    about_y = torch.tensor([[math.cos(math.radians(30)), 0, math.sin(math.radians(30)), 0]])
    flipped = torch.tensor([[0.0, 0, 1, 0]])  # 180 deg: would cost 2 wherever it counted
    rotations = torch.cat([about_y, flipped, still[:1], flipped])
    assert float(tracked.normal_loss(1, rotations)) == pytest.approx(1 - c60, abs=1e-3)
    sentinel = torch.tensor([0.0, 1.0, 0.0])
    initial = sentinel.repeat(4, 1)
    assert tracked.set_normals(initial) == 2  # the cancelled and the unbound keep theirs
    bisector = torch.tensor([math.sin(math.radians(30)), 0, math.cos(math.radians(30))])
    torch.testing.assert_close(initial[0], bisector, atol=1e-2, rtol=0)
    torch.testing.assert_close(initial[2], torch.tensor([0.0, 0, 1]), atol=1e-2, rtol=0)
    assert torch.equal(initial[1], sentinel) and torch.equal(initial[3], sentinel)


def test_the_normal_and_flat_losses_need_tracks_with_normals(tmp_path):
    root = write_moving_blobs_dataset(tmp_path / "data", with_tracks=True)
    old = read_tracks(load_dataset(root))
    rewrite_tracks(root, {"times": old.times, "positions": old.positions})  # before normals
    config = with_settings(TINY_TRAINING, track_normal_weight=0.1)
    with pytest.raises(InputError, match="has no surface normals .*--track-normal-weight 0$"):
        train(root, tmp_path / "run", config, quiet=True)
    flat_only = with_settings(config, track_normal_weight=0.0, track_flat_weight=1.0)
    with pytest.raises(InputError, match="or train with --track-flat-weight 0$"):
        train(root, tmp_path / "run", flat_only, quiet=True)
    config = with_settings(config, track_flat_weight=1.0)
    message = "--track-normal-weight 0 and --track-flat-weight 0$"
    with pytest.raises(InputError, match=message):
        train(root, tmp_path / "run", config, quiet=True)
    assert not (tmp_path / "run").exists()


def test_the_flat_loss_lays_thin_discs_along_the_surface_normal():
    # Four track points facing +z, a Gaussian bound to them, one too far to be bound.
    start = np.array([[0, 0, 0], [0.02, 0, 0], [0, 0.02, 0], [0.02, 0.02, 0]], np.float32)
    normals = np.tile(np.float16([0, 0, 1]), (2, 4, 1))
    tracks = tracks_module.SurfaceTracks(
        Path("t.safetensors"), np.array([0.0, 0.5]), np.stack([start, start]), normals
    )
    tracked = TrackSupervision.for_train_times(tracks, [0.0, 0.5], 0.0, 1.0, torch.device("cpu"))
    tracked.bind(torch.tensor([[0.01, 0.01, 0.0], [50.0, 50, 50]]))
    disc = torch.log(torch.tensor([[1.0, 0.8, 0.1], [1.0, 1.0, 1.0]]))  # thin along its z
    still = torch.tensor([[1.0, 0, 0, 0]] * 2)
    assert float(tracked.flat_loss(still, disc)) == pytest.approx(0.1 / 0.8, abs=1e-3)
    half = math.sqrt(0.5)
    on_its_side = torch.tensor([[half, half, 0, 0], [1.0, 0, 0, 0]])  # 90 deg about x
    assert float(tracked.flat_loss(on_its_side, disc)) == pytest.approx(1 + 0.1 / 0.8, abs=1e-3)
    tilted = torch.tensor([[0.98, 0.2, 0, 0], [1.0, 0, 0, 0]], requires_grad=True)
    scales = disc.clone().requires_grad_(True)
    tracked.flat_loss(tilted, scales).backward()
    assert float(tilted.grad[0, 1]) > 0 and torch.all(tilted.grad[1] == 0)  # turned back
    assert float(scales.grad[0, 2]) > 0  # thinner; the other two axes are left as they are
    assert float(scales.grad[0, 0]) == 0.0 and float(scales.grad[0, 1]) == 0.0
    assert torch.all(scales.grad[1] == 0)


def test_the_flat_loss_uses_each_gaussians_own_shortest_axis():
    # Random unit normals at the track points; random, unnormalised quaternions (as trained).
    generator = torch.Generator().manual_seed(11)
    start = torch.rand(400, 3, generator=generator).numpy()
    surface = torch.nn.functional.normalize(torch.randn(400, 3, generator=generator), dim=-1)
    tracks = tracks_module.SurfaceTracks(
        Path("t.safetensors"),
        np.array([0.0, 0.5]),
        np.stack([start, start]),
        np.stack([surface.numpy(), surface.numpy()]).astype(np.float16),
    )
    tracked = TrackSupervision.for_train_times(tracks, [0.0, 0.5], 0.0, 1.0, torch.device("cpu"))
    tracked.bind(torch.from_numpy(start))  # each Gaussian on one track point
    quats = 3.0 * torch.randn(400, 4, generator=generator)
    log_scales = torch.randn(400, 3, generator=generator)
    shortest = log_scales.argmin(dim=-1)
    axes = quat_to_rotation(torch.nn.functional.normalize(quats, dim=-1))  # columns: the axes
    axis = axes[torch.arange(400), :, shortest]
    normal, usable = tracked.canonical_normals(tracked.binding)
    assert bool(usable.all())
    ordered = log_scales.sort(dim=-1).values
    expected = 1 - (axis * normal).sum(-1).abs() + torch.exp(ordered[:, 0] - ordered[:, 1])
    flat = tracked.flat_loss(quats, log_scales)
    assert float(flat) == pytest.approx(float(expected.mean()), abs=1e-5)
    flipped = tracked.flat_loss(quats * torch.tensor([1.0, -1, -1, -1]), log_scales)
    assert abs(float(flipped) - float(flat)) > 1e-3  # the inverse turn is another axis


def test_the_flat_loss_flattens_the_trained_gaussians(tracked_root, tmp_path):
    # 40 steps: at 12 the two runs differed by float noise only (either order, 0.002 apart,
    # by the CPU's BLAS kernels); at 40 the flat loss is 0.08 lower with it than without.
    config = with_settings(TINY_TRAINING, steps=40, val_every=0, motion=NodeSettings(nodes=12))
    tracks = read_tracks(load_dataset(tracked_root))
    flat = {}
    for weight in (1.0, 0.0):
        run = tmp_path / f"weight_{weight}"
        train(tracked_root, run, with_settings(config, track_flat_weight=weight), quiet=True)
        model = load_trained_model(run, device="cpu")
        params = model.params
        tracked = TrackSupervision.for_train_times(
            tracks, [float(t) for t in tracks.times], 0.0, model.spec.scene_radius, "cpu"
        )
        tracked.bind(params["means"])
        flat[weight] = float(tracked.flat_loss(params["quats"], params["scales"]))
    assert flat[1.0] < flat[0.0]  # flatter and better aligned with the surface


def test_the_normal_loss_changes_how_the_nodes_turn(tracked_root, tmp_path):
    # (Its resume is one case of test_resume_continues_bit_identically.)
    config = with_settings(TINY_TRAINING, steps=6, val_every=0, motion=NodeSettings(nodes=12))
    runs = {}
    for weight in (1.0, 0.0):
        run = tmp_path / f"weight_{weight}"
        train(tracked_root, run, with_settings(config, track_normal_weight=weight), quiet=True)
        runs[weight] = load_trained_model(run, device="cpu").params["node_motion_quats"]
    assert not torch.equal(runs[1.0], runs[0.0])


def test_a_stale_binding_is_refused_and_a_saved_one_checked():
    positions = np.zeros((2, 4, 3), np.float32)
    tracked = supervision(positions)
    tracked.bind(torch.zeros(3, 3))
    with pytest.raises(RuntimeError, match="stale"):  # densification changed the count
        tracked.loss(0, torch.zeros(5, 3), torch.zeros(5, 3))
    saved = tracked.binding.as_tensors()
    other = supervision(positions)
    assert other.restore(saved, 3) and torch.equal(other.binding.index, saved["index"])
    assert not supervision(positions).restore(saved, 4)  # another number of Gaussians
    assert not supervision(positions).restore({}, 3)  # a checkpoint without one
    wrong = dict(saved, index=torch.full_like(saved["index"], 4))  # no point 4 in these tracks
    assert not supervision(positions).restore(wrong, 3)


def test_nearest_points_match_the_brute_force_search_far_from_the_origin():
    from avatar4d.model.nearest import nearest_k

    generator = torch.Generator().manual_seed(5)
    points = 100.0 + 0.5 * torch.rand(3000, 3, generator=generator)
    queries = 100.0 + 0.5 * torch.rand(700, 3, generator=generator)
    distances, indices = nearest_k(queries, points, 4, block_bytes=4 * 3000 * 64)  # 11 blocks
    exact = (queries.double()[:, None] - points.double()[None]).norm(dim=-1)
    expected = exact.topk(4, largest=False)
    assert torch.equal(indices, expected.indices)
    torch.testing.assert_close(distances.double(), expected.values, atol=1e-5, rtol=0)
    assert nearest_k(queries[:0], points, 4)[1].shape == (0, 4)


def test_a_train_time_without_tracks_is_named(tmp_path):
    tracks = tracks_module.SurfaceTracks(
        tmp_path / "tracks.safetensors", np.array([0.0, 0.5]), np.zeros((2, 3, 3), np.float32)
    )
    with pytest.raises(
        InputError,
        match=r"tracks.safetensors: no positions for train time 0.25 "
        r"\(train with --track-weight 0",
    ):
        TrackSupervision.for_train_times(tracks, [0.0, 0.25], 0.0, 1.0, torch.device("cpu"))


def motion_error(run: Path) -> float:
    """Mean distance, over the Gaussians near a blob and the train times, between where the
    model moves each Gaussian and where its blob takes it (the blobs move rigidly)."""
    from test_train_synthetic import BLOB_COLORS, TIMES, blob_centre

    model = load_trained_model(run, device="cpu")
    anchor = model.spec.anchor_time
    centres = torch.stack([blob_centre(k, anchor) for k in range(len(BLOB_COLORS))])
    canonical = model.gaussians_at(anchor)["means"]
    distance, blob = torch.cdist(canonical, centres).min(dim=1)
    near = distance < 0.3
    errors = []
    for i in range(TIMES):
        t = i / TIMES
        shift = torch.stack([blob_centre(k, t) for k in range(len(BLOB_COLORS))]) - centres
        learned = model.gaussians_at(t)["means"] - canonical
        errors.append(float((learned - shift[blob]).norm(dim=-1)[near].mean()))
    return float(np.mean(errors))


def test_training_with_tracks_learns_the_true_motion_better(tracked_root, tmp_path):
    # Six control points: four cannot follow the blobs' twice-a-loop vertical bob.
    config = with_settings(
        TINY_TRAINING,
        val_every=0,
        checkpoint_every=0,
        motion=dataclasses.replace(TINY_TRAINING.motion, control_points=6),
        track_weight=0.0,
    )
    tracked = with_settings(config, track_weight=10.0)
    train(tracked_root, tmp_path / "images_only", config, quiet=True)
    train(tracked_root, tmp_path / "tracked", tracked, quiet=True)
    without = motion_error(tmp_path / "images_only")
    with_tracks = motion_error(tmp_path / "tracked")
    assert with_tracks < 0.5 * without, (with_tracks, without)


def test_tracks_missing_a_train_time_stop_training_before_the_run_folder(tmp_path, capsys):
    from avatar4d.commands.check import CheckCommand

    root = write_moving_blobs_dataset(tmp_path / "data", with_tracks=True)
    tensors = {"times": np.array([0.0, 0.5]), "positions": np.zeros((2, 5, 3), np.float32)}
    rewrite_tracks(root, tensors)
    config = with_settings(TINY_TRAINING, track_weight=0.1)
    with pytest.raises(
        InputError, match=r"no positions for train time 0.166667, 0.333333, 0.666667, 0.833333 "
    ):
        train(root, tmp_path / "run", config, quiet=True)
    assert not (tmp_path / "run").exists()  # nothing to clean up before trying again
    with pytest.raises(InputError, match="--track-weight 0"):
        CheckCommand(dir=root, figure=tmp_path / "coverage.png").run()
    result = train(
        root, tmp_path / "run", with_settings(config, track_weight=0.0, steps=2), quiet=True
    )
    assert result.tracks is None


def test_the_train_summary_says_how_the_tracks_were_used(tracked_root, tmp_path):
    from avatar4d.commands.train import summary

    config = with_settings(TINY_TRAINING, steps=4, val_every=0, track_weight=0.1)
    result = train(tracked_root, tmp_path / "run", config, quiet=True)
    assert result.tracks is not None
    assert result.tracks.startswith("12,000 points, weight 0.1; ")
    assert "of the Gaussians bound to them" in result.tracks
    assert f"surface tracks: {result.tracks}" in summary(result).splitlines()


def test_tracked_motion_gets_one_control_point_per_train_time(tracked_root, tmp_path):
    config = with_settings(TINY_TRAINING, steps=1, val_every=0)
    for weight, expected in ((0.1, 6), (0.0, 4)):  # 6 train times; half of them is under 4
        run = tmp_path / f"run_{weight}"
        train(tracked_root, run, with_settings(config, track_weight=weight), quiet=True)
        assert load_trained_model(run, device="cpu").spec.motion.control_points == expected


def test_shaded_runs_start_from_the_tracks_normals(tracked_root, tmp_path):
    from test_train_synthetic import BLOB_COLORS, blob_centre

    config = with_settings(TINY_TRAINING, steps=1, val_every=0, shading="lambert")
    result = train(tracked_root, tmp_path / "run", config, quiet=True, stop_after=0)
    assert "; normals taken from them for " in result.tracks
    model = load_trained_model(tmp_path / "run", device="cpu")
    anchor = model.spec.anchor_time
    means, normals = model.params["means"], model.params["normals"]
    centres = torch.stack([blob_centre(k, anchor) for k in range(len(BLOB_COLORS))])
    distance, blob = torch.cdist(means, centres).min(dim=1)
    outward = torch.nn.functional.normalize(means - centres[blob], dim=-1)
    near = distance < 0.25  # within the tracks' balls, so bound to their points
    # The blob tracks' normals point away from each blob's centre; the initial normals of
    # an untracked run point away from the centroid of all the points instead.
    cosine = (normals[near] * outward[near]).sum(dim=-1)
    assert near.sum() > 20 and float(cosine.mean()) > 0.95, float(cosine.mean())


def test_a_resumed_run_keeps_its_own_control_points(tracked_root, tmp_path):
    run = tmp_path / "run"
    config = with_settings(
        TINY_TRAINING,
        steps=2,
        val_every=0,
        checkpoint_every=1,
        motion=dataclasses.replace(TINY_TRAINING.motion, control_points=5),
    )
    train(tracked_root, run, config, quiet=True, stop_after=1)
    train(
        tracked_root,
        run,
        with_settings(config, motion=TINY_TRAINING.motion),
        resume=True,
        quiet=True,
    )
    model = load_trained_model(run, device="cpu")
    assert (model.step, model.spec.motion.control_points) == (2, 5)


def test_more_track_values_than_a_file_may_hold_are_refused_before_rendering():
    too_many = dataclasses.replace(TINY, train_times=10_000, novel_times=1, track_points=10_000)
    with pytest.raises(InputError, match="more than a tracks file may hold"):
        too_many.validate()
    dataclasses.replace(too_many, track_points=0).validate()  # without tracks: fine


def test_transparent_parts_get_no_points_and_mirrored_winding_is_the_same_surface():
    hidden = dataclasses.replace(
        two_triangles().parts[1],
        material=Material(base_color_factor=np.float32([1, 1, 1, 0]), alpha_mode="BLEND"),
    )
    mesh = PosedMesh([two_triangles().parts[0], hidden])
    assert (sample_surface(mesh, 500).part == 0).all()
    recorder = TrackRecorder(50)
    recorder.record(0.0, two_triangles())
    flipped = PosedMesh(
        [dataclasses.replace(p, indices=p.indices[:, [0, 2, 1]]) for p in two_triangles().parts]
    )
    recorder.record(0.5, flipped)  # not a topology change
    assert sorted(recorder.rows) == [0.0, 0.5]


def test_integer_tracks_or_a_nul_in_the_name_are_one_clear_error(tmp_path):
    root = write_moving_blobs_dataset(tmp_path / "data", with_tracks=True)
    rewrite_tracks(root, {"times": np.arange(2.0), "positions": np.zeros((2, 5, 3), np.int32)})
    with pytest.raises(InputError, match="positions must be floating point, got I32"):
        read_tracks(load_dataset(root))
    rewrite_tracks(root, entry={"file": "a\x00b"})
    with pytest.raises(InputError, match="scene.json"):
        read_tracks(load_dataset(root))


def test_check_says_whether_the_tracks_have_normals(tmp_path, capsys):
    from avatar4d.commands.check import CheckCommand

    root = write_moving_blobs_dataset(tmp_path / "data", with_tracks=True)
    CheckCommand(dir=root, figure=tmp_path / "coverage.png").run()
    assert "12,000 surface points at 6 times, with normals\n" in capsys.readouterr().out
    old = read_tracks(load_dataset(root))
    rewrite_tracks(root, {"times": old.times, "positions": old.positions})  # before normals
    CheckCommand(dir=root, figure=tmp_path / "coverage_old.png").run()
    assert "12,000 surface points at 6 times\n" in capsys.readouterr().out


def test_a_shaded_run_loads_with_colours_that_change_as_its_gaussians_turn(tracked_root, tmp_path):
    config = with_settings(TINY_TRAINING, steps=6, val_every=0, motion=NodeSettings(nodes=12))
    colours = {}
    for shading in ("static", "lambert"):
        run = tmp_path / shading
        train(tracked_root, run, with_settings(config, shading=shading), quiet=True)
        model = load_trained_model(run, device="cpu")
        if shading == "lambert":
            with torch.no_grad():  # light from one side: a part that turns changes colour
                model.params[LIGHT_KEY][:, 1:4] += 0.5
        colours[shading] = [model.gaussians_at(t)["colors"] for t in (0.0, 0.5)]
    assert torch.equal(*colours["static"])
    assert not torch.allclose(*colours["lambert"], atol=1e-4)
