"""Motion driven by the character's own mesh: each Gaussian follows one triangle.

The canonical Gaussians are the pose at the anchor time. Each one is bound to a triangle of
the character's mesh (``face``, a per-Gaussian integer, not trained) and moves with it: the
triangle's frame at the anchor (``avatar4d.model.triangle_frames``: centroid, rotation, size)
maps to its frame at time t, a similarity per triangle, so

    means_t = o_t + s R_t R_a^T (means - o_a),  quats_t = (q_t q_a^-1) quats,
    log_scales_t = log_scales + log s,          s = size_t / size_a.

Any pose of the mesh (any clip, time, morph weights) therefore places every Gaussian: the
model performs clips it never saw. A time t of the model's timeline names a pose through its
segments (the train clips laid end to end, as the grid lays them): ``(clip, start, length)``
gives clip time ``(t - start) / length``. An optional per-Gaussian residual translation spline
over the timeline (as the node model's) learns what the mesh cannot explain; it is zero on
clips the model was not trained on. Gaussians are rebound to the nearest triangle (exact
point-to-triangle distance at the anchor, ``avatar4d.model.triangle_distance``) on the
trainer's refresh schedule, so split children far from their parent's triangle follow the one
under them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import torch

from avatar4d.asset.rig_mesh import RigPoser, embeddable_faces
from avatar4d.asset.topology import sample_triangles, triangle_areas
from avatar4d.model.deformation import GaussiansAtTime, SplineDeformation
from avatar4d.model.mesh_skinning import MeshSkinner
from avatar4d.model.node_deformation import gather_rows
from avatar4d.model.triangle_distance import nearest_triangles
from avatar4d.model.triangle_frames import TriangleFrames, triangle_frames
from avatar4d.raster.host_copy import to_device
from avatar4d.raster.quaternions import normalize_quat, quat_multiply

FACE_KEY = "face"
FEATURES = 17  # per triangle and pose: similarity matrix (9), shift (3), rotation (4), log size
# Distances computed at once when finding each Gaussian's nearest triangle (1 GiB of float32):
# a block holds as many Gaussians as fit against every triangle of the mesh.
DISTANCE_BLOCK = 1 << 28
CACHE_BYTES = 512 << 20  # posed triangle tables kept on the device (the train times, mostly)
TIME_GROUP = 16  # most poses gathered at once by deform_many
BOUNDARY = 1e-6  # times this close to a segment's start are its start (float32 times)


@dataclass(frozen=True)
class Segment:
    """A clip on the model's timeline: times start..start+length play it from 0 to 1."""

    clip: str
    start: float
    length: float


@dataclass(frozen=True)
class Performance:
    """A clip the model is asked to perform (times 0..1 play it once) and morph weights."""

    clip: str
    morph: tuple[tuple[str, float], ...] = ()


def pose_on(segments: Sequence[Segment], durations: Mapping[str, float], t: float):
    """(clip, seconds into it) of time t: the segment holding t, else the nearest one. Each
    segment holds [start, start + length): where one clip ends the next begins, and a grid
    writes the next clip's first frame at that time (the last clip's end is its own)."""

    def distance(segment: Segment) -> float:
        return max(segment.start - t, t - segment.start - segment.length, 0.0)

    holding = [
        segment
        for segment in segments
        if segment.start - BOUNDARY <= t < segment.start + segment.length - BOUNDARY
    ]
    segment = max(holding, key=lambda s: s.start) if holding else min(segments, key=distance)
    clip_time = min(max((t - segment.start) / segment.length, 0.0), 1.0)
    return segment.clip, clip_time * durations[segment.clip]


