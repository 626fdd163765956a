"""``export --format web``: a folder any static web server can serve that plays the avatar.

index.html, page.js, player.js, rig.js and gpu.js (this package's web_player/, copied as they
are) and the model: avatar.json (what the arrays are) and avatar.bin (output/web_package.py).
"""

from __future__ import annotations

from pathlib import Path

from avatar4d.io.atomic import write_bytes_atomic, write_text_atomic
from avatar4d.output.web_package import header_text, web_package

PLAYER_FOLDER = Path(__file__).parent / "web_player"
PLAYER_FILES = ("index.html", "page.js", "player.js", "rig.js", "gpu.js")
MODEL_FILES = ("avatar.json", "avatar.bin")
WEB_FILES = (*PLAYER_FILES, *MODEL_FILES)


def write_web_export(
    out: Path, params: dict, deformation: object, motion_name: str, step: int, force: bool
) -> int:
    """Write the web export into ``out`` (which exists); -> the model's Gaussian count."""
    header, blob = web_package(params, deformation, motion_name)
    header["step"] = step
    for name in PLAYER_FILES:
        write_bytes_atomic(out / name, (PLAYER_FOLDER / name).read_bytes(), force=force)
    write_bytes_atomic(out / "avatar.bin", blob, force=force)
    write_text_atomic(out / "avatar.json", header_text(header), force=force)
    return int(header["count"])
