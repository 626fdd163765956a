"""Rendering with OpenGL and then training with PyTorch in one process must not crash.

Mesa's llvmpipe and Triton each bring an LLVM; loading Triton second used to segfault.
The check runs in a fresh interpreter so the order of imports is exactly a user's.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent(
    """
    import numpy as np
    from avatar4d.asset.posed_mesh import Material, PosedMesh, PosedPart
    from avatar4d.capture.gl_renderer import GroundTruthRenderer
    from avatar4d.capture.rig import build_rig
    from avatar4d.capture.rig_settings import RigSettings

    settings = RigSettings(width=16, height=16, train_times=1, novel_times=1)
    train, _ = build_rig(settings, np.zeros(3), 1.0)
    part = PosedPart(
        positions=np.array([[-0.5, -0.5, 0], [0.5, -0.5, 0], [0, 0.5, 0]], np.float32),
        normals=np.tile(np.array([[0, 0, 1]], np.float32), (3, 1)),
        uvs=None,
        colors=None,
        indices=np.array([[0, 1, 2]], np.uint32),
        material=Material(base_color_factor=np.ones(4, np.float32)),
    )
    with GroundTruthRenderer(16, 16) as renderer:
        image = renderer.render(PosedMesh([part]), train[0])
    assert image[..., 3].max() == 255

    import torch

    parameter = torch.nn.Parameter(torch.zeros(3))
    optimizer = torch.optim.Adam([parameter], lr=0.1)
    parameter.sum().backward()
    optimizer.step()
    print("ok")
    """
)


def test_training_after_rendering_in_one_process_does_not_crash() -> None:
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "ok"
