// The player's GPU posing: one WebGL2 transform-feedback pass poses every Gaussian at time t
// (per-Gaussian curves, its nodes' blended transform, or its triangle's similarity) and
// projects it into a splat (player.js's project(), in float32). The splats stay on the GPU
// (copied from the feedback buffers into the draw pass's textures); only their depths come
// back for the sort, and the order goes up. The per-node / per-triangle tables (a few
// thousand rows, from player.js and rig.js) stay in JavaScript. Transform feedback needs no
// float render target (EXT_color_buffer_float). The canonical Gaussians are vertex
// attributes; curves and tables are RGBA32F textures read with texelFetch. A lambert-shaded
// model's colours are lit along each normal turned by the Gaussian's rotation since the
// canonical pose (player.js's shade()).
"use strict";

import { TABLE } from "./rig.js";

export const TEXEL_ROW = 2048; // texels per row of every texture of the player
export const texelRows = (texels) => Math.max(Math.ceil(texels / TEXEL_ROW), 1);
const PARTS = ["centreRadius", "conicRed", "colourDepth"]; // a splat: player.js's textures
const RIG_TEXELS = 5; // TABLE (17) floats of a triangle, padded to 20
const MOTIONS = { spline: 0, nodes: 1, rig: 2 };

const POSE = `#version 300 es
precision highp float;
precision highp int;
precision highp sampler2D;
layout(location = 0) in vec3 mean;
layout(location = 1) in vec4 quat; // w x y z
layout(location = 2) in vec3 logScale;
layout(location = 3) in vec4 colourOpacity;
layout(location = 4) in float face;
layout(location = 5) in vec3 normal; // canonical (shaded models)
uniform int motion, control, neighbours, residualControl;
uniform bool residual, shaded;
uniform vec3 light[9]; // per basis function, the coefficients of r g b (model/shading.py)
uniform ivec4 index, residualIndex;
uniform vec4 weight, residualWeight;
uniform sampler2D curveMeans, curveQuats, residualMeans, nodeTable, binding, rigTable;
uniform vec4 w2c0, w2c1, w2c2;
uniform vec4 lens; // fx fy cx cy
uniform vec2 size;
out vec4 centreRadius, conicRed, colourDepth; // player.js's splat texels
out float depth; // > 0 where drawn

const float EPS2D = 0.3, NEAR = 0.01, FAR = 1e10, ALPHA_MIN = 1.0 / 255.0, MAX_EXTENT = 3.33;
const float GUARD = 0.3;

vec4 fetch(sampler2D s, int i) { return texelFetch(s, ivec2(i % ${TEXEL_ROW}, i / ${TEXEL_ROW}), 0); }

vec4 curve(sampler2D s, int row, int m, ivec4 k, vec4 w) {
  int base = row * m;
  return w.x * fetch(s, base + k.x) + w.y * fetch(s, base + k.y)
    + w.z * fetch(s, base + k.z) + w.w * fetch(s, base + k.w);
}

vec4 unitQuat(vec4 q) { return q / max(length(q), 1e-12); }

vec4 quatMul(vec4 a, vec4 b) {
  return vec4(a.x * b.x - a.y * b.y - a.z * b.z - a.w * b.w,
    a.x * b.y + a.y * b.x + a.z * b.w - a.w * b.z,
    a.x * b.z - a.y * b.w + a.z * b.x + a.w * b.y,
    a.x * b.w + a.y * b.z - a.z * b.y + a.w * b.x);
}

// rotation matrix of a unit quaternion (w x y z), as GLSL's column-major mat3
mat3 rotation(vec4 q) {
  float w = q.x, x = q.y, y = q.z, z = q.w;
  return transpose(mat3(1.0 - 2.0 * (y * y + z * z), 2.0 * (x * y - w * z), 2.0 * (x * z + w * y),
    2.0 * (x * y + w * z), 1.0 - 2.0 * (x * x + z * z), 2.0 * (y * z - w * x),
    2.0 * (x * z - w * y), 2.0 * (y * z + w * x), 1.0 - 2.0 * (x * x + y * y)));
}

float clampRatio(float coord, float z, float f, float c, float extent) {
  float guard = GUARD * 0.5 * extent / f;
  return z * clamp(coord / z, -(c / f + guard), (extent - c) / f + guard);
}

// The light arriving along unit normal n per channel, >= 0 (model/shading.py's irradiance).
vec3 irradiance(vec3 n) {
  float basis[9] = float[9](1.0, n.x, n.y, n.z, n.x * n.y, n.y * n.z, n.x * n.z,
    n.x * n.x - n.y * n.y, 3.0 * n.z * n.z - 1.0);
  vec3 sum = vec3(0.0);
  for (int k = 0; k < 9; k++) sum += basis[k] * light[k];
  return max(sum, 0.0);
}

void cull() {
  centreRadius = vec4(0.0); conicRed = vec4(0.0); colourDepth = vec4(0.0); depth = 0.0;
}

void main() {
  int i = gl_VertexID;
  vec3 p = mean, s = logScale;
  vec4 turn; // the rotation since the canonical pose
  if (motion == 0) {
    p += curve(curveMeans, i, control, index, weight).xyz;
    turn = unitQuat(curve(curveQuats, i, control, index, weight) + vec4(1.0, 0.0, 0.0, 0.0));
  } else {
    vec4 r0, r1, r2; // the linear map (9, row-major), then the shift (3)
    if (motion == 1) {
      r0 = vec4(0.0); r1 = vec4(0.0); r2 = vec4(0.0); turn = vec4(0.0);
      for (int b = 0; b < neighbours; b++) {
        vec4 bound = fetch(binding, i * neighbours + b); // node index, weight
        int row = 4 * int(bound.x);
        r0 += bound.y * fetch(nodeTable, row); r1 += bound.y * fetch(nodeTable, row + 1);
        r2 += bound.y * fetch(nodeTable, row + 2); turn += bound.y * fetch(nodeTable, row + 3);
      }
      turn = unitQuat(turn);
    } else {
      int row = ${RIG_TEXELS} * int(face); // then the rotation (4) and the log size
      r0 = fetch(rigTable, row); r1 = fetch(rigTable, row + 1); r2 = fetch(rigTable, row + 2);
      turn = fetch(rigTable, row + 3);
      s += fetch(rigTable, row + 4).x;
    }
    p = vec3(dot(r0.xyz, mean) + r2.y, dot(vec3(r0.w, r1.xy), mean) + r2.z,
      dot(vec3(r1.zw, r2.x), mean) + r2.w);
  }
  vec4 q = unitQuat(quatMul(turn, quat));
  if (residual) p += curve(residualMeans, i, residualControl, residualIndex, residualWeight).xyz;

  vec3 colour = colourOpacity.rgb;
  if (shaded) colour *= irradiance(rotation(turn) * (normal / max(length(normal), 1e-8)));
  float opacity = colourOpacity.a;
  vec4 h = vec4(p, 1.0);
  float x = dot(w2c0, h), y = dot(w2c1, h), z = dot(w2c2, h);
  if (opacity < ALPHA_MIN || !(z >= NEAR && z <= FAR)) { cull(); return; }
  mat3 view = transpose(mat3(w2c0.xyz, w2c1.xyz, w2c2.xyz));
  mat3 m = view * rotation(q) * mat3(exp(s.x), 0.0, 0.0, 0.0, exp(s.y), 0.0, 0.0, 0.0, exp(s.z));
  mat3 cov = m * transpose(m);
  float tx = clampRatio(x, z, lens.x, lens.z, size.x), ty = clampRatio(y, z, lens.y, lens.w, size.y);
  vec3 j0 = vec3(lens.x / z, 0.0, -lens.x * tx / (z * z)), j1 = vec3(0.0, lens.y / z, -lens.y * ty / (z * z));
  float cxx = dot(j0, cov * j0) + EPS2D, cxy = dot(j0, cov * j1), cyy = dot(j1, cov * j1) + EPS2D;
  float det = cxx * cyy - cxy * cxy;
  if (!(det > 0.0)) { cull(); return; }
  float extent = min(sqrt(2.0 * log(max(opacity / ALPHA_MIN, 1.0))), MAX_EXTENT);
  float rx = ceil(extent * sqrt(cxx)), ry = ceil(extent * sqrt(cyy));
  float u = lens.x * x / z + lens.z, v = lens.y * y / z + lens.w;
  if (!(rx > 0.0 || ry > 0.0) || !(u + rx > 0.0 && u - rx < size.x && v + ry > 0.0 && v - ry < size.y)) {
    cull(); return;
  }
  centreRadius = vec4(u, v, rx, ry);
  conicRed = vec4(cyy / det, -cxy / det, cxx / det, colour.r);
  colourDepth = vec4(colour.gb, opacity, z);
  depth = z;
}`;

