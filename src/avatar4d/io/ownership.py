"""``--force`` replaces only what avatar4d wrote.

Before an output folder is replaced, every entry in it must be avatar4d's: listed in the
folder's manifest, a file its kind adds later, or inside a nested output folder of a kind that
goes with it (see ``output_kinds``). Otherwise the command stops with one line naming the first
file that is not, and how many there are, before anything is touched. Deleting then removes
exactly the files found, never a whole tree: a file that appears meanwhile survives.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, field
from pathlib import Path

from avatar4d.errors import InputError
from avatar4d.io.manifest import MANIFEST_NAME, Manifest, read_manifest, write_manifest
from avatar4d.io.output_kinds import KINDS, TRAIN_RUN, OutputKind, temporary_target

MAX_FOREIGN_LISTED = 1000  # a mistyped --out ~ is refused without walking all of it
MAX_FOLDER_DEPTH = 64  # avatar4d's outputs are at most a few folders deep


@dataclass
class Survey:
    """An output folder's entries, as paths relative to it (with ``/``)."""

    files: list[str] = field(default_factory=list)  # avatar4d's; each manifest after its files
    folders: list[str] = field(default_factory=list)  # deepest first
    foreign: list[str] = field(default_factory=list)  # everything else

    @property
    def complete(self) -> bool:
        return len(self.foreign) < MAX_FOREIGN_LISTED


@dataclass(frozen=True)
class _Rules:
    kind: OutputKind
    manifest: Manifest | None

    @property
    def legacy(self) -> bool:
        return self.manifest is None

    def owns_file(self, relative: str) -> bool:
        listed = self.manifest is not None and relative in self.manifest.files
        if listed or self.kind.grown(relative, self.legacy):
            return True
        # A killed write's temporary is ours only where the file it was to become would be.
        target = temporary_target(relative)
        return target is not None and self.owns_file(target)

    def owns_empty_folder(self, relative: str) -> bool:
        if relative in self.kind.folders:
            return True
        return self.manifest is not None and any(
            name.startswith(relative + "/") for name in self.manifest.files
        )

    def nested_kind(self, folder: Path, relative: str) -> OutputKind | None:
        """The kind of a sub-folder that is an output of its own that goes with this one."""
        inner = read_manifest(folder)
        if inner is not None:
            return KINDS[inner.kind] if inner.kind in self.kind.nested else None
        legacy = KINDS.get(self.kind.legacy_nested.get(relative, ""))
        if legacy is not None and legacy.legacy_marker is not None:
            return legacy if legacy.legacy_marker(folder) else None
        return None


def _other_kind(manifest: Manifest | None, kind: OutputKind) -> str | None:
    if manifest is None or manifest.kind == kind.name:
        return None
    other = KINDS.get(manifest.kind)
    return other.label if other is not None else f"output of kind {manifest.kind!r}"


def refuse_other_kind(folder: Path, kind: OutputKind) -> None:
    """InputError when ``folder`` holds another kind of avatar4d output (never mixed)."""
    other = _other_kind(read_manifest(folder), kind)
    if other is not None:
        raise InputError(
            folder, f"holds avatar4d's {other}, not its {kind.label}; choose another --out"
        )


def _survey_tree(root: Path, prefix: str, rules: _Rules | None, above: str, survey: Survey) -> None:
    """Sort the entries below ``root / prefix`` into ``survey``; ``above`` is ``root``'s own
    path in the surveyed folder, ``rules`` None means nothing there is avatar4d's."""
    if (above + prefix).count("/") > MAX_FOLDER_DEPTH:
        raise InputError(
            root / prefix,
            f"is more than {MAX_FOLDER_DEPTH} folders deep inside the output folder; avatar4d "
            "never writes that: --force will not replace it, move it away or choose another --out",
        )
    try:
        with os.scandir(root / prefix) as scan:
            entries = sorted(scan, key=lambda entry: entry.name)
    except OSError as error:  # unreadable: whatever it holds cannot be shown to be ours
        raise InputError(root / prefix, f"cannot be read ({error.strerror})") from None
    for entry in entries:
        if not survey.complete:
            return
        relative = prefix + entry.name
        if entry.is_dir(follow_symlinks=False):
            nested = rules.nested_kind(Path(entry.path), relative) if rules else None
            if nested is not None:
                _survey_folder(Path(entry.path), nested, above + relative + "/", survey)
            else:
                before = (len(survey.files), len(survey.folders), len(survey.foreign))
                _survey_tree(root, relative + "/", rules, above, survey)
                emptied = before == (len(survey.files), len(survey.folders), len(survey.foreign))
                if emptied and (rules is None or not rules.owns_empty_folder(relative)):
                    survey.foreign.append(above + relative + "/")
                    continue
            survey.folders.append(above + relative)
        elif relative == MANIFEST_NAME and rules is not None:
            continue  # listed by _survey_folder after the files it lists
        elif rules is not None and rules.owns_file(relative):
            survey.files.append(above + relative)
        else:
            survey.foreign.append(above + relative)


