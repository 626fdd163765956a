"""The training step's CUDA-only paths against their CPU counterparts: runs only with CUDA.

On a GPU the trainer uses fused Adam, pinned copies for the batch, cached device constants
in the splines and the banded SSIM blur at training sizes; the CPU runs of the suite use the
plain versions. These check that both give the same numbers.
"""

from __future__ import annotations

import dataclasses

import pytest
import torch

from avatar4d.model.node_deformation import NodeDeformation
from avatar4d.model.shading import LIGHT_KEY, ShadedDeformation
from avatar4d.raster.cameras import opengl_c2w_to_opencv_w2c
from avatar4d.raster.host_copy import to_device
from avatar4d.run.checkpoint import restore_adam_states
from avatar4d.train.losses import ssim
from avatar4d.train.optimizers import make_optimizers

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
CUDA = torch.device("cuda")


def test_ssim_and_its_gradient_agree_at_a_training_size() -> None:
    generator = torch.Generator().manual_seed(0)
    target = torch.rand(2, 300, 260, 3, generator=generator)
    pred = (target + 0.1 * torch.randn(target.shape, generator=generator)).clamp(0, 1)
    values, gradients = [], []
    for device in ("cpu", CUDA):
        image = pred.to(device).clone().requires_grad_()
        value = ssim(image, target.to(device))
        value.backward()
        values.append(float(value.detach()))
        gradients.append(image.grad.cpu())
    assert values[0] == pytest.approx(values[1], abs=1e-5)
    torch.testing.assert_close(gradients[0], gradients[1], atol=1e-7, rtol=1e-3)


def test_fused_adam_steps_like_the_cpu_adam() -> None:
    generator = torch.Generator().manual_seed(1)
    start = torch.randn(1000, 3, generator=generator)
    gradients = [torch.randn(1000, 3, generator=generator) for _ in range(5)]
    results = []
    for device in ("cpu", CUDA):
        param = torch.nn.Parameter(start.to(device).clone())  # never the CPU tensor itself
        optimizer = make_optimizers({"means": param}, {"means": 1e-2})["means"]
        assert bool(optimizer.defaults["fused"]) == (device == CUDA)
        for gradient in gradients:
            param.grad = gradient.to(device)
            optimizer.step()
        results.append(param.detach().cpu())
    torch.testing.assert_close(results[0], results[1], atol=1e-6, rtol=1e-5)


def test_fused_adam_resumes_from_a_checkpoints_state() -> None:
    """load_checkpoint hands the step counter over on the CPU; fused Adam reads it on the GPU."""
    generator = torch.Generator().manual_seed(3)
    start = torch.randn(100, 3, generator=generator)
    gradients = [torch.randn(100, 3, generator=generator).to(CUDA) for _ in range(4)]
    param = torch.nn.Parameter(start.to(CUDA))
    optimizer = make_optimizers({"means": param}, {"means": 1e-2})["means"]
    for gradient in gradients[:2]:
        param.grad = gradient
        optimizer.step()
    saved = {key: value.clone() for key, value in optimizer.state[param].items()}
    saved["step"] = saved["step"].cpu()
    resumed = torch.nn.Parameter(param.detach().clone())
    resumed_optimizer = make_optimizers({"means": resumed}, {"means": 1e-2})
    restore_adam_states(resumed_optimizer, {"means": resumed}, {"means": saved})
    for gradient in gradients[2:]:
        param.grad, resumed.grad = gradient, gradient.clone()
        optimizer.step()
        resumed_optimizer["means"].step()
    assert torch.equal(param.detach(), resumed.detach())


