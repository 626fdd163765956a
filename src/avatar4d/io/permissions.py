"""File modes as the user's umask allows: what ``open`` and ``mkdir`` would give.

``tempfile.mkdtemp`` (0700) and safetensors' writer (0600) make owner-only outputs whatever
the umask; their results are chmod-ed to these modes so that another user or a web server
can read a dataset or a run when the umask lets them.
"""

from __future__ import annotations

import os
from pathlib import Path

_STATUS = Path("/proc/self/status")


def current_umask() -> int:
    """The process's umask, read without changing it where Linux allows (no race with threads
    that create files meanwhile); elsewhere set and restored at once."""
    try:
        for line in _STATUS.read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o077)
    os.umask(mask)
    return mask


def file_mode() -> int:
    return 0o666 & ~current_umask()


def folder_mode() -> int:
    return 0o777 & ~current_umask()


def make_readable_as_umask_allows(path: Path) -> None:
    """chmod ``path`` to the mode a plain ``open`` (file) or ``mkdir`` (folder) would give."""
    os.chmod(path, folder_mode() if Path(path).is_dir() else file_mode())
