// The page around the player: window.avatar4d for programs, URL-driven capture for tests,
// and the interactive view (orbit / zoom with the mouse, time slider, play / pause, speed,
// and the clip chooser where the model performs clips: the mesh-driven one).
"use strict";

const LOOP_SECONDS = 2; // one pass through t = 0 .. 1 at speed 1 (models with no clips)

// How the chosen clip (or the trained timeline) plays: seconds per pass at speed 1, and
// whether it wraps (its ends join: output/web_rig.py) or plays forwards and back.
function playback(header, clip) {
  const m = header.motion;
  if (m.name !== "rig") return { seconds: LOOP_SECONDS, wraps: true };
  const byName = Object.fromEntries(m.clips.map((c) => [c.name, c]));
  if (clip !== null) return { seconds: byName[clip].duration || LOOP_SECONDS, wraps: byName[clip].loops };
  const seconds = m.segments.reduce((sum, [name]) => sum + byName[name].duration, 0);
  return { seconds: seconds || LOOP_SECONDS, wraps: m.timeline_loops };
}

// The next time of a pass that wraps, or bounces at the ends (direction +1 / -1).
function advance(t, step, wraps, view) {
  if (wraps) return (((t + step) % 1) + 1) % 1;
  let next = t + view.direction * step;
  if (next > 1 || next < 0) {
    view.direction = -view.direction;
    next = next > 1 ? 2 - next : -next;
  }
  return Math.min(Math.max(next, 0), 1);
}

function clipChooser(player, document, view) {
  const chooser = document.getElementById("clip");
  if (!player.clips.length) return;
  document.getElementById("clipLabel").hidden = false;
  const names = ["(as trained)", ...player.clips];
  names.forEach((name, i) => {
    const option = document.createElement("option");
    option.value = i === 0 ? "" : name;
    option.textContent = name;
    option.defaultSelected = option.value === (player.clip || "");
    chooser.appendChild(option);
  });
  chooser.addEventListener("change", () => {
    player.setClip(chooser.value || null);
    view.loop = playback(player.header, player.clip);
    view.direction = 1;
  });
}

function orbitCamera(centre, distance, azimuth, elevation) {
  const back = [Math.cos(elevation) * Math.sin(azimuth), Math.sin(elevation),
    Math.cos(elevation) * Math.cos(azimuth)];
  const right = [back[2], 0, -back[0]];
  const length = Math.hypot(...right) || 1;
  const x = right.map((v) => v / length);
  const y = [back[1] * x[2] - back[2] * x[1], back[2] * x[0] - back[0] * x[2], back[0] * x[1] - back[1] * x[0]];
  const p = centre.map((c, i) => c + distance * back[i]);
  return [x[0], y[0], back[0], p[0], x[1], y[1], back[1], p[1], x[2], y[2], back[2], p[2], 0, 0, 0, 1];
}

function numbers(text) {
  return text.split(",").map(Number);
}

// ?clip=NAME starts the view on that clip (a rig model's).
function interactive(player, document, params) {
  if (params.has("clip")) player.setClip(params.get("clip"));
  const canvas = document.getElementById("view");
  const slider = document.getElementById("time");
  const playButton = document.getElementById("play");
  const speed = document.getElementById("speed");
  const means = player.header.arrays.means;
  const centre = means.lo.map((lo, i) => (lo + means.hi[i]) / 2);
  const radius = Math.hypot(...means.lo.map((lo, i) => means.hi[i] - lo)) / 2 || 1;
  const view = { azimuth: 0, elevation: 0.15, distance: 3.2 * radius, playing: true,
    loop: playback(player.header, player.clip), direction: 1 };
  clipChooser(player, document, view);
  let last = performance.now(), dragging = null;
  canvas.addEventListener("pointerdown", (e) => { dragging = [e.clientX, e.clientY]; canvas.setPointerCapture(e.pointerId); });
  canvas.addEventListener("pointerup", () => { dragging = null; });
  canvas.addEventListener("pointermove", (e) => {
    if (!dragging) return;
    view.azimuth -= (e.clientX - dragging[0]) * 0.01;
    view.elevation = Math.max(-1.5, Math.min(1.5, view.elevation + (e.clientY - dragging[1]) * 0.01));
    dragging = [e.clientX, e.clientY];
  });
  canvas.addEventListener("wheel", (e) => { e.preventDefault(); view.distance *= Math.exp(e.deltaY * 0.001); }, { passive: false });
  playButton.addEventListener("click", () => {
    view.playing = !view.playing;
    playButton.textContent = view.playing ? "Pause" : "Play";
  });
  slider.addEventListener("input", () => { player.setTime(Number(slider.value)); });
  async function frame(now) {
    if (view.playing) {
      const step = (now - last) / 1000 / view.loop.seconds * Number(speed.value);
      const t = advance(player.time, step, view.loop.wraps, view);
      player.setTime(t);
      slider.value = t;
    }
    last = now;
    const width = window.innerWidth, height = window.innerHeight;
    player.setCamera(orbitCamera(centre, view.distance, view.azimuth, view.elevation), 40, width, height);
    await player.renderFrame();
    requestAnimationFrame(frame);
  }
  requestAnimationFrame(frame);
}

