"""The run folder: ``config.yml``, ``checkpoints/``, optional ``tensorboard/``.

``config.yml`` records what is needed to rebuild the model and to resume: the software
version, the dataset path and fingerprint, the resolved model settings (deformation, control
points, looping, scene bounds), the preset the settings started from (since it was recorded;
optional) and the TrainConfig.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import torch
import yaml

from avatar4d import __version__
from avatar4d.errors import InputError
from avatar4d.io.atomic import write_text_atomic
from avatar4d.io.manifest import write_manifest
from avatar4d.io.output_kinds import TRAIN_RUN, temporary_target
from avatar4d.io.ownership import refuse_other_kind, remove_avatar4d_files
from avatar4d.model.spec import ModelSpec
from avatar4d.run.checkpoint import LATEST, Checkpoint, checkpoint_steps, load_checkpoint
from avatar4d.run.config import TrainConfig
from avatar4d.run.config_file import config_from_dict, config_to_dict
from avatar4d.run.presets import PRESETS
from avatar4d.run.run_validation import (
    check_dataset_fingerprint,
    check_spec_agrees_with_config,
    check_tensors_match_spec,
    load_config_document,
    model_spec_from_dict,
    validate_loaded_config,
)

CONFIG_FILE = "config.yml"
CHECKPOINTS = "checkpoints"
TENSORBOARD = "tensorboard"
RECORD_KEYS = ("software", "dataset", "dataset_fingerprint", "model", "train")
OPTIONAL_RECORD_KEYS = ("preset",)  # written since the presets were recorded
FINGERPRINT = re.compile("[0-9a-f]{64}")
FINGERPRINTED_FILES = (
    "transforms_train.json",
    "transforms_val.json",
    "transforms_test.json",
    "scene.json",
)


@dataclass(frozen=True)
class RunRecord:
    """What config.yml holds."""

    config: TrainConfig
    model: ModelSpec
    dataset: Path
    dataset_fingerprint: str
    software_version: str
    preset: str | None = None
    """The preset the settings started from (None: a run from before it was recorded)."""


def dataset_fingerprint(root: Path) -> str:
    """sha256 over the dataset's description files (not the images: too slow to hash)."""
    digest = hashlib.sha256()
    for name in FINGERPRINTED_FILES:
        path = root / name
        if path.is_file():
            digest.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def checkpoints_folder(run_dir: Path) -> Path:
    return run_dir / CHECKPOINTS


def write_run_record(run_dir: Path, record: RunRecord) -> Path:
    document = {
        "software": {"name": "avatar4d", "version": record.software_version},
        "dataset": str(record.dataset),
        "dataset_fingerprint": record.dataset_fingerprint,
        "model": record.model.to_dict(),
        **({} if record.preset is None else {"preset": record.preset}),
        "train": config_to_dict(record.config),
    }
    text = yaml.safe_dump(document, sort_keys=False)
    return write_text_atomic(run_dir / CONFIG_FILE, text, force=True)


def read_run_record(run_dir: Path) -> RunRecord:
    """config.yml, every value checked (run.run_validation); InputError naming it if not."""
    path = run_dir / CONFIG_FILE
    if not path.is_file():
        raise InputError(run_dir, f"no {CONFIG_FILE}: not an avatar4d run folder")
    document = load_config_document(path)
    missing = [key for key in RECORD_KEYS if key not in document]
    if missing:
        raise InputError(path, f"missing entries: {', '.join(missing)}")
    unknown = sorted(map(str, set(document) - set(RECORD_KEYS) - set(OPTIONAL_RECORD_KEYS)))
    if unknown:
        raise InputError(path, f"unknown entries: {', '.join(unknown)}")
    software = document["software"]
    if not isinstance(software, dict) or not isinstance(software.get("version"), str):
        raise InputError(path, "software.version must be text")
    if not isinstance(document["dataset"], str) or not document["dataset"]:
        raise InputError(path, "dataset must be the dataset folder's path")
    fingerprint = document["dataset_fingerprint"]
    if not isinstance(fingerprint, str) or not FINGERPRINT.fullmatch(fingerprint):
        raise InputError(path, "dataset_fingerprint must be 64 hexadecimal digits")
    preset = document.get("preset")
    if "preset" in document and not (isinstance(preset, str) and preset in PRESETS):
        raise InputError(path, f"preset must be {' or '.join(PRESETS)}, got {preset!r}")
    model = model_spec_from_dict(document["model"], path)
    config = config_from_dict(document["train"], path)
    validate_loaded_config(config, path)
    check_spec_agrees_with_config(model, config, path)
    return RunRecord(
        config=config,
        model=model,
        dataset=Path(document["dataset"]),
        dataset_fingerprint=fingerprint,
        software_version=software["version"],
        preset=preset,
    )


