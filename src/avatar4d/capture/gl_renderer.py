"""Ground-truth rendering of a posed mesh with OpenGL (moderngl on a headless EGL context).

Output: (H, W, 4) uint8 RGBA, sRGB colour with STRAIGHT alpha on a transparent background,
anti-aliased by supersampling (box filter) or MSAA, `samples` per pixel or more;
``render_with_depth`` adds the (H, W) float32 view depth of the visible surface (gl_depth.py).
The colour pipeline is described in gl_shaders.py. One renderer keeps one context, its buffers and
its uploaded textures for many frames.
"""

from __future__ import annotations

import math

import numpy as np

from avatar4d.asset.posed_mesh import PosedMesh, PosedPart
from avatar4d.capture.camera import Camera
from avatar4d.capture.gl_depth import DepthTargets
from avatar4d.capture.gl_shaders import (
    FINISH_FRAGMENT,
    FULLSCREEN_VERTEX,
    SURFACE_FRAGMENT,
    SURFACE_VERTEX,
)
from avatar4d.capture.lighting import MAX_LIGHTS, Lighting
from avatar4d.errors import InputError

GL_SRGB8_ALPHA8 = 0x8C43
VERTEX_FORMAT = "3f 3f 2f 4f"  # position, normal, uv, colour (linear RGBA)
VERTEX_ATTRIBUTES = ("in_position", "in_normal", "in_uv", "in_color")
ANTIALIASING_METHODS = ("supersampling", "msaa")
NEAR_FAR_MARGIN = 0.05  # relative padding of the depth range around the mesh


def projection_from_intrinsics(camera: Camera, near: float, far: float) -> np.ndarray:
    """OpenGL clip-from-camera matrix that puts a camera-space point on pixel (u, v).

    u = cx + fl_x * x / -z, v = cy - fl_y * y / -z (v counted from the top of the image).
    """
    w, h = camera.width, camera.height
    projection = np.zeros((4, 4))
    projection[0, 0] = 2.0 * camera.fl_x / w
    projection[0, 2] = 1.0 - 2.0 * camera.cx / w
    projection[1, 1] = 2.0 * camera.fl_y / h
    projection[1, 2] = 2.0 * camera.cy / h - 1.0
    projection[2, 2] = -(far + near) / (far - near)
    projection[2, 3] = -2.0 * far * near / (far - near)
    projection[3, 2] = -1.0
    return projection


def view_depth_range(mesh: PosedMesh, camera: Camera) -> tuple[float, float] | None:
    """Near and far planes that enclose the mesh, or None when it is all behind the camera."""
    positions = mesh.all_positions().astype(np.float64)
    if len(positions) == 0:
        return None
    forward = -camera.c2w[:3, 2]
    depths = (positions - camera.position) @ forward
    farthest = float(depths.max())
    if farthest <= 0.0:
        return None
    far = farthest * (1.0 + NEAR_FAR_MARGIN)
    near = max(float(depths.min()) * (1.0 - NEAR_FAR_MARGIN), far * 1e-4)
    return near, far


def load_triton_before_mesa() -> None:
    """Import Triton (PyTorch's kernel compiler) now if it is installed.

    Triton and Mesa's llvmpipe each carry their own LLVM. Importing Triton after llvmpipe
    has loaded its LLVM crashes the process (segmentation fault), and PyTorch imports Triton
    lazily (e.g. when the first optimiser is built), so training after rendering in one
    process would crash. Loaded in this order, both work.
    """
    import importlib.util

    if importlib.util.find_spec("triton") is not None:
        import triton  # noqa: F401


def create_egl_context():  # -> moderngl.Context
    load_triton_before_mesa()
    import moderngl

    try:
        return moderngl.create_context(standalone=True, backend="egl", require=330)
    except Exception as error:  # glcontext raises plain Exceptions of several kinds
        raise InputError(
            "EGL",
            f"cannot create an OpenGL context ({error}); install Debian's libegl1 libgl1-mesa-dri",
        ) from error


