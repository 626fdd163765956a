// avatar4d web player: poses the Gaussians of avatar.bin at time t (the model's own motion:
// per-Gaussian or node cubic B-splines, or the character's mesh: rig.js), projects them as avatar4d's reference rasteriser does
// (EWA, 0.3 px^2 dilation, opacity-aware extent, alpha clamp 0.999, threshold 1/255) and
// draws them sorted back to front with WebGL2 over white. Nothing is loaded from elsewhere.
// Posing and projecting run on the GPU (gpu.js) unless the page asks for the CPU path here
// (posing "cpu", in float64), or the GPU pass cannot be set up (then the CPU path, noted).
// A lambert-shaded model (model/shading.py) multiplies each colour by the light arriving
// along its normal, turned by the Gaussian's rotation since the canonical pose.
"use strict";

import { compile, GpuPoser, TEXEL_ROW, texelRows, texelTexture } from "./gpu.js";
import { RigPoser, TABLE } from "./rig.js";

const EPS2D = 0.3, NEAR = 0.01, FAR = 1e10, ALPHA_MIN = 1 / 255, MAX_EXTENT = 3.33;
const GUARD = 0.3;
// A splat is three vec4 texels (three textures, one texel per Gaussian; gpu.js's PARTS):
// centre and radius; conic and red; green, blue, opacity and depth.

function readArray(header, buffer, name) {
  const info = header.arrays[name];
  const count = info.shape.reduce((a, b) => a * b, 1);
  const kinds = { f32: Float32Array, u16: Uint16Array, u32: Uint32Array, q8: Uint8Array, q16: Uint16Array };
  const raw = new kinds[info.type](buffer, info.offset, count);
  if (info.type[0] !== "q") return raw;
  const top = (1 << Number(info.type.slice(1))) - 1;
  const columns = info.lo.length, out = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    const c = i % columns;
    out[i] = info.lo[c] + (info.hi[c] - info.lo[c]) * raw[i] / top;
  }
  return out;
}

// Indices and weights of the four control points active at t (model/bspline.py).
function splineWeights(t, m, periodic) {
  let position, segment;
  const idx = [0, 0, 0, 0];
  if (periodic) {
    position = (((t % 1) + 1) % 1) * m;
    segment = Math.floor(position);
    for (let k = 0; k < 4; k++) idx[k] = (((segment - 1 + k) % m) + m) % m;
  } else {
    position = Math.min(Math.max(t, 0), 1) * (m - 3);
    segment = Math.min(Math.floor(position), m - 4);
    for (let k = 0; k < 4; k++) idx[k] = segment + k;
  }
  const s = position - segment, s2 = s * s, s3 = s2 * s;
  const w = [(1 - s) ** 3 / 6, (3 * s3 - 6 * s2 + 4) / 6, (-3 * s3 + 3 * s2 + 3 * s + 1) / 6, s3 / 6];
  return [idx, w];
}

// (rows, m, d) curves -> (rows, d) values at t.
function evalCurves(curves, rows, m, d, t, periodic) {
  const [idx, w] = splineWeights(t, m, periodic);
  const out = new Float64Array(rows * d);
  for (let r = 0; r < rows; r++)
    for (let k = 0; k < 4; k++) {
      const base = (r * m + idx[k]) * d;
      for (let j = 0; j < d; j++) out[r * d + j] += w[k] * curves[base + j];
    }
  return out;
}

function normalise4(q, o) {
  const n = Math.max(Math.hypot(q[o], q[o + 1], q[o + 2], q[o + 3]), 1e-12);
  q[o] /= n; q[o + 1] /= n; q[o + 2] /= n; q[o + 3] /= n;
}

// a * b (w x y z), written into out at o.
function quatMul(a, ao, b, bo, out, o) {
  const aw = a[ao], ax = a[ao + 1], ay = a[ao + 2], az = a[ao + 3];
  const bw = b[bo], bx = b[bo + 1], by = b[bo + 2], bz = b[bo + 3];
  out[o] = aw * bw - ax * bx - ay * by - az * bz;
  out[o + 1] = aw * bx + ax * bw + ay * bz - az * by;
  out[o + 2] = aw * by - ax * bz + ay * bw + az * bx;
  out[o + 3] = aw * bz + ax * by - ay * bx + az * bw;
}

