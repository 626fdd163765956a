"""A trained run, loaded for rendering and export: ``load_trained_model(run_dir, step=None)``."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import torch

from avatar4d.errors import InputError
from avatar4d.model.deformation import Deformation, GaussiansAtTime
from avatar4d.model.render import render_gaussians
from avatar4d.model.rig_deformation import RigDeformation
from avatar4d.model.shading import ShadedDeformation
from avatar4d.model.spec import ModelSpec, build_deformation
from avatar4d.raster.api import Backend, RasterOutput, rasterize_per_camera
from avatar4d.raster.cameras import Cameras
from avatar4d.run.config import TrainConfig
from avatar4d.run.device import resolve_device
from avatar4d.run.run_folder import dataset_fingerprint, load_run_checkpoint, read_run_record


@dataclass
class TrainedModel:
    params: dict[str, torch.Tensor]  # canonical + motion parameters (no gradients)
    deformation: Deformation
    spec: ModelSpec
    config: TrainConfig
    dataset_root: Path
    step: int
    device: torch.device
    dataset_fingerprint: str = ""  # of the dataset it was trained on (config.yml)

    @property
    def can_perform(self) -> bool:
        """Whether the model performs clips it was not trained on (the mesh-driven one)."""
        inner = self.deformation
        inner = inner.inner if isinstance(inner, ShadedDeformation) else inner
        return isinstance(inner, RigDeformation)

    def performing(self, clip: str, morph: dict[str, float] | None = None) -> TrainedModel:
        """This model performing ``clip`` of its character (times 0..1 play it once)."""
        return replace(
            self, deformation=performing_deformation(self.deformation, clip, morph or {})
        )

    @property
    def num_gaussians(self) -> int:
        return self.params["means"].shape[0]

    def check_dataset(self, root: Path) -> None:
        """Refuse a dataset other than the one the run was trained on (its fingerprint differs;
        the same dataset moved elsewhere is accepted)."""
        if not root.is_dir():
            raise InputError(root, "not found: the dataset this run was trained on (moved?)")
        if dataset_fingerprint(root) != self.dataset_fingerprint:
            raise InputError(
                root,
                f"is not the dataset this run was trained on ({self.dataset_root}): its "
                "description files (transforms_*.json, scene.json) differ",
            )

    @torch.no_grad()
    def posed(self, t: float) -> GaussiansAtTime:
        return self.deformation.deform(self.params, float(t))

    @torch.no_grad()
    def gaussians_at(self, t: float) -> dict[str, torch.Tensor]:
        """The Gaussians at time t in 3DGS PLY form: means, unit quats (w x y z), log scales,
        opacity logits, f_dc (degree-0 SH)."""
        posed = self.posed(t)
        return {
            "means": posed.means,
            "quats": posed.quats,
            "scales": posed.log_scales,
            "opacities": posed.opacity_logits,
            "colors": posed.f_dc,
        }

    @torch.no_grad()
    def render(
        self,
        cameras: Cameras,
        t: float,
        background: torch.Tensor | None = None,
        backend: Backend = "auto",
    ) -> RasterOutput:
        """Render every camera at time t (background: white)."""
        cameras = cameras.to(self.device, torch.float32)
        background = self._background(background)
        return render_gaussians(self.posed(t), cameras, background, backend=backend)

    def _background(self, background: torch.Tensor | None) -> torch.Tensor:
        if background is None:
            return torch.ones(3, device=self.device)  # white, the D-NeRF convention
        return torch.as_tensor(background, dtype=torch.float32, device=self.device)

    @torch.no_grad()
    def render_times(
        self,
        cameras: Cameras,
        times: list[float],
        background: torch.Tensor | None = None,
        backend: Backend = "auto",
    ) -> RasterOutput:
        """Render camera c at ``times[c]``: C frames in one batch."""
        if len(times) != len(cameras):
            raise ValueError(f"need one time per camera, got {len(times)} for {len(cameras)}")
        cameras = cameras.to(self.device, torch.float32)
        background = self._background(background)
        posed = self.deformation.deform_many(self.params, [float(t) for t in times])
        return rasterize_per_camera(
            posed.means,
            posed.quats,
            posed.scales,
            posed.opacities,
            posed.colors,
            cameras,
            background,
            backend=backend,
        )


def performing_deformation(deformation: Deformation, clip: str, morph: dict) -> Deformation:
    """The deformation performing ``clip``: only the mesh-driven (rig) model can."""
    if isinstance(deformation, ShadedDeformation):
        return ShadedDeformation(performing_deformation(deformation.inner, clip, morph))
    if isinstance(deformation, RigDeformation):
        return deformation.performing(clip, morph)
    raise InputError(
        "--clip",
        "only a run of the mesh-driven motion model (train --motion rig) performs a clip; "
        "this run learned one timeline",
    )


def load_trained_model(
    run_dir: str | Path, step: int | None = None, device: str = "auto"
) -> TrainedModel:
    """The model of ``run_dir`` at ``step`` (default: the newest checkpoint)."""
    run_dir = Path(run_dir)
    record = read_run_record(run_dir)
    resolved = resolve_device(device)
    checkpoint = load_run_checkpoint(run_dir, record, step, resolved)
    return TrainedModel(
        params={name: tensor for name, tensor in checkpoint.params.items()},
        deformation=build_deformation(record.model),
        spec=record.model,
        config=record.config,
        dataset_root=record.dataset,
        step=checkpoint.step,
        device=resolved,
        dataset_fingerprint=record.dataset_fingerprint,
    )
