"""The command line parsed by tyro, with each of its parse errors condensed to one line.

tyro draws its errors as boxes of 6 to 17 lines, and reads an unknown first word as a stray
token (``avatar4d trian grid`` reported grid's missing options). Here the subcommand name is
checked first, tyro's parse-error hook (``tyro._errors``, private in tyro 1.0) turns the
events we know into one ``UsageError`` line with a "did you mean" where one is close, and
any other error tyro prints is caught from its captured stderr and flattened to one line.
"""

from __future__ import annotations

import contextlib
import difflib
import io
import re
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

import tyro

T = TypeVar("T")

BOX_CHARACTERS = re.compile(r"[│╭╮╰╯─┌┐└┘├┤┬┴┼━┃]+")
ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
LOOKS_LIKE_OPTION = re.compile(r"--?[A-Za-z]")
OPTION = re.compile(r"(?<![\w-])--?[A-Za-z][\w-]*")
TYPE_WORDS = {"INT": "an integer", "FLOAT": "a number", "PATH": "a path", "STR": "text"}


class UsageError(Exception):
    """A command line that cannot be parsed; the message is one line without the prefix."""


def closest(word: str, candidates: Sequence[str]) -> str | None:
    matches = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return matches[0] if matches else None


def did_you_mean(word: str, candidates: Sequence[str]) -> str:
    match = closest(word, candidates)
    return f"; did you mean '{match}'?" if match else ""


def first_word(args: Sequence[str]) -> str | None:
    """The first token that is not an option (the subcommand, on a well-formed line)."""
    return next((arg for arg in args if not arg.startswith("-")), None)


def check_command_name(args: Sequence[str], names: Sequence[str], prog: str) -> None:
    """UsageError unless the first word is one of the subcommands (``--help`` alone passes)."""
    word = first_word(args)
    choices = ", ".join(names)
    if word is None:
        if any(arg in ("-h", "--help") for arg in args):
            return
        if args:
            option = args[0].split("=", 1)[0]
            raise UsageError(f"unknown option '{option}' before a command (commands: {choices})")
        raise UsageError(f"missing command; choose one of {choices} (see {prog} --help)")
    if word not in names:
        raise UsageError(
            f"unknown command '{word}'{did_you_mean(word, names)} (commands: {choices})"
        )


