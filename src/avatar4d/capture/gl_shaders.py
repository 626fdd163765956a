"""GLSL of the ground-truth renderer: the lit surface pass and the finishing pass.

Surface pass: base colour = factor x texture x vertex colour (the texture has an sRGB internal
format, so the sampler returns linear values), lit in linear light by ambient + Lambert lights
fixed in the world, written as linear RGB with alpha 1 to a half-float target.

Anti-aliasing averages that target with the transparent background, which leaves colour
premultiplied by coverage. The finishing pass box-filters ``factor`` x ``factor`` texels (1
after an MSAA resolve, more for supersampling), un-premultiplies and sRGB-encodes into RGBA8.

View depth (optional, see gl_depth.py): the surface pass also writes (depth along the camera's
viewing axis, 1) to colour attachment 1 when the framebuffer has one (otherwise GL drops that
output, and the colour is the same either way). The depth finishing pass averages it like the
colour and divides by the coverage, so a pixel holds the mean depth of the samples the surface
covers, 0 where it covers none.
"""

from __future__ import annotations

from avatar4d.capture.lighting import MAX_LIGHTS

SURFACE_VERTEX = """
#version 330
uniform mat4 world_to_clip;
uniform vec3 camera_position;
uniform vec3 camera_forward;  // unit viewing axis (-Z of the camera) in world space
in vec3 in_position;
in vec3 in_normal;
in vec2 in_uv;
in vec4 in_color;
out vec3 v_world;
out vec3 v_normal;
out vec2 v_uv;
out vec4 v_color;
// Linear in the position, so perspective-correct interpolation gives the exact depth;
// centroid: an MSAA pixel that an edge crosses takes it inside the triangle.
centroid out float v_view_depth;
void main() {
    v_world = in_position;
    v_view_depth = dot(in_position - camera_position, camera_forward);
    v_normal = in_normal;
    v_uv = in_uv;
    v_color = in_color;
    gl_Position = world_to_clip * vec4(in_position, 1.0);
}
"""

SURFACE_FRAGMENT = f"""
#version 330
uniform vec4 base_color_factor;
uniform sampler2D base_color_texture;
uniform bool has_texture;
uniform bool alpha_mask;
uniform float alpha_cutoff;
uniform vec3 camera_position;
uniform float ambient;
uniform vec3 towards_light[{MAX_LIGHTS}];
uniform float light_intensity[{MAX_LIGHTS}];
in vec3 v_world;
in vec3 v_normal;
in vec2 v_uv;
in vec4 v_color;
centroid in float v_view_depth;
layout(location = 0) out vec4 frag_color;
layout(location = 1) out vec2 depth_and_coverage;  // dropped unless attachment 1 exists
void main() {{
    vec4 base = base_color_factor * v_color;
    if (has_texture) {{
        base *= texture(base_color_texture, v_uv);
    }}
    if (alpha_mask && base.a < alpha_cutoff) {{
        discard;
    }}
    vec3 normal = v_normal;
    if (dot(normal, normal) < 1e-12) {{
        normal = cross(dFdx(v_world), dFdy(v_world));  // degenerate normals: use the face's
    }}
    normal = normalize(normal);
    if (dot(normal, camera_position - v_world) < 0.0) {{
        normal = -normal;  // double-sided: light the side that faces the viewer
    }}
    float irradiance = ambient;
    for (int i = 0; i < {MAX_LIGHTS}; ++i) {{
        irradiance += light_intensity[i] * max(dot(normal, towards_light[i]), 0.0);
    }}
    frag_color = vec4(min(base.rgb * irradiance, vec3(1.0)), 1.0);
    depth_and_coverage = vec2(v_view_depth, 1.0);
}}
"""

# One triangle that covers the whole viewport, made from gl_VertexID (no vertex buffer).
FULLSCREEN_VERTEX = """
#version 330
void main() {
    vec2 corner = vec2((gl_VertexID << 1) & 2, gl_VertexID & 2);
    gl_Position = vec4(corner * 2.0 - 1.0, 0.0, 1.0);
}
"""

FINISH_FRAGMENT = """
#version 330
uniform sampler2D premultiplied;  // linear colour x coverage, alpha = coverage
uniform int factor;
out vec4 straight_srgb;
void main() {
    ivec2 first = ivec2(gl_FragCoord.xy) * factor;
    vec4 sum = vec4(0.0);
    for (int y = 0; y < factor; ++y) {
        for (int x = 0; x < factor; ++x) {
            sum += texelFetch(premultiplied, first + ivec2(x, y), 0);
        }
    }
    vec4 average = sum / float(factor * factor);
    if (average.a < 0.5 / 255.0) {
        straight_srgb = vec4(0.0);  // stored as alpha 0: keep such pixels fully transparent
        return;
    }
    vec3 linear = clamp(average.rgb / average.a, 0.0, 1.0);
    vec3 encoded = mix(
        linear * 12.92,
        1.055 * pow(linear, vec3(1.0 / 2.4)) - 0.055,
        step(0.0031308, linear)
    );
    straight_srgb = vec4(encoded, min(average.a, 1.0));
}
"""

DEPTH_FINISH_FRAGMENT = """
#version 330
uniform sampler2D depth_sums;  // (view depth x coverage, coverage), averaged over samples
uniform int factor;
out float view_depth;
void main() {
    ivec2 first = ivec2(gl_FragCoord.xy) * factor;
    vec2 sum = vec2(0.0);
    for (int y = 0; y < factor; ++y) {
        for (int x = 0; x < factor; ++x) {
            sum += texelFetch(depth_sums, first + ivec2(x, y), 0).xy;
        }
    }
    view_depth = sum.y > 0.0 ? sum.x / sum.y : 0.0;
}
"""
