"""LPIPS, only where the ``lpips`` package and every weight file it needs are already on disk.

LPIPS needs two weight files: the package's own linear layers (shipped inside the package as
``lpips/weights/v0.1/<net>.pth``) and the torchvision backbone, which torchvision fetches into
the torch hub cache (``$TORCH_HOME/hub/checkpoints``) on first use. This module never triggers
that download: ``lpips_available`` checks both files without importing ``lpips``, and
``LpipsMetric`` refuses to build when either is missing. Metrics then say "not computed".
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import torch

from avatar4d.evaluate.compositing import check_same_size, composite_on_white

LPIPS_VERSION = "0.1"

# torchvision's ImageNet checkpoints the LPIPS backbones load, as named in its download URLs;
# used when torchvision cannot be asked (its names have not changed since torchvision 0.2).
_BACKBONE_CHECKPOINTS = {
    "alex": "alexnet-owt-7be5be79.pth",
    "vgg": "vgg16-397923af.pth",
    "squeeze": "squeezenet1_1-b8a52dc0.pth",
}


def _package_weights_path(net: str) -> Path | None:
    spec = importlib.util.find_spec("lpips")
    if spec is None or spec.origin is None:
        return None
    return Path(spec.origin).parent / "weights" / f"v{LPIPS_VERSION}" / f"{net}.pth"


def _backbone_checkpoint_name(net: str) -> str:
    try:
        from torchvision import models
    except ImportError:
        return _BACKBONE_CHECKPOINTS[net]
    weights = {
        "alex": getattr(models, "AlexNet_Weights", None),
        "vgg": getattr(models, "VGG16_Weights", None),
        "squeeze": getattr(models, "SqueezeNet1_1_Weights", None),
    }[net]
    if weights is None:
        return _BACKBONE_CHECKPOINTS[net]
    return weights.IMAGENET1K_V1.url.rsplit("/", 1)[-1]


def backbone_checkpoint_path(net: str = "alex") -> Path:
    """Where torchvision caches the backbone checkpoint LPIPS(net) loads."""
    if net not in _BACKBONE_CHECKPOINTS:
        raise ValueError(
            f"unknown LPIPS network {net!r}; use one of {sorted(_BACKBONE_CHECKPOINTS)}"
        )
    return Path(torch.hub.get_dir()) / "checkpoints" / _backbone_checkpoint_name(net)


def lpips_available(net: str = "alex") -> bool:
    """True only if ``lpips`` is installed and both its weight files are already on disk."""
    if importlib.util.find_spec("torchvision") is None:
        return False
    package_weights = _package_weights_path(net)
    if package_weights is None or not package_weights.is_file():
        return False
    return backbone_checkpoint_path(net).is_file()


class LpipsMetric:
    """LPIPS distance between two images on white (lower is better).

    Build it once and call it per image pair; the network moves to each input's device.
    """

    def __init__(self, net: str = "alex") -> None:
        if not lpips_available(net):
            raise RuntimeError(
                f"LPIPS ({net}) weights are not on this machine; check lpips_available() first"
            )
        import lpips

        self.net = net
        self._model = lpips.LPIPS(net=net, version=LPIPS_VERSION, verbose=False).eval()

    @torch.no_grad()
    def __call__(self, pred: torch.Tensor, gt: torch.Tensor) -> float:
        check_same_size(pred, gt)
        model = self._model.to(pred.device)

        def as_input(image: torch.Tensor) -> torch.Tensor:
            # LPIPS expects (N, 3, H, W) in [-1, 1].
            rgb = composite_on_white(image).to(torch.float32).permute(2, 0, 1).unsqueeze(0)
            return rgb * 2.0 - 1.0

        return float(model(as_input(pred), as_input(gt)).mean())
