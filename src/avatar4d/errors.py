"""The one error type the command line turns into a single line and exit code 2."""

from __future__ import annotations

from pathlib import Path


class InputError(Exception):
    """Bad user input: a file, folder or option that cannot be used as given.

    Printed as ``<where>: <problem>`` on one line; the CLI exits with code 2.
    """

    def __init__(self, where: str | Path, problem: str) -> None:
        self.where = str(where)
        self.problem = problem
        super().__init__(f"{self.where}: {problem}")
