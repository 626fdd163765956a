"""Our glTF pose sampler against an independent reference: three.js (GLTFLoader, AnimationMixer,
CPU skinning and morphing via ``Mesh.getVertexPosition``).

The reference positions live in ``tests/fixtures/threejs_*.npz``; they are produced by
``tools/threejs_reference/`` (see its README.md for the exact commands and the three.js version).
Every posed vertex in the fixtures must agree with ours to within 1e-4 of the clip's bounding
radius.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import pytest

FIXTURES = Path(__file__).resolve().parent / "fixtures"
TOOL = Path(__file__).resolve().parents[1] / "tools" / "threejs_reference" / "make_fixtures.py"
REL_TOL = 1e-4  # of the clip's bounding radius
MAX_FIXTURE_BYTES = 1_000_000  # all threejs_*.npz together

# The samples each fixture must hold: (fixture, asset fixture name, clip, seconds).
# Keep in sync with SPECS in tools/threejs_reference/make_fixtures.py.
CASES: list[tuple[str, str, str, float]] = [
    ("soldier", "soldier_glb", "Walk", 0.0),
    ("soldier", "soldier_glb", "Walk", 0.37),
    ("soldier", "soldier_glb", "Walk", 0.81),
    ("soldier", "soldier_glb", "Idle", 1.2),
    ("robot", "robot_glb", "Dance", 0.0),
    ("robot", "robot_glb", "Dance", 1.1),
    ("robot", "robot_glb", "Dance", 2.5),
    ("robot", "robot_glb", "Wave", 0.9),
    # RobotExpressive's own clips keep every morph weight at 0; this derived copy does not.
    ("robot_morph", "robot_morph_glb", "Wave", 0.45),
    ("robot_morph", "robot_morph_glb", "Wave", 0.9),
    # The built-in demo character (STEP and CUBICSPLINE samplers, morphs, a mesh on two nodes).
    ("demo", "demo_glb", "wave", 0.55),
    ("demo", "demo_glb", "wave", 1.37),
    ("demo", "demo_glb", "talk", 0.42),
    ("demo", "demo_glb", "talk", 1.13),
]
FIXTURE_NAMES = sorted({case[0] for case in CASES})


def _fixture_tool():
    """tools/threejs_reference/make_fixtures.py, which builds the derived test assets."""
    spec = importlib.util.spec_from_file_location("threejs_make_fixtures", TOOL)
    assert spec is not None and spec.loader is not None, f"cannot import {TOOL}"
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses resolve annotations through sys.modules
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def robot_morph_glb(robot_glb: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """RobotExpressive.glb with non-zero head morph weights in its "Wave" clip."""
    path = tmp_path_factory.mktemp("threejs") / "RobotExpressive_morph.glb"
    path.write_bytes(_fixture_tool().robot_with_morph_weights(robot_glb.read_bytes()))
    return path


@pytest.fixture(scope="session")
def demo_glb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The built-in demo character written to a file."""
    from avatar4d.asset.demo.character import build_demo_character

    path = tmp_path_factory.mktemp("threejs") / "demo_character.glb"
    path.write_bytes(build_demo_character())
    return path


@dataclass(frozen=True)
class Reference:
    """One ``threejs_<name>.npz``: three.js positions of subsampled vertices per primitive."""

    meta: dict
    clips: np.ndarray  # (S,) str
    seconds: np.ndarray  # (S,) float64
    node: np.ndarray  # (P,) int32 glTF node index
    mesh: np.ndarray  # (P,) int32 glTF mesh index
    primitive: np.ndarray  # (P,) int32 primitive index within the mesh
    mesh_name: np.ndarray  # (P,) str glTF mesh name
    skinned: np.ndarray  # (P,) bool
    vertex_count: np.ndarray  # (P,) int32 vertices in the primitive
    offsets: np.ndarray  # (P+1,) int32 into vertex_index / positions axis 1
    vertex_index: np.ndarray  # (N,) int32 sampled vertex of its primitive
    positions: np.ndarray  # (S, N, 3) float32 world space

    def sample(self, clip: str, seconds: float) -> int:
        hits = np.flatnonzero((self.clips == clip) & np.isclose(self.seconds, seconds, atol=1e-9))
        assert len(hits) == 1, f"fixture has no single sample {clip}@{seconds}s: {hits}"
        return int(hits[0])

    def part_slice(self, part: int) -> slice:
        return slice(int(self.offsets[part]), int(self.offsets[part + 1]))