// The light (3 x 9 coefficients, a row per channel) arriving along unit normal n, per
// channel, into out: model/shading.py's irradiance (its nine basis functions), >= 0.
function irradiance(light, n, out) {
  const [x, y, z] = n;
  const basis = [1, x, y, z, x * y, y * z, x * z, x * x - y * y, 3 * z * z - 1];
  for (let c = 0; c < 3; c++) {
    let sum = 0;
    for (let k = 0; k < 9; k++) sum += light[9 * c + k] * basis[k];
    out[c] = Math.max(sum, 0);
  }
}

function rotation(q, o, r) {
  const w = q[o], x = q[o + 1], y = q[o + 2], z = q[o + 3];
  r[0] = 1 - 2 * (y * y + z * z); r[1] = 2 * (x * y - w * z); r[2] = 2 * (x * z + w * y);
  r[3] = 2 * (x * y + w * z); r[4] = 1 - 2 * (x * x + z * z); r[5] = 2 * (y * z - w * x);
  r[6] = 2 * (x * z - w * y); r[7] = 2 * (y * z + w * x); r[8] = 1 - 2 * (x * x + y * y);
}

class Avatar {
  constructor(header, buffer) {
    this.header = header;
    this.n = header.count;
    this.motion = header.motion;
    const get = (name) => readArray(header, buffer, name);
    this.means = get("means"); this.logScales = get("log_scales"); this.quats = get("quats");
    this.rgb = get("rgb"); this.opacity = get("opacity");
    this.shaded = header.shading === "lambert";
    this.posedRgb = this.rgb;
    if (this.shaded) {
      this.normals = get("normals"); this.light = get("light");
      this.turns = new Float64Array(this.n * 4); // rotation since the canonical pose (w x y z)
      this.posedRgb = new Float64Array(this.n * 3);
    }
    const names = ["motion_means", "motion_quats", "node_means", "node_motion_means",
      "node_motion_quats", "binding", "weights"];
    for (const name of names) if (header.arrays[name]) this[name] = get(name);
    this.posedMeans = new Float64Array(this.n * 3);
    this.posedQuats = new Float64Array(this.n * 4);
    this.posedLogScales = this.logScales;
    if (this.motion.name === "rig") {
      this.rig = new RigPoser(this.motion, get);
      this.posedLogScales = new Float64Array(this.n * 3);
    }
  }

  // Names of the clips the model can perform (the rig model's), else none.
  get clips() {
    return this.rig ? this.motion.clips.map((c) => c.name) : [];
  }

  // The Gaussians at time t: posedMeans, posedQuats (model/deformation.py, node_deformation.py);
  // a rig model poses them at t of clip (0 .. 1 plays it once), or of its timeline (null).
  pose(t, clip = null) {
    this.poseMotion(t, clip);
    if (this.shaded) this.shade();
  }

