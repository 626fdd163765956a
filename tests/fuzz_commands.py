"""Run one ``avatar4d`` command in-process and judge its outcome against the CLI's promise.

Accepted: exit 0; exit 2 with exactly one line on stderr, starting ``avatar4d: error:``; exit 1
from the commands where it means a stopped run or a failed check (``check --strict``,
``train``), with at most one line on stderr. Anything else (an exception escaping main, another
exit code, more lines, a printed warning, a command running past its time limit or its memory
cap) is a failure, described with where the exception was raised.
"""

from __future__ import annotations

import contextlib
import io
import resource
import signal
import traceback
import warnings
from dataclasses import dataclass
from pathlib import Path

from avatar4d.cli import main

SOURCE_ROOT = Path(__file__).resolve().parents[1] / "src"
ERROR_PREFIX = "avatar4d: error:"
MEMORY_CAP = 3 << 30  # address space a command may add: tiny inputs need far less


class CommandHung(BaseException):
    """Raised by the timer in a command that ran past its limit (not catchable as Exception)."""


@dataclass(frozen=True)
class Outcome:
    code: int | None  # None: an exception escaped main
    stderr_lines: list[str]
    exception: str | None = None  # "TypeError: message"
    raised_at: str | None = None  # innermost avatar4d frame, then the innermost frame


@dataclass(frozen=True)
class FuzzCommand:
    args: list[str]
    may_exit_1: bool = False

    def shown(self, case_dir: Path) -> str:
        return "avatar4d " + " ".join(a.replace(str(case_dir), "CASE") for a in self.args)


def _frame_location(frame: traceback.FrameSummary) -> str:
    path = Path(frame.filename)
    if path.is_relative_to(SOURCE_ROOT):
        path = path.relative_to(SOURCE_ROOT)
    return f"{path.as_posix()}:{frame.lineno}"


def raised_at(error: BaseException) -> str:
    frames = traceback.extract_tb(error.__traceback__)
    ours = [f for f in frames if Path(f.filename).is_relative_to(SOURCE_ROOT / "avatar4d")]
    where = _frame_location(ours[-1]) if ours else "?"
    if frames and (not ours or frames[-1] is not ours[-1]):
        where += f" (in {Path(frames[-1].filename).name}:{frames[-1].lineno})"
    return where


def _on_alarm(signum, frame):  # noqa: ARG001
    raise CommandHung


@contextlib.contextmanager
def _limits(seconds: float):
    """A wall-clock limit (SIGALRM) and an address-space cap for one command."""
    previous = signal.signal(signal.SIGALRM, _on_alarm)
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    capped = _current_address_space() + MEMORY_CAP
    if hard != resource.RLIM_INFINITY:
        capped = min(capped, hard)
    resource.setrlimit(resource.RLIMIT_AS, (capped, hard))
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def _current_address_space() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmSize:"):
            return int(line.split()[1]) * 1024
    return 0


def run_in_process(args: list[str], seconds: float) -> Outcome:
    """``avatar4d ARGS`` through cli.main, with stdout and stderr captured."""
    stdout, stderr = io.StringIO(), io.StringIO()
    code: int | None = None
    exception = where = None
    with warnings.catch_warnings(record=True) as caught:
        _python_default_filters()
        try:
            with (
                contextlib.redirect_stdout(stdout),
                contextlib.redirect_stderr(stderr),
                _limits(seconds),
            ):
                code = main(list(args))
        except SystemExit as error:
            code = error.code if isinstance(error.code, int) else 1 if error.code else 0
        except CommandHung as error:
            exception, where = f"hang: still running after {seconds:g} s", raised_at(error)
        except BaseException as error:  # noqa: BLE001 (everything that escapes is the finding)
            exception = f"{type(error).__name__}: {_first_line(str(error))}"
            where = raised_at(error)
    lines = stderr.getvalue().splitlines()
    lines += [f"{w.category.__name__}: {w.message} ({w.filename}:{w.lineno})" for w in caught]
    return Outcome(code, lines, exception, where)


