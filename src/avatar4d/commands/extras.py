"""The optional ``[train]`` extra: a command that needs PyTorch, gsplat or PyAV and finds one
missing says in one line which extra to install (exit 2), before it imports anything heavy."""

from __future__ import annotations

import importlib

from avatar4d.errors import InputError

TRAIN_EXTRA = "pip install 'avatar4d[train]'"
# The import name of each package of the extra -> the name a user knows it by.
PACKAGE_NAMES = {"torch": "PyTorch", "gsplat": "gsplat", "av": "PyAV"}


def missing_modules(modules: tuple[str, ...]) -> list[str]:
    """The modules of ``modules`` that are not installed (a broken install raises as it is)."""
    missing = []
    for module in modules:
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as error:
            if error.name != module:  # installed, but something it imports is missing
                raise
            missing.append(module)
    return missing


def require_extra(command: str, modules: tuple[str, ...]) -> None:
    """Raise InputError ``COMMAND: needs PyTorch and gsplat: pip install ...`` when any of
    ``modules`` cannot be imported."""
    missing = [PACKAGE_NAMES.get(module, module) for module in missing_modules(modules)]
    if missing:
        names = missing[0] if len(missing) == 1 else f"{', '.join(missing[:-1])} and {missing[-1]}"
        raise InputError(command, f"needs {names}: {TRAIN_EXTRA}")
