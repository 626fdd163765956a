"""Ground-truth renderer on tiny images: placement, colour, straight alpha, anti-aliasing."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from avatar4d.asset.posed_mesh import Material, PosedMesh, PosedPart
from avatar4d.capture.camera import Camera
from avatar4d.capture.gl_renderer import GroundTruthRenderer
from avatar4d.capture.lighting import Lighting
from avatar4d.capture.rig import look_at_c2w
from avatar4d.capture.srgb import linear_to_srgb, srgb_to_linear
from avatar4d.errors import InputError

SIZE = 32
FOCAL = 32.0
EYE_DISTANCE = 4.0  # a unit of world length at z = 0 spans 8 pixels
UNLIT = Lighting(ambient=1.0, lights=())


def make_renderer(**kwargs) -> GroundTruthRenderer:
    try:
        return GroundTruthRenderer(SIZE, SIZE, **kwargs)
    except InputError as error:
        pytest.skip(f"no OpenGL through EGL here: {error}")


@pytest.fixture(scope="module")
def lit_renderer():
    renderer = make_renderer(samples=4)
    yield renderer
    renderer.release()


@pytest.fixture(scope="module")
def unlit_renderer():
    renderer = make_renderer(samples=4, lighting=UNLIT)
    yield renderer
    renderer.release()


def camera(eye=(0.0, 0.0, EYE_DISTANCE), cx=SIZE / 2, cy=SIZE / 2) -> Camera:
    c2w = look_at_c2w(np.asarray(eye, dtype=np.float64), np.zeros(3))
    return Camera(c2w=c2w, width=SIZE, height=SIZE, fl_x=FOCAL, fl_y=FOCAL, cx=cx, cy=cy)


def quad(
    x0: float,
    x1: float,
    y0: float,
    y1: float,
    z: float = 0.0,
    color=(0.8, 0.4, 0.2, 1.0),
    texture: np.ndarray | None = None,
    alpha_mode: str = "OPAQUE",
) -> PosedPart:
    """An axis-aligned quad facing +Z; uv (0, 0) at its top-left corner as in glTF."""
    positions = np.array([[x0, y1, z], [x1, y1, z], [x1, y0, z], [x0, y0, z]], np.float32)
    uvs = np.array([[0, 0], [1, 0], [1, 1], [0, 1]], np.float32)
    material = Material(
        base_color_factor=np.asarray(color, np.float32), texture=texture, alpha_mode=alpha_mode
    )
    return PosedPart(
        positions=positions,
        normals=np.tile(np.float32([0, 0, 1]), (4, 1)),
        uvs=uvs,
        colors=None,
        indices=np.array([[0, 1, 2], [0, 2, 3]], np.uint32),
        material=material,
    )


def expected_srgb8(linear_rgb, normal) -> np.ndarray:
    lit = np.asarray(linear_rgb) * Lighting().irradiance(np.asarray(normal, dtype=np.float64))
    return np.round(linear_to_srgb(np.minimum(lit, 1.0)) * 255.0)


def opaque_box(image: np.ndarray) -> tuple[int, int, int, int]:
    rows, cols = np.nonzero(image[..., 3] == 255)
    return rows.min(), rows.max() + 1, cols.min(), cols.max() + 1


def test_quad_lands_where_the_intrinsics_say(lit_renderer):
    image = lit_renderer.render(PosedMesh([quad(-1, 1, -1, 1)]), camera())
    assert image.shape == (SIZE, SIZE, 4) and image.dtype == np.uint8
    # x, y in [-1, 1] at distance 4 with focal 32 -> pixels [8, 24) exactly on pixel edges.
    assert opaque_box(image) == (8, 24, 8, 24)
    assert set(np.unique(image[..., 3])) == {0, 255}


def test_principal_point_and_image_up(lit_renderer):
    # The upper-right quarter of the world quad; v grows downwards from the top of the image.
    image = lit_renderer.render(PosedMesh([quad(0, 1, 0, 1)]), camera(cx=12.0, cy=20.0))
    assert opaque_box(image) == (12, 20, 12, 20)


def test_background_is_transparent_black(lit_renderer):
    image = lit_renderer.render(PosedMesh([quad(-1, 1, -1, 1)]), camera())
    outside = np.ones((SIZE, SIZE), bool)
    outside[8:24, 8:24] = False
    assert not image[outside].any()
    empty = lit_renderer.render(PosedMesh([]), camera())
    assert not empty.any()


def test_lambert_colour_from_the_front_and_double_sided_from_behind(lit_renderer):
    base = (0.8, 0.4, 0.2)
    front = lit_renderer.render(PosedMesh([quad(-1, 1, -1, 1, color=(*base, 1))]), camera())
    expected_front = expected_srgb8(base, (0, 0, 1))
    np.testing.assert_allclose(front[16, 16, :3], expected_front, atol=1.0)
    back = lit_renderer.render(
        PosedMesh([quad(-1, 1, -1, 1, color=(*base, 1))]), camera(eye=(0, 0, -EYE_DISTANCE))
    )
    expected_back = expected_srgb8(base, (0, 0, -1))  # the normal is flipped toward the viewer
    np.testing.assert_allclose(back[16, 16, :3], expected_back, atol=1.0)
    assert back[16, 16, 3] == 255
    assert expected_back.sum() < expected_front.sum() - 30  # the two sides differ in lighting


def test_nearer_surface_wins_whatever_the_draw_order(lit_renderer):
    near = quad(-1, 1, -1, 1, z=1.0, color=(0.0, 0.0, 1.0, 1.0))
    far = quad(-1, 1, -1, 1, z=0.0, color=(1.0, 0.0, 0.0, 1.0))
    for parts in ([near, far], [far, near]):
        image = lit_renderer.render(PosedMesh(parts), camera())
        assert image[16, 16, 2] > 100 and image[16, 16, 0] == 0


def slanted_triangle(color=(0.1, 0.7, 0.3, 1.0)) -> PosedMesh:
    part = quad(-1.3, 1.1, -1.2, 1.25, color=color)
    return PosedMesh([dataclasses.replace(part, indices=part.indices[:1])])


def assert_antialiased_with_straight_alpha(image: np.ndarray) -> None:
    alpha = image[..., 3]
    edge = (alpha > 0) & (alpha < 255)
    assert edge.sum() >= 10, "anti-aliasing leaves partly covered pixels on a slanted edge"
    interior = image[alpha == 255][:, :3].astype(int)
    assert np.ptp(interior, axis=0).max() <= 1  # flat colour inside
    # Straight alpha: partly covered pixels carry the full surface colour, not a darker one.
    np.testing.assert_allclose(
        image[edge][:, :3], np.broadcast_to(interior[0], (edge.sum(), 3)), atol=2
    )


def test_supersampling_gives_partial_alpha_with_full_colour_on_edges(unlit_renderer):
    assert unlit_renderer.antialiasing == "supersampling"
    assert unlit_renderer.supersampling_factor == 2
    assert_antialiased_with_straight_alpha(unlit_renderer.render(slanted_triangle(), camera()))


def test_msaa_gives_partial_alpha_with_full_colour_on_edges():
    renderer = make_renderer(samples=4, lighting=UNLIT, antialiasing="msaa")
    try:
        if renderer.antialiasing != "msaa":
            pytest.skip("this OpenGL context has fewer than 4 MSAA samples")
        assert_antialiased_with_straight_alpha(renderer.render(slanted_triangle(), camera()))
    finally:
        renderer.release()


def test_msaa_and_supersampling_agree_inside_and_outside(unlit_renderer):
    renderer = make_renderer(samples=4, lighting=UNLIT, antialiasing="msaa")
    try:
        msaa = renderer.render(slanted_triangle(), camera()).astype(int)
    finally:
        renderer.release()
    supersampled = unlit_renderer.render(slanted_triangle(), camera()).astype(int)
    settled = (msaa[..., 3] % 255 == 0) & (supersampled[..., 3] % 255 == 0)
    np.testing.assert_allclose(msaa[settled], supersampled[settled], atol=1)
    assert np.abs(msaa[..., 3] - supersampled[..., 3]).max() <= 128  # sample patterns differ


def test_one_sample_means_hard_edges():
    renderer = make_renderer(samples=1, lighting=UNLIT)
    try:
        image = renderer.render(slanted_triangle(), camera())
        assert set(np.unique(image[..., 3])) == {0, 255}
    finally:
        renderer.release()


def four_colour_texture() -> np.ndarray:
    """4x4 sRGB texture made of 2x2 blocks: red, green / blue, grey (row 0 is the top)."""
    blocks = np.array(
        [[[200, 30, 30, 255], [30, 180, 60, 255]], [[40, 60, 220, 255], [128, 128, 128, 255]]],
        np.uint8,
    )
    return np.repeat(np.repeat(blocks, 2, axis=0), 2, axis=1)


def test_texture_texels_come_out_unchanged_without_lighting(unlit_renderer):
    texture = four_colour_texture()
    white = (1.0, 1.0, 1.0, 1.0)
    image = unlit_renderer.render(
        PosedMesh([quad(-1, 1, -1, 1, color=white, texture=texture)]), camera()
    )
    # Quad covers pixels [8, 24); each 2x2 texel block covers 8x8 pixels, sample block centres.
    for (row, col), texel in {
        (11, 11): texture[0, 0],
        (11, 20): texture[0, 3],
        (20, 11): texture[3, 0],
        (20, 20): texture[3, 3],
    }.items():
        # sRGB decode -> linear -> encode round-trips; a missing decode would turn 128 into 188.
        np.testing.assert_allclose(image[row, col], texel, atol=1)


def test_texture_is_multiplied_by_the_linear_factor(unlit_renderer):
    texture = four_colour_texture()
    part = quad(-1, 1, -1, 1, color=(0.5, 1.0, 0.25, 1.0), texture=texture)
    image = unlit_renderer.render(PosedMesh([part]), camera())
    grey_linear = srgb_to_linear(128 / 255)
    expected = np.round(linear_to_srgb(grey_linear * np.array([0.5, 1.0, 0.25])) * 255)
    np.testing.assert_allclose(image[20, 20, :3], expected, atol=1)


def test_alpha_mask_discards_transparent_texels(unlit_renderer):
    texture = four_colour_texture()
    texture[:2, :2, 3] = 0  # the red block is cut out
    part = quad(-1, 1, -1, 1, texture=texture, alpha_mode="MASK")
    image = unlit_renderer.render(PosedMesh([part]), camera())
    assert image[11, 11, 3] == 0
    assert image[20, 20, 3] == 255


def test_camera_of_another_size_is_a_programming_error(lit_renderer):
    wrong = Camera(c2w=np.eye(4), width=SIZE * 2, height=SIZE, fl_x=1, fl_y=1, cx=1, cy=1)
    with pytest.raises(ValueError, match="renderer is"):
        lit_renderer.render(PosedMesh([]), wrong)


def test_interleaved_renderers_each_draw_into_their_own_context(unlit_renderer):
    textured = PosedMesh([quad(-1, 1, -1, 1, color=(1, 1, 1, 1), texture=four_colour_texture())])
    before = unlit_renderer.render(textured, camera())
    other = make_renderer(samples=1, lighting=UNLIT)
    try:
        hard_edged = other.render(slanted_triangle(), camera())
        np.testing.assert_array_equal(unlit_renderer.render(textured, camera()), before)
        np.testing.assert_array_equal(other.render(slanted_triangle(), camera()), hard_edged)
    finally:
        other.release()
    np.testing.assert_array_equal(unlit_renderer.render(textured, camera()), before)