  // posedMeans, posedQuats (and the turns of a shaded model) at t.
  poseMotion(t, clip) {
    const n = this.n, m = this.motion, means = this.posedMeans, quats = this.posedQuats;
    const delta = new Float64Array(4);
    if (m.name === "rig") {
      this.poseRig(t, clip);
      return;
    }
    if (m.name === "spline") {
      const offset = evalCurves(this.motion_means, n, m.control, 3, t, m.periodic);
      const turn = evalCurves(this.motion_quats, n, m.control, 4, t, m.periodic);
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < 3; j++) means[3 * i + j] = this.means[3 * i + j] + offset[3 * i + j];
        for (let j = 0; j < 4; j++) delta[j] = turn[4 * i + j] + (j === 0 ? 1 : 0);
        normalise4(delta, 0);
        this.keepTurn(delta, 0, i);
        quatMul(delta, 0, this.quats, 4 * i, quats, 4 * i);
        normalise4(quats, 4 * i);
      }
      return;
    }
    const k = this.binding.length / n, table = this.nodeTable(t);
    const blended = new Float64Array(16);
    for (let i = 0; i < n; i++) {
      blended.fill(0);
      for (let b = 0; b < k; b++) {
        const w = this.weights[i * k + b], row = 16 * this.binding[i * k + b];
        for (let j = 0; j < 16; j++) blended[j] += w * table[row + j];
      }
      const x = this.means[3 * i], y = this.means[3 * i + 1], z = this.means[3 * i + 2];
      for (let j = 0; j < 3; j++)
        means[3 * i + j] = blended[3 * j] * x + blended[3 * j + 1] * y + blended[3 * j + 2] * z + blended[9 + j];
      normalise4(blended, 12);
      this.keepTurn(blended, 12, i);
      quatMul(blended, 12, this.quats, 4 * i, quats, 4 * i);
      normalise4(quats, 4 * i);
    }
    if (this.residual(clip)) this.addResidual(t);
  }

  // Whether the learned residual applies: on the timeline only (a rig model performing a
  // clip has none: model/rig_deformation.py's uses_residual).
  residual(clip) {
    return this.motion.residual_control > 0 && (this.motion.name !== "rig" || clip === null);
  }

  // Gaussian i's rotation since the canonical pose (unit, at q[o]), kept for the shading.
  keepTurn(q, o, i) {
    if (this.shaded) for (let j = 0; j < 4; j++) this.turns[4 * i + j] = q[o + j];
  }

  // posedRgb: each colour times the light along its normal, turned (model/shading.py's shade).
  shade() {
    const r = new Float64Array(9), n = [0, 0, 0], turned = [0, 0, 0], light = [0, 0, 0];
    for (let i = 0; i < this.n; i++) {
      for (let j = 0; j < 3; j++) n[j] = this.normals[3 * i + j];
      const length = Math.max(Math.hypot(...n), 1e-8);
      rotation(this.turns, 4 * i, r);
      for (let j = 0; j < 3; j++) turned[j] = (r[3 * j] * n[0] + r[3 * j + 1] * n[1] + r[3 * j + 2] * n[2]) / length;
      irradiance(this.light, turned, light);
      for (let c = 0; c < 3; c++) this.posedRgb[3 * i + c] = this.rgb[3 * i + c] * light[c];
    }
  }

  // Indices and weights of the control points of curves of m points active at t.
  splineAt(t, m) {
    return splineWeights(t, m, this.motion.periodic);
  }

  // Per node at t: rotation (9, row-major), shift (3), rotation as a quaternion (4)
  // (model/node_deformation.py: x -> R (x - c) + c + shift).
  nodeTable(t) {
    const m = this.motion, p = m.nodes;
    const shift = evalCurves(this.node_motion_means, p, m.control, 3, t, m.periodic);
    const turn = evalCurves(this.node_motion_quats, p, m.control, 4, t, m.periodic);
    const table = new Float64Array(p * 16), r = new Float64Array(9);
    for (let a = 0; a < p; a++) {
      const q = turn.subarray(4 * a, 4 * a + 4);
      q[0] += 1;
      normalise4(q, 0);
      rotation(q, 0, r);
      const row = table.subarray(16 * a, 16 * a + 16), c = this.node_means;
      for (let j = 0; j < 9; j++) row[j] = r[j];
      for (let j = 0; j < 3; j++)
        row[9 + j] = c[3 * a + j] + shift[3 * a + j]
          - (r[3 * j] * c[3 * a] + r[3 * j + 1] * c[3 * a + 1] + r[3 * j + 2] * c[3 * a + 2]);
      for (let j = 0; j < 4; j++) row[12 + j] = q[j];
    }
    return table;
  }

  addResidual(t) {
    const m = this.motion;
    const extra = evalCurves(this.motion_means, this.n, m.residual_control, 3, t, m.periodic);
    for (let i = 0; i < 3 * this.n; i++) this.posedMeans[i] += extra[i];
  }

  // model/rig_deformation.py: means_t = linear means + shift, quats_t = turn quats, log
  // scales plus log s, from the triangle each Gaussian follows; the residual on the timeline.
  poseRig(t, clip) {
    const table = this.rig.similarity(t, clip), face = this.rig.face;
    const means = this.posedMeans, quats = this.posedQuats, scales = this.posedLogScales;
    for (let i = 0; i < this.n; i++) {
      const o = TABLE * face[i];
      const x = this.means[3 * i], y = this.means[3 * i + 1], z = this.means[3 * i + 2];
      for (let r = 0; r < 3; r++)
        means[3 * i + r] = table[o + 3 * r] * x + table[o + 3 * r + 1] * y + table[o + 3 * r + 2] * z + table[o + 9 + r];
      this.keepTurn(table, o + 12, i);
      quatMul(table, o + 12, this.quats, 4 * i, quats, 4 * i);
      normalise4(quats, 4 * i);
      for (let j = 0; j < 3; j++) scales[3 * i + j] = this.logScales[3 * i + j] + table[o + 16];
    }
    if (this.residual(clip)) this.addResidual(t);
  }

  // Splats of the posed Gaussians in a camera (raster/projection.py) into this.splats (three
  // vec4s per Gaussian, made on first use) -> the drawn ones' indices, back to front.
  project(cam) {
    const { w2c, fx, fy, cx, cy, width, height } = cam;
    const out = [], r = new Float64Array(9);
    for (let i = 0; i < this.n; i++) {
      const opacity = this.opacity[i];
      if (opacity < ALPHA_MIN) continue;
      const px = this.posedMeans[3 * i], py = this.posedMeans[3 * i + 1], pz = this.posedMeans[3 * i + 2];
      const x = w2c[0] * px + w2c[1] * py + w2c[2] * pz + w2c[3];
      const y = w2c[4] * px + w2c[5] * py + w2c[6] * pz + w2c[7];
      const z = w2c[8] * px + w2c[9] * py + w2c[10] * pz + w2c[11];
      if (!(z >= NEAR && z <= FAR)) continue;
      rotation(this.posedQuats, 4 * i, r);
      const s = [0, 1, 2].map((j) => Math.exp(this.posedLogScales[3 * i + j]));
      // M = W R S (camera-space), covariance M M^T
      const mm = new Float64Array(9);
      for (let a = 0; a < 3; a++)
        for (let b = 0; b < 3; b++)
          mm[3 * a + b] = (w2c[4 * a] * r[b] + w2c[4 * a + 1] * r[3 + b] + w2c[4 * a + 2] * r[6 + b]) * s[b];
      const cov = new Float64Array(9);
      for (let a = 0; a < 3; a++)
        for (let b = 0; b < 3; b++)
          cov[3 * a + b] = mm[3 * a] * mm[3 * b] + mm[3 * a + 1] * mm[3 * b + 1] + mm[3 * a + 2] * mm[3 * b + 2];
      const clampRatio = (coord, f, c, size) => {
        const guard = GUARD * 0.5 * size / f;
        return z * Math.min(Math.max(coord / z, -(c / f + guard)), (size - c) / f + guard);
      };
      const tx = clampRatio(x, fx, cx, width), ty = clampRatio(y, fy, cy, height);
      const j0 = [fx / z, 0, -fx * tx / (z * z)], j1 = [0, fy / z, -fy * ty / (z * z)];
      const quad = (u, v) => {
        let sum = 0;
        for (let a = 0; a < 3; a++) for (let b = 0; b < 3; b++) sum += u[a] * cov[3 * a + b] * v[b];
        return sum;
      };
      const cxx = quad(j0, j0) + EPS2D, cxy = quad(j0, j1), cyy = quad(j1, j1) + EPS2D;
      const det = cxx * cyy - cxy * cxy;
      if (!(det > 0)) continue;
      const extent = Math.min(Math.sqrt(2 * Math.log(Math.max(opacity / ALPHA_MIN, 1))), MAX_EXTENT);
      const rx = Math.ceil(extent * Math.sqrt(cxx)), ry = Math.ceil(extent * Math.sqrt(cyy));
      if (!(rx > 0 || ry > 0)) continue;
      const u = fx * x / z + cx, v = fy * y / z + cy;
      if (!(u + rx > 0 && u - rx < width && v + ry > 0 && v - ry < height)) continue;
      out.push({ z, i, u, v, rx, ry, a: cyy / det, b: -cxy / det, c: cxx / det });
    }
    out.sort((p, q) => q.z - p.z || q.i - p.i); // back to front; ties as the stable front-to-back
    this.splats ??= [0, 1, 2].map(() => new Float32Array(texelRows(this.n) * TEXEL_ROW * 4));
    const [a, b, c] = this.splats, order = new Uint32Array(out.length);
    out.forEach((g, k) => {
      const i = g.i;
      order[k] = i;
      a.set([g.u, g.v, g.rx, g.ry], 4 * i);
      const rgb = this.posedRgb;
      b.set([g.a, g.b, g.c, rgb[3 * i]], 4 * i);
      c.set([rgb[3 * i + 1], rgb[3 * i + 2], this.opacity[i], g.z], 4 * i);
    });
    return order;
  }
}