const NOTHING = `#version 300 es
precision highp float;
out vec4 colour;
void main() { colour = vec4(0.0); }`;

export function compile(gl, type, source) {
  const shader = gl.createShader(type);
  gl.shaderSource(shader, source);
  gl.compileShader(shader);
  if (!gl.getShaderParameter(shader, gl.COMPILE_STATUS)) throw new Error(gl.getShaderInfoLog(shader));
  return shader;
}

// An RGBA32F (or R32UI) texture of `rows` rows of TEXEL_ROW texels, for texelFetch.
export function texelTexture(gl, rows, integer = false) {
  if (rows > gl.getParameter(gl.MAX_TEXTURE_SIZE)) throw new Error(`${rows} texel rows do not fit a texture`);
  const texture = gl.createTexture();
  gl.bindTexture(gl.TEXTURE_2D, texture);
  gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MIN_FILTER, gl.NEAREST);
  gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MAG_FILTER, gl.NEAREST);
  gl.texStorage2D(gl.TEXTURE_2D, 1, integer ? gl.R32UI : gl.RGBA32F, TEXEL_ROW, rows);
  return texture;
}

// An RGBA32F texture of `texels` texels and a Float32Array to fill it from.
function floatTexture(gl, texels) {
  const height = texelRows(texels);
  return { texture: texelTexture(gl, height), data: new Float32Array(TEXEL_ROW * height * 4), height };
}

