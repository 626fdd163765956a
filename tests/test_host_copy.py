"""Host-to-device copies that do not wait for the device (raster/host_copy.py)."""

from __future__ import annotations

import pytest
import torch

from avatar4d.raster.cameras import Cameras
from avatar4d.raster.host_copy import to_device


def test_a_copy_to_the_cpu_is_a_plain_conversion() -> None:
    tensor = torch.tensor([[1.5, -2.25], [3.0, 1e-8]], dtype=torch.float64)
    moved = to_device(tensor, "cpu", torch.float32)
    assert moved.dtype == torch.float32 and moved.device.type == "cpu"
    assert torch.equal(moved, tensor.float())
    assert to_device(tensor, torch.device("cpu")) is tensor  # nothing to do, nothing copied


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_a_copy_to_the_gpu_arrives_whole_without_waiting() -> None:
    host = torch.randn(257, 3, 4, dtype=torch.float64)
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode("error")
    try:
        moved = [to_device(host, "cuda", torch.float32) for _ in range(3)]
        moved.append(to_device(host.transpose(0, 1), "cuda", torch.float32).transpose(0, 1))
        cameras = Cameras(torch.eye(4), 50.0, 50.0, 16.0, 16.0, 32, 32).to("cuda")
    finally:
        torch.cuda.set_sync_debug_mode("default")
    for tensor in moved:
        assert tensor.dtype == torch.float32 and tensor.device.type == "cuda"
        assert torch.equal(tensor.cpu(), host.float())
    assert torch.equal(cameras.c2w.cpu(), torch.eye(4)[None])