@dataclass
class RigDeformation:
    poser: RigPoser
    segments: tuple[Segment, ...]  # the timeline the model was trained on
    periodic: bool
    anchor_time: float
    residual_control: int = 0
    performance: Performance | None = None
    _cache: dict = field(default_factory=dict, repr=False)

    def performing(self, clip: str, morph: Mapping[str, float] | None = None) -> RigDeformation:
        """The same model performing ``clip`` with morph weights (the residual is off)."""
        self.poser.asset.find_clip(clip)  # one line naming the clips there are
        performance = Performance(clip, tuple(sorted((morph or {}).items())))
        return replace(self, performance=performance, _cache={})

    @property
    def uses_residual(self) -> bool:
        return self.residual_control > 0 and self.performance is None

    # --- poses ------------------------------------------------------------------------------

    def pose_of(self, t: float) -> tuple[str, float]:
        if self.performance is not None:
            segments = (Segment(self.performance.clip, 0.0, 1.0),)
            return pose_on(segments, self.poser.mesh.clips, t)
        return pose_on(self.segments, self.poser.mesh.clips, t)

    def posed_frames(
        self, poses: Sequence[tuple[str, float]], device: torch.device
    ) -> TriangleFrames:
        """Frames of every triangle at each (clip, seconds): bones and morph weights from the
        CPU, the mesh skinned on ``device``."""
        morph = dict(self.performance.morph) if self.performance else None
        layout = self.poser.asset.skin_layout()
        bones = np.empty((len(poses), layout.bone_count, 3, 4), np.float32)
        weights = np.empty((len(poses), layout.morph_count), np.float32)
        rows_of: dict[str, list[int]] = {}
        for row, (clip, _) in enumerate(poses):
            rows_of.setdefault(clip, []).append(row)
        for clip, rows in rows_of.items():  # each clip's times sampled together
            states = self.poser.asset.pose_states(clip, [poses[r][1] for r in rows], morph)
            bones[rows], weights[rows] = states.bones, states.morph
        positions = self.skinner(device).skin(
            to_device(torch.from_numpy(bones), device), to_device(torch.from_numpy(weights), device)
        )
        return triangle_frames(positions, self.faces(device))

    def skinner(self, device: torch.device) -> MeshSkinner:
        key = ("skinner", device)
        if key not in self._cache:
            self._cache[key] = MeshSkinner(self.poser.asset.skin_layout(), device)
        return self._cache[key]

    def faces(self, device: torch.device) -> torch.Tensor:
        key = ("faces", device)
        if key not in self._cache:
            self._cache[key] = torch.from_numpy(self.poser.mesh.faces).to(device)
        return self._cache[key]

    def anchor_frames(self, device: torch.device) -> TriangleFrames:
        """The triangles at the anchor time of the trained timeline (never morphed)."""
        key = ("anchor", device)
        if key not in self._cache:
            self._cache[key] = triangle_frames(self.anchor_vertices(device), self.faces(device))
        return self._cache[key]

    def anchor_vertices(self, device: torch.device) -> torch.Tensor:
        """``anchor_positions`` on ``device``, uploaded once."""
        key = ("anchor vertices", device)
        if key not in self._cache:
            self._cache[key] = torch.from_numpy(self.anchor_positions()).to(device)
        return self._cache[key]

    def anchor_positions(self) -> np.ndarray:
        """(V, 3) float32: the mesh at the anchor time of the trained timeline, posed once."""
        key = ("anchor positions",)
        if key not in self._cache:
            clip, seconds = pose_on(self.segments, self.poser.mesh.clips, self.anchor_time)
            self._cache[key] = self.poser.pose(clip, [seconds])[0]
        return self._cache[key]

    def table(self, t: float, device: torch.device) -> torch.Tensor:
        """(F, 17) per-triangle map from the anchor pose to time t, cached per pose."""
        return self.tables([t], device)[0]

    def tables(self, times: Sequence[float], device: torch.device) -> list[torch.Tensor]:
        """``table`` of each time; the poses not cached yet are skinned together."""
        keys = [(self.pose_of(t), device) for t in times]
        found = {key: self._cache[key] for key in keys if key in self._cache}
        missing = [key for key in dict.fromkeys(keys) if key not in found]
        if missing:
            posed = self.posed_frames([pose for pose, _ in missing], device)
            fresh = similarity_table(self.anchor_frames(device), posed).unbind(0)
            for key, table in zip(missing, fresh, strict=True):
                self._remember(key, table)
                found[key] = table
        return [found[key] for key in keys]

    def _remember(self, key: tuple, table: torch.Tensor) -> None:
        size = table.numel() * table.element_size()
        tables = [k for k in self._cache if isinstance(k[0], tuple)]
        while tables and size * (len(tables) + 1) > CACHE_BYTES:
            del self._cache[tables.pop(0)]  # the oldest pose
        self._cache[key] = table

    # --- the Deformation protocol -----------------------------------------------------------

    def initial_points(self, count: int, generator: torch.Generator) -> torch.Tensor:
        """``count`` points spread by area over the mesh at the anchor (faces that can carry
        Gaussians: visible, not degenerate)."""
        positions = self.anchor_positions().astype(np.float64)
        faces = self.poser.mesh.faces
        areas = triangle_areas(positions, faces) * embeddable_faces(self.poser.mesh, positions)
        seed = int(torch.randint(0, 2**31 - 1, (1,), generator=generator))
        picks, barycentric = sample_triangles(areas, count, seed)
        corners = positions[faces[picks]]  # (count, 3, 3)
        return torch.from_numpy((barycentric[:, :, None] * corners).sum(axis=1)).float()

    def init_motion(self, means: torch.Tensor) -> dict[str, torch.Tensor]:
        residual = {}
        if self.residual_control > 0:
            residual["motion_means"] = torch.zeros(len(means), self.residual_control, 3).to(means)
        return {**residual, FACE_KEY: self.nearest_faces(means)}

    def surface_normals(self, motion: dict[str, torch.Tensor]) -> torch.Tensor:
        """(N, 3) the anchor normal of each Gaussian's triangle (``init_motion``'s faces)."""
        faces = motion[FACE_KEY]
        return self.anchor_frames(faces.device).normals[faces.long()].clone()

    def nearest_faces(self, means: torch.Tensor) -> torch.Tensor:
        """(N,) int32: the embeddable triangle of the anchor mesh nearest each point (exact
        distance to the triangles whose centroids are nearest)."""
        device = means.device
        candidates = torch.from_numpy(np.flatnonzero(self._embeddable())).to(device)
        block = DISTANCE_BLOCK // max(len(candidates), 1)
        vertices, faces = self.anchor_vertices(device), self.faces(device)
        with torch.no_grad():
            nearest = nearest_triangles(means.detach(), vertices, faces, candidates, block)
        return nearest.int()

    def _embeddable(self) -> np.ndarray:
        key = ("embeddable",)
        if key not in self._cache:
            self._cache[key] = embeddable_faces(self.poser.mesh, self.anchor_positions())
        return self._cache[key]

    def refresh(self, params: dict[str, torch.Tensor]) -> None:
        """Rebind every Gaussian to the triangle nearest it now (in place, no gradient)."""
        with torch.no_grad():
            params[FACE_KEY].copy_(self.nearest_faces(params["means"]))

    @property
    def residual_curves(self) -> SplineDeformation:
        return SplineDeformation(self.residual_control, self.periodic, self.anchor_time)

    def deform(self, params: dict[str, torch.Tensor], t: float) -> GaussiansAtTime:
        posed = self.deform_many(params, [t])
        return GaussiansAtTime(
            means=posed.means[0],
            quats=posed.quats[0],
            log_scales=posed.log_scales[0],
            opacity_logits=params["opacities"],
            f_dc=params["colors"],
            rotation_since_canonical=posed.rotation_since_canonical[0],
        )

    def deform_many(self, params: dict[str, torch.Tensor], times: list[float]) -> GaussiansAtTime:
        parts = [
            self._pose_group(params, times[start : start + TIME_GROUP])
            for start in range(0, len(times), TIME_GROUP)
        ]
        count = len(times)
        return GaussiansAtTime(
            means=torch.cat([means for means, _, _, _ in parts]),
            quats=torch.cat([quats for _, quats, _, _ in parts]),
            log_scales=torch.cat([scales for _, _, scales, _ in parts]),
            opacity_logits=params["opacities"].expand(count, -1),
            f_dc=params["colors"].expand(count, -1, -1),
            rotation_since_canonical=torch.cat([turn for _, _, _, turn in parts]),
        )

    def _pose_group(self, params: dict[str, torch.Tensor], times: list[float]) -> tuple:
        device = params["means"].device
        tables = torch.stack(self.tables(times, device), dim=1)  # (F, T, 17)
        gathered = gather_rows(tables.flatten(1), params[FACE_KEY].long())  # (N, T * 17)
        per_gaussian = gathered.unflatten(1, (len(times), FEATURES)).transpose(0, 1)
        linear = per_gaussian[..., :9].unflatten(-1, (3, 3))  # (T, N, 3, 3)
        means = (linear * params["means"][None, :, None, :]).sum(dim=-1) + per_gaussian[..., 9:12]
        if self.uses_residual:
            points = params["motion_means"]
            curves = self.residual_curves
            means = (
                means + curves.spline_many(points, times) - curves.spline(points, self.anchor_time)
            )
        turn = per_gaussian[..., 12:16]
        quats = normalize_quat(quat_multiply(turn, params["quats"].expand_as(turn)))
        log_scales = params["scales"][None] + per_gaussian[..., 16:17]
        return means, quats, log_scales, turn

    def smoothness(self, params: dict[str, torch.Tensor], length_scale: float) -> torch.Tensor:
        if self.residual_control == 0 or len(params["motion_means"]) == 0:
            return params["means"].new_zeros(())
        return self.residual_curves.curve_smoothness(params["motion_means"] / length_scale)


def similarity_table(anchor: TriangleFrames, posed: TriangleFrames) -> torch.Tensor:
    """(F, 17) per triangle: the similarity taking its anchor frame to its posed frame as a
    3x3 matrix s R_t R_a^T, a shift, the rotation q_t q_a^-1 and log s."""
    ratio = posed.scales / anchor.scales
    rotation = posed.rotations @ anchor.rotations.transpose(-1, -2)
    linear = ratio[..., None, None] * rotation
    shift = posed.origins - (linear @ anchor.origins[..., None]).squeeze(-1)
    conjugate = torch.cat((anchor.quats[..., :1], -anchor.quats[..., 1:]), dim=-1)
    turn = normalize_quat(quat_multiply(posed.quats, conjugate))
    return torch.cat((linear.flatten(-2), shift, turn, ratio.log()[..., None]), dim=-1)
