"""Colours of the demo character, chosen in sRGB (as painted) and converted for glTF."""

from __future__ import annotations

import numpy as np

# sRGB 0-255, as they appear on screen.
SKIN = (240, 192, 158)
CHEEK = (238, 140, 135)
HAIR = (92, 56, 36)
SHIRT = (38, 132, 156)
SHIRT_STRIPE = (132, 206, 214)
SHIRT_STAR = (252, 206, 72)
TROUSERS = (50, 58, 108)
SHOES = (166, 58, 40)
SOLES = (236, 232, 222)
EYE_WHITE = (250, 250, 246)
IRIS = (70, 110, 60)
PUPIL = (28, 22, 20)
MOUTH = (116, 28, 40)
TONGUE = (222, 104, 112)
EYELID = (226, 172, 138)


def srgb_to_linear(rgb: tuple[int, int, int] | np.ndarray) -> np.ndarray:
    """sRGB 0-255 -> linear 0-1 (glTF base colour factors and COLOR_0 are linear)."""
    c = np.asarray(rgb, np.float64) / 255.0
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def linear_rgba(rgb: tuple[int, int, int]) -> tuple[float, float, float, float]:
    r, g, b = (round(float(v), 6) for v in srgb_to_linear(rgb))
    return (r, g, b, 1.0)
