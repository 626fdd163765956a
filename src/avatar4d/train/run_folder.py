"""The run folder: ``config.yml``, ``checkpoints/``, optional ``tensorboard/``.

``config.yml`` records what is needed to rebuild the model and to resume: the software
version, the dataset path and fingerprint, the resolved model settings (deformation, control
points, looping, scene bounds) and the TrainConfig.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from pathlib import Path

import yaml

from avatar4d import __version__
from avatar4d.errors import InputError
from avatar4d.io.manifest import write_manifest
from avatar4d.io.output_kinds import TRAIN_RUN
from avatar4d.io.ownership import refuse_other_kind, remove_avatar4d_files
from avatar4d.model.spec import DEFORMATIONS, ModelSpec
from avatar4d.output.atomic import write_text_atomic
from avatar4d.train.config import TrainConfig, config_from_dict, config_to_dict

CONFIG_FILE = "config.yml"
CHECKPOINTS = "checkpoints"
TENSORBOARD = "tensorboard"
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
        "model": asdict(record.model),
        "train": config_to_dict(record.config),
    }
    text = yaml.safe_dump(document, sort_keys=False)
    return write_text_atomic(run_dir / CONFIG_FILE, text, force=True)


def read_run_record(run_dir: Path) -> RunRecord:
    path = run_dir / CONFIG_FILE
    if not path.is_file():
        raise InputError(run_dir, f"no {CONFIG_FILE}: not an avatar4d run folder")
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise InputError(path, f"unreadable ({error})") from None
    if not isinstance(document, dict):
        raise InputError(path, "expected a mapping")
    try:
        model = ModelSpec(**document["model"])
        if model.deformation not in DEFORMATIONS:
            raise InputError(path, f"unknown deformation {model.deformation!r}")
        return RunRecord(
            config=config_from_dict(document["train"], path),
            model=model,
            dataset=Path(document["dataset"]),
            dataset_fingerprint=str(document["dataset_fingerprint"]),
            software_version=str(document["software"]["version"]),
        )
    except (KeyError, TypeError) as error:
        raise InputError(path, f"missing or malformed entry ({error})") from None


def new_run_record(config: TrainConfig, model: ModelSpec, dataset_root: Path) -> RunRecord:
    return RunRecord(
        config=config,
        model=model,
        dataset=dataset_root.resolve(),
        dataset_fingerprint=dataset_fingerprint(dataset_root),
        software_version=__version__,
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


def check_resumable(run_dir: Path, dataset_root: Path) -> RunRecord:
    """The run's record, after checking it has a checkpoint and was made from this dataset."""
    record = read_run_record(run_dir)
    if not (checkpoints_folder(run_dir) / "latest.json").is_file():
        raise InputError(run_dir, "has no checkpoint to resume from (checkpoints/latest.json)")
    if dataset_fingerprint(dataset_root) != record.dataset_fingerprint:
        raise InputError(
            dataset_root, f"is not the dataset this run was trained on ({record.dataset})"
        )
    return record