class GroundTruthRenderer:
    """Renders posed meshes to straight-alpha RGBA arrays; one GL context for many frames."""

    def __init__(
        self,
        width: int,
        height: int,
        samples: int = 4,
        lighting: Lighting | None = None,
        antialiasing: str = "supersampling",
    ) -> None:
        if antialiasing not in ANTIALIASING_METHODS:
            raise ValueError(f"antialiasing must be one of {ANTIALIASING_METHODS}")
        self.width, self.height, self.samples = int(width), int(height), max(1, int(samples))
        self.lighting = lighting or Lighting()
        self.ctx = create_egl_context()
        self._textures: dict[int, tuple[np.ndarray, object]] = {}
        self._surface = self.ctx.program(
            vertex_shader=SURFACE_VERTEX, fragment_shader=SURFACE_FRAGMENT
        )
        self._set_lighting_uniforms()
        self._finish = self.ctx.program(
            vertex_shader=FULLSCREEN_VERTEX, fragment_shader=FINISH_FRAGMENT
        )
        self._fullscreen = self.ctx.vertex_array(self._finish, [])
        self.antialiasing, self.supersampling_factor = self._choose_antialiasing(antialiasing)
        self._make_framebuffers()
        self._depth_targets: DepthTargets | None = None  # made on the first render_with_depth

    def _choose_antialiasing(self, preferred: str) -> tuple[str, int]:
        """The method actually used and the supersampling factor per axis.

        Supersampling (a regular grid, box-filtered) is preferred: its sample positions are the
        same on every OpenGL implementation, whereas MSAA's are the driver's choice, so ground
        truth from llvmpipe and from an NVIDIA GPU agree more closely; it also smooths alpha-mask
        cut-outs and texture detail, which MSAA does not; and on llvmpipe it cost about 20 %
        less CPU time than 4x MSAA at 512x512. MSAA is the fallback when the enlarged target
        would exceed the context's size limit.
        """
        if self.samples == 1:
            return "none", 1
        factor = math.ceil(math.sqrt(self.samples))
        largest = min(
            int(self.ctx.info["GL_MAX_TEXTURE_SIZE"]),
            int(self.ctx.info["GL_MAX_RENDERBUFFER_SIZE"]),
        )
        supersampling_fits = max(self.width, self.height) * factor <= largest
        msaa_fits = self.samples <= self.ctx.max_samples
        if msaa_fits and (preferred == "msaa" or not supersampling_fits):
            return "msaa", 1
        if supersampling_fits:
            return "supersampling", factor
        raise InputError(
            "anti-aliasing",
            f"{self.samples} samples at {self.width}x{self.height} exceed this OpenGL context "
            f"(largest target {largest} px, at most {self.ctx.max_samples} MSAA samples); "
            "use fewer samples or a smaller resolution",
        )

    @property
    def gl_renderer_name(self) -> str:
        """The OpenGL implementation, e.g. "llvmpipe (LLVM 15.0.6, 256 bits)"."""
        return str(self.ctx.info.get("GL_RENDERER", "unknown"))

    def _make_framebuffers(self) -> None:
        factor = self.supersampling_factor
        draw_size = (self.width * factor, self.height * factor)
        # Surface pass target; the finishing pass samples `self._premultiplied`.
        self._premultiplied = self.ctx.texture(draw_size, 4, dtype="f2")
        if self.antialiasing == "msaa":
            color = self.ctx.renderbuffer(draw_size, 4, samples=self.samples, dtype="f2")
            depth = self.ctx.depth_renderbuffer(draw_size, samples=self.samples)
            self._draw_fbo = self.ctx.framebuffer([color], depth)
            self._resolve_fbo = self.ctx.framebuffer([self._premultiplied])
        else:
            depth = self.ctx.depth_renderbuffer(draw_size)
            self._draw_fbo = self.ctx.framebuffer([self._premultiplied], depth)
            self._resolve_fbo = None
        output = self.ctx.renderbuffer((self.width, self.height), 4, dtype="f1")
        self._output_fbo = self.ctx.framebuffer([output])
        self._finish["premultiplied"].value = 0
        self._finish["factor"].value = factor

    def _set_lighting_uniforms(self) -> None:
        lights = list(self.lighting.lights)
        directions = [light.unit_direction() for light in lights]
        intensities = [light.intensity for light in lights]
        padding = MAX_LIGHTS - len(lights)
        directions += [np.array([0.0, 1.0, 0.0])] * padding
        intensities += [0.0] * padding
        self._surface["ambient"].value = float(self.lighting.ambient)
        self._surface["towards_light"].write(np.asarray(directions, dtype="f4").tobytes())
        self._surface["light_intensity"].write(np.asarray(intensities, dtype="f4").tobytes())
        self._surface["base_color_texture"].value = 0

    def render(self, mesh: PosedMesh, camera: Camera) -> np.ndarray:
        """(H, W, 4) uint8 RGBA: sRGB colour, straight alpha, transparent background."""
        self._check_camera_size(camera)
        # Several renderers may coexist (each with its own context): make ours current.
        with self.ctx:
            self._draw_into(self._draw_fbo, mesh, camera)
            return self._finish_straight_rgba()

    def render_with_depth(self, mesh: PosedMesh, camera: Camera) -> tuple[np.ndarray, np.ndarray]:
        """The RGBA image of ``render`` and the (H, W) float32 view depth of the same frame.

        Depth is the distance along the camera's viewing axis (-z in OpenGL camera space, world
        units), averaged over the anti-aliasing samples that the surface covers; 0 where it
        covers none.
        """
        self._check_camera_size(camera)
        with self.ctx:
            targets = self._depth_targets_made()
            self._draw_into(targets.draw_fbo, mesh, camera)
            rgba = self._finish_straight_rgba()  # the colour buffer is shared with draw_fbo
            return rgba, targets.read_depth()

    def _check_camera_size(self, camera: Camera) -> None:
        if (camera.width, camera.height) != (self.width, self.height):
            raise ValueError(
                f"camera is {camera.width}x{camera.height}, renderer is {self.width}x{self.height}"
            )

    def _depth_targets_made(self) -> DepthTargets:
        if self._depth_targets is None:
            self._depth_targets = DepthTargets(
                self.ctx,
                self._draw_fbo,
                self.width,
                self.height,
                self.supersampling_factor,
                self.samples if self.antialiasing == "msaa" else 0,
            )
        return self._depth_targets

    def _draw_into(self, framebuffer, mesh: PosedMesh, camera: Camera) -> None:
        framebuffer.use()
        framebuffer.clear(0.0, 0.0, 0.0, 0.0, depth=1.0)
        depth_range = view_depth_range(mesh, camera)
        if depth_range is not None:
            self._draw_surfaces(mesh, camera, *depth_range)

    def _draw_surfaces(self, mesh: PosedMesh, camera: Camera, near: float, far: float) -> None:
        import moderngl

        self.ctx.enable(moderngl.DEPTH_TEST)
        self.ctx.disable(moderngl.CULL_FACE | moderngl.BLEND)
        world_to_clip = projection_from_intrinsics(camera, near, far) @ np.linalg.inv(camera.c2w)
        # GL reads matrices column-major.
        self._surface["world_to_clip"].write(world_to_clip.T.astype("f4").tobytes())
        self._surface["camera_position"].value = tuple(float(x) for x in camera.position)
        forward = -camera.c2w[:3, 2] / np.linalg.norm(camera.c2w[:3, 2])
        self._surface["camera_forward"].value = tuple(float(x) for x in forward)
        for part in mesh.parts:
            if len(part.indices):
                self._draw_part(part)

    def _draw_part(self, part: PosedPart) -> None:
        material = part.material
        program = self._surface
        program["base_color_factor"].value = tuple(
            float(x) for x in np.asarray(material.base_color_factor).reshape(4)
        )
        program["alpha_mask"].value = material.alpha_mode == "MASK"
        program["alpha_cutoff"].value = float(material.alpha_cutoff)
        has_texture = material.texture is not None and part.uvs is not None
        program["has_texture"].value = has_texture
        if has_texture:
            self._texture_for(material.texture).use(location=0)
        vertices = self.ctx.buffer(_interleave_vertices(part).tobytes())
        indices = self.ctx.buffer(np.ascontiguousarray(part.indices, dtype="u4").tobytes())
        vao = self.ctx.vertex_array(
            program, [(vertices, VERTEX_FORMAT, *VERTEX_ATTRIBUTES)], indices, index_element_size=4
        )
        try:
            vao.render()
        finally:
            vao.release()
            vertices.release()
            indices.release()

    def _texture_for(self, image: np.ndarray):  # -> moderngl.Texture
        """Upload each texture once; poses of one asset share the same array objects."""
        cached = self._textures.get(id(image))
        if cached is not None:
            return cached[1]
        import moderngl

        rgba = np.ascontiguousarray(image, dtype=np.uint8)
        height, width = rgba.shape[:2]
        # Rows go up top-first, so glTF's uv (0, 0) at the image's top-left samples row 0.
        texture = self.ctx.texture(
            (width, height), 4, rgba.tobytes(), internal_format=GL_SRGB8_ALPHA8
        )
        texture.build_mipmaps()
        # Trilinear, no anisotropic filtering: it made llvmpipe's MSAA pass about 4x slower.
        texture.filter = (moderngl.LINEAR_MIPMAP_LINEAR, moderngl.LINEAR)
        # Keep the array referenced so its id() cannot be reused by another array.
        self._textures[id(image)] = (image, texture)
        return texture

    def _finish_straight_rgba(self) -> np.ndarray:
        import moderngl

        if self._resolve_fbo is not None:
            self.ctx.copy_framebuffer(self._resolve_fbo, self._draw_fbo)  # MSAA resolve
        self._output_fbo.use()
        self.ctx.disable(moderngl.DEPTH_TEST)
        self._premultiplied.use(location=0)
        self._fullscreen.render(moderngl.TRIANGLES, vertices=3)
        raw = self._output_fbo.read(components=4, dtype="f1")
        rgba = np.frombuffer(raw, dtype=np.uint8).reshape(self.height, self.width, 4)
        return np.ascontiguousarray(rgba[::-1])  # GL's first row is the bottom of the image

    def release(self) -> None:
        with self.ctx:
            for _, texture in self._textures.values():
                texture.release()
            self._textures.clear()
        self.ctx.release()

    def __enter__(self) -> GroundTruthRenderer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release()


def _interleave_vertices(part: PosedPart) -> np.ndarray:
    count = len(part.positions)
    uvs = part.uvs if part.uvs is not None else np.zeros((count, 2), np.float32)
    colors = part.colors if part.colors is not None else np.ones((count, 4), np.float32)
    if colors.shape[1] == 3:
        colors = np.concatenate([colors, np.ones((count, 1), colors.dtype)], axis=1)
    columns = (part.positions, part.normals, uvs, colors)
    return np.ascontiguousarray(np.concatenate(columns, axis=1), dtype="f4")