def test_node_deformation_agrees() -> None:
    deformation = NodeDeformation(16, neighbours=4, num_control=6, periodic=True)
    deformation = dataclasses.replace(deformation, residual_control=4, anchor_time=0.25)
    generator = torch.Generator().manual_seed(2)
    means = torch.randn(300, 3, generator=generator)
    params = {"means": means, "quats": torch.randn(300, 4, generator=generator)}
    params |= {"scales": torch.zeros(300, 3), "opacities": torch.zeros(300)}
    params |= {"colors": torch.zeros(300, 3), **deformation.init_motion(means)}
    for key in ("node_motion_means", "node_motion_quats", "motion_means"):
        params[key] = 0.2 * torch.randn(params[key].shape, generator=generator)
    posed = {}
    for device in ("cpu", CUDA):
        on_device = {key: value.to(device) for key, value in params.items()}
        many = deformation.deform_many(on_device, [0.1, 0.6])
        posed[str(device)] = (many.means.cpu(), many.quats.cpu())
    for cpu, cuda in zip(posed["cpu"], posed["cuda"], strict=True):
        torch.testing.assert_close(cpu, cuda, atol=1e-5, rtol=1e-5)


def test_shaded_colours_and_their_gradients_agree() -> None:
    shaded = ShadedDeformation(NodeDeformation(16, neighbours=4, num_control=6, periodic=True))
    generator = torch.Generator().manual_seed(3)
    means = torch.randn(300, 3, generator=generator)
    params = {"means": means, "quats": torch.randn(300, 4, generator=generator)}
    params |= {"scales": torch.zeros(300, 3), "opacities": torch.zeros(300)}
    params |= {"colors": torch.randn(300, 3, generator=generator), **shaded.init_motion(means)}
    params["node_motion_quats"] = 0.3 * torch.randn(16, 6, 4, generator=generator)
    params[LIGHT_KEY] = params[LIGHT_KEY] + 0.3 * torch.randn(3, 9, generator=generator)
    results = {}
    for device in ("cpu", CUDA):
        on_device = {  # fresh leaves (a CPU .to() would hand back the tensor itself)
            key: value.detach().to(device).clone().requires_grad_(value.is_floating_point())
            for key, value in params.items()
        }
        colours = shaded.deform_many(on_device, [0.1, 0.6]).colors
        colours.square().sum().backward()
        grads = [on_device[key].grad.cpu() for key in ("normals", LIGHT_KEY, "colors")]
        results[str(device)] = [colours.detach().cpu(), *grads]
    for cpu, cuda in zip(results["cpu"], results["cuda"], strict=True):
        torch.testing.assert_close(cpu, cuda, atol=1e-4, rtol=1e-4)


def test_pinned_copies_and_camera_inverse_agree() -> None:
    values = torch.randperm(24)[:8]
    assert torch.equal(to_device(values, CUDA).cpu(), values)
    c2w = torch.eye(4).repeat(3, 1, 1)
    c2w[:, :3, 3] = torch.tensor([[0.0, 0.0, 3.0], [1.0, 2.0, 3.0], [-2.0, 0.5, 1.0]])
    torch.testing.assert_close(
        opengl_c2w_to_opencv_w2c(c2w.to(CUDA)).cpu(), opengl_c2w_to_opencv_w2c(c2w)
    )


