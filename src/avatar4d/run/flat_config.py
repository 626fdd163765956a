"""config.yml's ``train`` mapping as versions before the nested settings wrote it: one flat
mapping, the motion model chosen by ``motion_nodes`` (0: per-Gaussian splines)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from avatar4d.errors import InputError
from avatar4d.run.config import SECTION_TYPES, TrainConfig, section_of

# Settings earlier versions wrote that no longer exist. They only chose how a run began, so
# a run folder that has them still loads and resumes: they are ignored.
RETIRED_SETTINGS = ("init_from_depth",)
# Settings added later whose value, in a file written before them, was another's: the nodes'
# motion learning rate was the per-Gaussian one until it had its own.
INHERITED_SETTINGS = {"lr_node_motion_means": "lr_motion_means"}
# Settings added later whose absence means a value other than the default: runs from before
# the surface tracks trained without them.
ABSENT_MEANS = {"track_weight": 0.0}
# Settings every flat file has named since the first release: one without them is damaged,
# not old (the settings added since take their defaults, INHERITED_SETTINGS or ABSENT_MEANS).
FIRST_SETTINGS = (
    "steps",
    "batch_cameras",
    "device",
    "seed",
    "lr_means",
    "lr_motion_means",
    "lr_position_final_factor",
    "lr_motion_quats",
    "lr_scales",
    "lr_quats",
    "lr_opacities",
    "lr_colors",
    "ssim_weight",
    "motion_smoothness",
    "random_background",
    "motion_control_points",
    "loop",
    "init_points",
    "init_hull_resolution",
    "init_opacity",
    "refine_every",
    "refine_start_fraction",
    "refine_stop_fraction",
    "reset_opacity_every",
    "prune_opacity",
    "max_gaussians",
    "val_every",
    "val_images",
    "checkpoint_every",
    "keep_checkpoints",
    "log_every",
)
# The flat motion settings, by motion model: the new setting each was.
SPLINE_SETTINGS = {
    "motion_control_points": "control_points",
    "lr_motion_means": "lr_means",
    "lr_motion_quats": "lr_quats",
}
NODE_SETTINGS = {
    "motion_nodes": "nodes",
    "node_neighbours": "neighbours",
    "motion_control_points": "control_points",
    "node_residual_points": "residual_points",
    "lr_node_motion_means": "lr_means",
    "lr_motion_quats": "lr_quats",
    "lr_node_means": "lr_node_means",
    "lr_node_radii": "lr_node_radii",
    "lr_motion_means": "lr_residual",
}
MOTION_SETTINGS = set(SPLINE_SETTINGS) | set(NODE_SETTINGS)


def is_flat(values: dict) -> bool:
    return "optimiser" not in values and "lr_means" in values


def nested_from_flat(values: dict[str, Any], where: str | Path) -> dict[str, Any]:
    """The nested mapping a flat one means (the values are checked when it is read)."""
    missing = [name for name in FIRST_SETTINGS if name not in values]
    if missing:
        more = len(missing) - 5
        shown = ", ".join(missing[:5]) + (f" and {more} more" if more > 0 else "")
        raise InputError(where, f"settings missing: {shown}; the file is damaged")
    nodes = values.get("motion_nodes", 0)
    if isinstance(nodes, bool) or not isinstance(nodes, int) or nodes < 0:
        raise InputError(where, f"motion_nodes must be a whole number >= 0, got {nodes!r}")
    values = {name: value for name, value in values.items() if name not in RETIRED_SETTINGS}
    for name, source in INHERITED_SETTINGS.items():
        if name not in values and source in values:
            values[name] = values[source]
    for name, value in ABSENT_MEANS.items():
        values.setdefault(name, value)
    nested: dict[str, Any] = {section: {} for section in SECTION_TYPES}
    unknown = []
    for name, value in values.items():
        if name in MOTION_SETTINGS:
            continue
        section = section_of(name)
        if section is not None:
            nested[section][name] = value
        elif name in {f.name for f in dataclasses.fields(TrainConfig)}:
            nested[name] = value
        else:
            unknown.append(str(name))
    if unknown:
        raise InputError(where, f"unknown settings: {', '.join(sorted(unknown))}")
    nested["motion"] = _motion(values)
    return nested


def _motion(values: dict[str, Any]) -> dict[str, Any]:
    uses_nodes = values.get("motion_nodes", 0) > 0
    renames, name = (NODE_SETTINGS, "nodes") if uses_nodes else (SPLINE_SETTINGS, "spline")
    return {"name": name, **{new: values[old] for old, new in renames.items() if old in values}}


def model_from_flat(values: dict[str, Any], where: str | Path) -> dict[str, Any]:
    """config.yml's ``model`` mapping as written before the motion models were registered
    (``deformation: spline | nodes`` beside their settings), in today's form."""
    old_keys = ("deformation", "control_points", "nodes", "node_neighbours")
    motion_keys = (*old_keys, "residual_control_points")
    rest = {name: value for name, value in values.items() if name not in motion_keys}
    name = values["deformation"]
    if name == "nodes":
        motion = {
            "name": "nodes",
            "nodes": values.get("nodes"),
            "neighbours": values.get("node_neighbours"),
            "control_points": values.get("control_points"),
            "residual_control_points": values.get("residual_control_points", 0),
        }
    elif name == "spline":
        for setting in ("nodes", "node_neighbours", "residual_control_points"):
            if values.get(setting, 0) != 0:
                raise InputError(where, f"model.{setting} must be 0 with spline deformation")
        motion = {"name": "spline", "control_points": values.get("control_points")}
    else:
        raise InputError(where, f"model.deformation must be spline or nodes, got {name!r}")
    return {**rest, "motion": motion}
