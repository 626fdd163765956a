"""``avatar4d asset info``: what an animated glTF file holds (clips, meshes, joints, bounds)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Union

import tyro

if TYPE_CHECKING:
    from avatar4d.asset.info import AssetSummary, Bounds


@dataclass
class AssetInfoCommand:
    """Show what an animated glTF / GLB character holds: animation clips with durations and
    bounding spheres, meshes (vertices, triangles, morph targets), joints and textures."""

    file: tyro.conf.Positional[Path]
    """The character: a .glb or .gltf file."""

    json: bool = False
    """Print machine-readable JSON instead of tables."""

    clip: str | None = None
    """Compute bounds for this clip only (default: every clip)."""

    def run(self) -> int:
        import json as json_module
        import sys

        from avatar4d.asset.loader import load_asset

        asset = load_asset(self.file)
        summary = asset.summary(clips=None if self.clip is None else [self.clip])
        if self.json:
            json_module.dump(summary.to_dict(), sys.stdout, indent=2)
            sys.stdout.write("\n")
        else:
            _print_tables(summary)
        return 0


# `action` below: a one-member Union collapses to its member (tyro would then read it as
# nested options, not a subcommand), so a suppressed, never-selectable None keeps `info` a
# real subcommand.


@dataclass
class AssetCommand:
    """Inspect animated glTF / GLB characters."""

    action: tyro.conf.OmitSubcommandPrefixes[
        Union[  # noqa: UP007 (tyro reads the Union)
            Annotated[AssetInfoCommand, tyro.conf.subcommand("info")],
            Annotated[None, tyro.conf.Suppress],
        ]
    ]

    def run(self) -> int:
        assert self.action is not None  # the None member cannot be chosen on the command line
        return self.action.run()


def _print_tables(summary: AssetSummary) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(highlight=False)
    console.print(f"[bold]{summary.file}[/bold]  sha256 {summary.sha256[:16]}…")
    if summary.generator:
        console.print(f"generator: {summary.generator}")
    console.print(
        f"{summary.vertices:,} vertices, {summary.triangles:,} triangles drawn; "
        f"{summary.nodes} nodes, {summary.skins} skins, {summary.joints} joints; "
        f"{summary.textures} textures; rest bounds {_bounds_text(summary.rest_bounds)}"
    )

    clips = Table(title="Animation clips", title_justify="left")
    for column in ("clip", "duration (s)", "channels", "bounds centre", "radius"):
        clips.add_column(column, justify="left" if column in ("clip", "bounds centre") else "right")
    for clip in summary.clips:
        centre = radius = "-"
        if clip.bounds is not None:
            centre = "(" + ", ".join(f"{v:.3f}" for v in clip.bounds.center) + ")"
            radius = f"{clip.bounds.radius:.3f}"
        clips.add_row(clip.name, f"{clip.duration:.3f}", str(clip.channels), centre, radius)
    console.print(clips if summary.clips else "no animation clips")

    meshes = Table(title="Meshes", title_justify="left")
    for column in ("mesh", "primitives", "vertices", "triangles", "instances", "skinned", "morph"):
        meshes.add_column(column, justify="left" if column in ("mesh", "morph") else "right")
    for mesh in summary.meshes:
        skipped = f" (+{mesh.skipped_primitives} points/lines)" if mesh.skipped_primitives else ""
        meshes.add_row(
            mesh.name,
            f"{mesh.primitives}{skipped}",
            f"{mesh.vertices:,}",
            f"{mesh.triangles:,}",
            str(mesh.instances),
            "yes" if mesh.skinned else "no",
            ", ".join(mesh.morph_targets) or "-",
        )
    console.print(meshes)

    if summary.images:
        images = Table(title="Images", title_justify="left")
        for column in ("image", "name", "size"):
            images.add_column(column)
        for image in summary.images:
            size = "unreadable" if image.width is None else f"{image.width}x{image.height}"
            images.add_row(str(image.index), image.name, size)
        console.print(images)


def _bounds_text(bounds: Bounds) -> str:
    centre = ", ".join(f"{v:.3f}" for v in bounds.center)
    return f"centre ({centre}) radius {bounds.radius:.3f}"