def test_track_binding_and_loss_agree() -> None:
    """cdist/topk binding in blocks and the track loss with its gradient, CPU against CUDA."""
    from pathlib import Path

    from avatar4d.data.tracks import SurfaceTracks
    from avatar4d.train.track_loss import TrackSupervision

    generator = torch.Generator().manual_seed(4)
    anchor = torch.rand(3000, 3, generator=generator)
    positions = torch.stack([anchor, anchor + 0.05 * torch.randn(3000, 3, generator=generator)])
    tracks = SurfaceTracks(
        Path("t.safetensors"), torch.tensor([0.0, 0.5]).double().numpy(), positions.numpy()
    )
    canonical = torch.rand(25_000, 3, generator=generator)  # more than one block of distances
    posed = canonical + 0.01 * torch.randn(canonical.shape, generator=generator)
    results = []
    for device in (torch.device("cpu"), CUDA):
        supervision = TrackSupervision.for_train_times(tracks, [0.0, 0.5], 0.0, 1.0, device)
        supervision.bind(canonical.to(device))
        moved = posed.to(device).clone().requires_grad_()
        loss = supervision.loss(1, canonical.to(device), moved)
        loss.backward()
        binding = supervision.binding
        results.append(
            (binding.index.cpu(), binding.weights.cpu(), loss.detach().cpu(), moved.grad.cpu())
        )
    (index_cpu, weights_cpu, loss_cpu, grad_cpu), (index_gpu, weights_gpu, loss_gpu, grad_gpu) = (
        results
    )
    # Ties at equal distance may pick other points: compare the Gaussians bound alike (a
    # differently bound one has another target, so another gradient).
    alike = (index_cpu == index_gpu).all(1)
    assert alike.float().mean() > 0.999
    torch.testing.assert_close(weights_cpu.sum(1), weights_gpu.sum(1))
    torch.testing.assert_close(loss_cpu, loss_gpu, atol=1e-6, rtol=1e-4)
    # The L1 loss's gradient is the sign of each residual: a residual that rounds to either
    # side of zero flips it (measured on the H200: 1 of 75,000). Allow rare exact flips.
    grad_cpu, grad_gpu = grad_cpu[alike], grad_gpu[alike]
    close = torch.isclose(grad_cpu, grad_gpu, atol=1e-8, rtol=1e-3)
    flipped = torch.isclose(grad_cpu, -grad_gpu, atol=1e-8, rtol=1e-3)
    assert bool((close | flipped).all())
    assert (~close).float().mean() < 1e-4


def test_track_normal_and_flat_losses_agree() -> None:
    """The tracks' normal and flat losses and their gradients, CPU against CUDA (one shared
    binding)."""
    from pathlib import Path

    from avatar4d.data.tracks import SurfaceTracks
    from avatar4d.train.track_loss import TrackBinding, TrackSupervision

    generator = torch.Generator().manual_seed(5)
    anchor = torch.rand(2000, 3, generator=generator)
    normals = torch.nn.functional.normalize(torch.randn(2, 2000, 3, generator=generator), dim=-1)
    tracks = SurfaceTracks(
        Path("t.safetensors"),
        torch.tensor([0.0, 0.5]).double().numpy(),
        torch.stack([anchor, anchor]).numpy(),
        normals.half().numpy(),
    )
    canonical = torch.rand(5000, 3, generator=generator)
    rotation = torch.randn(5000, 4, generator=generator)
    log_scales = torch.randn(5000, 3, generator=generator)
    cpu = TrackSupervision.for_train_times(tracks, [0.0, 0.5], 0.0, 1.0, torch.device("cpu"))
    cpu.bind(canonical)
    results = []
    for device in (torch.device("cpu"), CUDA):
        supervision = TrackSupervision.for_train_times(tracks, [0.0, 0.5], 0.0, 1.0, device)
        binding = cpu.binding
        supervision.binding = TrackBinding(
            binding.index.to(device), binding.weights.to(device), binding.bound.to(device)
        )
        turned = torch.nn.functional.normalize(rotation, dim=-1).to(device).requires_grad_()
        scales = log_scales.to(device, copy=True).requires_grad_()
        losses = supervision.normal_loss(1, turned), supervision.flat_loss(turned, scales)
        sum(losses).backward()
        results.append([*(loss.detach().cpu() for loss in losses), turned.grad.cpu()])
        results[-1].append(scales.grad.cpu())
    for on_cpu, on_cuda in zip(results[0][:2], results[1][:2], strict=True):
        torch.testing.assert_close(on_cpu, on_cuda, atol=1e-6, rtol=1e-4)
    for on_cpu, on_cuda in zip(results[0][2:], results[1][2:], strict=True):
        torch.testing.assert_close(on_cpu, on_cuda, atol=1e-7, rtol=1e-3)