// ?c2w=16 numbers (row-major OpenGL camera-to-world)&fov=deg&width=&height=&t=[&clip=NAME]:
// draw that one frame (of that clip: a rig model's) and write it into <pre id="frame"> as a
// PNG data URL (read by the browser test).
async function capture(player, document, params) {
  document.body.classList.add("capture");
  if (params.has("clip")) player.setClip(params.get("clip"));
  player.setCamera(numbers(params.get("c2w")), Number(params.get("fov")),
    Number(params.get("width")), Number(params.get("height")));
  player.setTime(Number(params.get("t") || 0));
  await player.renderFrame();
  document.getElementById("frame").dataset.posing = player.posing;
  document.getElementById("frame").textContent = document.getElementById("view").toDataURL("image/png");
  document.title = "avatar4d: frame ready";
}

// ?bench=N&width=&height=: draw N frames (pose, project, sort, draw) from an orbit camera
// at advancing times and write the frames per second into <pre id="frame">.
async function bench(player, document, params) {
  document.body.classList.add("capture");
  const frames = Number(params.get("bench"));
  const means = player.header.arrays.means;
  const centre = means.lo.map((lo, i) => (lo + means.hi[i]) / 2);
  const radius = Math.hypot(...means.lo.map((lo, i) => means.hi[i] - lo)) / 2 || 1;
  player.setCamera(orbitCamera(centre, 3.2 * radius, 0.5, 0.15), 40,
    Number(params.get("width")), Number(params.get("height")));
  const start = performance.now();
  for (let i = 0; i < frames; i++) {
    player.setTime(i / frames);
    await player.renderFrame();
  }
  const seconds = (performance.now() - start) / 1000;
  document.getElementById("frame").textContent = `fps ${(frames / seconds).toFixed(2)} posing ${player.posing} on ${player.graphics}`;
  document.title = "avatar4d: bench done";
}

function choosePage(player, document, params) {
  if (params.has("c2w")) return capture(player, document, params);
  if (params.has("bench")) return bench(player, document, params);
  return interactive(player, document, params);
}

// ?posing=cpu poses and projects the Gaussians in JavaScript (the default, gpu, in a WebGL2
// pass), for comparing the two.
export function runPage(startPlayer, document) {
  const status = document.getElementById("frame");
  const params = new URLSearchParams(window.location.search);
  const ready = startPlayer(document.getElementById("view"), "avatar", params.get("posing") || "gpu");
  window.avatar4d = {
    ready: ready.then(() => undefined),
    setCamera: (c2w, fov, width, height) => ready.then((p) => p.setCamera(c2w, fov, width, height)),
    setTime: (t) => ready.then((p) => p.setTime(t)),
    clips: () => ready.then((p) => p.clips),
    setClip: (name) => ready.then((p) => p.setClip(name)),
    renderFrame: () => ready.then((p) => p.renderFrame()),
    posing: () => ready.then((p) => p.posing),
  };
  ready
    .then((player) => choosePage(player, document, params))
    .catch((error) => { status.textContent = "error: " + error.message; document.title = "avatar4d: error"; });
}