function upload(gl, target) {
  gl.bindTexture(gl.TEXTURE_2D, target.texture);
  gl.texSubImage2D(gl.TEXTURE_2D, 0, 0, 0, TEXEL_ROW, target.height, gl.RGBA, gl.FLOAT, target.data);
}

// (rows, m, d) values -> a texture of one texel (xyz[w]) per (row, control point).
function curveTexture(gl, values, d) {
  const texels = values.length / d, target = floatTexture(gl, texels);
  for (let i = 0; i < texels; i++)
    for (let j = 0; j < d; j++) target.data[4 * i + j] = values[d * i + j];
  upload(gl, target);
  return target.texture;
}

export class GpuPoser {
  constructor(gl, avatar) {
    this.gl = gl; this.avatar = avatar;
    const n = avatar.n, m = avatar.motion;
    const program = gl.createProgram();
    gl.attachShader(program, compile(gl, gl.VERTEX_SHADER, POSE));
    gl.attachShader(program, compile(gl, gl.FRAGMENT_SHADER, NOTHING));
    gl.transformFeedbackVaryings(program, [...PARTS, "depth"], gl.SEPARATE_ATTRIBS);
    gl.linkProgram(program);
    if (!gl.getProgramParameter(program, gl.LINK_STATUS)) throw new Error(gl.getProgramInfoLog(program));
    this.program = program;
    const names = ["motion", "control", "neighbours", "residualControl", "residual", "shaded", "index",
      "residualIndex", "weight", "residualWeight", "w2c0", "w2c1", "w2c2", "lens", "size"];
    this.at = Object.fromEntries(names.map((name) => [name, gl.getUniformLocation(program, name)]));
    gl.useProgram(program);
    gl.uniform1i(this.at.motion, MOTIONS[m.name]);
    const units = ["curveMeans", "curveQuats", "residualMeans", "nodeTable", "binding", "rigTable"];
    units.forEach((name, unit) => gl.uniform1i(gl.getUniformLocation(program, name), unit));
    this.textures = new Array(units.length).fill(null);

    this.vao = gl.createVertexArray();
    gl.bindVertexArray(this.vao);
    const attribute = (location, values, size) => {
      const buffer = gl.createBuffer();
      gl.bindBuffer(gl.ARRAY_BUFFER, buffer);
      gl.bufferData(gl.ARRAY_BUFFER, Float32Array.from(values), gl.STATIC_DRAW);
      gl.enableVertexAttribArray(location);
      gl.vertexAttribPointer(location, size, gl.FLOAT, false, 0, 0);
    };
    attribute(0, avatar.means, 3);
    attribute(1, avatar.quats, 4);
    attribute(2, avatar.logScales, 3);
    const colour = new Float32Array(4 * n);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < 3; j++) colour[4 * i + j] = avatar.rgb[3 * i + j];
      colour[4 * i + 3] = avatar.opacity[i];
    }
    attribute(3, colour, 4);
    if (m.name === "rig") attribute(4, avatar.rig.face, 1);
    else gl.vertexAttrib1f(4, 0);
    gl.uniform1i(this.at.shaded, avatar.shaded ? 1 : 0);
    if (avatar.shaded) {
      attribute(5, avatar.normals, 3);
      const byBasis = new Float32Array(27); // light[k] = (r, g, b) coefficients of basis k
      for (let c = 0; c < 3; c++) for (let k = 0; k < 9; k++) byBasis[3 * k + c] = avatar.light[9 * c + k];
      gl.uniform3fv(gl.getUniformLocation(program, "light"), byBasis);
    } else gl.vertexAttrib3f(5, 0, 0, 1);
    gl.bindVertexArray(null);

    if (m.name === "spline") {
      gl.uniform1i(this.at.control, m.control);
      this.textures[0] = curveTexture(gl, avatar.motion_means, 3);
      this.textures[1] = curveTexture(gl, avatar.motion_quats, 4);
    } else if (m.name === "nodes") {
      const k = avatar.binding.length / n, bound = new Float32Array(2 * k * n);
      for (let e = 0; e < k * n; e++) { bound[2 * e] = avatar.binding[e]; bound[2 * e + 1] = avatar.weights[e]; }
      gl.uniform1i(this.at.neighbours, k);
      this.textures[4] = curveTexture(gl, bound, 2);
      this.nodeTable = floatTexture(gl, 4 * m.nodes);
      this.textures[3] = this.nodeTable.texture;
    } else {
      this.rigTable = floatTexture(gl, RIG_TEXELS * (avatar.rig.faces.length / 3));
      this.textures[5] = this.rigTable.texture;
    }
    if (m.residual_control > 0) {
      gl.uniform1i(this.at.residualControl, m.residual_control);
      this.textures[2] = curveTexture(gl, avatar.motion_means, 3);
    }
    // feedback buffers: the three splat parts (whole texture rows, copied into this.parts)
    // and the depths (read back)
    this.rows = texelRows(n);
    const sizes = [...PARTS.map(() => this.rows * TEXEL_ROW * 16), n * 4];
    this.buffers = sizes.map((bytes) => {
      const buffer = gl.createBuffer();
      gl.bindBuffer(gl.TRANSFORM_FEEDBACK_BUFFER, buffer);
      gl.bufferData(gl.TRANSFORM_FEEDBACK_BUFFER, bytes, gl.DYNAMIC_COPY);
      return buffer;
    });
    gl.bindBuffer(gl.TRANSFORM_FEEDBACK_BUFFER, null);
    this.parts = PARTS.map(() => texelTexture(gl, this.rows));
    this.feedback = gl.createTransformFeedback();
    this.depths = new Float32Array(n);
    this.order = new Uint32Array(n);
  }

  // The per-node or per-triangle table at t, into its texture.
  tables(t, clip) {
    const avatar = this.avatar, gl = this.gl;
    if (this.nodeTable) {
      this.nodeTable.data.set(avatar.nodeTable(t));
      upload(gl, this.nodeTable);
    } else if (this.rigTable) {
      const table = avatar.rig.similarity(t, clip), data = this.rigTable.data;
      for (const f of avatar.rig.used)
        for (let j = 0; j < TABLE; j++) data[4 * RIG_TEXELS * f + j] = table[TABLE * f + j];
      upload(gl, this.rigTable);
    }
  }

  // Splats of the Gaussians at t in camera cam, into this.parts -> the drawn ones' indices,
  // back to front.
  project(t, clip, cam) {
    const gl = this.gl, avatar = this.avatar, m = avatar.motion, at = this.at, n = avatar.n;
    gl.useProgram(this.program);
    this.tables(t, clip);
    if (m.name === "spline") {
      const [index, weight] = avatar.splineAt(t, m.control);
      gl.uniform4iv(at.index, index); gl.uniform4fv(at.weight, weight);
    }
    const residual = avatar.residual(clip);
    gl.uniform1i(at.residual, residual ? 1 : 0);
    if (residual) {
      const [index, weight] = avatar.splineAt(t, m.residual_control);
      gl.uniform4iv(at.residualIndex, index); gl.uniform4fv(at.residualWeight, weight);
    }
    const w = cam.w2c;
    gl.uniform4f(at.w2c0, w[0], w[1], w[2], w[3]);
    gl.uniform4f(at.w2c1, w[4], w[5], w[6], w[7]);
    gl.uniform4f(at.w2c2, w[8], w[9], w[10], w[11]);
    gl.uniform4f(at.lens, cam.fx, cam.fy, cam.cx, cam.cy);
    gl.uniform2f(at.size, cam.width, cam.height);
    this.textures.forEach((texture, unit) => {
      gl.activeTexture(gl.TEXTURE0 + unit);
      gl.bindTexture(gl.TEXTURE_2D, texture);
    });
    gl.activeTexture(gl.TEXTURE0);
    gl.bindVertexArray(this.vao);
    gl.bindTransformFeedback(gl.TRANSFORM_FEEDBACK, this.feedback);
    this.buffers.forEach((buffer, k) => gl.bindBufferBase(gl.TRANSFORM_FEEDBACK_BUFFER, k, buffer));
    gl.enable(gl.RASTERIZER_DISCARD);
    gl.beginTransformFeedback(gl.POINTS);
    gl.drawArrays(gl.POINTS, 0, n);
    gl.endTransformFeedback();
    gl.disable(gl.RASTERIZER_DISCARD);
    this.buffers.forEach((_, k) => gl.bindBufferBase(gl.TRANSFORM_FEEDBACK_BUFFER, k, null));
    gl.bindTransformFeedback(gl.TRANSFORM_FEEDBACK, null);
    gl.bindVertexArray(null);
    this.parts.forEach((texture, k) => { // buffer -> texture, on the GPU
      gl.bindBuffer(gl.PIXEL_UNPACK_BUFFER, this.buffers[k]);
      gl.bindTexture(gl.TEXTURE_2D, texture);
      gl.texSubImage2D(gl.TEXTURE_2D, 0, 0, 0, TEXEL_ROW, this.rows, gl.RGBA, gl.FLOAT, 0);
    });
    gl.bindBuffer(gl.PIXEL_UNPACK_BUFFER, null);
    gl.bindBuffer(gl.COPY_READ_BUFFER, this.buffers[PARTS.length]);
    gl.getBufferSubData(gl.COPY_READ_BUFFER, 0, this.depths);
    gl.bindBuffer(gl.COPY_READ_BUFFER, null);
    return this.sorted();
  }

  // The drawn Gaussians (depth > 0) back to front; ties as the stable front-to-back.
  sorted() {
    const depths = this.depths, order = this.order;
    let count = 0;
    for (let i = 0; i < this.avatar.n; i++) if (depths[i] > 0) order[count++] = i;
    const drawn = order.subarray(0, count);
    return drawn.sort((a, b) => depths[b] - depths[a] || b - a);
  }
}