def new_run_record(
    config: TrainConfig, model: ModelSpec, dataset_root: Path, preset: str | None = None
) -> RunRecord:
    return RunRecord(
        config=config,
        model=model,
        dataset=dataset_root.resolve(),
        dataset_fingerprint=dataset_fingerprint(dataset_root),
        software_version=__version__,
        preset=preset,
    )


def is_run_folder(path: Path) -> bool:
    return (path / CONFIG_FILE).is_file()


def prepare_new_run_folder(run_dir: Path, force: bool) -> None:
    """Create ``run_dir`` with its manifest; an existing non-empty one needs ``force``.

    With ``force`` only avatar4d's own run is replaced: its config.yml, checkpoints/,
    tensorboard/ and the evaluations, renders and exports written into it (so stale results
    cannot pass for the new run's). A folder holding anything else is refused in one line
    and left as it was (io/ownership.py).
    """
    if run_dir.exists() and not run_dir.is_dir():
        raise InputError(run_dir, "exists and is not a folder")
    if run_dir.is_dir() and any(run_dir.iterdir()):
        refuse_other_kind(run_dir, TRAIN_RUN)
        if not force:
            raise InputError(
                run_dir, "already exists and is not empty; use --resume to continue or --force"
            )
        remove_avatar4d_files(run_dir, TRAIN_RUN)
    run_dir.mkdir(parents=True, exist_ok=True)
    write_manifest(run_dir, TRAIN_RUN.name, [])


def check_resumable(run_dir: Path, dataset_root: Path, from_step: int | None = None) -> RunRecord:
    """The run's record, after checking it has the checkpoint to resume from (the newest, or
    ``from_step``'s) and was made from this dataset."""
    record = read_run_record(run_dir)
    folder = checkpoints_folder(run_dir)
    if from_step is None and not (folder / LATEST).is_file():
        raise InputError(run_dir, "has no checkpoint to resume from (checkpoints/latest.json)")
    steps = checkpoint_steps(folder)
    if from_step is not None and from_step not in steps:
        available = ", ".join(map(str, steps)) or "none"
        raise InputError(
            "--from", f"{run_dir} has no checkpoint of step {from_step} (steps: {available})"
        )
    if dataset_fingerprint(dataset_root) != record.dataset_fingerprint:
        raise InputError(
            dataset_root, f"is not the dataset this run was trained on ({record.dataset})"
        )
    return record


def load_run_checkpoint(
    run_dir: Path, record: RunRecord, step: int | None, device: torch.device | str
) -> Checkpoint:
    """The checkpoint of ``step`` (default: the newest), checked against config.yml: trained
    on the run's dataset, holding the parameters its model settings describe."""
    checkpoint = load_checkpoint(checkpoints_folder(run_dir), step, device)
    check_dataset_fingerprint(
        checkpoint.meta, checkpoint.path, record.dataset_fingerprint, record.dataset
    )
    tensors_path = checkpoint.path.with_suffix(".safetensors")
    check_tensors_match_spec(checkpoint.params, record.model, tensors_path, run_dir / CONFIG_FILE)
    return checkpoint


def remove_stale_temporaries(run_dir: Path) -> list[Path]:
    """Remove the temporaries that an interrupted write of config.yml or of a checkpoint file
    left in the run folder; nothing else is touched. Returns those removed."""
    removed = []
    for folder in (run_dir, checkpoints_folder(run_dir)):
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob(".*.tmp")):
            relative = path.relative_to(run_dir).as_posix()
            target = temporary_target(relative)
            own = target is not None and TRAIN_RUN.grown(target, legacy=False)
            if own and path.is_file() and not path.is_symlink():
                path.unlink()
                removed.append(path)
    return removed
