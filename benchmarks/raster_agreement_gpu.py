"""Does the reference rasteriser agree with gsplat? Images, visibility and every gradient.

On a CUDA machine (gsplat installed):
    PYTHONPATH=src python benchmarks/raster_agreement_gpu.py
compares gsplat (float32, the training path) with the reference rasteriser in float64 on the
same GPU, and the reference in float32 with the same float64 truth as a float32 noise floor.
Without CUDA (smoke test, no gsplat):
    PYTHONPATH=src python benchmarks/raster_agreement_gpu.py --device cpu
runs only the reference float32 / float64 comparison. Exit status 1 when a tolerance fails.

Tolerances, and why they are what they are:
- Images (rgb, alpha, and depth over the farthest depth: all in [0, 1]), mean |diff| <= 2e-5:
  float32 rounding, gsplat's fast __expf and its running transmittance product give about
  1e-6 per pixel.
- Images, max |diff| <= 5e-3: a pair whose alpha lies within float32 rounding of the 1/255
  threshold (or whose transmittance lies at the 1e-4 floor) can be blended by one backend and
  not the other, moving that pixel by up to about 1/255 = 3.9e-3. Anything larger is a bug.
- Images, share of values off by more than 1e-4 <= 1e-3: such flips stay rare.
- Radii: >= 99.9 % identical and never off by more than 1 px (float32 rounding under ceil);
  the visible sets must be identical, since culling has no threshold near the scene's values.
- Gradients (means, quats, scales, opacities, colors, means2d): relative L2 error <= 5e-3 and
  1 - cosine similarity <= 2e-5. Without flips the float32 backends sit at 1e-6 to 1e-4 (gsplat's
  backward recovers transmittance from the stored float32 alpha and divides it back pair by
  pair); one threshold flip at 64x64 moved the scale gradient by 6.4e-4 in both float32
  backends. A wrong convention gives errors of order 1e-1 to 1.

Measured on an H200 (gsplat 1.5.3, torch 2.11, seed 0): gsplat vs float64 reference, 500
Gaussians, 3 cameras, 128x128: image max |diff| 2e-6, gradient relative errors <= 6e-6; at
64x64 image max |diff| 5.4e-4 (one flip, the same in the float32 reference), gradients <= 6.4e-4;
2,000 Gaussians at 128x128 (seed 1): gradients <= 1.1e-4.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from dataclasses import dataclass, field

import torch

from avatar4d.raster import Cameras, rasterize

GRADIENT_INPUTS = ("means", "quats", "scales", "opacities", "colors")
IMAGE_MEAN_TOLERANCE = 2e-5
IMAGE_MAX_TOLERANCE = 5e-3
IMAGE_OUTLIER_DIFF = 1e-4
IMAGE_OUTLIER_SHARE = 1e-3
RADII_SAME_SHARE = 0.999
GRADIENT_RELATIVE_TOLERANCE = 5e-3
GRADIENT_COSINE_TOLERANCE = 2e-5  # on 1 - cosine similarity


@dataclass(frozen=True)
class Scene:
    gaussians: dict[str, torch.Tensor]  # means, quats, scales, opacities, colors
    cameras: Cameras
    background: torch.Tensor
    rgb_weights: torch.Tensor  # fixed random upstream gradient for the rgb image
    alpha_weights: torch.Tensor  # and for the alpha image
    depth_weights: torch.Tensor  # and for the accumulated depth image

    def to(self, dtype: torch.dtype) -> Scene:
        return Scene(
            gaussians={name: value.to(dtype) for name, value in self.gaussians.items()},
            cameras=self.cameras.to(self.background.device, dtype),
            background=self.background.to(dtype),
            rgb_weights=self.rgb_weights.to(dtype),
            alpha_weights=self.alpha_weights.to(dtype),
            depth_weights=self.depth_weights.to(dtype),
        )


def _look_at_opengl(eye: torch.Tensor) -> torch.Tensor:
    """OpenGL camera-to-world looking from eye at the origin, world +Y up."""
    back = eye / eye.norm()
    right = torch.linalg.cross(torch.tensor([0.0, 1.0, 0.0], dtype=eye.dtype), back)
    right = right / right.norm()
    c2w = torch.eye(4, dtype=eye.dtype)
    c2w[:3, 0], c2w[:3, 1], c2w[:3, 2], c2w[:3, 3] = (
        right,
        torch.linalg.cross(back, right),
        back,
        eye,
    )
    return c2w


def build_scene(device: str, count: int, n_cameras: int, size: int, seed: int) -> Scene:
    """Gaussians in a ball of radius 0.6 at the origin, cameras on a ring 2.5 away, float64."""
    generator = torch.Generator().manual_seed(seed)

    def rand(*shape: int) -> torch.Tensor:
        return torch.rand(*shape, generator=generator, dtype=torch.float64)

    direction = torch.randn(count, 3, generator=generator, dtype=torch.float64)
    radius = 0.6 * rand(count, 1) ** (1 / 3)
    gaussians = {
        "means": direction / direction.norm(dim=-1, keepdim=True) * radius,
        "quats": torch.randn(count, 4, generator=generator, dtype=torch.float64),
        "scales": torch.exp(math.log(0.01) + rand(count, 3) * math.log(8.0)),  # 0.01 .. 0.08
        "opacities": 0.05 + 0.9 * rand(count),
        "colors": rand(count, 3),
    }
    eyes = [
        2.5
        * torch.tensor(
            [math.sin(angle) * math.cos(0.3), math.sin(0.3), math.cos(angle) * math.cos(0.3)],
            dtype=torch.float64,
        )
        for angle in (2 * math.pi * k / n_cameras for k in range(n_cameras))
    ]
    c2w = torch.stack([_look_at_opengl(eye) for eye in eyes])
    focal = 0.5 * size / math.tan(math.radians(20.0))
    cameras = Cameras(c2w, focal, focal, size / 2, size / 2, width=size, height=size)
    return Scene(
        gaussians={name: value.to(device) for name, value in gaussians.items()},
        cameras=cameras.to(device),
        background=torch.tensor([0.2, 0.5, 0.8], dtype=torch.float64, device=device),
        rgb_weights=rand(n_cameras, size, size, 3).to(device) - 0.5,
        alpha_weights=rand(n_cameras, size, size, 1).to(device) - 0.5,
        depth_weights=rand(n_cameras, size, size, 1).to(device) - 0.5,
    )


@dataclass
class Rendering:
    rgb: torch.Tensor
    alpha: torch.Tensor
    depth: torch.Tensor  # accumulated depth divided by the farthest camera-space depth
    radii: torch.Tensor
    gradients: dict[str, torch.Tensor] = field(default_factory=dict)
    milliseconds: float = 0.0


def render(scene: Scene, backend: str) -> Rendering:
    """Forward and backward of a fixed random linear loss; results in float64."""
    inputs = {name: value.clone().requires_grad_() for name, value in scene.gaussians.items()}
    synchronise = torch.cuda.synchronize if scene.background.is_cuda else lambda: None
    synchronise()
    start = time.perf_counter()
    out = rasterize(
        **inputs,
        cameras=scene.cameras,
        background=scene.background,
        backend=backend,
        with_depth=True,
    )
    out.info["means2d"].retain_grad()
    depth_scale = out.info["depths"].detach().abs().max()
    loss = (
        (out.rgb * scene.rgb_weights).sum()
        + (out.alpha * scene.alpha_weights).sum()
        + (out.depth / depth_scale * scene.depth_weights).sum()
    )
    loss.backward()
    synchronise()
    elapsed = (time.perf_counter() - start) * 1000.0
    gradients = {name: inputs[name].grad.double() for name in GRADIENT_INPUTS}
    gradients["means2d"] = out.info["means2d"].grad.double()
    return Rendering(
        rgb=out.rgb.detach().double(),
        alpha=out.alpha.detach().double(),
        depth=(out.depth / depth_scale).detach().double(),
        radii=out.info["radii"].long(),
        gradients=gradients,
        milliseconds=elapsed,
    )


@dataclass(frozen=True)
class Check:
    quantity: str
    measure: str
    value: float
    limit: float
    at_least: bool = False  # True: value must be >= limit, else <= limit

    @property
    def passed(self) -> bool:
        return self.value >= self.limit if self.at_least else self.value <= self.limit


def compare(candidate: Rendering, truth: Rendering) -> list[Check]:
    checks = []
    for name in ("rgb", "alpha", "depth"):
        diff = (getattr(candidate, name) - getattr(truth, name)).abs()
        checks += [
            Check(name, "max |diff|", diff.max().item(), IMAGE_MAX_TOLERANCE),
            Check(name, "mean |diff|", diff.mean().item(), IMAGE_MEAN_TOLERANCE),
            Check(
                name,
                f"share > {IMAGE_OUTLIER_DIFF:g}",
                (diff > IMAGE_OUTLIER_DIFF).double().mean().item(),
                IMAGE_OUTLIER_SHARE,
            ),
        ]
    visible_candidate = (candidate.radii > 0).all(-1)
    visible_truth = (truth.radii > 0).all(-1)
    checks += [
        Check("visible", "count differing", (visible_candidate != visible_truth).sum().item(), 0),
        Check(
            "radii",
            "share identical",
            (candidate.radii == truth.radii).all(-1).double().mean().item(),
            RADII_SAME_SHARE,
            at_least=True,
        ),
        Check("radii", "max |diff| px", (candidate.radii - truth.radii).abs().max().item(), 1),
    ]
    for name, expected in truth.gradients.items():
        got = candidate.gradients[name]
        relative = ((got - expected).norm() / expected.norm().clamp_min(1e-30)).item()
        cosine = torch.nn.functional.cosine_similarity(got.flatten(), expected.flatten(), dim=0)
        checks += [
            Check(f"d/d {name}", "relative L2 error", relative, GRADIENT_RELATIVE_TOLERANCE),
            Check(f"d/d {name}", "1 - cosine", 1.0 - cosine.item(), GRADIENT_COSINE_TOLERANCE),
        ]
    return checks


def print_table(title: str, checks: list[Check]) -> None:
    print(f"\n{title}")
    print(f"{'quantity':<14} {'measure':<20} {'value':>12}  {'limit':>12}  result")
    for check in checks:
        sign = ">=" if check.at_least else "<="
        result = "ok" if check.passed else "FAIL"
        print(
            f"{check.quantity:<14} {check.measure:<20} {check.value:>12.3e}  "
            f"{sign} {check.limit:<9.3e}  {result}"
        )


def run_agreement(
    device: str, count: int = 500, n_cameras: int = 3, size: int = 128, seed: int = 0
) -> bool:
    """Print the comparison tables; True when every check passes."""
    scene = build_scene(device, count, n_cameras, size, seed)
    truth = render(scene.to(torch.float64), "reference")
    candidates = {"reference float32": render(scene.to(torch.float32), "reference")}
    if device.startswith("cuda"):
        render(scene.to(torch.float32), "gsplat")  # compiles gsplat's kernels on first use
        candidates["gsplat float32"] = render(scene.to(torch.float32), "gsplat")
        candidates["reference float32"] = render(scene.to(torch.float32), "reference")
    visible = (truth.radii > 0).all(-1).sum().item()
    print(
        f"scene: {count} Gaussians, {n_cameras} cameras of {size}x{size}, seed {seed}, "
        f"on {device}; {visible} of {count * n_cameras} (camera, Gaussian) pairs visible"
    )
    print(f"truth: reference rasteriser in float64, forward+backward {truth.milliseconds:.1f} ms")
    passed = True
    for label, candidate in candidates.items():
        checks = compare(candidate, truth)
        print_table(
            f"{label} vs reference float64 (forward+backward {candidate.milliseconds:.1f} ms)",
            checks,
        )
        passed &= all(check.passed for check in checks)
    print("\nagreement:", "PASS" if passed else "FAIL")
    return passed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--count", type=int, default=500, help="number of Gaussians")
    parser.add_argument("--cameras", type=int, default=3)
    parser.add_argument("--size", type=int, default=128, help="image width and height, px")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.device == "cpu":
        torch.set_num_threads(1)
    passed = run_agreement(args.device, args.count, args.cameras, args.size, args.seed)
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
