"""Fixed world-space lighting for ground truth: ambient plus Lambert lights, no specular.

The lights are fixed in the world (Y up, the character faces +Z), not to the camera, so a
surface point has the same colour from every view: something a 4D Gaussian model can learn.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

MAX_LIGHTS = 4  # the shader's array size


@dataclass(frozen=True)
class DirectionalLight:
    towards_light: tuple[float, float, float]  # world direction from the surface to the light
    intensity: float

    def unit_direction(self) -> np.ndarray:
        direction = np.asarray(self.towards_light, dtype=np.float64)
        return direction / np.linalg.norm(direction)


def _default_lights() -> tuple[DirectionalLight, ...]:
    return (
        DirectionalLight((0.5, 0.8, 0.9), 0.6),  # key: front, above, a little to the right
        DirectionalLight((-0.8, 0.2, 0.4), 0.25),  # fill: the other side, lower
        DirectionalLight((0.0, 0.5, -1.0), 0.25),  # rim: from behind
    )


@dataclass(frozen=True)
class Lighting:
    ambient: float = 0.35
    lights: tuple[DirectionalLight, ...] = field(default_factory=_default_lights)

    def __post_init__(self) -> None:
        if len(self.lights) > MAX_LIGHTS:
            raise ValueError(f"at most {MAX_LIGHTS} lights, got {len(self.lights)}")

    def irradiance(self, normal: np.ndarray) -> float:
        """Light reaching a surface with this unit world normal (what the shader computes)."""
        total = self.ambient
        for light in self.lights:
            total += light.intensity * max(0.0, float(np.dot(normal, light.unit_direction())))
        return total
