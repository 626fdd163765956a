"""Shading that turns with the motion (``--shading lambert``).

A character lit by lights fixed in the world (as the grid's are) changes brightness where a
part turns: a limb facing the light at one time faces away at another. A colour fixed per
Gaussian cannot follow that (docs/benchmarks.md, "Held-out times": with the exact motion,
fixed colours alone cap RobotExpressive Dance at 40.9 dB). Here each Gaussian carries an
albedo (its ``colors``) and a unit normal in the canonical pose (``normals``); at time t the
normal turns with the Gaussian's rotation since the canonical pose, and the colour is

    rgb_t = albedo * E(R_t n),    E(n) = max(0, sum_k c_k Y_k(n)) per colour channel,

with E the light arriving from every direction as a second-order polynomial in the normal
(the nine functions of ``irradiance_basis``: a close approximation of the diffuse light from
any fixed set of distant lights; the grid's three fit within 0.09), its coefficients
``light_irradiance`` (3, 9) shared by all Gaussians and learned with them. At the start E is
1 everywhere, so the colours are exactly the fixed ones.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import torch

from avatar4d.model.deformation import Deformation, GaussiansAtTime
from avatar4d.model.gaussians import f_dc_to_rgb, rgb_to_f_dc
from avatar4d.raster.quaternions import rotate_vectors

NORMALS_KEY = "normals"  # (N, 3) per Gaussian, canonical pose, any length
LIGHT_KEY = "light_irradiance"  # (3, 9) shared: one row of coefficients per colour channel
BASIS_SIZE = 9
SHADINGS = ("static", "lambert")


def irradiance_basis(normals: torch.Tensor) -> torch.Tensor:
    """(..., 3) unit normals -> (..., 9): 1, x, y, z, xy, yz, xz, x^2 - y^2, 3 z^2 - 1."""
    x, y, z = normals.unbind(-1)
    return torch.stack(
        (torch.ones_like(x), x, y, z, x * y, y * z, x * z, x * x - y * y, 3.0 * z * z - 1.0),
        dim=-1,
    )


def irradiance(light: torch.Tensor, normals: torch.Tensor) -> torch.Tensor:
    """(3, 9) coefficients, (..., 3) unit normals -> (..., 3) light per channel, >= 0."""
    return (irradiance_basis(normals) @ light.T).clamp_min(0.0)


def initial_normals(means: torch.Tensor) -> torch.Tensor:
    """Pointing away from the points' centroid: right on the outside of a convex shape, and a
    start the images correct elsewhere."""
    outward = means - means.mean(dim=0)
    length = outward.norm(dim=-1, keepdim=True)
    fallback = torch.zeros_like(outward)
    fallback[:, 1] = 1.0
    return torch.where(length > 1e-8, outward / length.clamp_min(1e-8), fallback)


def initial_light(like: torch.Tensor) -> torch.Tensor:
    light = torch.zeros(3, BASIS_SIZE, dtype=like.dtype, device=like.device)
    light[:, 0] = 1.0
    return light


@dataclass(frozen=True)
class ShadedDeformation:
    """A deformation whose posed colours are shaded along the turned normals."""

    inner: Deformation

    def initial_points(self, count: int, generator: torch.Generator) -> torch.Tensor | None:
        return self.inner.initial_points(count, generator)

    def init_motion(self, means: torch.Tensor) -> dict[str, torch.Tensor]:
        motion = self.inner.init_motion(means)
        # A motion model that knows the surface (the rig's triangles) starts the normals there.
        surface_normals = getattr(self.inner, "surface_normals", None)
        normals = initial_normals(means) if surface_normals is None else surface_normals(motion)
        return {**motion, NORMALS_KEY: normals, LIGHT_KEY: initial_light(means)}

    def deform(self, params: dict[str, torch.Tensor], t: float) -> GaussiansAtTime:
        return shade(params, self.inner.deform(params, t))

    def deform_many(self, params: dict[str, torch.Tensor], times: list[float]) -> GaussiansAtTime:
        return shade(params, self.inner.deform_many(params, times))

    def smoothness(self, params: dict[str, torch.Tensor], length_scale: float) -> torch.Tensor:
        return self.inner.smoothness(params, length_scale)

    def refresh(self, params: dict[str, torch.Tensor]) -> None:
        self.inner.refresh(params)


def shade(params: dict[str, torch.Tensor], posed: GaussiansAtTime) -> GaussiansAtTime:
    """``posed`` with its colours lit along each Gaussian's normal at that time."""
    if posed.rotation_since_canonical is None:
        raise ValueError("shading needs each Gaussian's rotation since the canonical pose")
    normals = torch.nn.functional.normalize(params[NORMALS_KEY], dim=-1, eps=1e-8)
    turned = rotate_vectors(posed.rotation_since_canonical, normals)
    lit = f_dc_to_rgb(posed.f_dc) * irradiance(params[LIGHT_KEY], turned)
    return replace(posed, f_dc=rgb_to_f_dc(lit))
