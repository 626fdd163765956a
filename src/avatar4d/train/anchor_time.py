"""The train time to initialise the Gaussians at: the most representative pose of the clip.

The canonical Gaussians are carved at one time and every other time is reached by learned
motion, so the best start is the pose that differs least from all the others: the medoid of
the train times, measured by how much the silhouettes seen by the same camera differ. A
waving arm that is raised most of the clip is then carved raised, and only the few lowered
times need the long way round.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from avatar4d.train.frames import FrameStack

MASK_SIDE = 64  # silhouettes are compared at about this size: enough to see a limb move


def silhouettes(stack: FrameStack, indices: list[int]) -> torch.Tensor:
    """(F, h, w) alpha of the given frames, average-pooled down to about MASK_SIDE pixels."""
    alpha = stack.rgba[indices][..., 3].float()[:, None] / 255.0
    factor = max(1, max(stack.cameras.width, stack.cameras.height) // MASK_SIDE)
    return F.avg_pool2d(alpha, factor)[:, 0]


def representative_time(stack: FrameStack, groups: list[torch.Tensor]) -> int:
    """Index of the time whose silhouettes are closest, in total, to every other time's.

    Only cameras that saw both times are compared. When no two times share a camera (a
    monocular dataset), the time with the most frames is used.
    """
    cameras = sorted({c for c in stack.camera_indices if c is not None})
    column = {camera: i for i, camera in enumerate(cameras)}
    first = silhouettes(stack, [0])
    masks = first.new_zeros(len(groups), len(cameras), *first.shape[1:])  # (T, cameras, h, w)
    seen = torch.zeros(len(groups), len(cameras), dtype=torch.bool, device=first.device)
    for k, members in enumerate(groups):
        frames = [i for i in members.tolist() if stack.camera_indices[i] is not None]
        if frames:
            slots = torch.tensor([column[stack.camera_indices[i]] for i in frames])
            masks[k, slots] = silhouettes(stack, frames)
            seen[k, slots] = True

    total = torch.zeros(len(groups), device=first.device)
    pairs = torch.zeros(len(groups), device=first.device)
    for k in range(len(groups)):
        shared = (seen[k] & seen).float()  # (T, cameras)
        difference = (masks[k] - masks).abs().mean(dim=(-2, -1))  # (T, cameras)
        total += (difference * shared).sum(dim=1) / shared.sum(dim=1).clamp_min(1.0)
        pairs += (shared.sum(dim=1) > 0).float()
    if float(pairs.max()) <= 1:  # each time shares cameras only with itself
        return max(range(len(groups)), key=lambda i: (len(groups[i]), -i))
    mean_difference = torch.where(pairs > 1, total / pairs.clamp_min(1.0), torch.inf)
    return int(torch.argmin(mean_difference))