def help_text(parse: Callable[[list[str]], Any], args: list[str]) -> str:
    """What ``--help`` prints for these words, or "" when tyro cannot show it."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        try:
            parse([*args, "--help"])
        except SystemExit as stop:
            if stop.code not in (0, None):
                return ""
    return out.getvalue()


def options_of(parse: Callable[[list[str]], Any], args: Sequence[str]) -> list[str]:
    """The options the subcommand named in args accepts, read from its own --help."""
    words = [arg for arg in args if not arg.startswith("-")]
    for depth in (2, 1):
        text = help_text(parse, words[:depth])
        if text:
            return sorted(set(OPTION.findall(ANSI_ESCAPE.sub("", text))))
    return []


def value_after(option: str, args: Sequence[str]) -> str | None:
    """The value given to an option on the command line (``--res abc`` or ``--res=abc``)."""
    for index, arg in enumerate(args):
        if arg == option and index + 1 < len(args):
            return args[index + 1]
        if arg.startswith(option + "="):
            return arg[len(option) + 1 :]
    return None


def argument_name(argument: Any) -> str:
    if argument.is_positional():
        return str(argument.lowered.metavar)
    return "/".join(argument.lowered.name_or_flags)


def expected_type(metavar: str) -> str:
    parts = [part for part in re.split(r"[|{}]+", metavar) if part and part != "None"]
    words = [TYPE_WORDS.get(part, part) for part in parts]
    return " or ".join(words) or "another value"


class ParseErrorLines:
    """The hook for tyro's parse-error events: each known event raised as one UsageError."""

    def __init__(self, parse: Callable[[list[str]], Any], args: list[str], prog: str) -> None:
        self.parse = parse
        self.args = args
        self.prog = prog
        self.command = " ".join([prog, first_word(args) or ""]).strip()
        self.options: list[str] | None = None

    def __call__(self, event: Any) -> None:
        from tyro import _errors

        unknown = self._unknown_options()
        if unknown:  # the root cause of most other events (--cilp Walk: Walk became FILE)
            raise UsageError(self._unrecognized(unknown))
        if isinstance(event, _errors.MissingArgs):
            names = ", ".join(argument_name(item.arg) for item in event.missing_arguments)
            raise UsageError(f"{self._where(event)}: missing {names} (see {self._help(event)})")
        if isinstance(event, _errors.MissingSubcommand):
            names = list(event.subcommand_spec.parser_from_name)
            if event.found_token is None:
                raise UsageError(
                    f"{self.command}: missing command; choose one of {', '.join(names)}"
                )
            found = event.found_token
            raise UsageError(
                f"{self.command}: unknown command '{found}'{did_you_mean(found, names)}"
            )
        if isinstance(event, _errors.UnrecognizedArgs):
            raise UsageError(self._unrecognized(event.tokens))
        if isinstance(event, _errors.InvalidChoice):
            name = argument_name(event.argument)
            raise UsageError(
                f"{name}: '{event.value}' is not one of {', '.join(event.choices)}"
                + did_you_mean(event.value, event.choices)
            )
        if isinstance(event, _errors.BadValue):
            name = argument_name(event.argument)
            if event.offending_value is None:
                raise UsageError(f"{name}: needs a value (see {self.command} --help)")
            raise UsageError(f"{name}: takes no value, got '{event.offending_value}'")
        if isinstance(event, _errors.InstantiationFailure) and event.argument is not None:
            name = argument_name(event.argument)
            value = value_after(name, self.args)
            wanted = expected_type(str(event.argument.lowered.metavar or ""))
            if value is not None:
                raise UsageError(f"{name}: '{value}' is not {wanted}")
            first_line = event.message.strip().splitlines()[0] if event.message.strip() else ""
            raise UsageError(f"{name}: {first_line or 'not ' + wanted}")
        # Anything else falls through to tyro's own message, flattened by parse_command.

    def _where(self, event: Any) -> str:
        suffixes = {item.source_parser.prog_suffix for item in event.missing_arguments}
        suffix = next(iter(suffixes)) if len(suffixes) == 1 else ""
        return f"{event.prog} {suffix}".strip() if suffix else self.command

    def _help(self, event: Any) -> str:
        return f"{self._where(event)} --help"

    def _options(self) -> list[str]:
        if self.options is None:
            self.options = options_of(self.parse, self.args)
        return self.options

    def _unknown_options(self) -> list[str]:
        options = self._options()
        if not options:  # help could not be read: nothing to compare with
            return []
        return [
            arg
            for arg in self.args
            if LOOKS_LIKE_OPTION.match(arg) and arg.split("=", 1)[0] not in options
        ]

    def _unrecognized(self, tokens: Sequence[str]) -> str:
        options = self._options()
        parts = []
        after_unknown_option = False
        for token in tokens:
            if token.startswith("-"):
                option = token.split("=", 1)[0]
                parts.append(f"unknown option '{option}'{did_you_mean(option, options)}")
                after_unknown_option = "=" not in token
            elif not after_unknown_option:  # not the value of an unknown option
                parts.append(f"unexpected argument '{token}'")
        return f"{self.command}: {'; '.join(parts)}"


def flatten_tyro_error(text: str) -> str:
    """tyro's boxed error text as one line (for events the hook does not know)."""
    lines = []
    for raw in ANSI_ESCAPE.sub("", text).splitlines():
        line = " ".join(BOX_CHARACTERS.sub(" ", raw).split())
        if line.startswith("For full helptext"):
            break
        if line.strip("-+|=:_ "):  # not a rule of an ASCII box
            lines.append(line.strip("|+ "))
    return " ".join(lines) or "the command line could not be parsed"


@contextlib.contextmanager
def _one_line_hook(hook: Callable[[Any], None]) -> Iterator[None]:
    try:
        from tyro import _errors
    except ImportError:  # a tyro without the hook: the flattened text is all there is
        yield
        return
    with _errors.on_parse_error(hook):
        yield


def parse_command(command_type: type[T], args: list[str], prog: str, **options: Any) -> T:
    """tyro.cli on args; UsageError (one line) for any parse error, SystemExit(0) for --help."""

    def parse(words: list[str]) -> Any:
        return tyro.cli(command_type, args=words, prog=prog, **options)

    check_command_name(args, subcommand_names(command_type), prog)
    captured = io.StringIO()
    try:
        with (
            contextlib.redirect_stderr(captured),
            _one_line_hook(ParseErrorLines(parse, args, prog)),
        ):
            command = parse(args)
    except SystemExit as stop:
        if stop.code in (0, None):
            raise
        raise UsageError(flatten_tyro_error(captured.getvalue())) from None
    sys.stderr.write(captured.getvalue())  # tyro's warnings, if any, still reach the user
    return command


def subcommand_names(command_type: Any) -> list[str]:
    """The names given with tyro.conf.subcommand(...) in a Union of Annotated commands."""
    import typing

    names = []
    for member in typing.get_args(command_type):
        for marker in getattr(member, "__metadata__", ()):
            name = getattr(marker, "name", None)
            if isinstance(name, str):
                names.append(name)
    return names