def _python_default_filters() -> None:
    """The warnings a fresh ``avatar4d`` process would print (not pytest's choice), each time:
    every case stands for a process of its own."""
    warnings.resetwarnings()
    warnings.simplefilter("always")
    for hidden in (DeprecationWarning, PendingDeprecationWarning, ImportWarning, ResourceWarning):
        warnings.simplefilter("ignore", hidden)


def _first_line(text: str) -> str:
    first = text.strip().splitlines()[0] if text.strip() else ""
    return first if len(first) <= 160 else first[:157] + "..."


def problem_with(outcome: Outcome, command: FuzzCommand) -> str | None:
    """Why this outcome breaks the promise, or None when it keeps it."""
    if outcome.exception is not None:
        return f"{outcome.exception} raised at {outcome.raised_at}"
    lines = [line for line in outcome.stderr_lines if line.strip()]
    if outcome.code == 0:
        return None
    if outcome.code == 2:
        if len(lines) == 1 and lines[0].startswith(ERROR_PREFIX):
            return None
        return f"exit 2 with {len(lines)} stderr lines: {_shown_lines(lines)}"
    if outcome.code == 1 and command.may_exit_1 and len(lines) <= 1:
        return None
    return f"exit {outcome.code} with {len(lines)} stderr lines: {_shown_lines(lines)}"


def _shown_lines(lines: list[str]) -> str:
    shown = " | ".join(line.strip()[:120] for line in lines[:4])
    return shown + (" | ..." if len(lines) > 4 else "")


# --- the commands that read each kind of input ------------------------------------------------


def glb_commands(glb: Path, out: Path) -> list[FuzzCommand]:
    from fuzz_inputs import TINY_GRID

    return [
        FuzzCommand(["asset", "info", str(glb)]),
        FuzzCommand(["asset", "info", str(glb), "--json"]),
        FuzzCommand(["pose", str(glb), "--out", str(out / "posed.ply")]),
        FuzzCommand(["grid", str(glb), "--out", str(out / "grid"), *TINY_GRID]),
    ]


def dataset_commands(
    dataset: Path, run_on_it: Path, out: Path, with_training: bool
) -> list[FuzzCommand]:
    """``run_on_it``: a copy of the clean run whose config.yml names ``dataset``."""
    from fuzz_inputs import TINY_TRAIN

    commands = [
        FuzzCommand(["check", str(dataset), "--no-figure"]),
        FuzzCommand(["check", str(dataset), "--strict", "--no-figure"], may_exit_1=True),
        FuzzCommand(_eval(run_on_it, out)),
        FuzzCommand(_render(run_on_it, out) + ["--path", "test"]),
    ]
    if with_training:
        commands += [
            FuzzCommand(
                ["train", str(dataset), "--out", str(out / "new_run"), "--steps", "2", *TINY_TRAIN],
                may_exit_1=True,
            ),
            FuzzCommand(_resume(dataset, run_on_it), may_exit_1=True),
        ]
    return commands


def run_commands(run: Path, dataset: Path, out: Path, with_training: bool) -> list[FuzzCommand]:
    commands = [
        FuzzCommand(_eval(run, out)),
        FuzzCommand(_render(run, out) + ["--res", "16", "--frames", "2"]),
        FuzzCommand(["export", str(run), "--out", str(out / "ply"), "--times", "2"]),
    ]
    if with_training:  # last: it adds a checkpoint to the run
        commands.append(FuzzCommand(_resume(dataset, run), may_exit_1=True))
    return commands


def _eval(run: Path, out: Path) -> list[str]:
    return ["eval", str(run), "--out", str(out / "eval"), "--device", "cpu", "--train-sample", "2"]


def _render(run: Path, out: Path) -> list[str]:
    return ["render", str(run), "--out", str(out / "frames"), "--device", "cpu"]


def _resume(dataset: Path, run: Path) -> list[str]:
    return ["train", str(dataset), "--out", str(run), "--resume", "--quiet"]
