"""One-line reports for failures that are not an InputError: memory, a closed pipe, and a file
the operating system refused (a name too long, no permission, a full disk)."""

from __future__ import annotations

import errno
import os
import sys

EXIT_OUT_OF_MEMORY = 1
# A reader that stops early (`| head`) closes the pipe: exit 1 without a word, as Python's
# own recipe (docs: "Note on SIGPIPE") and rich's consoles do, so tables and --json agree.
EXIT_BROKEN_PIPE = 1

CPU_OUT_OF_MEMORY_MESSAGES = (
    "DefaultCPUAllocator: can't allocate memory",
    "DefaultCPUAllocator: not enough memory",
    "not enough memory",
    "Cannot allocate memory",
)

WHAT_TO_REDUCE = {
    "demo": "--res",
    "asset": "the size of the glTF file (a smaller asset)",
    "pose": "the size of the glTF file (a smaller asset)",
    "grid": "--res, --samples, --train-times or --track-points",
    "check": "the dataset's image size",
    "train": "--batch-cameras, --max-gaussians or --init-points (or the dataset's image size)",
    "eval": "--train-sample (or evaluate a smaller dataset)",
    "render": "--res or --frames",
    "export": "the number of Gaussians (train with a lower --max-gaussians)",
}


def is_cpu_out_of_memory(error: BaseException) -> bool:
    """MemoryError, or torch's RuntimeError from its CPU allocator."""
    if isinstance(error, MemoryError):
        return True
    if not isinstance(error, RuntimeError):
        return False
    return any(message in str(error) for message in CPU_OUT_OF_MEMORY_MESSAGES)


def out_of_memory_line(command: str | None) -> str:
    reduce = WHAT_TO_REDUCE.get(command or "", "the size of the input")
    name = f"avatar4d {command}" if command else "avatar4d"
    return f"{name}: out of memory; reduce {reduce}, or free memory and run again"


def silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's last flush cannot fail again."""
    try:
        descriptor = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):  # not a real file (e.g. captured in tests)
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, descriptor)
    os.close(devnull)


def file_system_line(error: OSError) -> str | None:
    """``FILE: reason`` for an OSError about a named file; None for any other OSError."""
    if error.filename is None:
        return None
    reason = error.strerror or type(error).__name__
    return f"{error.filename}: {reason}"


def file_system_exit(error: OSError) -> int:
    """1 when the machine ran out of room (the input was fine), else 2 (bad input)."""
    return 1 if error.errno in (errno.ENOSPC, errno.EDQUOT) else 2
