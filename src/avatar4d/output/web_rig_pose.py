"""What the web player does with a ``rig`` package, in torch: a deformation posing the
Gaussians from the decoded file alone (the mesh, the anchor pose, the sampled clip poses
blended linearly), so the model can render what the player draws and the export's costs
can be measured against the model's exact posing (benchmarks/web_rig_cost.py).

``exact`` (an asset) replaces the sampled poses with the asset's own pose at each time: what
the mesh's quantisation alone costs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from avatar4d.asset.loader import Asset
from avatar4d.asset.skin_layout import MorphBlock, SkinLayout
from avatar4d.model.deformation import GaussiansAtTime, SplineDeformation
from avatar4d.model.mesh_skinning import MeshSkinner
from avatar4d.model.rig_deformation import Segment, pose_on, similarity_table
from avatar4d.model.triangle_frames import triangle_frames
from avatar4d.output.web_rig import pose_vector
from avatar4d.raster.quaternions import normalize_quat, quat_multiply


def decoded_layout(header: dict[str, Any], read: Any) -> SkinLayout:
    """The skin layout as the player decodes it (``read(name)`` -> float64 / integer array)."""
    motion = header["motion"]
    deltas = read("rig_morph_deltas") if "rig_morph_deltas" in header["arrays"] else None
    morphs = []
    for block in motion["morph_blocks"]:
        targets, count = len(block["slots"]), block["count"]
        rows = deltas[block["row"] : block["row"] + targets * count]
        morphs.append(
            MorphBlock(
                block["first_vertex"],
                rows.reshape(targets, count, 3).astype(np.float32),
                np.asarray(block["slots"], np.int64),
            )
        )
    return SkinLayout(
        rest=read("rig_rest").astype(np.float32),
        bones=read("rig_bones").astype(np.int32),
        weights=read("rig_weights").astype(np.float32),
        morphs=tuple(morphs),
        bone_count=motion["bones"],
        morph_count=motion["morphs"],
        joint_bones=(),
        node_bones={},
        morph_slots={},
    )


def blended_pose(poses: np.ndarray, clip: dict[str, Any], fraction: float) -> np.ndarray:
    """The clip's pose at ``fraction`` (0..1) of it: its two nearest samples blended."""
    count = clip["samples"]
    rows = poses[clip["first"] : clip["first"] + count]
    if count == 1:
        return rows[0]
    position = min(max(fraction, 0.0), 1.0) * (count - 1)
    low = min(int(np.floor(position)), count - 2)
    share = position - low
    return (1.0 - share) * rows[low] + share * rows[low + 1]


@dataclass
class PackagedRig:
    """A deformation (``deform``, ``deform_many``) that poses as the web player does."""

    header: dict[str, Any]
    read: Any  # name -> decoded array
    clip: str | None = None  # None: the trained timeline
    exact: Asset | None = None

    def __post_init__(self) -> None:
        motion = self.header["motion"]
        self.motion = motion
        self.clips = {c["name"]: c for c in motion["clips"]}
        self.segments = tuple(Segment(*s) for s in motion["segments"])
        self.durations = {c["name"]: c["duration"] for c in motion["clips"]}
        self.poses = self.read("rig_poses")
        self.skinner = MeshSkinner(decoded_layout(self.header, self.read), "cpu")
        self.faces = torch.from_numpy(self.read("rig_faces").astype(np.int64))
        anchor = self._positions(self.read("rig_anchor"))
        self.anchor = triangle_frames(anchor, self.faces)
        self.periodic = motion["periodic"]

    def performing(self, clip: str) -> PackagedRig:
        return PackagedRig(self.header, self.read, clip, self.exact)

    def _positions(self, vector: np.ndarray) -> torch.Tensor:
        bones = self.motion["bones"]
        matrices = torch.as_tensor(vector[: bones * 12], dtype=torch.float32).reshape(1, -1, 3, 4)
        morph = torch.as_tensor(vector[bones * 12 :], dtype=torch.float32)[None]
        return self.skinner.skin(matrices, morph)[0]

    def pose_vector(self, t: float) -> np.ndarray:
        if self.clip is None:
            clip, seconds = pose_on(self.segments, self.durations, t)
        else:
            clip, seconds = pose_on((Segment(self.clip, 0.0, 1.0),), self.durations, t)
        if self.exact is not None:
            return pose_vector(self.exact.pose_state(clip, seconds))
        duration = self.durations[clip]
        return blended_pose(self.poses, self.clips[clip], seconds / duration if duration else 0)

    def deform(self, params: dict[str, torch.Tensor], t: float) -> GaussiansAtTime:
        posed = triangle_frames(self._positions(self.pose_vector(t)), self.faces)
        table = similarity_table(self.anchor, posed)[params["face"].long()]  # (N, 17)
        linear = table[:, :9].unflatten(-1, (3, 3))
        means = (linear @ params["means"][..., None]).squeeze(-1) + table[:, 9:12]
        control = self.motion["residual_control"]
        if control and self.clip is None:
            curves = SplineDeformation(control, self.periodic, self.motion["anchor_time"])
            points = params["motion_means"]
            means = means + curves.spline(points, t) - curves.spline(points, curves.anchor_time)
        turn = table[:, 12:16]
        return GaussiansAtTime(
            means=means,
            quats=normalize_quat(quat_multiply(turn, params["quats"])),
            log_scales=params["scales"] + table[:, 16:17],
            opacity_logits=params["opacities"],
            f_dc=params["colors"],
            rotation_since_canonical=turn,
        )

    def deform_many(self, params: dict[str, torch.Tensor], times: list[float]) -> GaussiansAtTime:
        posed = [self.deform(params, t) for t in times]
        return GaussiansAtTime(
            means=torch.stack([p.means for p in posed]),
            quats=torch.stack([p.quats for p in posed]),
            log_scales=torch.stack([p.log_scales for p in posed]),
            opacity_logits=params["opacities"].expand(len(times), -1),
            f_dc=params["colors"].expand(len(times), -1, -1),
            rotation_since_canonical=torch.stack([p.rotation_since_canonical for p in posed]),
        )
