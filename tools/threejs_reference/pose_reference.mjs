// Independent glTF pose reference for avatar4d, computed with three.js in Node (no DOM).
//
// Loads a .glb with three's GLTFLoader, plays one named clip with an AnimationMixer at the
// given seconds and writes, for every mesh primitive, world-space positions (morphs and
// CPU skinning applied) of a deterministic subsample of its vertices as JSON.
//
// usage: node pose_reference.mjs FILE.glb --clip NAME --times T1,T2,... [--out OUT.json]
//                                [--max-per-primitive 1500] [--investigate]
//
// --investigate adds, for every skinned primitive, the maximum distance between three.js and
// alternative skinning formulas (glTF spec formula with raw / normalised weights, the node
// transform applied twice, and SkinnedMesh.bind(skeleton) without a bind matrix, which uses
// the mesh's world matrix as bind matrix); see README.md.

import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { AnimationMixer, Matrix4, REVISION, Vector3, Vector4 } from 'three';
import { GLTFLoader } from 'three/examples/jsm/loaders/GLTFLoader.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const THREE_VERSION = JSON.parse(
	readFileSync(join(HERE, 'node_modules', 'three', 'package.json'), 'utf8'),
).version;

const GLB_MAGIC = 0x46546c67; // 'glTF'
const CHUNK_JSON = 0x4e4f534a;
const CHUNK_BIN = 0x004e4942;

function parseArgs(argv) {
	const args = { file: null, clip: null, times: [], out: null, maxPer: 1500, investigate: false };
	for (let i = 0; i < argv.length; i++) {
		const a = argv[i];
		if (a === '--clip') args.clip = argv[++i];
		else if (a === '--times') args.times = argv[++i].split(',').map(Number);
		else if (a === '--out') args.out = argv[++i];
		else if (a === '--max-per-primitive') args.maxPer = Number(argv[++i]);
		else if (a === '--investigate') args.investigate = true;
		else if (args.file === null) args.file = a;
		else throw new Error(`unexpected argument ${a}`);
	}
	if (!args.file || !args.clip || args.times.length === 0 || args.times.some(Number.isNaN)) {
		throw new Error('usage: node pose_reference.mjs FILE.glb --clip NAME --times T1,T2,...');
	}
	return args;
}

// Split a GLB into its JSON object and BIN chunk (a Uint8Array view, or null).
function splitGlb(bytes) {
	const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
	if (view.getUint32(0, true) !== GLB_MAGIC) throw new Error('not a binary glTF (.glb) file');
	let json = null;
	let bin = null;
	let offset = 12;
	while (offset + 8 <= bytes.byteLength) {
		const length = view.getUint32(offset, true);
		const type = view.getUint32(offset + 4, true);
		const body = bytes.subarray(offset + 8, offset + 8 + length);
		if (type === CHUNK_JSON) json = JSON.parse(new TextDecoder().decode(body));
		else if (type === CHUNK_BIN && bin === null) bin = body;
		offset += 8 + length;
	}
	if (json === null) throw new Error('GLB has no JSON chunk');
	return { json, bin };
}

function joinGlb(json, bin) {
	const pad4 = (n) => (n + 3) & ~3;
	const jsonBytes = new TextEncoder().encode(JSON.stringify(json));
	const jsonLen = pad4(jsonBytes.length);
	const binLen = bin ? pad4(bin.length) : 0;
	const total = 12 + 8 + jsonLen + (bin ? 8 + binLen : 0);
	const out = new Uint8Array(total);
	const view = new DataView(out.buffer);
	view.setUint32(0, GLB_MAGIC, true);
	view.setUint32(4, 2, true);
	view.setUint32(8, total, true);
	view.setUint32(12, jsonLen, true);
	view.setUint32(16, CHUNK_JSON, true);
	out.fill(0x20, 20, 20 + jsonLen);
	out.set(jsonBytes, 20);
	if (bin) {
		const o = 20 + jsonLen;
		view.setUint32(o, binLen, true);
		view.setUint32(o + 4, CHUNK_BIN, true);
		out.set(bin, o + 8);
	}
	return out.buffer;
}

