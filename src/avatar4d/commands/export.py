"""``avatar4d export``: standard 3DGS PLY files, one per time sample, or a web player."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

import tyro

from avatar4d.commands.extras import require_extra
from avatar4d.commands.option_checks import check_at_least, check_between
from avatar4d.errors import InputError

MAX_TIMES = 10_000


@dataclass
class ExportCommand:
    """Export a trained run as standard 3D Gaussian Splatting PLY files, one per time sample,
    or as a web page that plays it.

    --format ply writes OUT/<name>_0000.ply, OUT/<name>_0001.ply, ... at normalised times
    i / N (x y z, normals, f_dc, f_rest, logit opacity, log scale, rotation: the layout of the
    original 3DGS code), which viewers that play PLY sequences pick up in order, plus
    times.json. --format web writes index.html, page.js, player.js, rig.js, gpu.js, avatar.json and
    avatar.bin: quantised Gaussians and their motion (curves, or for --motion rig the
    character's mesh and every clip's poses; with --shading lambert, the normals and the
    light), played by WebGL2 from any static web server.
    """

    run_dir: Annotated[tyro.conf.Positional[Path], tyro.conf.arg(metavar="RUN")]
    """Run folder written by `avatar4d train`."""

    out: Path
    """Output folder for the PLY sequence."""

    format: Literal["ply", "web"] = "ply"
    """Export format (ply: standard 3DGS binary PLY per time; web: a page that plays it)."""

    times: int = 60
    """Number of time samples, at t = i / N for i = 0 .. N-1."""

    name: str = "avatar"
    """File name prefix."""

    step: int | None = None
    """Checkpoint step. Default: the newest."""

    force: tyro.conf.FlagCreatePairsOff[bool] = False
    """Replace an earlier export of avatar4d's in --out (refused when the folder holds anything
    else)."""

    def run(self) -> int:
        require_extra("export", ("torch",))
        import json

        from avatar4d.io.atomic import write_text_atomic
        from avatar4d.io.manifest import write_manifest
        from avatar4d.io.output_kinds import PLY_EXPORT
        from avatar4d.io.ownership import check_owned_output, remove_avatar4d_files
        from avatar4d.output.ply_export import write_3dgs_ply
        from avatar4d.run.trained import load_trained_model

        check_between("--times", self.times, 1, MAX_TIMES)
        check_at_least("--step", self.step, 0)
        if self.format == "web":
            return self._export_web()
        if not self.name or any(c in self.name for c in "/\\"):
            raise InputError("--name", f"{self.name!r} is not a plain file name prefix")
        digits = max(4, len(str(self.times - 1)))
        paths = [self.out / f"{self.name}_{i:0{digits}d}.ply" for i in range(self.times)]
        index_path = self.out / "times.json"
        present = next((p.name for p in [index_path, *paths] if p.exists()), None)
        check_owned_output(self.out, PLY_EXPORT, self.force, present)
        model = load_trained_model(self.run_dir, self.step, "cpu")
        if self.force and self.out.is_dir():  # only an export of ours: checked above
            remove_avatar4d_files(self.out, PLY_EXPORT)
        self.out.mkdir(parents=True, exist_ok=True)
        times = [i / self.times for i in range(self.times)]
        for path, t in zip(paths, times, strict=True):
            gaussians = {k: v.detach().cpu() for k, v in model.gaussians_at(t).items()}
            write_3dgs_ply(
                path,
                means=gaussians["means"],
                normals=None,
                f_dc=gaussians["colors"],
                f_rest=None,
                opacity_logits=gaussians["opacities"],
                log_scales=gaussians["scales"],
                quats=gaussians["quats"],
                force=self.force,
            )
        index = {"files": [p.name for p in paths], "times": times, "step": model.step}
        write_text_atomic(index_path, json.dumps(index, indent=1), force=self.force)
        write_manifest(self.out, PLY_EXPORT.name, [index_path.name, *(p.name for p in paths)])
        size = sum(p.stat().st_size for p in paths) / 1e6
        print(
            f"exported {len(paths)} PLY files ({model.num_gaussians:,} Gaussians each, "
            f"{size:.1f} MB) -> {self.out}"
        )
        return 0

    def _export_web(self) -> int:
        from avatar4d.io.manifest import write_manifest
        from avatar4d.io.output_kinds import WEB_EXPORT
        from avatar4d.io.ownership import check_owned_output, remove_avatar4d_files
        from avatar4d.output.web_export import WEB_FILES, write_web_export
        from avatar4d.output.web_package import check_exportable
        from avatar4d.run.trained import load_trained_model

        present = next((name for name in WEB_FILES if (self.out / name).exists()), None)
        check_owned_output(self.out, WEB_EXPORT, self.force, present)
        model = load_trained_model(self.run_dir, self.step, "cpu")
        check_exportable(model.deformation, model.spec.motion.name)
        if self.force and self.out.is_dir():  # only an export of ours: checked above
            remove_avatar4d_files(self.out, WEB_EXPORT)
        self.out.mkdir(parents=True, exist_ok=True)
        count = write_web_export(
            self.out,
            model.params,
            model.deformation,
            model.spec.motion.name,
            model.step,
            self.force,
        )
        write_manifest(self.out, WEB_EXPORT.name, WEB_FILES)
        size = sum((self.out / name).stat().st_size for name in WEB_FILES) / 1e6
        shading = ", lambert shading" if model.spec.shading == "lambert" else ""
        print(
            f"exported a web player ({count:,} Gaussians, {model.spec.motion.name} motion"
            f"{shading}, "
            f"{size:.2f} MB) -> {self.out}\n"
            f"serve it with any static web server, e.g. python3 -m http.server -d {self.out}"
        )
        return 0
