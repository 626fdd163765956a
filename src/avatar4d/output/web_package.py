"""The web player's model file: canonical Gaussians quantised, motion as the model has it.

``avatar.json`` describes the arrays of ``avatar.bin`` (little-endian, each 4-byte aligned).
A quantised array stores q in 0 .. 2^bits - 1 per element and, per column (last axis), the
range: value = lo + (hi - lo) * q / (2^bits - 1). The widths, and why:

- positions: 16 bits over the model's bounds (a 2 m character: 0.03 mm steps, far below a
  pixel); 8 bits would be 8 mm steps, visible at 256 px.
- log scales: 8 bits over their range (about 8 in log units: 3 % steps of a size, under a
  tenth of a pixel for the splats that matter).
- rotations (unit quaternions): 8 bits per component (under a degree).
- colours (the degree-0 SH colour, as rendered) and opacities: 8 bits, the display's own step.
- motion curves, per-Gaussian and node ones: 16 bits; a curve's step moves every Gaussian
  that follows it, so the error is not averaged out over many splats (a node curve's range
  is a few decimetres: 16 bits are micrometre steps). Node positions: float32 (few).
- node blend weights: 16 bits, node indices as integers.
- the rig model's mesh and sampled clip poses: output/web_rig.py.
- with ``--shading lambert`` (model/shading.py): the canonical unit normals, 8 bits per
  component (under half a degree, as the rotations), and the light's 27 coefficients as
  float32 (shared: exact). The player turns each normal by its Gaussian's rotation since the
  canonical pose and multiplies the colour by the light arriving along it.

Curves are stored minus their value at the anchor time (the cubic B-spline weights sum to 1,
so subtracting it from every control point does so from the curve), so the player evaluates
S(t) directly, where the model evaluates S(t) - S(t_anchor).
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import torch

from avatar4d.errors import InputError
from avatar4d.model.deformation import SplineDeformation
from avatar4d.model.gaussians import SH_C0, f_dc_to_rgb
from avatar4d.model.node_deformation import NodeDeformation
from avatar4d.model.rig_deformation import RigDeformation
from avatar4d.model.shading import LIGHT_KEY, NORMALS_KEY, ShadedDeformation
from avatar4d.output.web_rig import rig_section
from avatar4d.raster.quaternions import normalize_quat

FORMAT_VERSION = 1
EXPORTABLE = ("spline", "nodes", "rig")
CANONICAL_BITS = {"means": 16, "log_scales": 8, "quats": 8, "rgb": 8, "opacity": 8}
CURVE_BITS = 16
WEIGHT_BITS = 16
NORMAL_BITS = 8


class _Writer:
    """Collects arrays into one buffer and their descriptions into the header."""

    def __init__(self) -> None:
        self.arrays: dict[str, dict[str, Any]] = {}
        self.chunks: list[bytes] = []
        self.size = 0

    def _add(self, name: str, data: np.ndarray, info: dict[str, Any]) -> None:
        raw = np.ascontiguousarray(data).tobytes()
        self.arrays[name] = {"offset": self.size, "shape": list(data.shape), **info}
        padding = -len(raw) % 4
        self.chunks.append(raw + b"\0" * padding)
        self.size += len(raw) + padding

    def float32(self, name: str, values: torch.Tensor) -> None:
        self._add(name, values.detach().cpu().numpy().astype("<f4"), {"type": "f32"})

    def integers(self, name: str, values: torch.Tensor) -> None:
        data = values.detach().cpu().numpy()
        wide = data.size and int(data.max()) > 65_535
        self._add(name, data.astype("<u4" if wide else "<u2"), {"type": "u32" if wide else "u16"})

    def quantised(self, name: str, values: torch.Tensor, bits: int) -> None:
        data = values.detach().cpu().double().numpy()
        columns = data.reshape(-1, data.shape[-1]) if data.size else np.zeros((1, data.shape[-1]))
        lo, hi = columns.min(axis=0), columns.max(axis=0)
        top = (1 << bits) - 1
        span = np.where(hi > lo, hi - lo, 1.0)
        q = np.rint((data - lo) / span * top).clip(0, top).astype(f"<u{bits // 8}")
        self._add(name, q, {"type": f"q{bits}", "lo": lo.tolist(), "hi": hi.tolist()})


def _curves_from_anchor(points: torch.Tensor, curves: SplineDeformation) -> torch.Tensor:
    """(N, M, D) control points minus the curve's value at the anchor time."""
    return points - curves.spline(points, curves.anchor_time)[:, None, :]


def _canonical(writer: _Writer, params: dict[str, torch.Tensor]) -> None:
    writer.quantised("means", params["means"], CANONICAL_BITS["means"])
    writer.quantised("log_scales", params["scales"], CANONICAL_BITS["log_scales"])
    writer.quantised("quats", normalize_quat(params["quats"]), CANONICAL_BITS["quats"])
    writer.quantised("rgb", f_dc_to_rgb(params["colors"]), CANONICAL_BITS["rgb"])
    opacity = torch.sigmoid(params["opacities"])[:, None]
    writer.quantised("opacity", opacity, CANONICAL_BITS["opacity"])


def unshaded(deformation: object) -> tuple[object, str]:
    """-> (the motion model, the shading) of a run's deformation."""
    if isinstance(deformation, ShadedDeformation):
        return deformation.inner, "lambert"
    return deformation, "static"