// One splat is two triangles (6 vertices, no instancing: SwiftShader draws instanced quads
// several times slower); the k-th drawn is Gaussian order[k], its splat read from the textures.
const VERTEX = `#version 300 es
precision highp float;
precision highp int;
precision highp sampler2D;
precision highp usampler2D;
uniform sampler2D partA, partB, partC;
uniform usampler2D order;
uniform vec2 size;
out vec2 centre; out vec3 vConic; out vec4 vColour;
ivec2 texel(int i) { return ivec2(i % ${TEXEL_ROW}, i / ${TEXEL_ROW}); }
void main() {
  int k = gl_VertexID / 6, v = gl_VertexID % 6;
  ivec2 i = texel(int(texelFetch(order, texel(k), 0).r));
  vec4 centreRadius = texelFetch(partA, i, 0), conicRed = texelFetch(partB, i, 0);
  vec4 rest = texelFetch(partC, i, 0);
  vec2 corner = vec2(v == 1 || v == 4 || v == 5 ? 1.0 : -1.0, v == 2 || v == 3 || v == 5 ? 1.0 : -1.0);
  vec2 pixel = centreRadius.xy + corner * centreRadius.zw;
  centre = centreRadius.xy; vConic = conicRed.xyz; vColour = vec4(conicRed.w, rest.xyz);
  gl_Position = vec4(pixel.x / size.x * 2.0 - 1.0, 1.0 - pixel.y / size.y * 2.0, 0.0, 1.0);
}`;

