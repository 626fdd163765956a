"""View depth beside the ground-truth colour: the extra render targets, resolve and read-back.

The surface pass writes (view depth, 1) of every opaque fragment to a second colour attachment
(32-bit float, cleared to (0, 0)) that shares the colour's anti-aliasing: per MSAA sample, or
per texel of the enlarged supersampling target. Averaging it like the colour gives
(mean of depth x coverage, coverage); their ratio, computed by DEPTH_FINISH_FRAGMENT, is the
mean depth of the samples that the surface covers, so an edge pixel holds the depth of its
covered part rather than a blend with the empty background. Pixels that no sample covers are 0.
"""

from __future__ import annotations

import numpy as np

from avatar4d.capture.gl_shaders import DEPTH_FINISH_FRAGMENT, FULLSCREEN_VERTEX


class DepthTargets:
    """The depth attachment of one renderer's surface pass, made on its first depth render."""

    def __init__(
        self,
        ctx,  # moderngl.Context, current while this is built
        surface_fbo,  # moderngl.Framebuffer: the colour pass target (colour + depth buffer)
        width: int,
        height: int,
        supersampling_factor: int,
        msaa_samples: int,  # 0 without MSAA
    ) -> None:
        self.ctx = ctx
        self.width, self.height = width, height
        draw_size = surface_fbo.size
        color, depth_buffer = surface_fbo.color_attachments[0], surface_fbo.depth_attachment
        if msaa_samples:
            sums = ctx.renderbuffer(draw_size, 2, samples=msaa_samples, dtype="f4")
            self._sums_texture = ctx.texture((width, height), 2, dtype="f4")
            # Resolve through framebuffers of one attachment each, so the blit reads `sums`.
            self._msaa_fbo = ctx.framebuffer([sums])
            self._resolve_fbo = ctx.framebuffer([self._sums_texture])
        else:
            sums = ctx.texture(draw_size, 2, dtype="f4")
            self._sums_texture = sums
            self._msaa_fbo = self._resolve_fbo = None
        self.draw_fbo = ctx.framebuffer([color, sums], depth_buffer)
        self._finish = ctx.program(
            vertex_shader=FULLSCREEN_VERTEX, fragment_shader=DEPTH_FINISH_FRAGMENT
        )
        self._finish["depth_sums"].value = 0
        self._finish["factor"].value = supersampling_factor
        self._fullscreen = ctx.vertex_array(self._finish, [])
        self._output_fbo = ctx.framebuffer([ctx.renderbuffer((width, height), 1, dtype="f4")])

    def read_depth(self) -> np.ndarray:
        """(H, W) float32 view depth of the last surface pass into ``draw_fbo``; 0 = no surface."""
        import moderngl

        if self._msaa_fbo is not None:
            self.ctx.copy_framebuffer(self._resolve_fbo, self._msaa_fbo)  # averages the samples
        self._output_fbo.use()
        self.ctx.disable(moderngl.DEPTH_TEST)
        self._sums_texture.use(location=0)
        self._fullscreen.render(moderngl.TRIANGLES, vertices=3)
        raw = self._output_fbo.read(components=1, dtype="f4")
        depth = np.frombuffer(raw, dtype=np.float32).reshape(self.height, self.width)
        return np.ascontiguousarray(depth[::-1])  # GL's first row is the bottom of the image
