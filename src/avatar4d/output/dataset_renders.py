"""A trained model's renders of dataset frames, as a folder ``avatar4d eval --renders`` scores.

Each frame's render is written to ``out/<its image's dataset path>.png`` (``render_name``:
``out/test/r_000.png`` for ``"./test/r_000"``) as 8-bit straight-alpha RGBA, rendered and
quantised by the evaluation's own ``render_frames_rgba8``: scoring the folder gives exactly
the numbers of ``avatar4d eval RUN``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path

from avatar4d.data.dataset import Dataset, Frame
from avatar4d.evaluate.renders_folder import render_name
from avatar4d.evaluate.run_eval import render_frames_rgba8
from avatar4d.io.manifest import write_manifest
from avatar4d.io.output_kinds import FRAME_SEQUENCE
from avatar4d.io.ownership import remove_avatar4d_files
from avatar4d.io.png import write_png
from avatar4d.output.video import check_frame_folder
from avatar4d.run.trained import TrainedModel


def write_dataset_renders(
    model: TrainedModel,
    dataset: Dataset,
    frames: Sequence[Frame],
    out: Path,
    force: bool = False,
    advance: Callable[[], None] | None = None,
) -> tuple[list[Path], float]:
    """Render ``frames`` into ``out``; returns the files (in frame order) and the seconds spent
    rendering (deformation and the copy off the device included, PNG encoding excluded)."""
    out = Path(out)
    names = {id(frame): render_name(dataset, frame) for frame in frames}
    check_frame_folder(out, force, list(names.values()))
    if force and out.is_dir():
        remove_avatar4d_files(out, FRAME_SEQUENCE)
    seconds = 0.0
    started = time.perf_counter()
    for frame, pixels in render_frames_rgba8(model, frames):
        array = pixels.cpu().numpy()  # waits for the device
        seconds += time.perf_counter() - started
        path = out / names[id(frame)]
        path.parent.mkdir(parents=True, exist_ok=True)
        write_png(path, array, force)
        if advance is not None:
            advance()
        started = time.perf_counter()
    write_manifest(out, FRAME_SEQUENCE.name, sorted(names.values()))
    return [out / names[id(frame)] for frame in frames], seconds
