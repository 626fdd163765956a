"""Headless Chromium for the web player's tests: serve a folder, load a page, read a frame."""

from __future__ import annotations

import base64
import html
import io
import re
import shutil
import subprocess
import threading
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from PIL import Image

from avatar4d.output.web_server import server_url, web_server

CHROMIUM_FLAGS = (
    "--headless=new",
    "--use-angle=swiftshader",
    "--enable-unsafe-swiftshader",
    "--no-sandbox",  # the suite may run as root (CI containers)
    "--disable-gpu-sandbox",
    "--no-first-run",
    "--virtual-time-budget=60000",
)


def find_chromium() -> str | None:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return None


@contextmanager
def serve(folder: Path) -> Iterator[str]:
    """http://127.0.0.1:PORT/ serving ``folder`` (avatar4d view's server) from a thread."""
    server = web_server(folder, 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server_url(server)
    finally:
        server.shutdown()
        server.server_close()


def dump_dom(chromium: str, url: str, profile: Path) -> str:
    result = subprocess.run(
        [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--dump-dom", url],
        capture_output=True,
        text=True,
        timeout=180,
    )
    if result.returncode != 0:
        raise RuntimeError(f"chromium failed ({result.returncode}): {result.stderr[-2000:]}")
    return result.stdout


def capture_frame(
    chromium: str,
    base_url: str,
    c2w: np.ndarray,
    fov_deg: float,
    size: int,
    t: float,
    profile: Path,
    clip: str | None = None,
    posing: str = "gpu",
) -> np.ndarray:
    """The player's frame for this camera and time (of ``clip``, for a model that performs
    clips; None: its own timeline), posed on the GPU or the CPU (``posing``; the page must
    report having done so), (H, W, 3) floats in [0, 1]."""
    query = (
        f"?c2w={','.join(repr(float(v)) for v in np.asarray(c2w).reshape(-1))}"
        f"&fov={fov_deg!r}&width={size}&height={size}&t={t!r}"
    )
    if clip is not None:
        query += f"&clip={urllib.parse.quote(clip)}"
    if posing != "gpu":
        query += f"&posing={urllib.parse.quote(posing)}"
    dom = dump_dom(chromium, base_url + "index.html" + query, profile)
    match = re.search(r'<pre id="frame"(?: data-posing="(\w*)")?>(.*?)</pre>', dom, re.S)
    text = html.unescape(match.group(2)) if match else ""
    if not text.startswith("data:image/png;base64,"):
        raise RuntimeError(f"the page drew no frame: {text[:500]!r}")
    if match.group(1) != posing:
        raise RuntimeError(f"the page posed on {match.group(1)!r}, not {posing!r}")
    png = base64.b64decode(text.split(",", 1)[1])
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=np.float64) / 255.0
