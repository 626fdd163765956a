"""The kinds of output folder avatar4d writes, and what each holds (for ``--force``).

A kind's manifest lists the files written at once; ``grows`` are files the tool adds later
without rewriting the manifest (a run's rotating checkpoints); ``nested`` are kinds of
sub-folder, each with its own manifest, that go with the folder (a run's ``eval/``).
Folders written before manifests existed are recognised by ``legacy_marker`` and accepted only
when every file matches ``legacy_layout`` (the layout the tool wrote then).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from avatar4d.errors import InputError
from avatar4d.io.json_file import read_json_file

MAX_MARKER_BYTES = 16 * 2**20  # scene.json, metrics.json, times.json: kilobytes
# Temporaries of io/atomic.py (".NAME.1a2b3c4d.tmp"), left behind by a killed write.
ATOMIC_TEMPORARY = re.compile(r"(?P<folder>.+/)?\.(?P<name>[^/]+)\.[0-9a-f]{8}\.tmp")


@dataclass(frozen=True)
class OutputKind:
    name: str  # as written in the manifest
    label: str  # in messages
    grows: tuple[str, ...] = ()  # regular expressions over relative paths
    folders: tuple[str, ...] = ()  # sub-folders the tool makes, even when left empty
    nested: tuple[str, ...] = ()  # names of the kinds that may sit in a sub-folder
    legacy_marker: Callable[[Path], bool] | None = None
    legacy_hint: str = ""  # why a folder without manifest was not recognised
    legacy_layout: tuple[str, ...] = ()
    legacy_nested: dict[str, str] = field(default_factory=dict)  # sub-folder -> kind name

    def grown(self, relative: str, legacy: bool) -> bool:
        """Whether ``relative`` is a file of this kind that its manifest need not list."""
        patterns = self.grows + (self.legacy_layout if legacy else ())
        return any(re.fullmatch(pattern, relative) for pattern in patterns)


def temporary_target(relative: str) -> str | None:
    """The file a half-written temporary was to become (``a/.b.1a2b3c4d.tmp`` -> ``a/b``)."""
    match = ATOMIC_TEMPORARY.fullmatch(relative)
    if match is None:
        return None
    return (match.group("folder") or "") + match.group("name")


def _small_json(path: Path) -> object:
    if not path.is_file():
        return None
    try:
        return read_json_file(path, max_bytes=MAX_MARKER_BYTES)
    except InputError:
        return None


def _starts_with(path: Path, prefix: bytes) -> bool:
    try:
        with open(path, "rb") as handle:
            return handle.read(len(prefix)) == prefix
    except OSError:
        return False


def _grid_marker(folder: Path) -> bool:
    scene = _small_json(folder / "scene.json")
    return isinstance(scene, dict) and scene.get("format") == "avatar4d-grid"


def _run_marker(folder: Path) -> bool:
    # run_folder.write_run_record has always begun config.yml so; the YAML is not parsed here.
    return _starts_with(folder / "config.yml", b"software:\n  name: avatar4d\n")


def _eval_marker(folder: Path) -> bool:
    metrics = _small_json(folder / "metrics.json")
    report = folder / "report.md"
    return (
        isinstance(metrics, dict)
        and "subsets" in metrics
        and (not report.exists() or _starts_with(report, b"# Evaluation report"))
    )


def _export_marker(folder: Path) -> bool:
    index = _small_json(folder / "times.json")
    return isinstance(index, dict) and isinstance(index.get("files"), list) and "times" in index


_PNG = r"[^/]+\.png"
GRID_DATASET = OutputKind(
    name="grid-dataset",
    label="grid dataset",
    legacy_marker=_grid_marker,
    legacy_hint=", and no scene.json of an avatar4d grid",
    legacy_layout=(
        r"scene\.json",
        r"transforms_(train|val|test)\.json",
        rf"(train|val|test)/{_PNG}",
        rf"depth/(train|val|test)/{_PNG}",
        r"tracks\.safetensors",
    ),
    folders=("train", "val", "test", "depth", "depth/train", "depth/val", "depth/test"),
)
EVALUATION = OutputKind(
    name="evaluation",
    label="evaluation",
    folders=("report_images",),
    legacy_marker=_eval_marker,
    legacy_hint=", and no metrics.json and report.md of an avatar4d evaluation",
    legacy_layout=(r"metrics\.json", r"report\.md", rf"report_images/{_PNG}"),
)
FRAME_SEQUENCE = OutputKind(
    name="frame-sequence",
    label="rendered frames",
    nested=(EVALUATION.name,),  # eval --renders DIR writes DIR/eval
    legacy_hint="; frames rendered before manifests cannot be told from anyone else's",
)
PLY_EXPORT = OutputKind(
    name="ply-export",
    label="PLY export",
    legacy_marker=_export_marker,
    legacy_hint=", and no times.json of an avatar4d export",
    legacy_layout=(r"times\.json", r"[^/]+_\d{4,}\.ply"),
)
WEB_EXPORT = OutputKind(
    name="web-export",
    label="web export",
    legacy_hint="; web exports have always had a manifest",
)
TRAIN_RUN = OutputKind(
    name="train-run",
    label="run folder",
    grows=(
        r"config\.yml",
        r"checkpoints/step_\d{6,}\.(json|safetensors)",
        r"checkpoints/latest\.json",
        r"tensorboard/events\.out\.tfevents\.[^/]+",
    ),
    folders=("checkpoints", "tensorboard"),
    nested=(EVALUATION.name, FRAME_SEQUENCE.name, PLY_EXPORT.name, WEB_EXPORT.name),
    legacy_marker=_run_marker,
    legacy_hint=", and no config.yml written by avatar4d",
    legacy_nested={"eval": EVALUATION.name},
)
KINDS = {
    kind.name: kind
    for kind in (GRID_DATASET, TRAIN_RUN, EVALUATION, FRAME_SEQUENCE, PLY_EXPORT, WEB_EXPORT)
}
