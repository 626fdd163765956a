"""The node hierarchy: local transforms (matrix or TRS), parents, traversal order, world."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from avatar4d.asset import quaternions
from avatar4d.asset.gltf_json import GltfJson
from avatar4d.asset.limits import MAX_NODE_DEPTH, MAX_NODES


@dataclass
class NodePose:
    """Per-node TRS and morph weights at one instant (the rest values where not animated), or
    at T instants of one clip: then every array and weight row has a leading T axis."""

    translations: np.ndarray  # (N, 3) float64, or (T, N, 3)
    rotations: np.ndarray  # (N, 4) float64, (x, y, z, w)
    scales: np.ndarray  # (N, 3) float64
    trs_animated: np.ndarray  # (N,) bool: TRS replaces a static ``matrix``
    weights: dict[int, np.ndarray] = field(default_factory=dict)  # node -> animated weights


@dataclass(frozen=True)
class SceneGraph:
    parents: np.ndarray  # (N,) int, -1 for roots
    all_nodes_order: list[int]  # pre-order from every root: parents before children
    scene_order: list[int]  # pre-order over the displayed scene, children in file order
    rest_translations: np.ndarray
    rest_rotations: np.ndarray
    rest_scales: np.ndarray
    matrices: dict[int, np.ndarray]  # nodes given by a static 4x4 matrix
    node_mesh: list[int | None]
    node_skin: list[int | None]
    node_weights: dict[int, np.ndarray]  # static node.weights
    names: list[str]
    levels: list[np.ndarray]  # node indices by depth below their root: level 0 holds the roots

    def drawn_meshes(self) -> list[int]:
        """The mesh of every node of the displayed scene that has one, in scene order."""
        return [mesh for node in self.scene_order if (mesh := self.node_mesh[node]) is not None]

    @property
    def node_count(self) -> int:
        return len(self.parents)

    def rest_pose(self) -> NodePose:
        return NodePose(
            self.rest_translations.copy(),
            self.rest_rotations.copy(),
            self.rest_scales.copy(),
            np.zeros(self.node_count, bool),
        )

    def world_matrices(self, pose: NodePose) -> np.ndarray:
        """(..., N, 4, 4) float64 world transforms: world = parent world x local. A pose of
        several instants (arrays with a leading T axis) gives (T, N, 4, 4)."""
        local = compose_trs(pose.translations, pose.rotations, pose.scales)
        for node, matrix in self.matrices.items():
            if not pose.trs_animated[node]:
                local[..., node, :, :] = matrix
        world = local.copy()
        for nodes in self.levels[1:]:  # one batched product per level, parents done first
            world[..., nodes, :, :] = (
                world[..., self.parents[nodes], :, :] @ local[..., nodes, :, :]
            )
        return world


def compose_trs(translations: np.ndarray, rotations: np.ndarray, scales: np.ndarray) -> np.ndarray:
    """(..., N, 4, 4) matrices T x R x S."""
    matrices = np.zeros((*translations.shape[:-1], 4, 4))
    matrices[..., :3, :3] = quaternions.to_matrices(rotations) * scales[..., None, :]
    matrices[..., :3, 3] = translations
    matrices[..., 3, 3] = 1.0
    return matrices


def read_scene_graph(doc: GltfJson) -> SceneGraph:
    nodes = doc.array("nodes")
    count = len(nodes)
    if count > MAX_NODES:
        doc.fail(f"{count:,} nodes, more than the {MAX_NODES:,} allowed")
    parents = np.full(count, -1, np.int64)
    children: list[list[int]] = []
    translations = np.zeros((count, 3))
    rotations = np.tile([0.0, 0.0, 0.0, 1.0], (count, 1))
    scales = np.ones((count, 3))
    matrices: dict[int, np.ndarray] = {}
    node_weights: dict[int, np.ndarray] = {}
    for i, node in enumerate(nodes):
        path = f"nodes[{i}]"
        kids = node.get("children", [])
        if not isinstance(kids, list):
            doc.fail(f"{path}.children must be an array")
        for child in kids:
            if isinstance(child, bool) or not isinstance(child, int) or not 0 <= child < count:
                doc.fail(f"{path}.children holds {child!r}, not a node index (0..{count - 1})")
            if parents[child] >= 0 or child == i:
                doc.fail(f"node {child} has more than one parent (the nodes must form trees)")
            parents[child] = i
        children.append(kids)
        if "matrix" in node:
            matrix = np.array(doc.numbers(node, "matrix", path, 16, [])).reshape(4, 4).T
            matrices[i] = matrix
            translations[i], rotations[i], scales[i] = decompose(matrix)
        else:
            translations[i] = doc.numbers(node, "translation", path, 3, [0.0, 0.0, 0.0])
            rotations[i] = quaternions.normalize(
                np.array(doc.numbers(node, "rotation", path, 4, [0.0, 0.0, 0.0, 1.0]))
            )
            scales[i] = doc.numbers(node, "scale", path, 3, [1.0, 1.0, 1.0])
        if "weights" in node:
            node_weights[i] = np.array(doc.numbers(node, "weights", path, None, []), np.float32)
    roots = [i for i in range(count) if parents[i] < 0]
    all_nodes_order = _pre_order(roots, children)
    if len(all_nodes_order) != count:
        doc.fail("the node hierarchy contains a cycle")
    levels = _levels(all_nodes_order, parents, doc)
    return SceneGraph(
        parents=parents,
        all_nodes_order=all_nodes_order,
        scene_order=_pre_order(_scene_roots(doc, parents), children),
        rest_translations=translations,
        rest_rotations=rotations,
        rest_scales=scales,
        matrices=matrices,
        node_mesh=[
            doc.optional_index(n, "mesh", f"nodes[{i}]", "meshes") for i, n in enumerate(nodes)
        ],
        node_skin=[
            doc.optional_index(n, "skin", f"nodes[{i}]", "skins") for i, n in enumerate(nodes)
        ],
        node_weights=node_weights,
        names=[doc.string(n, "name", f"nodes[{i}]", f"node_{i}") for i, n in enumerate(nodes)],
        levels=levels,
    )


def _levels(order: list[int], parents: np.ndarray, doc: GltfJson) -> list[np.ndarray]:
    """Nodes grouped by depth (``order`` lists parents before children); too deep is refused."""
    depth = np.zeros(len(parents), np.int64)
    for node in order:
        parent = parents[node]
        if parent >= 0:
            depth[node] = depth[parent] + 1
            if depth[node] > MAX_NODE_DEPTH:
                doc.fail(
                    f"node {node} is more than {MAX_NODE_DEPTH:,} levels below its root; "
                    f"the hierarchy may be at most {MAX_NODE_DEPTH:,} deep"
                )
    by_depth = np.argsort(depth, kind="stable")
    bounds = np.searchsorted(depth[by_depth], np.arange(int(depth.max(initial=0)) + 2))
    return [by_depth[bounds[d] : bounds[d + 1]] for d in range(len(bounds) - 1)]


def _scene_roots(doc: GltfJson, parents: np.ndarray) -> list[int]:
    """Root nodes of ``scene`` (or scene 0); every parentless node when there are no scenes."""
    scenes = doc.array("scenes")
    if not scenes:
        return [i for i in range(len(parents)) if parents[i] < 0]
    scene_index = doc.integer(doc.document, "scene", "glTF", default=0)
    if scene_index >= len(scenes):
        doc.fail(f"scene {scene_index} does not exist ({len(scenes)} scenes)")
    roots = scenes[scene_index].get("nodes", [])
    if not isinstance(roots, list):
        doc.fail(f"scenes[{scene_index}].nodes must be an array")
    for root in roots:
        if isinstance(root, bool) or not isinstance(root, int) or not 0 <= root < len(parents):
            doc.fail(f"scenes[{scene_index}].nodes holds {root!r}, not a node index")
        if parents[root] >= 0:
            doc.fail(f"scenes[{scene_index}].nodes lists node {root}, which has a parent")
    return roots


def _pre_order(roots: list[int], children: list[list[int]]) -> list[int]:
    order: list[int] = []
    stack = list(reversed(roots))
    seen: set[int] = set()
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        order.append(node)
        stack.extend(reversed(children[node]))
    return order


def decompose(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(translation, rotation quaternion, scale) of an affine matrix without shear."""
    linear = matrix[:3, :3]
    scale = np.linalg.norm(linear, axis=0)
    if np.linalg.det(linear) < 0:
        scale[0] = -scale[0]
    safe = np.where(np.abs(scale) > 1e-12, scale, 1.0)
    return matrix[:3, 3].copy(), quaternions.from_matrix(linear / safe), scale
