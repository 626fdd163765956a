"""``avatar4d pose``: one instant of an animated character written as a PLY or OBJ mesh."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import tyro


@dataclass
class PoseCommand:
    """Pose an animated glTF / GLB character at one instant of a clip and write the world-space
    mesh (positions, normals, triangles of every part) as binary PLY or OBJ text, chosen by the
    --out extension. Without --clip the rest pose is written."""

    file: tyro.conf.Positional[Path]
    """The character: a .glb or .gltf file."""

    out: Path
    """Output mesh: a .ply or .obj path (never replaced without --force)."""

    clip: str | None = None
    """Animation clip to sample (see `avatar4d asset info FILE`); default: the rest pose."""

    time: float = 0.0
    """Seconds into the clip, from 0 to the clip's duration."""

    force: bool = False
    """Overwrite --out if it already exists."""

    def run(self) -> int:
        import math

        from avatar4d.asset.loader import load_asset
        from avatar4d.asset.mesh_export import check_mesh_output, write_posed_mesh
        from avatar4d.errors import InputError

        check_mesh_output(self.out, self.force)
        if not math.isfinite(self.time) or self.time < 0:
            raise InputError("--time", f"must be a finite number of seconds >= 0, got {self.time}")
        asset = load_asset(self.file)
        if self.clip is None:
            if self.time != 0:
                raise InputError("--time", "needs --clip (without --clip the rest pose is written)")
            label = "rest pose"
        else:
            clip = asset.find_clip(self.clip)
            if self.time > clip.duration + 1e-6:
                raise InputError(
                    "--time",
                    f"{self.time} s is past the end of clip {clip.name} ({clip.duration:.3f} s)",
                )
            label = f"{clip.name} at {self.time:g} s"
        mesh = asset.pose(self.clip, self.time)
        write_posed_mesh(mesh, self.out, force=self.force)
        counts = f"{mesh.vertex_count:,} vertices, {mesh.triangle_count:,} triangles"
        print(f"wrote {self.out}: {counts} ({label})")
        return 0
