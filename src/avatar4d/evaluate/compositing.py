"""Straight-alpha RGBA images composited on white, the background every metric is taken on."""

from __future__ import annotations

import torch


def composite_on_white(image: torch.Tensor) -> torch.Tensor:
    """(H, W, 4) straight-alpha RGBA (or (H, W, 3) opaque RGB) -> (H, W, 3) float64 on white."""
    check_image(image)
    image = image.to(torch.float64)
    if image.shape[-1] == 3:
        return image
    alpha = image[..., 3:4]
    return image[..., :3] * alpha + (1.0 - alpha)


def alpha_channel(image: torch.Tensor) -> torch.Tensor:
    """(H, W) float64 alpha; ones for an RGB image."""
    check_image(image)
    if image.shape[-1] == 3:
        return torch.ones(image.shape[:2], dtype=torch.float64, device=image.device)
    return image[..., 3].to(torch.float64)


def check_image(image: torch.Tensor) -> None:
    if image.ndim != 3 or image.shape[-1] not in (3, 4):
        raise ValueError(f"expected an (H, W, 4) RGBA or (H, W, 3) RGB image, got {image.shape}")


def check_same_size(pred: torch.Tensor, gt: torch.Tensor) -> None:
    check_image(pred)
    check_image(gt)
    if pred.shape[:2] != gt.shape[:2]:
        raise ValueError(f"image sizes differ: prediction {pred.shape}, ground truth {gt.shape}")
