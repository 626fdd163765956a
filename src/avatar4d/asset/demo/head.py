"""The demo character's head: a textured face with a "mouth_open" morph target, the hair,
and the eyelids (rigid meshes under the head joint, blinking through their scale).

Face features are laid out in longitude/latitude of the head ellipsoid (longitude 0 is
the front, +X is the character's left); the face texture uses the same coordinates.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from avatar4d.asset.demo.motion import smoothstep
from avatar4d.asset.demo.shapes import ShapeMesh, ellipsoid, frame_from, merge, place
from avatar4d.asset.quaternions import from_matrix

HEAD_CENTER = np.array([0.0, 1.545, 0.01])
HEAD_RADII = np.array([0.15, 0.16, 0.155])
HEAD_SEGMENTS = 48

EYE_LONGITUDE = 0.36
EYE_LATITUDE = 0.08
EYE_RADII = (0.095, 0.13)  # (longitude, latitude) half-extents, radians
LASH_LINE = 1.18  # the painted lash line, in eye radii
MOUTH_LATITUDE = -np.radians(22.5)
# Rows every 5 degrees, finer around the mouth so that it opens smoothly.
HEAD_POLAR = np.radians(
    np.unique(np.concatenate([np.linspace(0.0, 180.0, 37), [107.5, 111.25, 112.5, 113.75, 117.5]]))
)
MOUTH_OPENING_BAND = np.radians(3.0)  # the jaw drop fades in over +-3 degrees of latitude
MOUTH_HALF_WIDTH = 0.27
JAW_DROP = 0.22  # radians of latitude the lower lip moves at full "mouth_open"
MORPH_NAME = "mouth_open"

# The lid hangs from the top of the lash line and covers it all when closed.
EYELID_RADII = (
    1.05 * LASH_LINE * EYE_RADII[0] * HEAD_RADII[0],
    LASH_LINE * EYE_RADII[1] * HEAD_RADII[1],
    0.01,
)
EYELID_OPEN_SCALE = (1.0, 0.06, 1.0)
EYELID_CLOSED_SCALE = (1.0, 1.0, 1.0)


@dataclass
class HeadGeometry:
    mesh: ShapeMesh  # head ellipsoid, nose, ears; UVs into the face texture
    mouth_open_positions: np.ndarray  # (V, 3) deltas
    mouth_open_normals: np.ndarray  # (V, 3) deltas


@dataclass(frozen=True)
class EyelidPlacement:
    name: str
    translation: np.ndarray  # world position of the top of the eye
    rotation: np.ndarray  # (4,) quaternion: local +Z out of the face, +Y up the face


def surface_point(longitude: float, latitude: float) -> np.ndarray:
    direction = np.array(
        [
            np.cos(latitude) * np.sin(longitude),
            np.sin(latitude),
            np.cos(latitude) * np.cos(longitude),
        ]
    )
    return HEAD_CENTER + HEAD_RADII * direction


def build_head() -> HeadGeometry:
    skull = place(ellipsoid(HEAD_RADII, HEAD_POLAR, HEAD_SEGMENTS), HEAD_CENTER)
    longitude, latitude = _grid_angles(HEAD_POLAR, HEAD_SEGMENTS)
    jaw_positions, jaw_normals = _mouth_open(longitude, latitude)
    nose_base = surface_point(0.0, -0.17)
    nose = place(ellipsoid((0.02, 0.024, 0.022), 8, 12), nose_base + [0.0, 0.0, 0.004])
    ears = [
        place(ellipsoid((0.016, 0.034, 0.024), 8, 10), surface_point(side * np.pi / 2, 0.0))
        for side in (1.0, -1.0)
    ]
    extras = merge([nose, *ears])
    extras.uvs = _spherical_uvs(extras.positions)  # plain skin texels behind each feature
    mesh = merge([skull, extras])
    no_motion = np.zeros((extras.vertex_count, 3))
    return HeadGeometry(
        mesh,
        np.concatenate([jaw_positions - skull.positions, no_motion]),
        np.concatenate([jaw_normals - skull.normals, no_motion]),
    )


def _grid_angles(polar: np.ndarray, segments: int) -> tuple[np.ndarray, np.ndarray]:
    azimuth = np.linspace(-np.pi, np.pi, segments + 1)
    longitude, polar_grid = np.meshgrid(azimuth, polar)
    return longitude.reshape(-1), (np.pi / 2 - polar_grid).reshape(-1)


def _mouth_open(longitude: np.ndarray, latitude: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Skull positions and normals with the jaw dropped: everything below the mouth line
    slides down the surface (fading towards the chin), so the painted mouth stretches open.
    The drop is largest in the middle and zero at the corners: a U-shaped open mouth."""
    below = latitude - MOUTH_LATITUDE
    across = np.clip(1.0 - (longitude / (1.15 * MOUTH_HALF_WIDTH)) ** 2, 0.0, None)
    band = MOUTH_OPENING_BAND
    chin_fade = np.exp(-((np.minimum(below, 0.0) / 0.45) ** 2))
    jaw = smoothstep(band, -band, below) * chin_fade
    upper_lip = 0.15 * smoothstep(-band, band, below) * np.exp(-((below / 0.12) ** 2))
    new_latitude = np.clip(latitude + JAW_DROP * across * (upper_lip - jaw), -np.pi / 2, np.pi / 2)
    direction = np.stack(
        [
            np.cos(new_latitude) * np.sin(longitude),
            np.sin(new_latitude),
            np.cos(new_latitude) * np.cos(longitude),
        ],
        axis=1,
    )
    normals = direction / HEAD_RADII
    normals /= np.linalg.norm(normals, axis=1, keepdims=True)
    # The opened mouth is also pushed in a little, so it reads as a cavity from the side.
    cavity = 0.008 * across * np.exp(-((below / (2 * band)) ** 2))
    positions = HEAD_CENTER + HEAD_RADII * direction - normals * cavity[:, None]
    return positions, normals


