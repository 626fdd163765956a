"""The k nearest of a set of points for many queries, in blocks that bound the memory used."""

from __future__ import annotations

import torch

BLOCK_BYTES = 256 * 2**20  # one block's distance matrix


@torch.no_grad()
def nearest_k(
    queries: torch.Tensor, points: torch.Tensor, k: int, block_bytes: int = BLOCK_BYTES
) -> tuple[torch.Tensor, torch.Tensor]:
    """-> (Q, k) distances, ascending, and (Q, k) long indices into ``points``.

    Distances come from |q|² - 2 q.p + |p|², one matrix product per block; both sets are
    centred on the points' mean first, since that form loses precision far from the origin.
    Blocks hold as many queries as fit ``block_bytes`` of distances, whatever the point count.
    """
    k = min(k, len(points))
    if len(queries) == 0 or k == 0:
        empty = queries.new_zeros(len(queries), k)
        return empty, empty.long()
    centre = points.mean(dim=0)
    points = points - centre
    squared_norms = points.square().sum(dim=-1)
    rows = max(1, block_bytes // (4 * len(points)))
    distances, indices = [], []
    for block in (queries - centre).split(rows):
        squared = torch.addmm(squared_norms, block, points.T, alpha=-2.0)
        squared += block.square().sum(dim=-1, keepdim=True)
        nearest = squared.topk(k, dim=-1, largest=False)
        distances.append(nearest.values.clamp_min(0.0).sqrt())
        indices.append(nearest.indices)
    return torch.cat(distances), torch.cat(indices)
