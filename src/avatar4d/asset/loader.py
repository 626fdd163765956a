"""Public entry point of the glTF half: ``load_asset(path) -> Asset``, posed at any clip time."""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import numpy as np

from avatar4d.asset.accessors import Accessors
from avatar4d.asset.animation import Clip, read_clips
from avatar4d.asset.bounds import bounding_sphere_over_time
from avatar4d.asset.buffers import load_buffers
from avatar4d.asset.clip_sampler import ClipSampler
from avatar4d.asset.extensions import check_required_extensions
from avatar4d.asset.gltf_file import read_gltf_file
from avatar4d.asset.images import Images
from avatar4d.asset.info import AssetSummary, build_summary
from avatar4d.asset.materials import read_materials
from avatar4d.asset.posed_mesh import PosedMesh, PosedPart
from avatar4d.asset.posing import DrawItem, PlacedPrimitive, morph_weights, place
from avatar4d.asset.primitives import MeshData, MeshPrimitive, check_drawn_totals, read_meshes
from avatar4d.asset.scene_graph import NodePose, SceneGraph, read_scene_graph
from avatar4d.asset.skin_layout import PoseState, SkinLayout, build_skin_layout, pose_state
from avatar4d.asset.skinning import Skin, read_skins
from avatar4d.errors import InputError

__all__ = ["Asset", "AssetSummary", "Clip", "load_asset"]


def load_asset(path: str | Path) -> Asset:
    """Read and validate a .glb / .gltf file; every problem with it raises one InputError."""
    gltf = read_gltf_file(path)
    doc = gltf.json
    check_required_extensions(doc)
    accessors = Accessors(doc, load_buffers(gltf))
    images = Images(gltf, accessors)
    graph = read_scene_graph(doc)
    check_drawn_totals(doc, accessors, graph.drawn_meshes())
    meshes = read_meshes(doc, accessors, read_materials(doc, images))
    skins = read_skins(doc, accessors, graph.node_count)
    clips = read_clips(doc, accessors, graph.node_count)
    generator = str(doc.document["asset"].get("generator", ""))
    return Asset(Path(path), gltf.sha256, generator, graph, meshes, skins, clips, images)


