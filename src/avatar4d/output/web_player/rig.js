// The mesh-driven (rig) model in the player: skins the character's mesh at a pose (bone
// matrices and morph weights, asset/skin_layout.py), takes every triangle's frame
// (model/triangle_frames.py) and moves each Gaussian by its triangle's similarity from the
// anchor pose, as model/rig_deformation.py does. Poses come from the clips' samples
// (output/web_rig.py), the two around a time blended linearly.
"use strict";

const MIN_SCALE = 1e-12, MIN_SINE = 1e-7, MIN_EDGE = 1e-20;
const FRAME = 13; // per triangle: origin 3, rotation 9 (columns tangent, bitangent, normal), size
export const TABLE = 17; // per triangle: linear 9, shift 3, rotation 4 (w x y z), log size

function unit(v, o, length) {
  const n = Math.max(length, MIN_EDGE);
  v[o] /= n; v[o + 1] /= n; v[o + 2] /= n;
}

// A unit vector perpendicular to unit u: u x y, or u x z when u is near y.
function perpendicular(u) {
  const h = Math.abs(u[1]) < 0.9 ? [0, 1, 0] : [0, 0, 1];
  const p = [u[1] * h[2] - u[2] * h[1], u[2] * h[0] - u[0] * h[2], u[0] * h[1] - u[1] * h[0]];
  unit(p, 0, Math.hypot(...p));
  return p;
}

// Rotation matrix (row-major 9) -> unit quaternion w x y z.
function matrixQuat(m, out, o) {
  const trace = m[0] + m[4] + m[8];
  let w, x, y, z;
  if (trace > 0) {
    const s = 2 * Math.sqrt(trace + 1);
    w = s / 4; x = (m[7] - m[5]) / s; y = (m[2] - m[6]) / s; z = (m[3] - m[1]) / s;
  } else if (m[0] > m[4] && m[0] > m[8]) {
    const s = 2 * Math.sqrt(1 + m[0] - m[4] - m[8]);
    w = (m[7] - m[5]) / s; x = s / 4; y = (m[1] + m[3]) / s; z = (m[2] + m[6]) / s;
  } else if (m[4] > m[8]) {
    const s = 2 * Math.sqrt(1 + m[4] - m[0] - m[8]);
    w = (m[2] - m[6]) / s; x = (m[1] + m[3]) / s; y = s / 4; z = (m[5] + m[7]) / s;
  } else {
    const s = 2 * Math.sqrt(1 + m[8] - m[0] - m[4]);
    w = (m[3] - m[1]) / s; x = (m[2] + m[6]) / s; y = (m[5] + m[7]) / s; z = s / 4;
  }
  const n = Math.hypot(w, x, y, z) || 1;
  out[o] = w / n; out[o + 1] = x / n; out[o + 2] = y / n; out[o + 3] = z / n;
}

// (clip, seconds) of timeline time t: the segment holding [start, start + length) t, else
// the nearest one; a boundary is the next clip's start (rig_deformation.pose_on).
const BOUNDARY = 1e-6;
export function poseOn(segments, durations, t) {
  let best = segments[0], bestDistance = Infinity, held = false;
  for (const segment of segments) {
    const [, start, length] = segment;
    if (start - BOUNDARY <= t && t < start + length - BOUNDARY) {
      if (!held || start > best[1]) best = segment;
      held = true;
    } else if (!held) {
      const distance = Math.max(start - t, t - start - length, 0);
      if (distance < bestDistance) { best = segment; bestDistance = distance; }
    }
  }
  const [clip, start, length] = best;
  return [clip, Math.min(Math.max((t - start) / length, 0), 1) * durations[clip]];
}

export class RigPoser {
  constructor(motion, get) {
    this.motion = motion;
    this.rest = get("rig_rest"); this.bones = get("rig_bones"); this.weights = get("rig_weights");
    this.faces = get("rig_faces"); this.poses = get("rig_poses"); this.face = get("face");
    this.deltas = motion.morph_blocks.length ? get("rig_morph_deltas") : null;
    this.vertexCount = this.rest.length / 3;
    this.influences = this.vertexCount ? this.bones.length / this.vertexCount : 0;
    this.width = motion.bones * 12 + motion.morphs;
    this.clips = new Map(motion.clips.map((c) => [c.name, c]));
    this.durations = Object.fromEntries(motion.clips.map((c) => [c.name, c.duration]));
    const faceCount = this.faces.length / 3, used = new Uint8Array(faceCount);
    for (const f of this.face) used[f] = 1;
    this.used = [];
    for (let f = 0; f < faceCount; f++) if (used[f]) this.used.push(f);
    this.points = new Float64Array(this.vertexCount * 3);
    this.vertices = new Float64Array(this.vertexCount * 3);
    this.anchor = this.frames(this.skin(get("rig_anchor")));
    this.posed = new Float64Array(faceCount * FRAME);
    this.table = new Float64Array(faceCount * TABLE);
  }