@cache
def load_reference(name: str) -> Reference:
    path = FIXTURES / f"threejs_{name}.npz"
    assert path.is_file(), (
        f"missing three.js reference fixture {path}; regenerate it as described in "
        "tools/threejs_reference/README.md"
    )
    with np.load(path, allow_pickle=False) as z:
        return Reference(
            meta=json.loads(str(z["meta_json"])),
            clips=z["sample_clip"],
            seconds=z["sample_seconds"],
            node=z["part_node"],
            mesh=z["part_mesh"],
            primitive=z["part_primitive"],
            mesh_name=z["part_mesh_name"],
            skinned=z["part_skinned"],
            vertex_count=z["part_vertex_count"],
            offsets=z["part_offsets"],
            vertex_index=z["vertex_index"],
            positions=z["positions"],
        )


@cache
def _load_asset(path: Path):  # -> avatar4d.asset.loader.Asset
    from avatar4d.asset.loader import load_asset

    return load_asset(path)


@cache
def _clip_radius(path: Path, clip: str) -> float:
    return float(_load_asset(path).clip_bounds(clip)[1])


def _match_parts(ref: Reference, parts: list) -> list[int]:
    """For each reference primitive, the index of our part that holds the same glTF primitive.

    Matched by (node, mesh, primitive) where our parts know their node/mesh indices, else by
    position in scene order (both are depth-first pre-order), checked by name and primitive.
    """
    assert len(parts) == len(ref.node), (
        f"we posed {len(parts)} primitives, three.js {len(ref.node)}: "
        f"ours {[(p.mesh_name, p.primitive_index) for p in parts]}, "
        f"three {list(zip(ref.mesh_name.tolist(), ref.primitive.tolist(), strict=True))}"
    )
    ours_keys = [
        (getattr(p, "node_index", -1), getattr(p, "mesh_index", -1), p.primitive_index)
        for p in parts
    ]
    matched: list[int] = []
    for k in range(len(ref.node)):
        key = (int(ref.node[k]), int(ref.mesh[k]), int(ref.primitive[k]))
        if all(node >= 0 and mesh >= 0 for node, mesh, _ in ours_keys):
            assert key in ours_keys, f"three.js primitive (node, mesh, prim) {key} not among ours"
            matched.append(ours_keys.index(key))
        else:
            part = parts[k]
            assert (part.mesh_name, part.primitive_index) == (
                str(ref.mesh_name[k]),
                int(ref.primitive[k]),
            ), f"part {k} in scene order: ours {part.mesh_name!r}/{part.primitive_index}, " + (
                f"three.js {ref.mesh_name[k]!r}/{ref.primitive[k]}"
            )
            matched.append(k)
    return matched


