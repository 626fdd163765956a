"""The web player in headless Chromium on a trained run: PSNR (on white) of its frames
against the reference render of the same camera and time, and its frame rate.

    PYTHONPATH=src python benchmarks/web_player_check.py RUN [--size 256] [--fps-size 1280x720]
        [--clip NAME]  (a rig run performing a clip: against TrainedModel.performing)
        [--posing gpu,cpu]  (the player's posing paths measured, each in turn)

Frames per second: 40 over the wall time of a page drawing 41 frames minus one drawing 1
(Chromium's start and the model's loading cancel); each frame poses, projects, sorts and draws
every Gaussian (gl.finish() included), posing and projecting on the GPU (a WebGL2 pass) or
in JavaScript (?posing=cpu). Also prints the renderer the page draws with.
"""

from __future__ import annotations

import argparse
import math
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from web_browser import CHROMIUM_FLAGS, capture_frame, find_chromium, serve  # noqa: E402

from avatar4d.output.web_export import write_web_export  # noqa: E402
from avatar4d.raster.cameras import Cameras  # noqa: E402
from avatar4d.run.trained import load_trained_model  # noqa: E402

FOV_DEG = 40.0
VIEWS = [(0.0, 10.0, 0.0), (60.0, 20.0, 0.25), (150.0, 0.0, 0.5), (250.0, -10.0, 0.75)]


def orbit(centre: np.ndarray, distance: float, azimuth: float, elevation: float) -> np.ndarray:
    az, el = math.radians(azimuth), math.radians(elevation)
    back = np.array([math.cos(el) * math.sin(az), math.sin(el), math.cos(el) * math.cos(az)])
    right = np.cross([0.0, 1.0, 0.0], back)
    right /= np.linalg.norm(right)
    c2w = np.eye(4)
    c2w[:3, 0], c2w[:3, 1], c2w[:3, 2] = right, np.cross(back, right), back
    c2w[:3, 3] = centre + distance * back
    return c2w


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run")
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--fps-size", default="1280x720")
    parser.add_argument("--clip", default=None, help="a clip for a rig run to perform")
    parser.add_argument("--no-fps", action="store_true", help="skip the frame rate")
    parser.add_argument("--posing", default="gpu,cpu", help="the posing paths, comma-separated")
    parser.add_argument("--fps-only", action="store_true", help="skip the PSNR views")
    args = parser.parse_args()
    chromium = find_chromium()
    if chromium is None:
        raise SystemExit("chromium not found")
    model = load_trained_model(args.run, device="cpu")
    centre = np.asarray(model.spec.scene_center)
    distance = 1.1 * model.spec.scene_radius / math.tan(math.radians(FOV_DEG) / 2)
    focal = 0.5 * args.size / math.tan(math.radians(FOV_DEG) / 2)
    width, height = (int(v) for v in args.fps_size.split("x"))
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "web"
        out.mkdir()
        write_web_export(
            out, model.params, model.deformation, model.spec.motion.name, model.step, False
        )
        with serve(out) as url:
            for posing in args.posing.split(","):
                for azimuth, elevation, t in () if args.fps_only else VIEWS:
                    c2w = orbit(centre, distance, azimuth, elevation)
                    drawn = capture_frame(
                        chromium, url, c2w, FOV_DEG, args.size, t, Path(folder), args.clip, posing
                    )
                    cameras = Cameras(
                        torch.tensor(c2w, dtype=torch.float32),
                        focal, focal, args.size / 2, args.size / 2, args.size, args.size,
                    )  # fmt: skip
                    performer = model if args.clip is None else model.performing(args.clip)
                    expected = performer.render(cameras, t, backend="reference").rgb[0]
                    error = float(np.mean((drawn - expected.clamp(0, 1).numpy()) ** 2))
                    psnr = 10 * math.log10(1 / max(error, 1e-12))
                    print(
                        f"{posing}: azimuth {azimuth:5.1f} elevation {elevation:5.1f} t {t:.2f}: "
                        f"{psnr:.2f} dB"
                    )
                if not args.no_fps:
                    fps, page = frame_rate(chromium, url, folder, width, height, posing)
                    print(
                        f"{posing}: {model.num_gaussians:,} Gaussians at {width}x{height}: "
                        f"{fps:.2f} frames/s; {page}"
                    )


def frame_rate(
    chromium: str, url: str, folder: str, width: int, height: int, posing: str
) -> tuple[float, str]:
    """(frames per second of 41 frames less 1, what draws: the page's WebGL renderer). The
    page's own count is not used: Chromium's virtual time stops its clock."""
    walls, dom = {}, ""
    for frames in (1, 41):
        page = f"{url}index.html?bench={frames}&width={width}&height={height}&posing={posing}"
        start = time.perf_counter()
        dom = subprocess.run(
            [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={folder}", "--dump-dom", page],
            capture_output=True, check=True, timeout=600, text=True,
        ).stdout  # fmt: skip
        walls[frames] = time.perf_counter() - start
    match = re.search(r'<pre id="frame">(.*?)</pre>', dom, re.S)
    reported = match.group(1) if match else "nothing"
    if f"posing {posing}" not in reported:
        raise SystemExit(f"the page did not pose on {posing}: {reported!r}")
    return 40 / (walls[41] - walls[1]), reported.split(" on ", 1)[1]


if __name__ == "__main__":
    main()
