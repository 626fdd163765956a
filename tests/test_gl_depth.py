"""View depth from the ground-truth renderer: known geometry, both anti-aliasing methods."""

from __future__ import annotations

import numpy as np
import pytest
from test_gl_renderer import (
    EYE_DISTANCE,
    FOCAL,
    SIZE,
    UNLIT,
    camera,
    make_renderer,
    quad,
    slanted_triangle,
)

from avatar4d.asset.posed_mesh import PosedMesh, PosedPart
from avatar4d.capture.gl_renderer import GroundTruthRenderer

METHODS = ("supersampling", "msaa")


@pytest.fixture(scope="module", params=METHODS)
def renderer(request):
    renderer = make_renderer(samples=4, lighting=UNLIT, antialiasing=request.param)
    if renderer.antialiasing != request.param:
        renderer.release()
        pytest.skip(f"this OpenGL context cannot do 4x {request.param}")
    yield renderer
    renderer.release()


def render_depth(renderer: GroundTruthRenderer, *parts: PosedPart) -> tuple[np.ndarray, ...]:
    return renderer.render_with_depth(PosedMesh(list(parts)), camera())


def test_quad_facing_the_camera_has_its_distance_inside_and_zero_outside(renderer):
    rgba, depth = render_depth(renderer, quad(-1, 1, -1, 1, z=0.5))
    assert depth.shape == (SIZE, SIZE) and depth.dtype == np.float32
    # At distance 3.5 the quad spans 16 +- 32/3.5 pixels: [6.86, 25.14].
    np.testing.assert_allclose(depth[7:25, 7:25], EYE_DISTANCE - 0.5, rtol=1e-5)
    covered = np.zeros((SIZE, SIZE), bool)
    covered[6:26, 6:26] = True
    assert not depth[~covered].any()
    assert ((depth > 0) == (rgba[..., 3] > 0)).all()  # depth exactly where the image has alpha


def test_silhouette_pixels_hold_the_surface_depth_not_a_blend_with_background(renderer):
    rgba, depth = render_depth(renderer, *slanted_triangle().parts)
    alpha = rgba[..., 3]
    edge = (alpha > 0) & (alpha < 255)
    assert edge.sum() >= 10
    np.testing.assert_allclose(depth[edge], EYE_DISTANCE, rtol=1e-5)
    assert not depth[alpha == 0].any()


def test_pixels_on_an_occluding_edge_lie_between_the_two_depths(renderer):
    near = quad(-1, 1, -0.5, 0.5, z=1.0)  # depth 3: columns [5.33, 26.67], rows [10.67, 21.33]
    far = quad(-2, 2, -2, 2, z=-1.0)  # depth 5, behind it everywhere
    _, depth = render_depth(renderer, near, far)
    np.testing.assert_allclose(depth[12:20, 7:25], 3.0, rtol=1e-5)
    np.testing.assert_allclose(depth[12:20, 27], 5.0, rtol=1e-5)
    for column in (5, 26):  # two thirds and one third covered by the near quad
        edge = depth[12:20, column]
        assert ((edge > 3.0 + 1e-3) & (edge < 5.0 - 1e-3)).all(), edge


def test_depth_of_a_tilted_plane_follows_the_perspective_ray(renderer):
    # The plane z = 0.5 x, seen from (0, 0, 4): the ray through pixel column u meets it at
    # depth 4 / (1 + 0.5 (u - cx) / f), which varies along the row.
    tilted = quad(-1.5, 1.5, -1, 1)
    tilted.positions[:, 2] = 0.5 * tilted.positions[:, 0]
    rgba, depth = render_depth(renderer, tilted)
    columns = np.arange(SIZE) + 0.5
    expected = EYE_DISTANCE / (1.0 + 0.5 * (columns - SIZE / 2) / FOCAL)
    inside = rgba[16, :, 3] == 255
    assert inside.sum() >= 16
    if renderer.antialiasing == "msaa":
        # MSAA shades once per triangle and pixel, at a point of the pixel that the triangle
        # covers (centroid sampling; the driver chooses it), so a pixel that the quad's diagonal
        # splits may be off by up to half a pixel's change in depth (seen on NVIDIA).
        tolerance = 0.5 * np.abs(np.gradient(expected))
    else:
        tolerance = 1e-4 * expected
    error = np.abs(depth[16] - expected)
    assert (error[inside] <= tolerance[inside]).all(), error[inside]
    assert depth[16, inside][0] > depth[16, inside][-1] + 1.0  # the left side is farther


def test_colour_of_render_with_depth_is_exactly_render(renderer):
    mesh = PosedMesh([quad(-1, 1, -0.5, 0.5, z=1.0), *slanted_triangle().parts])
    rgba, _ = renderer.render_with_depth(mesh, camera())
    np.testing.assert_array_equal(rgba, renderer.render(mesh, camera()))
    empty_rgba, empty_depth = renderer.render_with_depth(PosedMesh([]), camera())
    assert not empty_rgba.any() and not empty_depth.any()


def test_one_sample_gives_hard_edged_depth():
    renderer = make_renderer(samples=1, lighting=UNLIT)
    try:
        rgba, depth = render_depth(renderer, *slanted_triangle().parts)
        assert set(np.unique(depth)) == {0.0, np.float32(EYE_DISTANCE)}
        assert ((depth > 0) == (rgba[..., 3] > 0)).all()
    finally:
        renderer.release()