def _survey_folder(folder: Path, kind: OutputKind, above: str, survey: Survey) -> None:
    manifest = read_manifest(folder)
    if manifest is not None:
        recognised = manifest.kind == kind.name
    else:
        recognised = kind.legacy_marker is not None and kind.legacy_marker(folder)
    rules = _Rules(kind, manifest) if recognised else None
    _survey_tree(folder, "", rules, above, survey)
    if rules is not None and manifest is not None:
        survey.files.append(above + MANIFEST_NAME)


def survey_output_folder(folder: Path, kind: OutputKind) -> Survey:
    """Which entries of ``folder`` are avatar4d's ``kind`` output (nothing, if it is not one)."""
    survey = Survey()
    _survey_folder(Path(folder), kind, "", survey)
    return survey


def avatar4d_files(folder: Path, kind: OutputKind) -> Survey:
    """The survey of ``folder``; InputError (one line, nothing touched) when anything in it is
    not avatar4d's ``kind`` output."""
    folder = Path(folder)
    manifest = read_manifest(folder)
    refuse_other_kind(folder, kind)
    survey = survey_output_folder(folder, kind)
    if survey.foreign:
        first = survey.foreign[0]
        more = len(survey.foreign) - 1
        if more:
            more_text = f"at least {more}" if not survey.complete else str(more)
            others = f" and {more_text} more entr{'y' if more == 1 else 'ies'}"
        else:
            others = ""
        them = "them" if more else "it"
        recognised = manifest is not None or (
            kind.legacy_marker is not None and kind.legacy_marker(folder)
        )
        why = "" if recognised else f" (it has no {MANIFEST_NAME}{kind.legacy_hint})"
        raise InputError(
            folder,
            f"holds {first!r}{others} not written by avatar4d{why}; --force only replaces "
            f"avatar4d's own {kind.label}: move {them} away or choose another --out",
        )
    return survey


def delete_surveyed(folder: Path, survey: Survey) -> None:
    """Delete the files of ``survey`` below ``folder``, then its folders that are left empty."""
    folder = Path(folder)
    for relative in survey.files:
        (folder / relative).unlink(missing_ok=True)
    for relative in survey.folders:
        with contextlib.suppress(OSError):  # something appeared meanwhile: it stays
            (folder / relative).rmdir()


def remove_avatar4d_files(folder: Path, kind: OutputKind) -> None:
    """Empty ``folder`` of avatar4d's ``kind`` output; InputError when it holds anything else."""
    delete_surveyed(folder, avatar4d_files(folder, kind))


def check_owned_output(
    folder: Path, kind: OutputKind, force: bool, existing: str | None = None
) -> None:
    """Refuse, before any work, to write ``kind`` output into ``folder``: when it is not a
    folder or holds another kind's output; when it holds ``existing`` (our earlier output,
    described for the message) without ``force``; with ``force``, when anything in a non-empty
    folder is not avatar4d's (that is what --force would delete)."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise InputError(folder, "exists and is not a folder")
    if not folder.is_dir():
        return
    refuse_other_kind(folder, kind)
    if not force:
        if existing is not None:
            raise InputError(folder, f"already holds {existing}; use --force to replace it")
        return
    if any(folder.iterdir()):
        avatar4d_files(folder, kind)


def list_in_enclosing_run(path: Path) -> None:
    """List a file written straight into a run folder (render's MP4) in the run's manifest, so
    that replacing the run removes it with the run's other outputs."""
    folder = Path(path).parent
    try:
        manifest = read_manifest(folder)
    except InputError:  # a damaged manifest: the file stays unlisted, --force will refuse
        return
    if manifest is not None and manifest.kind == TRAIN_RUN.name:
        write_manifest(folder, TRAIN_RUN.name, [Path(path).name])
