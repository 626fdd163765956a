"""The mesh as one linear skin: bones and morph weights per pose, skinned on any device,
place every vertex exactly as the asset's own posing does."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from gltf_handmade import HandmadeGltf

from avatar4d.asset.demo.character import write_demo_character
from avatar4d.asset.loader import Asset, load_asset
from avatar4d.asset.skin_layout import skin_positions
from avatar4d.errors import InputError
from avatar4d.model.mesh_skinning import MeshSkinner

SHARED = Path(__file__).resolve().parents[2] / "shared" / "assets"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Asset:
    return load_asset(write_demo_character(tmp_path_factory.mktemp("demo") / "demo.glb"))


def _reference(asset: Asset, clip: str | None, seconds: float, morph=None) -> np.ndarray:
    node_pose = asset.node_pose(clip, seconds)
    if morph:
        asset.set_morph_weights(node_pose, morph)
    return asset.positions_from_nodes(node_pose)


def _poses(asset: Asset) -> list[tuple[str | None, float]]:
    clips = [clip.name for clip in asset.clips]
    return [(None, 0.0)] + [(c, s) for c in clips for s in (0.0, 0.31, 0.77)]


def test_demo_layout_places_every_vertex_as_the_asset_does(demo: Asset) -> None:
    layout = demo.skin_layout()
    assert layout.rest.shape == (len(_reference(demo, None, 0.0)), 3)
    assert np.allclose(layout.weights.sum(axis=1), 1.0, atol=1e-5)
    for clip, seconds in _poses(demo):
        expected = _reference(demo, clip, seconds)
        got = skin_positions(layout, demo.pose_state(clip, seconds))
        assert np.abs(got - expected).max() < 1e-5, (clip, seconds)


def test_demo_morph_weights_on_top_of_a_clip(demo: Asset) -> None:
    name = demo.morph_target_names[0]
    state = demo.pose_state("talk", 0.4, {name: 1.0})
    plain = demo.pose_state("talk", 0.4)
    assert not np.array_equal(state.morph, plain.morph)
    expected = _reference(demo, "talk", 0.4, {name: 1.0})
    assert np.abs(skin_positions(demo.skin_layout(), state) - expected).max() < 1e-5
    assert np.abs(expected - _reference(demo, "talk", 0.4)).max() > 1e-3  # the mouth moved


def test_unskinned_mirrored_node_and_node_animation(tmp_path: Path) -> None:
    gltf = HandmadeGltf()
    corner = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0]], np.float32)
    mesh = gltf.triangle_mesh(corner, [0, 1, 2], name="tri")
    first = gltf.node(mesh=mesh, name="moving")
    second = gltf.node(mesh=mesh, name="mirrored", translation=[0, 0, 2], scale=[-1, 1, 1])
    gltf.scene(first, second)
    gltf.animation(first, "translation", [0.0, 2.0], np.array([[0, 0, 0], [4, 0, 0]]), name="slide")
    asset = load_asset(gltf.write_glb(tmp_path / "two.glb"))
    layout = asset.skin_layout()
    assert layout.bone_count == 2 and layout.morph_count == 0
    state = asset.pose_state("slide", 1.0)
    got = skin_positions(layout, state)
    assert np.allclose(got[:3], corner + [2, 0, 0])
    assert np.allclose(got[3:], corner * [-1, 1, 1] + [0, 0, 2])


def test_pose_state_refuses_a_missing_clip_and_an_unknown_morph(demo: Asset) -> None:
    with pytest.raises(InputError, match='clip "nope" not found'):
        demo.pose_state("nope", 0.0)
    with pytest.raises(InputError, match='morph target "nope" not found'):
        demo.pose_state("talk", 0.0, {"nope": 1.0})


def test_torch_skinner_matches_the_numpy_reference_for_many_poses(demo: Asset) -> None:
    poses = _poses(demo)
    states = [demo.pose_state(clip, seconds) for clip, seconds in poses]
    got = MeshSkinner(demo.skin_layout(), "cpu").positions(states)
    assert got.shape == (len(poses), len(demo.skin_layout().rest), 3)
    for row, (clip, seconds) in enumerate(poses):
        assert torch.allclose(
            got[row], torch.from_numpy(_reference(demo, clip, seconds)), atol=1e-5
        )


@pytest.mark.parametrize(
    ("name", "clips"),
    [("Soldier.glb", ["Walk", "Run"]), ("RobotExpressive.glb", ["Dance", "Wave"])],
)
def test_shared_characters(name: str, clips: list[str]) -> None:
    path = SHARED / name
    if not path.exists():
        pytest.skip(f"{path} is not here")
    asset = load_asset(path)
    states, expected = [], []
    for clip in clips:
        for seconds in (0.0, 0.45, 1.3):
            states.append(asset.pose_state(clip, seconds))
            expected.append(_reference(asset, clip, seconds))
    got = MeshSkinner(asset.skin_layout(), "cpu").positions(states).numpy()
    assert np.abs(got - np.stack(expected)).max() < 2e-5


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_gpu_skinner_agrees_with_the_cpu(demo: Asset) -> None:
    states = [demo.pose_state(clip, seconds) for clip, seconds in _poses(demo)]
    layout = demo.skin_layout()
    cpu = MeshSkinner(layout, "cpu").positions(states)
    gpu = MeshSkinner(layout, "cuda").positions(states).cpu()
    assert torch.allclose(cpu, gpu, atol=1e-5)


@pytest.mark.parametrize("morph", [None, {"mouth_open": 0.6}])
def test_times_of_one_clip_sampled_together_equal_one_at_a_time(demo: Asset, morph) -> None:
    times = [0.0, 0.07, 0.5, 0.93, 2.5, 40.0]  # inside, between keys, past the end
    for clip in [c.name for c in demo.clips]:
        together = demo.pose_states(clip, times, morph)
        assert together.bones.shape == (len(times), demo.skin_layout().bone_count, 3, 4)
        for row, seconds in enumerate(times):
            alone = demo.pose_state(clip, seconds, morph)
            assert np.array_equal(together.bones[row], alone.bones), (clip, seconds)
            assert np.array_equal(together.morph[row], alone.morph), (clip, seconds)
    talk = demo.pose_states("talk", times)
    assert np.ptp(talk.morph, axis=0).max() > 0.1  # the clip animates the mouth over time


def test_a_time_that_is_not_a_number_is_refused_in_one_line(demo: Asset) -> None:
    with pytest.raises(InputError, match="time nan is not a finite number of seconds"):
        demo.pose_states("talk", [0.0, float("nan")])


def test_nearest_triangles_found_in_small_blocks_equal_one_block(demo: Asset, monkeypatch) -> None:
    from avatar4d.asset.rig_mesh import RigPoser
    from avatar4d.model import rig_deformation
    from avatar4d.model.rig_deformation import RigDeformation, Segment

    rig = RigDeformation(RigPoser(demo), (Segment("wave", 0.0, 1.0),), True, 0.0)
    points = rig.initial_points(3000, torch.Generator().manual_seed(0))
    points = points + 0.01 * torch.randn(points.shape, generator=torch.Generator().manual_seed(1))
    whole = rig.nearest_faces(points)
    faces = len(demo.skin_layout().rest)  # any size: blocks of a few Gaussians each
    monkeypatch.setattr(rig_deformation, "DISTANCE_BLOCK", 7 * faces)
    assert torch.equal(rig.nearest_faces(points), whole)