  // The pose vector (bones x 12, morph weights) at t: of the clip (t = 0 .. 1 plays it
  // once), or of the trained timeline when clip is null.
  poseVector(t, clip) {
    const [name, seconds] = clip === null
      ? poseOn(this.motion.segments, this.durations, t)
      : poseOn([[clip, 0, 1]], this.durations, t);
    const info = this.clips.get(name), width = this.width, out = new Float64Array(width);
    const base = info.first * width;
    if (info.samples === 1) return out.map((_, j) => this.poses[base + j]);
    const fraction = info.duration > 0 ? seconds / info.duration : 0;
    const position = Math.min(Math.max(fraction, 0), 1) * (info.samples - 1);
    const low = Math.min(Math.floor(position), info.samples - 2), share = position - low;
    const a = base + low * width, b = a + width;
    for (let j = 0; j < width; j++) out[j] = (1 - share) * this.poses[a + j] + share * this.poses[b + j];
    return out;
  }

  // Linear blend skinning of the whole mesh at a pose vector -> this.vertices.
  skin(vector) {
    const points = this.points, out = this.vertices, k = this.influences;
    points.set(this.rest);
    const morphs = 12 * this.motion.bones;
    for (const block of this.motion.morph_blocks) {
      block.slots.forEach((slot, m) => {
        const weight = vector[morphs + slot];
        if (weight === 0) return;
        const row = block.row + m * block.count;
        for (let j = 0; j < 3 * block.count; j++)
          points[3 * block.first_vertex + j] += weight * this.deltas[3 * row + j];
      });
    }
    const matrix = new Float64Array(12);
    for (let v = 0; v < this.vertexCount; v++) {
      matrix.fill(0);
      for (let i = 0; i < k; i++) {
        const w = this.weights[v * k + i];
        if (w === 0) continue;
        const bone = 12 * this.bones[v * k + i];
        for (let j = 0; j < 12; j++) matrix[j] += w * vector[bone + j];
      }
      const x = points[3 * v], y = points[3 * v + 1], z = points[3 * v + 2];
      for (let r = 0; r < 3; r++)
        out[3 * v + r] = matrix[4 * r] * x + matrix[4 * r + 1] * y + matrix[4 * r + 2] * z + matrix[4 * r + 3];
    }
    return out;
  }

  // Frames of the triangles Gaussians follow (model/triangle_frames.py), into out.
  frames(vertices, out = new Float64Array((this.faces.length / 3) * FRAME)) {
    const c = [0, 0, 0].map(() => new Float64Array(3));
    for (const f of this.used) {
      for (let i = 0; i < 3; i++) {
        const v = this.faces[3 * f + i];
        for (let j = 0; j < 3; j++) c[i][j] = vertices[3 * v + j];
      }
      const e01 = [0, 1, 2].map((j) => c[1][j] - c[0][j]), e02 = [0, 1, 2].map((j) => c[2][j] - c[0][j]);
      const cross = [e01[1] * e02[2] - e01[2] * e02[1], e01[2] * e02[0] - e01[0] * e02[2], e01[0] * e02[1] - e01[1] * e02[0]];
      const length01 = Math.hypot(...e01), doubleArea = Math.hypot(...cross);
      let tangent = e01.slice(), normal = cross.slice();
      unit(tangent, 0, length01);
      unit(normal, 0, doubleArea);
      const trusted = doubleArea > MIN_SINE * length01 * Math.hypot(...e02);
      if (!trusted || length01 <= MIN_EDGE) {
        const short = length01 <= MIN_EDGE;
        if (short) tangent = [1, 0, 0];
        if (!(trusted && !short)) normal = perpendicular(tangent);
      }
      const bitangent = [normal[1] * tangent[2] - normal[2] * tangent[1],
        normal[2] * tangent[0] - normal[0] * tangent[2], normal[0] * tangent[1] - normal[1] * tangent[0]];
      const o = FRAME * f;
      for (let j = 0; j < 3; j++) {
        out[o + j] = (c[0][j] + c[1][j] + c[2][j]) / 3;
        out[o + 3 + 3 * j] = tangent[j]; out[o + 4 + 3 * j] = bitangent[j]; out[o + 5 + 3 * j] = normal[j];
      }
      out[o + 12] = Math.max(Math.sqrt(doubleArea), MIN_SCALE);
    }
    return out;
  }

  // Per followed triangle, the similarity from its anchor frame to its frame at the pose:
  // linear = s R_t R_a^T, shift = o_t - linear o_a, its rotation, log s (rig_deformation.py).
  similarity(t, clip) {
    const posed = this.frames(this.skin(this.poseVector(t, clip)), this.posed);
    const anchor = this.anchor, table = this.table, rotation = new Float64Array(9);
    for (const f of this.used) {
      const a = FRAME * f, p = FRAME * f, o = TABLE * f;
      const ratio = posed[p + 12] / anchor[a + 12];
      for (let r = 0; r < 3; r++)
        for (let s = 0; s < 3; s++)
          rotation[3 * r + s] = posed[p + 3 + 3 * r] * anchor[a + 3 + 3 * s]
            + posed[p + 4 + 3 * r] * anchor[a + 4 + 3 * s] + posed[p + 5 + 3 * r] * anchor[a + 5 + 3 * s];
      for (let j = 0; j < 9; j++) table[o + j] = ratio * rotation[j];
      for (let r = 0; r < 3; r++)
        table[o + 9 + r] = posed[p + r] - (table[o + 3 * r] * anchor[a] + table[o + 3 * r + 1] * anchor[a + 1]
          + table[o + 3 * r + 2] * anchor[a + 2]);
      matrixQuat(rotation, table, o + 12);
      table[o + 16] = Math.log(ratio);
    }
    return table;
  }
}
