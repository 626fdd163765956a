"""Procedural textures of the demo character, painted with numpy and stored as PNG.

Shapes are evaluated on a supersampled grid and averaged down, so edges are smooth.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from avatar4d.asset.demo import palette as palette
from avatar4d.asset.demo.head import (
    EYE_LATITUDE,
    EYE_LONGITUDE,
    EYE_RADII,
    LASH_LINE,
    MOUTH_HALF_WIDTH,
    MOUTH_LATITUDE,
)

FACE_SIZE = (1024, 512)  # (width, height): longitude -pi..pi by latitude pi/2..-pi/2
SHIRT_SIZE = (256, 256)
SUPERSAMPLE = 3
# Only this part of the face texture holds features (longitude +-1, latitude -0.8..0.6);
# the rest is plain skin, so only this window is painted.
FACE_WINDOW_U = ((np.pi - 1.0) / (2 * np.pi), (np.pi + 1.0) / (2 * np.pi))
FACE_WINDOW_V = ((np.pi / 2 - 0.6) / np.pi, (np.pi / 2 + 0.8) / np.pi)
SHIRT_STAR_CENTER = (0.5, 0.36)  # (u, v): the front of the chest
SLEEVE_V_RANGE = (0.62, 1.0)  # sleeves use the star-free lower part of the shirt texture


def face_texture() -> np.ndarray:
    """(H, W, 3) uint8 sRGB face: eyes, brows, cheeks, smiling mouth on skin."""
    width, height = FACE_SIZE
    rows, columns = _pixel_span(FACE_WINDOW_V, height), _pixel_span(FACE_WINDOW_U, width)
    longitude, latitude = _pixel_grid(width, height, rows, columns)
    longitude = longitude * 2 * np.pi - np.pi
    latitude = np.pi / 2 - latitude * np.pi
    image = _fill(longitude.shape, palette.SKIN)
    for side in (1.0, -1.0):
        x = longitude - side * EYE_LONGITUDE
        y = latitude - EYE_LATITUDE
        blush = 0.45 * np.exp(-(((x - side * 0.2) / 0.09) ** 2 + ((y + 0.27) / 0.07) ** 2))
        _blend(image, blush, palette.CHEEK)
        eye = (x / EYE_RADII[0]) ** 2 + (y / EYE_RADII[1]) ** 2
        _paint(image, eye < LASH_LINE**2, palette.PUPIL)
        _paint(image, eye < 1.0, palette.EYE_WHITE)
        iris = ((x + side * 0.02) / 0.062) ** 2 + ((y + 0.015) / 0.085) ** 2
        _paint(image, iris < 1.0, palette.IRIS)
        _paint(image, iris < 0.45, palette.PUPIL)
        glint = ((x + side * 0.02 - 0.022) / 0.018) ** 2 + ((y - 0.02) / 0.024) ** 2
        _paint(image, glint < 1.0, palette.EYE_WHITE)
        brow_line = EYE_LATITUDE + 0.2 - 1.3 * x**2
        brow = (np.abs(latitude - brow_line) < 0.022) & (np.abs(x) < 0.11)
        _paint(image, brow, palette.HAIR)
    x = longitude
    upper_lip = MOUTH_LATITUDE + 0.018 + 0.3 * x**2
    lower_lip = MOUTH_LATITUDE - 0.04 + 0.3 * x**2 + 0.058 * (x / MOUTH_HALF_WIDTH) ** 2
    mouth = (latitude < upper_lip) & (latitude > lower_lip)
    _paint(image, mouth, palette.MOUTH)
    tongue = mouth & (latitude < lower_lip + 0.015) & (np.abs(x) < 0.14)
    _paint(image, tongue, palette.TONGUE)
    texture = np.empty((height, width, 3), np.uint8)
    texture[:] = palette.SKIN
    texture[rows, columns] = _downsample(image)
    return texture


def shirt_texture() -> np.ndarray:
    """(H, W, 3) uint8 sRGB shirt: collar, stripes, a star on the chest."""
    width, height = SHIRT_SIZE
    u, v = _pixel_grid(width, height)
    image = _fill(u.shape, palette.SHIRT)
    _paint(image, np.mod(v * 12.0, 1.0) < 0.3, palette.SHIRT_STRIPE)
    _paint(image, v < 0.08, palette.SHIRT_STRIPE)  # collar
    # The torso is about 1.6x wider around (u) than it is long (v): undo that stretch.
    x = (u - SHIRT_STAR_CENTER[0]) * 1.6
    y = SHIRT_STAR_CENTER[1] - v
    star_outline = _star_radius(np.arctan2(y, x), outer=0.1, inner=0.045)
    radius = np.hypot(x, y)
    _paint(image, radius < star_outline + 0.018, palette.SHIRT)
    _paint(image, radius < star_outline, palette.SHIRT_STAR)
    return _downsample(image)


def png_bytes(image: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG", compress_level=9)
    return buffer.getvalue()


def _star_radius(angle: np.ndarray, outer: float, inner: float, points: int = 5) -> np.ndarray:
    """Distance from the centre to the outline of a star with its first point straight up."""
    sector = np.pi / points
    shifted = np.mod(angle - np.pi / 2, 2 * sector)
    corner_a = np.stack([np.full_like(angle, outer), np.zeros_like(angle)], -1)
    corner_b = np.stack([inner * np.cos(sector), inner * np.sin(sector)], -1) * np.ones_like(
        corner_a
    )
    flip = shifted > sector  # mirror the second half of each point onto the first
    phi = np.where(flip, 2 * sector - shifted, shifted)
    direction = np.stack([np.cos(phi), np.sin(phi)], -1)
    edge = corner_b - corner_a
    numerator = corner_a[..., 0] * corner_b[..., 1] - corner_a[..., 1] * corner_b[..., 0]
    denominator = direction[..., 0] * edge[..., 1] - direction[..., 1] * edge[..., 0]
    return numerator / denominator


def _pixel_grid(
    width: int, height: int, rows: slice | None = None, columns: slice | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Normalised (u, v) sample positions, SUPERSAMPLE x SUPERSAMPLE per pixel, over the
    whole image or over a window of pixel rows and columns."""
    rows, columns = rows or slice(0, height), columns or slice(0, width)
    u = np.arange(columns.start * SUPERSAMPLE, columns.stop * SUPERSAMPLE)
    v = np.arange(rows.start * SUPERSAMPLE, rows.stop * SUPERSAMPLE)
    return np.meshgrid((u + 0.5) / (width * SUPERSAMPLE), (v + 0.5) / (height * SUPERSAMPLE))


def _pixel_span(span: tuple[float, float], size: int) -> slice:
    return slice(int(np.floor(span[0] * size)), int(np.ceil(span[1] * size)))


def _fill(shape: tuple[int, ...], colour: tuple[int, int, int]) -> np.ndarray:
    return np.broadcast_to(np.asarray(colour, np.float64), (*shape, 3)).copy()


def _paint(image: np.ndarray, mask: np.ndarray, colour: tuple[int, int, int]) -> None:
    image[mask] = colour


def _blend(image: np.ndarray, alpha: np.ndarray, colour: tuple[int, int, int]) -> None:
    image += alpha[..., None] * (np.asarray(colour, np.float64) - image)


def _downsample(image: np.ndarray) -> np.ndarray:
    h, w = image.shape[0] // SUPERSAMPLE, image.shape[1] // SUPERSAMPLE
    blocks = image.reshape(h, SUPERSAMPLE, w, SUPERSAMPLE, 3).mean(axis=(1, 3))
    return np.clip(np.round(blocks), 0, 255).astype(np.uint8)
