"""Gradients of the reference rasteriser: autograd against finite differences (float64)."""

from __future__ import annotations

import dataclasses

import torch

from avatar4d.raster import Cameras, rasterize
from avatar4d.raster.compositing import composite
from avatar4d.raster.projection import ProjectedGaussians

DTYPE = torch.float64
WIDTH, HEIGHT = 12, 10


def _tiny_scene(seed: int = 3) -> dict[str, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)

    def rand(*shape: int) -> torch.Tensor:
        return torch.rand(*shape, generator=generator, dtype=DTYPE)

    count = 4
    return {
        "means": (rand(count, 3) - 0.5) * torch.tensor([0.8, 0.6, 0.5], dtype=DTYPE)
        + torch.tensor([0.0, 0.0, 3.0], dtype=DTYPE),
        "quats": torch.randn(count, 4, generator=generator, dtype=DTYPE),
        "scales": rand(count, 3) * 0.15 + 0.08,
        "opacities": rand(count) * 0.6 + 0.3,
        "colors": rand(count, 3),
    }


def _two_cameras() -> Cameras:
    viewmats = torch.eye(4, dtype=DTYPE).repeat(2, 1, 1)  # OpenCV world-to-camera
    angle = torch.tensor(0.2, dtype=DTYPE)  # second camera turned a little about y
    viewmats[1, 0, 0], viewmats[1, 0, 2] = torch.cos(angle), torch.sin(angle)
    viewmats[1, 2, 0], viewmats[1, 2, 2] = -torch.sin(angle), torch.cos(angle)
    viewmats[1, 0, 3] = 0.1
    flip_y_z = torch.diag(torch.tensor([1.0, -1.0, -1.0, 1.0], dtype=DTYPE))
    c2w = torch.linalg.inv(viewmats) @ flip_y_z  # OpenGL camera-to-world of the same view
    fl_x = torch.tensor([14.0, 16.0])
    cameras = Cameras(c2w, fl_x, 15.0, WIDTH / 2, HEIGHT / 2 + 0.3, width=WIDTH, height=HEIGHT)
    torch.testing.assert_close(cameras.viewmats, viewmats)  # the OpenGL pose is the same view
    return cameras


def test_gradcheck_with_respect_to_every_input() -> None:
    scene = _tiny_scene()
    cameras = _two_cameras()
    background = torch.tensor([0.2, 0.4, 0.6], dtype=DTYPE)
    names = ["means", "quats", "scales", "opacities", "colors"]
    inputs = tuple(scene[name].clone().requires_grad_() for name in names)

    # A few random projections of the images: each costs one backward, not one per pixel.
    projections = torch.rand(4, 2, HEIGHT, WIDTH, 4, generator=torch.Generator().manual_seed(1))
    projections = projections.to(DTYPE)

    def render(*tensors: torch.Tensor) -> torch.Tensor:
        out = rasterize(*tensors, cameras=cameras, background=background, backend="reference")
        images = torch.cat([out.rgb, out.alpha], dim=-1)
        return (projections * images).flatten(1).sum(1)

    alpha = rasterize(*inputs, cameras=cameras, background=background).alpha
    assert (alpha > 0.5).any() and (alpha == 0).any(), "the scene should cover part of the image"
    assert torch.autograd.gradcheck(render, inputs, eps=1e-6, atol=1e-6, rtol=1e-4)


def test_means2d_gradient_is_the_image_plane_gradient() -> None:
    scene = _tiny_scene()
    cameras = _two_cameras()
    background = torch.tensor([0.2, 0.4, 0.6], dtype=DTYPE)
    weights = torch.rand(2, HEIGHT, WIDTH, 3, generator=torch.Generator().manual_seed(0))
    weights = weights.to(DTYPE)
    scene = {name: tensor.requires_grad_() for name, tensor in scene.items()}

    out = rasterize(**scene, cameras=cameras, background=background, backend="reference")
    info = out.info
    info["means2d"].retain_grad()  # as gsplat's DefaultStrategy.step_pre_backward does
    (out.rgb * weights).sum().backward()
    analytic = info["means2d"].grad
    assert analytic is not None and analytic.shape == (2, 4, 2)

    projected = ProjectedGaussians(
        means2d=info["means2d"].detach(),
        conics=info["conics"].detach(),
        depths=info["depths"].detach(),
        radii=info["radii"],
    )
    opacities, colors = scene["opacities"].detach(), scene["colors"].detach()

    def loss_at(means2d: torch.Tensor) -> float:
        rgb, _ = composite(
            dataclasses.replace(projected, means2d=means2d),
            opacities,
            colors,
            background,
            WIDTH,
            HEIGHT,
        )
        return float((rgb * weights).sum())

    step = 1e-5
    numeric = torch.zeros_like(analytic)
    visible = torch.nonzero((info["radii"] > 0).all(-1)).tolist()
    assert len(visible) >= 6
    for camera, gaussian in visible:
        for axis in range(2):
            shifted = projected.means2d.clone()
            shifted[camera, gaussian, axis] += step
            forward = loss_at(shifted)
            shifted[camera, gaussian, axis] -= 2 * step
            numeric[camera, gaussian, axis] = (forward - loss_at(shifted)) / (2 * step)
    assert numeric.abs().max() > 0.05
    torch.testing.assert_close(analytic, numeric, rtol=1e-6, atol=1e-8)
