"""Camera conventions: OpenGL camera-to-world in, OpenCV world-to-camera out."""

from __future__ import annotations

import math

import torch

from avatar4d.raster import Cameras, rasterize


def _look_at_c2w(eye: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """OpenGL camera-to-world: the camera looks down its -Z at target, world +Y roughly up."""
    back = (eye - target) / (eye - target).norm()
    right = torch.linalg.cross(torch.tensor([0.0, 1.0, 0.0], dtype=eye.dtype), back)
    right = right / right.norm()
    up = torch.linalg.cross(back, right)
    c2w = torch.eye(4, dtype=eye.dtype)
    c2w[:3, 0], c2w[:3, 1], c2w[:3, 2], c2w[:3, 3] = right, up, back, eye
    return c2w


def test_identity_pose_flips_y_and_z() -> None:
    cameras = Cameras(torch.eye(4), fl_x=50.0, fl_y=60.0, cx=16.0, cy=12.0, width=32, height=24)
    torch.testing.assert_close(cameras.viewmats[0], torch.diag(torch.tensor([1.0, -1, -1, 1])))
    expected_K = torch.tensor([[50.0, 0.0, 16.0], [0.0, 60.0, 12.0], [0.0, 0.0, 1.0]])
    torch.testing.assert_close(cameras.Ks[0], expected_K)
    assert (cameras.width, cameras.height, len(cameras)) == (32, 24, 1)


def test_per_camera_intrinsics() -> None:
    c2w = torch.eye(4).expand(2, 4, 4)
    fl = torch.tensor([40.0, 80.0])
    cameras = Cameras(c2w, fl, fl, 10.0, torch.tensor([7.0, 9.0]), width=20, height=18)
    torch.testing.assert_close(cameras.Ks[:, 0, 0], fl)
    torch.testing.assert_close(cameras.Ks[:, 1, 2], torch.tensor([7.0, 9.0]))


def test_point_in_front_of_opengl_camera_lands_on_the_intrinsics_pixel() -> None:
    dtype = torch.float64
    eye = torch.tensor([2.0, 1.5, 3.0], dtype=dtype)
    c2w = _look_at_c2w(eye, target=torch.tensor([0.0, 0.5, 0.0], dtype=dtype))
    fl_x, fl_y, cx, cy, width, height = 70.0, 65.0, 20.0, 15.0, 40, 30
    cameras = Cameras(c2w, fl_x=fl_x, fl_y=fl_y, cx=cx, cy=cy, width=width, height=height)

    # Camera-space point in OpenGL terms: right 0.3, up 0.2, 4 units in front (z = -4).
    local = torch.tensor([0.3, 0.2, -4.0, 1.0], dtype=dtype)
    world = (c2w @ local)[:3]
    expected_u = cx + fl_x * 0.3 / 4.0  # x right stays right
    expected_v = cy - fl_y * 0.2 / 4.0  # +Y up in OpenGL is towards row 0 in the image
    camera_point = cameras.viewmats[0, :3, :3] @ world + cameras.viewmats[0, :3, 3]
    torch.testing.assert_close(camera_point, torch.tensor([0.3, -0.2, 4.0], dtype=dtype))

    out = rasterize(
        means=world[None],
        quats=torch.tensor([[1.0, 0.0, 0.0, 0.0]], dtype=dtype),
        scales=torch.full((1, 3), 0.01, dtype=dtype),
        opacities=torch.tensor([0.9], dtype=dtype),
        colors=torch.ones(1, 3, dtype=dtype),
        cameras=cameras,
        background=torch.zeros(3, dtype=dtype),
    )
    torch.testing.assert_close(
        out.info["means2d"][0, 0], torch.tensor([expected_u, expected_v], dtype=dtype)
    )
    brightest = int(out.alpha[0, ..., 0].argmax())
    assert (brightest % width, brightest // width) == (
        math.floor(expected_u),
        math.floor(expected_v),
    )
    torch.testing.assert_close(out.info["depths"][0, 0], torch.tensor(4.0, dtype=dtype))