// Remove every texture reference (images need a DOM to decode; positions never depend on them).
function stripTextures(json) {
	const stripped = structuredClone(json);
	delete stripped.images;
	delete stripped.textures;
	delete stripped.samplers;
	const isTextureInfo = (v) => v !== null && typeof v === 'object' && 'index' in v;
	const scrub = (obj) => {
		if (obj === null || typeof obj !== 'object') return;
		for (const key of Object.keys(obj)) {
			const v = obj[key];
			if (/Texture$/.test(key) && isTextureInfo(v)) delete obj[key];
			else scrub(v);
		}
	};
	for (const material of stripped.materials || []) scrub(material);
	const dropExt = ['EXT_texture_webp', 'KHR_texture_basisu', 'EXT_texture_avif'];
	for (const key of ['extensionsUsed', 'extensionsRequired']) {
		if (stripped[key]) stripped[key] = stripped[key].filter((e) => !dropExt.includes(e));
	}
	return stripped;
}

function loadGltf(arrayBuffer) {
	return new Promise((resolve, reject) => {
		new GLTFLoader().parse(arrayBuffer, '', resolve, reject);
	});
}

// Raw (un-normalised) accessor data straight from the file, as float64 rows.
function readAccessor(json, bin, index) {
	const acc = json.accessors[index];
	const bv = json.bufferViews[acc.bufferView];
	const ncomp = { SCALAR: 1, VEC2: 2, VEC3: 3, VEC4: 4, MAT4: 16 }[acc.type];
	const types = {
		5126: [4, 'getFloat32', 1],
		5125: [4, 'getUint32', 1],
		5123: [2, 'getUint16', 65535],
		5121: [1, 'getUint8', 255],
	};
	const [size, getter, max] = types[acc.componentType];
	const stride = bv.byteStride || size * ncomp;
	const base = (bv.byteOffset || 0) + (acc.byteOffset || 0);
	const view = new DataView(bin.buffer, bin.byteOffset, bin.byteLength);
	const rows = [];
	for (let i = 0; i < acc.count; i++) {
		const row = [];
		for (let c = 0; c < ncomp; c++) {
			let v = view[getter](base + i * stride + c * size, true);
			if (acc.normalized && acc.componentType !== 5126) v /= max;
			row.push(v);
		}
		rows.push(row);
	}
	return rows;
}

// glTF node index that owns this three.js mesh (the mesh itself, or its primitive Group).
function nodeIndexOf(parser, object) {
	for (let o = object; o; o = o.parent) {
		const assoc = parser.associations.get(o);
		if (assoc && assoc.nodes !== undefined) return assoc.nodes;
	}
	return -1;
}

function sampleIndices(count, maxPer) {
	const step = Math.max(1, Math.ceil(count / maxPer));
	const out = [];
	for (let i = 0; i < count; i += step) out.push(i);
	return out;
}

function collectParts(gltf, json) {
	const parser = gltf.parser;
	const parts = [];
	gltf.scene.traverse((object) => {
		if (!object.isMesh) return;
		const assoc = parser.associations.get(object);
		if (!assoc || assoc.meshes === undefined) throw new Error(`no glTF association for ${object.name}`);
		const meshIndex = assoc.meshes;
		parts.push({
			object,
			node: nodeIndexOf(parser, object),
			mesh: meshIndex,
			primitive: assoc.primitives ?? 0,
			mesh_name: json.meshes[meshIndex].name ?? '',
			skinned: object.isSkinnedMesh === true,
			vertex_count: object.geometry.attributes.position.count,
		});
	});
	return parts;
}

// Alternative skinning formulas for one vertex; all return world-space Vector3s.
function skinAlternatives(part, index, rawWeights, restMeshWorld) {
	const mesh = part.object;
	const skeleton = mesh.skeleton;
	const geometry = mesh.geometry;
	const v = new Vector3();
	// Morphed, unskinned local position (Mesh.prototype.getVertexPosition, not the skinned one).
	Object.getPrototypeOf(Object.getPrototypeOf(mesh)).getVertexPosition.call(mesh, index, v);
	const joints = new Vector4().fromBufferAttribute(geometry.attributes.skinIndex, index);
	const normW = new Vector4().fromBufferAttribute(geometry.attributes.skinWeight, index);
	const rawW = new Vector4().fromArray(rawWeights[index]);
	const jointMatrix = new Matrix4();
	const blend = (weights, point) => {
		const acc = new Vector3();
		for (let k = 0; k < 4; k++) {
			const w = weights.getComponent(k);
			if (w === 0) continue;
			const j = joints.getComponent(k);
			jointMatrix.multiplyMatrices(skeleton.bones[j].matrixWorld, skeleton.boneInverses[j]);
			acc.addScaledVector(point.clone().applyMatrix4(jointMatrix), w);
		}
		return acc;
	};
	const specNormalised = blend(normW, v);
	return {
		spec_raw_weights: blend(rawW, v),
		spec_normalised_weights: specNormalised,
		node_transform_applied_twice: specNormalised.clone().applyMatrix4(mesh.matrixWorld),
		bind_matrix_from_mesh_world: blend(normW, v.clone().applyMatrix4(restMeshWorld)),
	};
}

