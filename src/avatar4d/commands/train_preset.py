"""Which preset ``avatar4d train`` starts from, read off its words before tyro parses them.

tyro parses the train options against one complete TrainConfig (a preset's, or on --resume
the run's own), so every option given overrides it exactly, whatever its value, and --help
shows those defaults. The preset must therefore be known first: the last ``--preset`` given,
else ``auto``, which picks by the device (``--device``, else CUDA when available).
"""

from __future__ import annotations

from collections.abc import Sequence

from avatar4d.errors import InputError
from avatar4d.run.presets import PRESETS

AUTO_RULE = "gpu when training on a CUDA device, else cpu"


def given_value(option: str, args: Sequence[str]) -> str | None:
    """The value of the last ``option VALUE`` or ``option=VALUE`` (the one a parser keeps)."""
    value = None
    for index, arg in enumerate(args):
        if arg == option and index + 1 < len(args):
            value = args[index + 1]
        elif arg.startswith(option + "="):
            value = arg[len(option) + 1 :]
    return value


def given_flag(flag: str, args: Sequence[str]) -> bool:
    """Whether the last of ``--flag`` and ``--no-flag`` given is ``--flag``."""
    negated = "--no-" + flag.removeprefix("--")
    given = [arg for arg in args if arg in (flag, negated)]
    return bool(given) and given[-1] == flag


def auto_preset(device: str) -> str:
    """The preset ``--preset auto`` picks for this device setting."""
    from avatar4d.run.device import resolve_device  # torch: only when training

    return "gpu" if resolve_device(device).type == "cuda" else "cpu"


def chosen_preset(args: Sequence[str]) -> tuple[str, str]:
    """The preset these train words choose, and the --help line that says why."""
    given = given_value("--preset", args)
    if given in PRESETS:
        return given, f"The defaults shown are the {given} preset's (--preset {given})."
    try:
        name = auto_preset(given_value("--device", args) or "auto")
    except (InputError, ImportError):  # a device that cannot be used, or no torch (the
        name = "cpu"  # [train] extra): reported in one line when the command runs
    others = " or ".join(f"--preset {other}" for other in PRESETS if other != name)
    return name, (
        f"The defaults shown are the {name} preset's: --preset auto picks it on this machine "
        f"({AUTO_RULE}); {others} --help shows that one's."
    )
