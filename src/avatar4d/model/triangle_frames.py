"""A local frame on every triangle of a posed mesh: origin, rotation and size, for many poses.

The frame turns and scales with its triangle: rotate, move or uniformly scale the vertices and
the frames follow exactly, which is what lets Gaussians bound to triangles follow any pose
(``avatar4d.model.mesh_embedding``). Axes: the tangent along the first edge (corner 0 to
corner 1), the normal of the winding (counter-clockwise seen from the front), and the bitangent
completing a right-handed basis. Degenerate triangles (repeated or collinear corners) still get
a finite orthonormal frame, pointing an arbitrary way, and a scale of at least MIN_SCALE, so
that nothing becomes NaN; Gaussians are not meant to be bound to them
(asset.rig_mesh.embeddable_faces).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from avatar4d.raster.quaternions import rotation_to_quat

MIN_SCALE = 1e-12  # world units: a collapsed triangle still has a finite log-scale
# The normal is trusted while |e01 x e02| exceeds this share of |e01| |e02| (sin of the angle).
MIN_SINE = 1e-7
MIN_EDGE = 1e-20


@dataclass(frozen=True)
class TriangleFrames:
    """Frames of F triangles at any number of poses: leading dimensions as the vertices'."""

    origins: torch.Tensor  # (..., F, 3) centroids
    rotations: torch.Tensor  # (..., F, 3, 3) columns: tangent, bitangent, normal
    quats: torch.Tensor  # (..., F, 4) w x y z, the same rotations
    scales: torch.Tensor  # (..., F) sqrt(2 x area): about an edge length, >= MIN_SCALE

    @property
    def normals(self) -> torch.Tensor:
        return self.rotations[..., 2]

    def select(self, index: torch.Tensor | slice | int) -> TriangleFrames:
        """The frames at some of the poses (index into the first dimension)."""
        return TriangleFrames(
            self.origins[index], self.rotations[index], self.quats[index], self.scales[index]
        )


def triangle_frames(vertices: torch.Tensor, faces: torch.Tensor) -> TriangleFrames:
    """Frames of ``faces`` (F, 3) on ``vertices`` (..., V, 3), e.g. (T, V, 3) for T poses."""
    flat = faces.long().reshape(-1)
    corners = vertices.index_select(-2, flat).unflatten(-2, (-1, 3))  # (..., F, 3 corners, 3)
    first, second, third = corners.unbind(-2)
    e01, e02 = second - first, third - first
    cross = torch.linalg.cross(e01, e02, dim=-1)
    length01 = e01.norm(dim=-1, keepdim=True)
    double_area = cross.norm(dim=-1, keepdim=True)
    tangent = e01 / length01.clamp_min(MIN_EDGE)
    normal = cross / double_area.clamp_min(MIN_EDGE)
    # The normal is orthogonal to the tangent up to rounding wherever the triangle has a plane.
    # Degenerate triangles (rare) get any orthonormal frame; asking whether there are any would
    # make the host wait for the device, so every triangle goes through the same selection.
    trusted = double_area > MIN_SINE * length01 * e02.norm(dim=-1, keepdim=True)
    short = length01 <= MIN_EDGE
    tangent = torch.where(short, _axis(tangent, 0), tangent)
    normal = torch.where(trusted & ~short, normal, _any_perpendicular(tangent))
    bitangent = torch.linalg.cross(normal, tangent, dim=-1)
    rotations = torch.stack((tangent, bitangent, normal), dim=-1)
    scales = double_area.squeeze(-1).sqrt().clamp_min(MIN_SCALE)
    return TriangleFrames(corners.mean(dim=-2), rotations, rotation_to_quat(rotations), scales)


def _axis(like: torch.Tensor, index: int) -> torch.Tensor:
    # Made on the device: writing a 1 into a device tensor would be a copy that waits.
    return torch.eye(3, dtype=like.dtype, device=like.device)[index].expand_as(like)


def _any_perpendicular(unit: torch.Tensor) -> torch.Tensor:
    """A unit vector perpendicular to each unit row: crossed with y, or with z when near y."""
    helper = torch.where(unit[..., 1:2].abs() < 0.9, _axis(unit, 1), _axis(unit, 2))
    perpendicular = torch.linalg.cross(unit, helper, dim=-1)
    return perpendicular / perpendicular.norm(dim=-1, keepdim=True).clamp_min(MIN_EDGE)
