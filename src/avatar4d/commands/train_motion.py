"""Which motion model ``avatar4d train`` uses, read off its words before tyro parses them.

``--motion NAME`` (or tyro's own ``motion:NAME``) chooses the model; tyro then parses the
model's ``--motion.*`` options against the chosen preset's complete settings for it, so an
option given always wins and one not given keeps the preset's value. The words that choose
are taken out before tyro sees the rest. The flat motion options of earlier versions are
refused in one line that gives their new spelling.
"""

from __future__ import annotations

from collections.abc import Sequence

from avatar4d.errors import InputError
from avatar4d.model.motions.registry import MOTION_MODELS, motion_model

CHOOSER = "--motion"
SUBCOMMAND = "motion:"
# Options of earlier versions (one flat settings class) and what replaced them.
RENAMED_OPTIONS = {
    "--motion-nodes": "--motion nodes --motion.nodes N (0 nodes was --motion spline)",
    "--node-neighbours": "--motion nodes --motion.neighbours N",
    "--node-residual-points": "--motion nodes --motion.residual-points N",
    "--motion-control-points": "--motion.control-points N",
    "--lr-motion-means": "--motion.lr-means (spline) or --motion.lr-residual (nodes)",
    "--lr-motion-quats": "--motion.lr-quats",
    "--lr-node-motion-means": "--motion nodes --motion.lr-means",
    "--lr-node-means": "--motion nodes --motion.lr-node-means",
    "--lr-node-radii": "--motion nodes --motion.lr-node-radii",
}


def chosen_motion(args: Sequence[str]) -> str | None:
    """The motion model these train words choose (the last one given), or None."""
    refuse_renamed_options(args)
    chosen = None
    for index, arg in enumerate(args):
        if arg == CHOOSER:
            if index + 1 >= len(args) or args[index + 1].startswith("-"):
                raise InputError(
                    CHOOSER, f"needs a motion model: one of {', '.join(MOTION_MODELS)}"
                )
            chosen = args[index + 1]
        elif arg.startswith(CHOOSER + "="):
            chosen = arg.removeprefix(CHOOSER + "=")
        elif arg.startswith(SUBCOMMAND):
            chosen = arg.removeprefix(SUBCOMMAND)
    if chosen is not None:
        motion_model(chosen)  # one line naming the known ones if it is not
    return chosen


def without_motion_words(args: Sequence[str]) -> list[str]:
    """The words with those that choose the motion model taken out."""
    kept: list[str] = []
    skip = False
    for arg in args:
        if skip:
            skip = False
        elif arg == CHOOSER:
            skip = True
        elif not (arg.startswith(CHOOSER + "=") or arg.startswith(SUBCOMMAND)):
            kept.append(arg)
    return kept


def refuse_renamed_options(args: Sequence[str]) -> None:
    for arg in args:
        option = arg.partition("=")[0]
        if option in RENAMED_OPTIONS:
            raise InputError(option, f"was renamed: use {RENAMED_OPTIONS[option]}")