async function main() {
	const args = parseArgs(process.argv.slice(2));
	const bytes = new Uint8Array(readFileSync(args.file));
	const sha256 = createHash('sha256').update(bytes).digest('hex');
	const { json, bin } = splitGlb(bytes);
	const gltf = await loadGltf(joinGlb(stripTextures(json), bin));

	const clip = gltf.animations.find((c) => c.name === args.clip);
	if (!clip) {
		const names = gltf.animations.map((c) => c.name).join(', ');
		throw new Error(`clip ${args.clip} not found; clips: ${names}`);
	}
	const parts = collectParts(gltf, json);

	// Rest-pose (no animation) world matrices of meshes, for the bind-matrix comparison.
	gltf.scene.updateMatrixWorld(true);
	const restWorld = new Map(parts.map((p) => [p, p.object.matrixWorld.clone()]));
	const rawWeights = new Map();
	if (args.investigate) {
		for (const p of parts) {
			if (!p.skinned) continue;
			const prim = json.meshes[p.mesh].primitives[p.primitive];
			rawWeights.set(p, readAccessor(json, bin, prim.attributes.WEIGHTS_0));
		}
	}

	const mixer = new AnimationMixer(gltf.scene);
	const action = mixer.clipAction(clip);
	action.play();

	const target = new Vector3();
	const samples = [];
	for (const seconds of args.times) {
		mixer.setTime(seconds);
		gltf.scene.updateMatrixWorld(true);
		const outParts = [];
		const investigation = [];
		for (const p of parts) {
			const indices = sampleIndices(p.vertex_count, args.maxPer);
			const positions = [];
			const maxDiff = {};
			for (const i of indices) {
				// Mesh/SkinnedMesh.getVertexPosition returns the morphed (and skinned) position in
				// the mesh's LOCAL space: SkinnedMesh ends with bindMatrixInverse, which in
				// AttachedBindMode is inverse(matrixWorld). So matrixWorld is applied exactly once.
				p.object.getVertexPosition(i, target).applyMatrix4(p.object.matrixWorld);
				positions.push(target.x, target.y, target.z);
				if (args.investigate && p.skinned) {
					const alt = skinAlternatives(p, i, rawWeights.get(p), restWorld.get(p));
					for (const [name, value] of Object.entries(alt)) {
						maxDiff[name] = Math.max(maxDiff[name] ?? 0, value.distanceTo(target));
					}
				}
			}
			outParts.push({
				node: p.node,
				mesh: p.mesh,
				primitive: p.primitive,
				mesh_name: p.mesh_name,
				skinned: p.skinned,
				vertex_count: p.vertex_count,
				indices,
				positions,
			});
			if (args.investigate && p.skinned) {
				const m = p.object.matrixWorld.elements;
				const identity = new Matrix4().elements;
				const offIdentity = Math.max(...m.map((x, k) => Math.abs(x - identity[k])));
				investigation.push({
					node: p.node,
					mesh: p.mesh,
					primitive: p.primitive,
					mesh_world_max_abs_minus_identity: offIdentity,
					mesh_world: Array.from(m),
					bind_matrix_is_identity: p.object.bindMatrix.equals(new Matrix4()),
					max_distance_from_three: maxDiff,
				});
			}
		}
		samples.push({ seconds, parts: outParts, investigation });
	}

	const result = {
		three_version: THREE_VERSION,
		three_revision: REVISION,
		asset_sha256: sha256,
		clip: args.clip,
		clip_duration: clip.duration,
		max_per_primitive: args.maxPer,
		samples,
	};
	const text = JSON.stringify(result);
	if (args.out) writeFileSync(args.out, text);
	else process.stdout.write(text);
}

main().catch((err) => {
	console.error(err);
	process.exit(1);
});
