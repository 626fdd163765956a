"""The rasterize() interface: backend choice, input checks, output and info layout."""

from __future__ import annotations

import pytest
import torch

from avatar4d.raster import Cameras, rasterize
from avatar4d.raster.api import resolve_backend


def _inputs(count: int = 3) -> dict[str, torch.Tensor]:
    generator = torch.Generator().manual_seed(0)
    return {
        "means": torch.rand(count, 3, generator=generator) * 0.4 - 0.2,
        "quats": torch.randn(count, 4, generator=generator),
        "scales": torch.full((count, 3), 0.05),
        "opacities": torch.full((count,), 0.7),
        "colors": torch.rand(count, 3, generator=generator),
    }


def _cameras(count: int = 2) -> Cameras:
    c2w = torch.eye(4).repeat(count, 1, 1)
    c2w[:, 2, 3] = torch.arange(count) + 2.0  # on +z, looking down -z at the origin
    return Cameras(c2w, fl_x=30.0, fl_y=30.0, cx=12.0, cy=8.0, width=24, height=16)


def test_auto_picks_gsplat_only_on_cuda() -> None:
    assert resolve_backend("auto", torch.device("cpu")) == "reference"
    assert resolve_backend("auto", torch.device("cuda", 0)) == "gsplat"
    assert resolve_backend("gsplat", torch.device("cpu")) == "gsplat"
    with pytest.raises(ValueError, match="unknown rasteriser backend"):
        resolve_backend("tiles", torch.device("cpu"))  # type: ignore[arg-type]


def test_output_and_info_layout() -> None:
    out = rasterize(**_inputs(), cameras=_cameras(), background=torch.zeros(3))
    assert out.rgb.shape == (2, 16, 24, 3) and out.alpha.shape == (2, 16, 24, 1)
    assert out.rgb.dtype == torch.float32
    info = out.info
    assert info["means2d"].shape == (2, 3, 2) and info["radii"].shape == (2, 3, 2)
    assert info["radii"].dtype == torch.int32 and (info["radii"] > 0).all()
    assert info["depths"].shape == (2, 3) and info["conics"].shape == (2, 3, 3)
    assert (info["width"], info["height"], info["n_cameras"]) == (24, 16, 2)
    assert info["gaussian_ids"] is None
    # The nearer camera sees the same Gaussians bigger.
    assert (info["radii"][0] >= info["radii"][1]).all()
    assert out.alpha[0].sum() > out.alpha[1].sum()


@pytest.mark.parametrize(
    ("name", "bad_shape"),
    [("means", (3, 2)), ("quats", (3, 3)), ("opacities", (3, 1)), ("colors", (2, 3))],
)
def test_wrong_shapes_are_refused(name: str, bad_shape: tuple[int, ...]) -> None:
    inputs = _inputs()
    inputs[name] = torch.zeros(bad_shape)
    with pytest.raises(ValueError, match=name):
        rasterize(**inputs, cameras=_cameras(), background=torch.zeros(3))


def test_cameras_refuse_mismatched_intrinsics() -> None:
    with pytest.raises(ValueError, match=r"fl_x must be one number or \(2,\)"):
        Cameras(torch.eye(4)[None].repeat(2, 1, 1), torch.ones(1), 1.0, 4.0, 4.0, 8, 8)


def test_per_camera_batch_matches_one_call_per_camera() -> None:
    from avatar4d.raster.api import rasterize_per_camera

    cameras = _cameras(3)
    frames = [_inputs(4) for _ in range(3)]
    for shift, frame in enumerate(frames):
        frame["means"] = frame["means"] + 0.05 * shift  # each camera sees other Gaussians
    stacked = {name: torch.stack([f[name] for f in frames]) for name in frames[0]}
    background = torch.tensor([0.2, 0.5, 0.9])
    batch = rasterize_per_camera(
        stacked["means"], stacked["quats"], stacked["scales"], stacked["opacities"],
        stacked["colors"], cameras, background,
    )  # fmt: skip
    assert batch.rgb.shape == (3, 16, 24, 3) and batch.alpha.shape == (3, 16, 24, 1)
    for c, frame in enumerate(frames):
        one = rasterize(
            **frame,
            cameras=cameras[c],
            background=background,
        )
        assert torch.allclose(batch.rgb[c], one.rgb[0], atol=1e-6)
        assert torch.allclose(batch.alpha[c], one.alpha[0], atol=1e-6)
    assert float((batch.rgb[0] - batch.rgb[2]).abs().max()) > 0.01  # they did differ
    with pytest.raises(ValueError, match="leading axis of 3"):
        rasterize_per_camera(
            stacked["means"], stacked["quats"][:2], stacked["scales"], stacked["opacities"],
            stacked["colors"], cameras, background,
        )  # fmt: skip


def test_depth_is_the_blended_camera_space_depth() -> None:
    # Two opaque-ish Gaussians straight ahead of a camera at z = 2 looking down -z: one at
    # world z = 0.5 (depth 1.5), a wide one behind it at z = -1 (depth 3).
    inputs = {
        "means": torch.tensor([[0.0, 0.0, 0.5], [0.0, 0.0, -1.0]]),
        "quats": torch.tensor([[1.0, 0.0, 0.0, 0.0]] * 2),
        "scales": torch.tensor([[0.02] * 3, [0.5] * 3]),
        "opacities": torch.tensor([0.6, 0.9]),
        "colors": torch.rand(2, 3),
    }
    c2w = torch.eye(4)[None].clone()
    c2w[0, 2, 3] = 2.0
    cameras = Cameras(c2w, fl_x=30.0, fl_y=30.0, cx=12.5, cy=8.5, width=24, height=16)  # (12, 8)
    out = rasterize(**inputs, cameras=cameras, background=torch.zeros(3), with_depth=True)
    plain = rasterize(**inputs, cameras=cameras, background=torch.zeros(3))
    assert out.depth is not None and out.depth.shape == (1, 16, 24, 1)
    assert torch.equal(out.rgb, plain.rgb) and torch.equal(out.alpha, plain.alpha)
    expected = out.expected_depth()
    centre = expected[0, 8, 12, 0].item()
    # Both centres project onto that pixel's centre: front weight 0.6, back 0.4 * 0.9.
    front, back = 0.6, 0.4 * 0.9
    assert abs(centre - (front * 1.5 + back * 3.0) / (front + back)) < 1e-4
    corner = expected[0, 0, 0, 0].item()  # only the wide back Gaussian reaches the corner
    assert abs(corner - 3.0) < 1e-4
    assert plain.depth is None
    with pytest.raises(ValueError, match="without depth"):
        plain.expected_depth()
