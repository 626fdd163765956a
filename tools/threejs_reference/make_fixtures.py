"""Regenerate the three.js pose reference fixtures in ``tests/fixtures/threejs_*.npz``.

Runs ``pose_reference.mjs`` (three.js in Node) once per asset and clip, and packs the JSON it
prints into one compact ``.npz`` per asset. See README.md in this folder.

usage (from the repository root)::

    PYTHONPATH=src .venv/bin/python tools/threejs_reference/make_fixtures.py [NAME ...]
        [--investigate]

NAME is any of ``soldier``, ``robot``, ``robot_morph``, ``demo`` (default: all; ``demo`` is
skipped when ``avatar4d.asset.demo.character.build_demo_character`` cannot be imported).

``robot_morph`` is RobotExpressive.glb with the keyframes of its "Wave" clip's morph-weight
channel rewritten by :func:`robot_with_morph_weights` (every clip of the original file keeps all
three head morph weights at exactly 0, so the original never exercises morphing).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import struct
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[1]
SHARED_ASSETS = REPO_ROOT.parent / "shared" / "assets"
FIXTURES = REPO_ROOT / "tests" / "fixtures"
SCRIPT = HERE / "pose_reference.mjs"
MAX_PER_PRIMITIVE = 1500


@dataclass(frozen=True)
class FixtureSpec:
    """One fixture file: an asset and the (clip, seconds) samples taken from it."""

    name: str
    asset: str  # file name under the shared assets, or "demo" for the built-in character
    clips: tuple[tuple[str, tuple[float, ...]], ...]


SPECS: dict[str, FixtureSpec] = {
    "soldier": FixtureSpec(
        "soldier", "Soldier.glb", (("Walk", (0.0, 0.37, 0.81)), ("Idle", (1.2,)))
    ),
    "robot": FixtureSpec(
        "robot", "RobotExpressive.glb", (("Dance", (0.0, 1.1, 2.5)), ("Wave", (0.9,)))
    ),
    "robot_morph": FixtureSpec("robot_morph", "robot_morph", (("Wave", (0.45, 0.9)),)),
    "demo": FixtureSpec("demo", "demo", (("wave", (0.55, 1.37)), ("talk", (0.42, 1.13)))),
}

PART_KEYS = ("node", "mesh", "primitive", "mesh_name", "skinned", "vertex_count", "indices")


def _demo_glb_bytes() -> bytes:
    sys.path.insert(0, str(REPO_ROOT / "src"))
    from avatar4d.asset.demo.character import build_demo_character

    return build_demo_character()


def split_glb(glb: bytes) -> tuple[dict, bytes]:
    """(JSON document, BIN chunk) of a GLB file."""
    json_len = int.from_bytes(glb[12:16], "little")
    document = json.loads(glb[20 : 20 + json_len].decode("utf-8"))
    offset = 20 + json_len
    bin_len = int.from_bytes(glb[offset : offset + 4], "little")
    return document, glb[offset + 8 : offset + 8 + bin_len]


def join_glb(document: dict, bin_chunk: bytes) -> bytes:
    """A GLB file from a JSON document and a BIN chunk (both padded to 4 bytes)."""
    json_bytes = json.dumps(document, separators=(",", ":")).encode("utf-8")
    json_bytes += b" " * (-len(json_bytes) % 4)
    bin_chunk = bin_chunk + b"\0" * (-len(bin_chunk) % 4)
    total = 12 + 8 + len(json_bytes) + 8 + len(bin_chunk)
    return b"".join(
        [
            struct.pack("<4sII", b"glTF", 2, total),
            struct.pack("<II", len(json_bytes), 0x4E4F534A),
            json_bytes,
            struct.pack("<II", len(bin_chunk), 0x004E4942),
            bin_chunk,
        ]
    )


def robot_with_morph_weights(glb: bytes, clip: str = "Wave") -> bytes:
    """RobotExpressive.glb with non-zero, smoothly varying head morph weights in ``clip``.

    Keyframe i of n, target k of m gets ``0.5 - 0.5 cos(2 pi (k + 1) i / (n - 1))`` (in [0, 1]);
    only the float32 values of that channel's output accessor change, in place.
    """
    document, bin_chunk = split_glb(glb)
    data = bytearray(bin_chunk)
    animation = next(a for a in document["animations"] if a["name"] == clip)
    channels = [c for c in animation["channels"] if c["target"]["path"] == "weights"]
    assert channels, f"clip {clip} has no morph weight channel"
    for channel in channels:
        sampler = animation["samplers"][channel["sampler"]]
        times = document["accessors"][sampler["input"]]["count"]
        output = document["accessors"][sampler["output"]]
        assert output["componentType"] == 5126 and sampler.get("interpolation") != "CUBICSPLINE"
        view = document["bufferViews"][output["bufferView"]]
        assert view.get("byteStride", 4) == 4
        start = view.get("byteOffset", 0) + output.get("byteOffset", 0)
        targets = output["count"] // times
        values = [
            0.5 - 0.5 * math.cos(2.0 * math.pi * (k + 1) * i / max(times - 1, 1))
            for i in range(times)
            for k in range(targets)
        ]
        struct.pack_into(f"<{len(values)}f", data, start, *values)
        output.pop("min", None)
        output.pop("max", None)
    return join_glb(document, bytes(data))


def asset_bytes(asset: str) -> bytes:
    """The GLB bytes a fixture is made from."""
    if asset == "demo":
        return _demo_glb_bytes()
    if asset == "robot_morph":
        return robot_with_morph_weights((SHARED_ASSETS / "RobotExpressive.glb").read_bytes())
    return (SHARED_ASSETS / asset).read_bytes()


def _gltf_json(glb: bytes) -> dict:
    """The JSON chunk of a GLB file."""
    return split_glb(glb)[0]


def gltf_part_order(gltf: dict) -> list[tuple[int, int, int]]:
    """(node, mesh, primitive) of every primitive in scene order: depth-first pre-order,
    children in file order, the primitives of a node before its children."""
    scene = gltf.get("scenes", [{}])[gltf.get("scene", 0)]
    nodes = gltf["nodes"]
    order: list[tuple[int, int, int]] = []

    def visit(index: int) -> None:
        node = nodes[index]
        if "mesh" in node:
            for prim in range(len(gltf["meshes"][node["mesh"]]["primitives"])):
                order.append((index, node["mesh"], prim))
        for child in node.get("children", []):
            visit(child)

    for root in scene.get("nodes", []):
        visit(root)
    return order


def run_three(glb_path: Path, clip: str, times: tuple[float, ...], investigate: bool) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "pose.json"
        cmd = [
            "node",
            str(SCRIPT),
            str(glb_path),
            "--clip",
            clip,
            "--times",
            ",".join(repr(float(t)) for t in times),
            "--max-per-primitive",
            str(MAX_PER_PRIMITIVE),
            "--out",
            str(out),
        ]
        if investigate:
            cmd.append("--investigate")
        subprocess.run(cmd, check=True, cwd=HERE)
        return json.loads(out.read_text())


def _report_investigation(result: dict, radius: float) -> None:
    for sample in result["samples"]:
        for inv in sample["investigation"]:
            dist = inv["max_distance_from_three"]
            diffs = ", ".join(f"{k}={v:.3g} ({v / radius:.2e} R)" for k, v in dist.items())
            off_identity = inv["mesh_world_max_abs_minus_identity"]
            print(
                f"  {result['clip']}@{sample['seconds']}s node {inv['node']} mesh {inv['mesh']} "
                f"prim {inv['primitive']}: |world-I|max={off_identity:.4g} "
                f"bindMatrix=I:{inv['bind_matrix_is_identity']}; max dist from three: {diffs}"
            )


def build_fixture(spec: FixtureSpec, investigate: bool, log: Callable[[str], None] = print) -> Path:
    with tempfile.TemporaryDirectory() as tmp:
        glb = asset_bytes(spec.asset)
        glb_path = Path(tmp) / f"{spec.name}.glb"
        glb_path.write_bytes(glb)
        results = [run_three(glb_path, clip, times, investigate) for clip, times in spec.clips]

    sha = hashlib.sha256(glb).hexdigest()
    parts = [{k: p[k] for k in PART_KEYS} for p in results[0]["samples"][0]["parts"]]
    clips: list[str] = []
    seconds: list[float] = []
    positions: list[np.ndarray] = []
    for result in results:
        assert result["asset_sha256"] == sha
        for sample in result["samples"]:
            got = [{k: p[k] for k in PART_KEYS} for p in sample["parts"]]
            assert got == parts, "three.js primitive list differs between samples"
            clips.append(result["clip"])
            seconds.append(sample["seconds"])
            flat = np.concatenate([np.asarray(p["positions"], np.float64) for p in sample["parts"]])
            positions.append(flat.reshape(-1, 3))

    order = [(p["node"], p["mesh"], p["primitive"]) for p in parts]
    expected = gltf_part_order(_gltf_json(glb))
    assert order == expected, f"three.js traversal order {order} != glTF scene order {expected}"

    counts = [len(p["indices"]) for p in parts]
    pos = np.stack(positions).astype(np.float32)
    meta = {
        "three_version": results[0]["three_version"],
        "three_revision": results[0]["three_revision"],
        "asset": spec.asset,
        "asset_sha256": sha,
        "max_per_primitive": MAX_PER_PRIMITIVE,
        "clip_durations": {r["clip"]: r["clip_duration"] for r in results},
        "generator": "tools/threejs_reference/pose_reference.mjs (Mesh.getVertexPosition + "
        "matrixWorld after AnimationMixer.setTime and scene.updateMatrixWorld(true))",
    }
    out = FIXTURES / f"threejs_{spec.name}.npz"
    FIXTURES.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        out,
        meta_json=np.array(json.dumps(meta, sort_keys=True)),
        sample_clip=np.array(clips),
        sample_seconds=np.array(seconds, np.float64),
        part_node=np.array([p["node"] for p in parts], np.int32),
        part_mesh=np.array([p["mesh"] for p in parts], np.int32),
        part_primitive=np.array([p["primitive"] for p in parts], np.int32),
        part_mesh_name=np.array([p["mesh_name"] for p in parts]),
        part_skinned=np.array([p["skinned"] for p in parts], bool),
        part_vertex_count=np.array([p["vertex_count"] for p in parts], np.int32),
        part_offsets=np.concatenate([[0], np.cumsum(counts)]).astype(np.int32),
        vertex_index=np.concatenate([np.asarray(p["indices"], np.int32) for p in parts]),
        positions=pos,
    )
    log(
        f"{out.relative_to(REPO_ROOT)}: {len(clips)} samples, {len(parts)} primitives, "
        f"{pos.shape[1]} vertices each, {out.stat().st_size} bytes, three {meta['three_version']}"
    )
    if investigate:
        flat = pos.reshape(-1, 3).astype(np.float64)
        lo, hi = flat.min(0), flat.max(0)
        radius = float(np.linalg.norm(hi - lo) / 2)
        log(f"  sampled-vertex bounding radius (half bbox diagonal) R = {radius:.6g}")
        for result in results:
            _report_investigation(result, radius)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help=f"fixtures to build: {', '.join(SPECS)}")
    parser.add_argument(
        "--investigate",
        action="store_true",
        help="also print skinning-formula comparisons for skinned primitives",
    )
    args = parser.parse_args(argv)
    unknown = sorted(set(args.names) - set(SPECS))
    if unknown:
        parser.error(f"unknown fixture(s) {unknown}; choose from {list(SPECS)}")
    for name in args.names or list(SPECS):
        if name == "demo" and not args.names:
            try:
                _demo_glb_bytes()
            except ImportError as exc:
                print(f"skipping demo: {exc}")
                continue
        build_fixture(SPECS[name], args.investigate)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
