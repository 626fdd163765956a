"""What a command printed, as the tests read it."""

from __future__ import annotations


def one_error_line(capsys) -> str:
    """The one line a refused command printed on stderr (blank lines around it ignored)."""
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1, lines
    return lines[0]