def _compare(ref: Reference, path: Path, clip: str, seconds: float) -> None:
    asset = _load_asset(path)
    sample = ref.sample(clip, seconds)
    radius = _clip_radius(path, clip)
    assert np.isfinite(radius) and radius > 0.0
    tol = REL_TOL * radius
    posed = asset.pose(clip, seconds)
    matched = _match_parts(ref, posed.parts)
    failures: list[str] = []
    worst = 0.0
    for k, ours_index in enumerate(matched):
        ours = np.asarray(posed.parts[ours_index].positions, np.float64)
        assert ours.shape == (int(ref.vertex_count[k]), 3), (
            f"primitive node {ref.node[k]} mesh {ref.mesh[k]} ({ref.mesh_name[k]}) prim "
            f"{ref.primitive[k]}: ours has shape {ours.shape}, glTF has {ref.vertex_count[k]} "
            "vertices (our loader must keep the file's vertex order)"
        )
        sl = ref.part_slice(k)
        three = ref.positions[sample, sl].astype(np.float64)
        err = np.linalg.norm(ours[ref.vertex_index[sl]] - three, axis=1)
        worst = max(worst, float(err.max()))
        if err.max() > tol:
            at = int(np.argmax(err))
            failures.append(
                f"node {ref.node[k]} mesh {ref.mesh[k]} ({ref.mesh_name[k]}) prim "
                f"{ref.primitive[k]} skinned={bool(ref.skinned[k])}: max err {err.max():.6g} "
                f"= {err.max() / radius:.3g} R at vertex {ref.vertex_index[sl][at]} "
                f"(ours {ours[ref.vertex_index[sl][at]]}, three {three[at]}); "
                f"{int((err > tol).sum())}/{len(err)} sampled vertices over tolerance"
            )
    assert not failures, (
        f"{path.name} {clip}@{seconds}s disagrees with three.js {ref.meta['three_version']} "
        f"(radius R={radius:.6g}, tolerance {tol:.3g}):\n  " + "\n  ".join(failures)
    )
    assert worst <= tol


@pytest.mark.parametrize("name", FIXTURE_NAMES)
def test_fixture_is_complete(name: str) -> None:
    ref = load_reference(name)
    assert ref.meta["three_version"].startswith("0.")
    assert int(ref.meta["three_revision"]) >= 160
    expected = sorted((clip, s) for n, _, clip, s in CASES if n == name)
    assert sorted(zip(ref.clips.tolist(), ref.seconds.tolist(), strict=True)) == expected
    n = int(ref.offsets[-1])
    assert ref.positions.shape == (len(expected), n, 3)
    assert ref.positions.dtype == np.float32 and ref.vertex_index.dtype == np.int32
    assert np.isfinite(ref.positions).all()
    for k in range(len(ref.node)):
        idx = ref.vertex_index[ref.part_slice(k)]
        assert 0 < len(idx) <= ref.meta["max_per_primitive"]
        assert idx[0] == 0 and (np.diff(idx) > 0).all() and idx[-1] < ref.vertex_count[k]
    # Poses at different times really differ (the clip is animated in the reference).
    spread = np.abs(ref.positions - ref.positions[:1]).max()
    assert spread > 1e-3 * np.abs(ref.positions).max()


def test_fixtures_are_small() -> None:
    total = sum(p.stat().st_size for p in FIXTURES.glob("threejs_*.npz"))
    assert 0 < total <= MAX_FIXTURE_BYTES


@pytest.mark.parametrize(("name", "asset_fixture", "clip", "seconds"), CASES)
def test_pose_agrees_with_threejs(
    name: str, asset_fixture: str, clip: str, seconds: float, request: pytest.FixtureRequest
) -> None:
    ref = load_reference(name)
    path: Path = request.getfixturevalue(asset_fixture)
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    stale = (
        f"{path.name} changed since {FIXTURES.name}/threejs_{name}.npz was made; regenerate it "
        "(tools/threejs_reference/README.md)"
    )
    if name != "demo":
        assert sha == ref.meta["asset_sha256"], stale
    if sha == ref.meta["asset_sha256"]:
        _compare(ref, path, clip, seconds)
        return
    # The demo is built by code with numpy, whose last bits differ between CPUs (BLAS kernels,
    # vectorised exp): other bytes, the same character. Its poses must still agree.
    try:
        _compare(ref, path, clip, seconds)
    except AssertionError as error:
        raise AssertionError(f"{stale}: {error}") from error
