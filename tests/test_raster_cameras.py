"""Camera conventions: OpenGL camera-to-world in, OpenCV world-to-camera out."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from avatar4d.capture.camera import Camera
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


def _three_cameras(dtype: torch.dtype = torch.float32) -> Cameras:
    c2w = torch.eye(4, dtype=dtype).repeat(3, 1, 1)
    c2w[:, :3, 3] = torch.tensor([[0.0, 0.0, 3.0], [1.0, 2.0, 3.0], [-2.0, 0.5, 1.0]])
    focal = torch.tensor([40.0, 50.0, 60.0])
    return Cameras(c2w, focal, focal + 1, torch.tensor([10.0, 11.0, 12.0]), 8.0, 24, 16)


def test_selecting_cameras_keeps_the_batch_axis_and_their_values() -> None:
    cameras = _three_cameras()
    one = cameras[1]
    assert len(one) == 1 and (one.width, one.height) == (24, 16)
    assert one.c2w.shape == (1, 4, 4) and one.fl_x.tolist() == [50.0]
    assert cameras[-1].cx.tolist() == [12.0] and cameras[-3].cx.tolist() == [10.0]
    with pytest.raises(IndexError, match="camera 3 of 3"):
        cameras[3]
    picked = cameras[torch.tensor([2, 0])]
    assert picked.fl_y.tolist() == [61.0, 41.0] and picked.cy.tolist() == [8.0, 8.0]
    torch.testing.assert_close(picked.Ks, cameras.Ks[[2, 0]])
    torch.testing.assert_close(cameras[[0, 2]].viewmats, cameras.viewmats[[0, 2]])


def test_matrices_derived_once_are_carried_through_selection_and_moves() -> None:
    cameras = _three_cameras()
    viewmats = cameras.viewmats  # derived now, for the whole batch
    assert cameras.viewmats is viewmats
    assert torch.equal(cameras[1].viewmats, viewmats[1:2])
    assert cameras[1:].viewmats.data_ptr() == viewmats[1:].data_ptr()  # a view, not derived again
    as_double = cameras.to("cpu", torch.float64)
    assert as_double.c2w.dtype == as_double.viewmats.dtype == as_double.fl_x.dtype == torch.float64
    torch.testing.assert_close(as_double.viewmats, viewmats.double())
    fresh = Cameras(cameras.c2w, cameras.fl_x, cameras.fl_y, cameras.cx, cameras.cy, 24, 16)
    torch.testing.assert_close(fresh.viewmats, viewmats)


def test_cameras_from_frames_of_one_image_size() -> None:
    frames = [
        Camera(np.eye(4), width=20, height=10, fl_x=30.0, fl_y=31.0, cx=10.0, cy=5.0),
        Camera(2 * np.eye(4), width=20, height=10, fl_x=32.0, fl_y=33.0, cx=9.0, cy=4.0),
    ]
    cameras = Cameras.from_frames(frames)
    assert cameras.c2w.dtype == torch.float32 and torch.equal(cameras.c2w[1], 2 * torch.eye(4))
    assert cameras.fl_x.tolist() == [30.0, 32.0] and cameras.cy.tolist() == [5.0, 4.0]
    assert (len(cameras), cameras.width, cameras.height) == (2, 20, 10)
    other = Camera(np.eye(4), width=21, height=10, fl_x=30.0, fl_y=30.0, cx=10.0, cy=5.0)
    with pytest.raises(ValueError, match=r"one image size.*\(20, 10\), \(21, 10\)"):
        Cameras.from_frames([*frames, other])


@pytest.mark.parametrize(
    ("c2w", "width", "match"),
    [
        (torch.eye(3), 8, r"c2w must be \(N, 4, 4\), got \(3, 3\)"),
        (torch.eye(4)[None, None], 8, r"c2w must be \(N, 4, 4\), got \(1, 1, 4, 4\)"),
        (torch.eye(4), 0, "image size must be positive, got 0x8"),
    ],
)
def test_malformed_cameras_are_refused(c2w: torch.Tensor, width: int, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        Cameras(c2w, 10.0, 10.0, 4.0, 4.0, width, 8)
