"""The ``avatar4d`` entry point: parse the subcommand, run it, report errors in one line."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Annotated, Any, Union

import tyro

from avatar4d.cli_failures import (
    EXIT_BROKEN_PIPE,
    EXIT_OUT_OF_MEMORY,
    file_system_exit,
    file_system_line,
    is_cpu_out_of_memory,
    out_of_memory_line,
    silence_stdout,
)
from avatar4d.cli_parsing import UsageError, first_word, parse_command
from avatar4d.commands.asset_info import AssetCommand
from avatar4d.commands.check import CheckCommand
from avatar4d.commands.demo import DemoCommand
from avatar4d.commands.evaluate import EvalCommand
from avatar4d.commands.export import ExportCommand
from avatar4d.commands.grid import GridCommand
from avatar4d.commands.pose import PoseCommand
from avatar4d.commands.render import RenderCommand
from avatar4d.commands.train import TrainCommand
from avatar4d.commands.view import ViewCommand
from avatar4d.errors import InputError

COMMANDS = (
    ("demo", DemoCommand),
    ("asset", AssetCommand),
    ("pose", PoseCommand),
    ("grid", GridCommand),
    ("check", CheckCommand),
    ("train", TrainCommand),
    ("eval", EvalCommand),
    ("render", RenderCommand),
    ("export", ExportCommand),
    ("view", ViewCommand),
)


def command_type(args: Sequence[str] = ()) -> Any:
    """The subcommands as tyro's Union; for ``train`` words, train parses against the complete
    settings of the preset they choose (or of the run they resume), shown by its --help."""
    members = []
    for name, command in COMMANDS:
        marker = tyro.conf.subcommand(name, prefix_name=False)
        if command is TrainCommand and first_word(args) == "train":
            defaults, line = TrainCommand.parsing_defaults(args)
            description = TrainCommand.help_description(line)
            marker = tyro.conf.subcommand(
                name, default=defaults, description=description, prefix_name=False
            )
        members.append(Annotated[command, marker])
    return Union[tuple(members)]  # noqa: UP007 (tyro reads the Union)


Command = command_type()

EXIT_BAD_INPUT = 2  # 1: a stopped run, out of memory, or stdout closed (`| head`)


def parse(args: list[str]) -> Any:
    """The command these words give; UsageError (one line) if they are bad, SystemExit(0)
    after --help."""
    words = TrainCommand.parser_words(args) if first_word(args) == "train" else args
    return parse_command(
        command_type(args),
        words,
        prog="avatar4d",
        description="Animated character -> balanced camera x time grid -> 4D Gaussian avatar. "
        "Add --debug to any command for a full traceback on errors.",
    )


def main(argv: list[str] | None = None) -> int:
    """Run one subcommand; bad input exits 2 with one line (a traceback only with --debug)."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    args = [a for a in args if a != "--debug"]
    try:
        command = parse(args)
    except (UsageError, InputError) as error:  # InputError: train's --motion, read first
        print(f"avatar4d: error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except SystemExit as stop:  # --help
        return int(stop.code or 0)
    try:
        status = int(command.run() or 0)
        sys.stdout.flush()  # a closed pipe shows here, not in the interpreter's last flush
        return status
    except InputError as error:
        if debug:
            raise
        one_line = " ".join(str(error).split())  # e.g. a YAML parser's multi-line message
        print(f"avatar4d: error: {one_line}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except BrokenPipeError:
        silence_stdout()
        return EXIT_BROKEN_PIPE
    except OSError as error:
        line = file_system_line(error)
        if debug or line is None:
            raise
        print(f"avatar4d: error: {line}", file=sys.stderr)
        return file_system_exit(error)
    except (MemoryError, RuntimeError) as error:
        if debug or not is_cpu_out_of_memory(error):
            raise
        print(f"avatar4d: error: {out_of_memory_line(first_word(args))}", file=sys.stderr)
        return EXIT_OUT_OF_MEMORY
    except KeyboardInterrupt:
        print("avatar4d: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