const FRAGMENT = `#version 300 es
precision highp float;
in vec2 centre; in vec3 vConic; in vec4 vColour;
uniform vec2 size;
out vec4 colour;
void main() {
  // pixel centres at (j + 0.5, i + 0.5) from the top-left corner, as in the reference
  vec2 pixel = vec2(gl_FragCoord.x, size.y - gl_FragCoord.y);
  vec2 d = centre - pixel;
  float sigma = 0.5 * (vConic.x * d.x * d.x + vConic.z * d.y * d.y) + vConic.y * d.x * d.y;
  float alpha = min(vColour.a * exp(-sigma), 0.999);
  if (sigma < 0.0 || alpha < 1.0 / 255.0) discard;
  colour = vec4(vColour.rgb * alpha, alpha);
}`;

class Renderer {
  constructor(canvas, count) {
    const gl = canvas.getContext("webgl2", { alpha: false, antialias: false, preserveDrawingBuffer: true, premultipliedAlpha: false });
    if (!gl) throw new Error("WebGL2 is not available in this browser");
    this.gl = gl; this.canvas = canvas;
    const program = gl.createProgram();
    gl.attachShader(program, compile(gl, gl.VERTEX_SHADER, VERTEX));
    gl.attachShader(program, compile(gl, gl.FRAGMENT_SHADER, FRAGMENT));
    gl.linkProgram(program);
    if (!gl.getProgramParameter(program, gl.LINK_STATUS)) throw new Error(gl.getProgramInfoLog(program));
    this.program = program;
    this.sizeLocation = gl.getUniformLocation(program, "size");
    gl.useProgram(program);
    ["partA", "partB", "partC", "order"].forEach((name, unit) =>
      gl.uniform1i(gl.getUniformLocation(program, name), unit));
    this.vao = gl.createVertexArray(); // no attributes: the vertex shader reads the textures
    this.rows = texelRows(count);
    this.order = texelTexture(gl, this.rows, true);
    this.staging = new Uint32Array(this.rows * TEXEL_ROW);
  }

  // The CPU path's splats (three Float32Arrays of rows x TEXEL_ROW vec4s) into the textures.
  upload(splats) {
    const gl = this.gl;
    this.parts ??= [0, 1, 2].map(() => texelTexture(gl, this.rows)); // the GPU path has its own
    splats.forEach((data, part) => {
      gl.bindTexture(gl.TEXTURE_2D, this.parts[part]);
      gl.texSubImage2D(gl.TEXTURE_2D, 0, 0, 0, TEXEL_ROW, this.rows, gl.RGBA, gl.FLOAT, data);
    });
    return this.parts;
  }

  // What draws (the unmasked renderer where the browser tells it), for measurements.
  graphics() {
    const gl = this.gl, info = gl.getExtension("WEBGL_debug_renderer_info");
    const name = gl.getParameter(info ? info.UNMASKED_RENDERER_WEBGL : gl.RENDERER);
    const floatTargets = gl.getExtension("EXT_color_buffer_float") ? "yes" : "no";
    return `${name}; float render targets (EXT_color_buffer_float): ${floatTargets}`;
  }