def check_exportable(deformation: object, motion_name: str) -> None:
    """Refuse a model the player cannot play, in one line that says which it can."""
    motion, _ = unshaded(deformation)
    if not isinstance(motion, (SplineDeformation, NodeDeformation, RigDeformation)):
        raise InputError(
            "--format web",
            f"the web player cannot play the {motion_name!r} motion model of this run; it "
            f"plays runs of --motion {', '.join(EXPORTABLE[:-1])} or {EXPORTABLE[-1]} "
            "(--shading static or lambert)",
        )


def _shading(writer: _Writer, params: dict[str, torch.Tensor]) -> None:
    normals = torch.nn.functional.normalize(params[NORMALS_KEY], dim=-1, eps=1e-8)
    writer.quantised("normals", normals, NORMAL_BITS)
    writer.float32("light", params[LIGHT_KEY])


def web_package(
    params: dict[str, torch.Tensor],
    deformation: object,
    motion_name: str,
    **rig_options: Any,
) -> tuple[dict[str, Any], bytes]:
    """-> (header for avatar.json, bytes of avatar.bin) of a model with this deformation
    (``rig_options``: output/web_rig.py's rig_section's, for measuring other choices)."""
    check_exportable(deformation, motion_name)
    deformation, shading = unshaded(deformation)
    writer = _Writer()
    with torch.no_grad():
        params = {
            key: value.detach().cpu().float() if value.is_floating_point() else value.cpu()
            for key, value in params.items()
        }
        _canonical(writer, params)
        if shading == "lambert":
            _shading(writer, params)
        motion: dict[str, Any] = {"periodic": deformation.periodic}
        if isinstance(deformation, SplineDeformation):
            curves = deformation
            motion |= {"name": "spline", "control": curves.num_control}
            for key in ("motion_means", "motion_quats"):
                writer.quantised(key, _curves_from_anchor(params[key], curves), CURVE_BITS)
        elif isinstance(deformation, RigDeformation):
            motion |= rig_section(writer, params, deformation, **rig_options)
            if deformation.residual_control > 0:
                residual = deformation.residual_curves
                writer.quantised(
                    "motion_means", _curves_from_anchor(params["motion_means"], residual), 16
                )
        else:
            curves = deformation.curves
            binding = deformation.bind(params)
            motion |= {
                "name": "nodes",
                "control": curves.num_control,
                "nodes": len(params["node_means"]),
                "residual_control": deformation.residual_control,
            }
            writer.float32("node_means", params["node_means"])
            for key in ("node_motion_means", "node_motion_quats"):
                writer.quantised(key, _curves_from_anchor(params[key], curves), CURVE_BITS)
            writer.integers("binding", binding.indices)
            writer.quantised("weights", binding.weights, WEIGHT_BITS)
            if deformation.residual_control > 0:
                residual = deformation.residual_curves
                writer.quantised(
                    "motion_means", _curves_from_anchor(params["motion_means"], residual), 16
                )
    header = {
        "format": "avatar4d-web",
        "version": FORMAT_VERSION,
        "count": int(params["means"].shape[0]),
        "shading": shading,
        "motion": motion,
        "arrays": writer.arrays,
    }
    return header, b"".join(writer.chunks)


def read_array(header: dict[str, Any], blob: bytes, name: str) -> np.ndarray:
    """One array of a package, dequantised to float64 (integers as they are)."""
    info = header["arrays"][name]
    kind = info["type"]
    dtype = {"f32": "<f4", "u16": "<u2", "u32": "<u4", "q8": "<u1", "q16": "<u2"}[kind]
    count = int(np.prod(info["shape"]))
    data = np.frombuffer(blob, dtype=dtype, count=count, offset=info["offset"])
    data = data.reshape(info["shape"])
    if not kind.startswith("q"):
        return data.copy()
    top = (1 << int(kind[1:])) - 1
    lo, hi = np.asarray(info["lo"]), np.asarray(info["hi"])
    return lo + (hi - lo) * data.astype(np.float64) / top


def dequantised_params(
    header: dict[str, Any], blob: bytes, params: dict[str, torch.Tensor]
) -> dict[str, torch.Tensor]:
    """``params`` with every exported tensor replaced by what the player decodes (the
    quantisation's cost, rendered by the model itself). Node blend weights are recomputed
    by the model from the decoded positions, as it always does; a rig model's faces are
    read back (exact). The rig's mesh and poses are decoded by output/web_rig_pose.py."""

    def tensor(name: str) -> torch.Tensor:
        return torch.as_tensor(read_array(header, blob, name), dtype=torch.float32)

    out = dict(params)
    out["means"] = tensor("means")
    out["scales"] = tensor("log_scales")
    out["quats"] = tensor("quats")
    out["colors"] = (tensor("rgb") - 0.5) / SH_C0
    out["opacities"] = torch.logit(tensor("opacity")[:, 0].clamp(1e-6, 1 - 1e-6))
    for name in ("motion_means", "motion_quats", "node_motion_means", "node_motion_quats"):
        if name in header["arrays"]:
            out[name] = tensor(name)
    if "normals" in header["arrays"]:
        out[NORMALS_KEY] = tensor("normals")
        out[LIGHT_KEY] = tensor("light")
    if "face" in header["arrays"]:
        face = read_array(header, blob, "face").astype(np.int32)
        out["face"] = torch.from_numpy(face)
    return out


def header_text(header: dict[str, Any]) -> str:
    return json.dumps(header, indent=1)