class Asset:
    """An animated glTF character: its clips, and its mesh posed at any instant of any clip."""

    def __init__(
        self,
        path: Path,
        sha256: str,
        generator: str,
        graph: SceneGraph,
        meshes: list[MeshData],
        skins: list[Skin],
        clips: list[Clip],
        images: Images,
    ) -> None:
        self.path = path
        self.sha256 = sha256
        self.clips = clips
        self.generator = generator  # asset.generator from the file
        self._graph = graph
        self._meshes = meshes
        self._skins = skins
        self._images = images
        self._draw_items = _draw_items(graph, meshes, skins, str(path))
        self._samplers: dict[str, ClipSampler] = {}
        self._bounds_cache: dict[tuple[str | None, int], tuple[np.ndarray, float]] = {}
        self._skin_layout: SkinLayout | None = None

    def find_clip(self, name: str) -> Clip:
        for clip in self.clips:
            if clip.name == name:
                return clip
        available = ", ".join(f"{c.name} ({c.duration:.2f} s)" for c in self.clips) or "none"
        raise InputError(
            self.path, f'clip "{name}" not found in {self.path.name}; clips: {available}'
        )

    def pose(self, clip: str | None, seconds: float) -> PosedMesh:
        """World-space mesh at ``seconds`` into ``clip`` (None: the rest pose, time ignored).

        Times outside [0, duration] hold the first / last keyframe.
        """
        return self.pose_from_nodes(self.node_pose(clip, seconds), _when(clip, seconds))

    def pose_from_nodes(self, node_pose: NodePose, when: str = "the pose given") -> PosedMesh:
        """World-space mesh with every node at ``node_pose`` (e.g. one ``node_pose`` returned,
        changed): skinning, hierarchy and morph targets as for the clip's own poses. A
        non-finite position is refused, naming ``when`` (e.g. 'clip "Walk" at 0.5 s')."""
        parts = [
            PosedPart(
                positions=placed.positions,
                normals=placed.normals,
                uvs=primitive.uvs,
                colors=primitive.colors,
                indices=placed.triangles,
                material=primitive.material,
                mesh_name=primitive.mesh_name,
                primitive_index=primitive.primitive_index,
                node_index=item.node,
                mesh_index=primitive.mesh_index,
            )
            for item, primitive, placed in self._placed(node_pose, True, when)
        ]
        return PosedMesh(parts)

    def clip_bounds(self, clip: str | None, samples: int = 120) -> tuple[np.ndarray, float]:
        """Bounding sphere (center (3,), radius) of every posed vertex over the clip, sampled at
        ``samples`` times spread evenly over [0, duration], both ends included."""
        if isinstance(samples, bool) or not isinstance(samples, int) or samples < 1:
            raise InputError(self.path, f"bounds need at least 1 sample, got {samples!r}")
        key = (clip, samples)
        if key not in self._bounds_cache:
            duration = 0.0 if clip is None else self.find_clip(clip).duration
            times = [0.0] if duration == 0.0 else np.linspace(0.0, duration, samples).tolist()
            center, radius = bounding_sphere_over_time(lambda t: self._positions(clip, t), times)
            self._bounds_cache[key] = (center.astype(np.float64), float(radius))
        center, radius = self._bounds_cache[key]
        return center.copy(), radius

    def summary(self, clips: list[str] | None = None, bounds_samples: int = 120) -> AssetSummary:
        """What the file holds; bounds for every clip, or only for the clips named."""
        chosen = self.clips if clips is None else [self.find_clip(name) for name in clips]
        bounds = {c.name: self.clip_bounds(c.name, bounds_samples) for c in chosen}
        return build_summary(
            self.path,
            self.sha256,
            self.generator,
            self.clips,
            bounds,
            self.clip_bounds(None),
            self._graph,
            self._meshes,
            self._skins,
            self._images,
            self._draw_items,
        )

    def _positions(self, clip: str | None, seconds: float) -> np.ndarray:
        return self.positions_from_nodes(self.node_pose(clip, seconds), _when(clip, seconds))

    def positions_from_nodes(self, node_pose: NodePose, when: str = "the pose given") -> np.ndarray:
        """(V, 3) float32 posed positions of every drawn vertex, no normals (the fast path):
        the parts of ``pose_from_nodes`` concatenated in the same order."""
        chunks = [np.zeros((0, 3), np.float32)]
        chunks += [p.positions for _, _, p in self._placed(node_pose, False, when)]
        return np.concatenate(chunks)

    def skin_layout(self) -> SkinLayout:
        """The drawn mesh as one linear skin (asset/skin_layout.py), built once."""
        if self._skin_layout is None:
            self._skin_layout = build_skin_layout(self._draw_items, self._skins)
        return self._skin_layout

    def pose_state(
        self, clip: str | None, seconds: float, morph: Mapping[str, float] | None = None
    ) -> PoseState:
        """Bone matrices and morph weights at ``seconds`` into ``clip`` (None: the rest pose),
        ``morph`` set on top; ``skin_positions`` of it equals ``positions_from_nodes``."""
        states = self.pose_states(clip, [seconds], morph)
        return PoseState(states.bones[0], states.morph[0])

    def pose_states(
        self,
        clip: str | None,
        seconds: Sequence[float],
        morph: Mapping[str, float] | None = None,
    ) -> PoseState:
        """``pose_state`` of T times of one clip at once: bones (T, B, 3, 4), morph (T, M)."""
        node_pose = self.node_poses(clip, seconds)
        if morph:
            self.set_morph_weights(node_pose, morph)
        with np.errstate(over="ignore", invalid="ignore"):
            world = self._graph.world_matrices(node_pose)
        bad = ~np.isfinite(world).all(axis=(-3, -2, -1))
        if bad.any():
            first = int(np.flatnonzero(bad)[0])
            self._check_finite_world(world[first], _when(clip, float(seconds[first])))
        return pose_state(
            self.skin_layout(),
            self._draw_items,
            self._skins,
            world,
            node_pose,
            self._graph.node_weights,
        )

    @property
    def morph_target_names(self) -> list[str]:
        """Every drawn mesh's morph target names, each once, in scene order."""
        names = [name for item in self._draw_items for name in item.mesh.target_names]
        return list(dict.fromkeys(names))

    def set_morph_weights(self, node_pose: NodePose, weights: Mapping[str, float]) -> None:
        """Set each named morph target's weight, in place, on every drawn mesh that has a
        target of that name, replacing what the clip or the file gives it."""
        known = self.morph_target_names
        for name, weight in weights.items():
            if name not in known:
                raise InputError(
                    self.path,
                    f'morph target "{name}" not found in {self.path.name}; targets: '
                    + (", ".join(known) or "none"),
                )
            if (
                isinstance(weight, bool)
                or not isinstance(weight, (int, float))
                or not math.isfinite(weight)
            ):
                raise InputError(
                    self.path, f'morph target "{name}": weight {weight!r} is not a finite number'
                )
        for item in self._draw_items:
            chosen = self._weights(item, node_pose).copy()
            hits = [i for i, name in enumerate(item.mesh.target_names) if name in weights]
            if hits:
                for i in hits:
                    chosen[..., i] = weights[item.mesh.target_names[i]]
                node_pose.weights[item.node] = chosen

    def _placed(
        self, node_pose: NodePose, with_normals: bool, when: str
    ) -> Iterator[tuple[DrawItem, MeshPrimitive, PlacedPrimitive]]:
        """Every drawn primitive in node order, placed in world space at this node pose; a
        transform or position that overflows (e.g. a scale of 1e308) is refused."""
        with np.errstate(over="ignore", invalid="ignore"):  # overflow is refused just below
            world = self._graph.world_matrices(node_pose)
        self._check_finite_world(world, when)
        joint_matrices = [skin.joint_matrices(world) for skin in self._skins]
        for item in self._draw_items:
            weights = self._weights(item, node_pose)
            skin_matrices = None if item.skin_index is None else joint_matrices[item.skin_index]
            for primitive in item.mesh.primitives:
                with np.errstate(over="ignore", invalid="ignore"):
                    placed = place(
                        primitive, world[item.node], skin_matrices, weights, with_normals
                    )
                if not np.isfinite(placed.positions).all():
                    raise InputError(
                        self.path,
                        f"{when}: mesh '{primitive.mesh_name}' on node "
                        f"'{self._graph.names[item.node]}' (nodes[{item.node}]) has non-finite "
                        "posed positions (transforms or morph weights too large)",
                    )
                yield item, primitive, placed

    def _check_finite_world(self, world: np.ndarray, when: str) -> None:
        """Name the first node, parents before children, whose world transform overflowed."""
        bad = ~np.isfinite(world).all(axis=(1, 2))
        if bad.any():
            node = next(n for n in self._graph.all_nodes_order if bad[n])
            raise InputError(
                self.path,
                f"{when}: node '{self._graph.names[node]}' (nodes[{node}]) has a non-finite "
                "world transform (its own or its parents' translation / rotation / scale "
                "overflow)",
            )

    def node_pose(self, clip: str | None, seconds: float) -> NodePose:
        """Every node's local translation, rotation, scale and morph weights at ``seconds``
        into ``clip`` (None: the rest pose); a new object each call."""
        poses = self.node_poses(clip, [seconds])
        return NodePose(
            poses.translations[0],
            poses.rotations[0],
            poses.scales[0],
            poses.trs_animated,
            {node: weights[0] for node, weights in poses.weights.items()},
        )

    def node_poses(self, clip: str | None, seconds: Sequence[float]) -> NodePose:
        """``node_pose`` at T times of one clip at once: every array and weight row with a
        leading T axis (the channels are sampled together)."""
        for value in seconds:
            if not isinstance(value, (int, float)) or not math.isfinite(value):
                raise InputError(self.path, f"time {value!r} is not a finite number of seconds")
        rest, count = self._graph.rest_pose(), len(seconds)
        node_pose = NodePose(
            np.repeat(rest.translations[None], count, axis=0),
            np.repeat(rest.rotations[None], count, axis=0),
            np.repeat(rest.scales[None], count, axis=0),
            rest.trs_animated,
        )
        if clip is None:
            return node_pose
        sampler = self._samplers.get(clip)
        if sampler is None:
            sampler = self._samplers[clip] = ClipSampler(self.find_clip(clip))
        for group in sampler.sample_many([float(value) for value in seconds]):
            if group.path == "weights":
                for column, node in enumerate(group.nodes):
                    node_pose.weights[int(node)] = group.values[:, column].astype(np.float32)
                continue
            getattr(node_pose, _POSE_FIELDS[group.path])[:, group.nodes] = group.values
            node_pose.trs_animated[group.nodes] = True
        return node_pose

    def _weights(self, item: DrawItem, node_pose: NodePose) -> np.ndarray:
        return morph_weights(
            item, node_pose.weights.get(item.node), self._graph.node_weights.get(item.node)
        )


_POSE_FIELDS = {"translation": "translations", "rotation": "rotations", "scale": "scales"}


def _when(clip: str | None, seconds: float) -> str:
    return "the rest pose" if clip is None else f'clip "{clip}" at {seconds:g} s'


def _draw_items(
    graph: SceneGraph, meshes: list[MeshData], skins: list[Skin], where: str
) -> list[DrawItem]:
    """Mesh instances in scene order; each skinned primitive's joints checked against its skin."""
    items = []
    for node in graph.scene_order:
        mesh_index = graph.node_mesh[node]
        if mesh_index is None:
            continue
        skin_index = graph.node_skin[node]
        mesh = meshes[mesh_index]
        for primitive in mesh.primitives:
            if skin_index is not None and primitive.joints is not None and primitive.joints.size:
                skin = skins[skin_index]
                highest = int(primitive.joints.max())
                if highest >= len(skin.joints):
                    raise InputError(
                        where,
                        f"mesh '{mesh.name}' primitive {primitive.primitive_index}: JOINTS refers "
                        f"to joint {highest}, skin '{skin.name}' has {len(skin.joints)}",
                    )
        items.append(DrawItem(node, mesh, skin_index))
    return items
