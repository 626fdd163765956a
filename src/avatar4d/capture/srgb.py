"""sRGB transfer functions (IEC 61966-2-1), as the renderer's shaders apply them."""

from __future__ import annotations

import numpy as np


def srgb_to_linear(encoded: np.ndarray) -> np.ndarray:
    """sRGB-encoded values in [0, 1] to linear light."""
    x = np.asarray(encoded, dtype=np.float64)
    return np.where(x <= 0.04045, x / 12.92, ((x + 0.055) / 1.055) ** 2.4)


def linear_to_srgb(linear: np.ndarray) -> np.ndarray:
    """Linear light in [0, 1] to sRGB-encoded values in [0, 1]."""
    x = np.clip(np.asarray(linear, dtype=np.float64), 0.0, 1.0)
    return np.where(x <= 0.0031308, x * 12.92, 1.055 * x ** (1.0 / 2.4) - 0.055)