def _spherical_uvs(positions: np.ndarray) -> np.ndarray:
    d = (positions - HEAD_CENTER) / HEAD_RADII
    longitude = np.arctan2(d[:, 0], d[:, 2])
    latitude = np.arcsin(np.clip(d[:, 1] / np.linalg.norm(d, axis=1), -1.0, 1.0))
    return np.stack([(longitude + np.pi) / (2 * np.pi), (np.pi / 2 - latitude) / np.pi], axis=1)


def build_hair() -> ShapeMesh:
    """A cap slightly larger than the skull; where there is no hair (the face, the ears)
    it is tucked inside the skull, and the crossing makes the hairline, with a fringe.
    It stops 35 degrees below the equator, well inside the skull (no hair grows lower)."""
    segments = 40
    polar = np.linspace(0.0, np.radians(125.0), 25)
    cap = ellipsoid(HEAD_RADII * [1.07, 1.09, 1.07], polar, segments)
    longitude, latitude = _grid_angles(polar, segments)
    behind = smoothstep(0.5 * np.pi, 0.85 * np.pi, np.abs(longitude))
    fringe = 0.07 * np.cos(9 * longitude) * (1 - smoothstep(0.9, 1.6, np.abs(longitude)))
    hairline = 0.5 + fringe - 0.85 * behind
    covered = smoothstep(hairline - 0.1, hairline + 0.1, np.sin(latitude))
    scale = 0.8 + 0.2 * covered  # hidden hair sits well inside the skull, clear of the mouth
    cap.positions = cap.positions * scale[:, None]
    return place(cap, HEAD_CENTER)


def build_eyelid() -> ShapeMesh:
    """One eyelid, hanging below its node's origin so scaling Y retracts it upwards."""
    lid = ellipsoid(EYELID_RADII, 8, 12)
    return place(lid, (0.0, -EYELID_RADII[1], -0.004))


def eyelid_placements() -> list[EyelidPlacement]:
    placements = []
    for side, suffix in ((1.0, "L"), (-1.0, "R")):
        longitude = side * EYE_LONGITUDE
        latitude = EYE_LATITUDE + LASH_LINE * EYE_RADII[1]
        top = surface_point(longitude, latitude)
        outward = (top - HEAD_CENTER) / HEAD_RADII**2
        up_the_face = surface_point(longitude, latitude + 1e-3) - top
        frame = frame_from(up_the_face, outward)
        placements.append(EyelidPlacement(f"eyelid_{suffix}", top, from_matrix(frame)))
    return placements