  // The splats of `parts` (three textures) in `order` (Gaussian indices, back to front).
  draw(parts, order, width, height) {
    const gl = this.gl;
    if (this.canvas.width !== width || this.canvas.height !== height) {
      this.canvas.width = width; this.canvas.height = height;
    }
    gl.viewport(0, 0, width, height);
    gl.clearColor(1, 1, 1, 1);
    gl.clear(gl.COLOR_BUFFER_BIT);
    gl.useProgram(this.program);
    gl.uniform2f(this.sizeLocation, width, height);
    gl.enable(gl.BLEND);
    gl.blendFunc(gl.ONE, gl.ONE_MINUS_SRC_ALPHA); // premultiplied "over", back to front
    this.staging.set(order);
    const rows = texelRows(order.length);
    [...parts, this.order].forEach((texture, unit) => {
      gl.activeTexture(gl.TEXTURE0 + unit);
      gl.bindTexture(gl.TEXTURE_2D, texture);
    });
    gl.texSubImage2D(gl.TEXTURE_2D, 0, 0, 0, TEXEL_ROW, rows, gl.RED_INTEGER, gl.UNSIGNED_INT,
      this.staging.subarray(0, rows * TEXEL_ROW));
    gl.activeTexture(gl.TEXTURE0);
    gl.bindVertexArray(this.vao);
    gl.drawArrays(gl.TRIANGLES, 0, 6 * order.length);
    gl.finish();
  }
}

// OpenGL camera-to-world (row-major 4x4) and vertical field of view -> OpenCV world-to-camera.
function cameraFrom(c2w, fovYDeg, width, height) {
  const r = [0, 1, 2].map((i) => [c2w[4 * i], -c2w[4 * i + 1], -c2w[4 * i + 2]]);
  const t = [c2w[3], c2w[7], c2w[11]];
  const w2c = new Float64Array(12);
  for (let a = 0; a < 3; a++) {
    for (let b = 0; b < 3; b++) w2c[4 * a + b] = r[b][a];
    w2c[4 * a + 3] = -(r[0][a] * t[0] + r[1][a] * t[1] + r[2][a] * t[2]);
  }
  const fy = 0.5 * height / Math.tan(fovYDeg * Math.PI / 360);
  return { w2c, fx: fy, fy, cx: width / 2, cy: height / 2, width, height };
}

// The GPU poser, or null (with why in note.reason) where posing is "cpu" or it fails.
function gpuPoser(renderer, avatar, posing, note) {
  if (posing === "cpu") return null;
  try {
    return new GpuPoser(renderer.gl, avatar);
  } catch (error) {
    note.reason = "GPU posing failed, posing on the CPU: " + error.message;
    console.warn(note.reason);
    return null;
  }
}

// posing: "gpu" (the default) or "cpu".
export async function startPlayer(canvas, modelUrl, posing = "gpu") {
  if (posing !== "gpu" && posing !== "cpu") throw new Error(`posing is "gpu" or "cpu", not "${posing}"`);
  const header = await (await fetch(modelUrl + ".json")).json();
  const buffer = await (await fetch(modelUrl + ".bin")).arrayBuffer();
  const avatar = new Avatar(header, buffer);
  const renderer = new Renderer(canvas, avatar.n);
  const note = { reason: "" };
  const gpu = gpuPoser(renderer, avatar, posing, note);
  const state = { camera: null, t: 0, clip: null };
  return {
    avatar,
    header,
    // where the Gaussians are posed and projected: "gpu" or "cpu"; posingNote says why not gpu
    posing: gpu ? "gpu" : "cpu",
    posingNote: note.reason,
    graphics: renderer.graphics(),
    setCamera(c2w, fovYDeg, width, height) { state.camera = cameraFrom(c2w, fovYDeg, width, height); },
    setTime(t) { state.t = t; },
    get time() { return state.t; },
    // The rig model's clips; setClip(name) plays one (t = 0 .. 1 once), setClip(null) the
    // trained timeline. Other models have no clips and refuse any name.
    clips: avatar.clips,
    setClip(name) {
      if (name !== null && !avatar.clips.includes(name))
        throw new Error(`no clip "${name}"; clips: ${avatar.clips.join(", ") || "none"}`);
      state.clip = name;
    },
    get clip() { return state.clip; },
    renderFrame() {
      const cam = state.camera;
      if (gpu) {
        const order = gpu.project(state.t, state.clip, cam);
        renderer.draw(gpu.parts, order, cam.width, cam.height);
      } else {
        avatar.pose(state.t, state.clip);
        const order = avatar.project(cam);
        renderer.draw(renderer.upload(avatar.splats), order, cam.width, cam.height);
      }
      return Promise.resolve(); // drawn: gl.finish() returned, the buffer is preserved
    },
  };
}
