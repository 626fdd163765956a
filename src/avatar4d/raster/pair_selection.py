"""Which (Gaussian, pixel) pairs get blended, in which order: the non-differentiable half.

gsplat blends, per pixel and front to back, every Gaussian whose alpha there is at least
ALPHA_THRESHOLD, and stops before the one that would take the transmittance to
MIN_TRANSMITTANCE or below. Rather than evaluating every Gaussian on a tile of pixels, each
visible Gaussian is scan-converted: alpha >= threshold  <=>  sigma <= ln(opacity / threshold),
an ellipse, so for every pixel row of its bounding box the columns inside are the roots of a
quadratic. Only those pixels (plus a hair of margin, which the exact alpha test removes) are
evaluated, so the work follows the number of pairs that actually contribute.

Gaussians are scan-converted in depth-ordered chunks. A pixel whose transmittance, summed over
every pair of the earlier chunks, is already at the floor has stopped for good, so later
chunks drop their pairs there before the sort: in saturated scenes most candidates are hidden.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from avatar4d.raster.constants import ALPHA_THRESHOLD, MAX_ALPHA, MIN_TRANSMITTANCE
from avatar4d.raster.projection import ProjectedGaussians

LOG_MIN_TRANSMITTANCE = math.log(MIN_TRANSMITTANCE)
# Extra width, in pixels, of each scan-converted span so that rounding in the quadratic's
# roots cannot drop a pixel that the exact alpha test would keep.
SPAN_MARGIN_PX = 0.05
# Visible Gaussians per scan-conversion chunk: fewer chunks cost less Python overhead, more
# chunks drop more hidden pairs early (measured on 64x64 with 4,000 Gaussians).
CHUNK_SPLATS = 512


@dataclass(frozen=True)
class PixelPairs:
    """Pairs sorted by pixel and, within a pixel, front to back (all (P,) tensors)."""

    pixel: torch.Tensor  # int64 index into the flattened (C, H, W) image
    splat: torch.Tensor  # int64 index into the flattened (C, N) projected Gaussians
    gaussian: torch.Tensor  # int64 index into the N Gaussians
    x: torch.Tensor  # int64 pixel column
    y: torch.Tensor  # int64 pixel row
    segment_start: torch.Tensor  # bool, True at each pixel's first pair


def _expand(counts: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """For items with `counts` children each -> (parent of each child, child's rank 0..n-1)."""
    parent = torch.repeat_interleave(torch.arange(len(counts), device=counts.device), counts)
    first_child = torch.cumsum(counts, 0) - counts
    rank = torch.arange(len(parent), device=counts.device) - first_child.index_select(0, parent)
    return parent, rank


def segment_starts(sorted_keys: torch.Tensor) -> torch.Tensor:
    starts = torch.ones_like(sorted_keys, dtype=torch.bool)
    starts[1:] = sorted_keys[1:] != sorted_keys[:-1]
    return starts


def exclusive_segment_cumsum(values: torch.Tensor, segment_start: torch.Tensor) -> torch.Tensor:
    """Sum of the earlier values of the same segment (segments are contiguous runs), float64.

    One global cumulative sum minus its value where each segment starts; float64 because the
    global running sum grows with the number of pairs while a segment's stays small.
    """
    values = values.double()
    exclusive = values.cumsum(0) - values
    segment_id = segment_start.long().cumsum(0) - 1
    first_of_segment = torch.nonzero(segment_start).squeeze(-1)
    return exclusive - exclusive.index_select(0, first_of_segment).index_select(0, segment_id)


def _visible_front_to_back(projected: ProjectedGaussians) -> torch.Tensor:
    """Flat (C * N) indices of visible Gaussians, ordered by camera, then depth."""
    count = projected.depths.shape[1]
    splat = torch.nonzero(projected.visible.flatten()).squeeze(-1)
    by_depth = torch.argsort(projected.depths.flatten().index_select(0, splat), stable=True)
    splat = splat.index_select(0, by_depth)
    by_camera = torch.argsort(torch.div(splat, count, rounding_mode="floor"), stable=True)
    return splat.index_select(0, by_camera)


@dataclass(frozen=True)
class _Candidates:
    """Unsorted pairs with their alphas (all (P,) tensors)."""

    pixel: torch.Tensor
    splat: torch.Tensor
    gaussian: torch.Tensor
    x: torch.Tensor
    y: torch.Tensor
    alpha: torch.Tensor

    def take(self, index: torch.Tensor) -> _Candidates:
        return _Candidates(
            *(getattr(self, name).index_select(0, index) for name in self.__dataclass_fields__)
        )

    @staticmethod
    def cat(parts: list[_Candidates]) -> _Candidates:
        names = _Candidates.__dataclass_fields__
        return _Candidates(*(torch.cat([getattr(part, name) for part in parts]) for name in names))


def _scan_convert(
    projected: ProjectedGaussians,
    splat: torch.Tensor,
    opacities: torch.Tensor,
    width: int,
    height: int,
) -> _Candidates:
    """Pairs of the given flat splat indices in (splat, row, column) order, with alphas."""
    count = projected.depths.shape[1]
    camera = torch.div(splat, count, rounding_mode="floor")

    def per_splat(values: torch.Tensor) -> torch.Tensor:
        return values.reshape(-1).index_select(0, splat)

    centre_x, centre_y = per_splat(projected.means2d[..., 0]), per_splat(projected.means2d[..., 1])
    gaussian = splat - camera * count
    opacity = opacities.index_select(0, gaussian)
    radius_y = per_splat(projected.radii[..., 1]).to(centre_y.dtype)

    first_row = torch.floor(centre_y - radius_y - 0.5).clamp(min=0).long()
    last_row = torch.ceil(centre_y - 0.5 + radius_y).clamp(max=height - 1).long()
    row_owner, row_rank = _expand((last_row - first_row + 1).clamp(min=0))

    def per_row(values: torch.Tensor) -> torch.Tensor:
        return values.index_select(0, row_owner)

    y = per_row(first_row) + row_rank
    dy = per_row(centre_y) - (y + 0.5)
    # sigma(dx) = 0.5 a dx^2 + linear dx + constant along the row, dx = centre_x - (x + 0.5)
    a = per_row(per_splat(projected.conics[..., 0]))
    linear = per_row(per_splat(projected.conics[..., 1])) * dy
    constant = 0.5 * per_row(per_splat(projected.conics[..., 2])) * dy * dy
    row_centre_x = per_row(centre_x)
    row_opacity = per_row(opacity)
    discriminant = linear * linear - 2.0 * a * (constant - torch.log(row_opacity / ALPHA_THRESHOLD))
    half_width = torch.sqrt(discriminant.clamp(min=0.0)) / a
    span_centre = row_centre_x + linear / a - 0.5  # the column where sigma is smallest
    first_col = torch.ceil(span_centre - half_width - SPAN_MARGIN_PX).clamp(min=0).long()
    last_col = torch.floor(span_centre + half_width + SPAN_MARGIN_PX).clamp(max=width - 1).long()
    span = (last_col - first_col + 1).clamp(min=0) * (discriminant >= 0)

    pair_row, column_rank = _expand(span)

    def per_pair(values: torch.Tensor) -> torch.Tensor:
        return values.index_select(0, pair_row)

    x = per_pair(first_col) + column_rank
    dx = per_pair(row_centre_x) - (x + 0.5)
    sigma = (0.5 * per_pair(a) * dx + per_pair(linear)) * dx + per_pair(constant)
    alpha = torch.clamp(per_pair(row_opacity) * torch.exp(-sigma), max=MAX_ALPHA)
    alpha = torch.where(sigma >= 0, alpha, 0.0)
    row_pixel = (per_row(camera) * height + y) * width
    return _Candidates(
        pixel=per_pair(row_pixel) + x,
        splat=per_pair(per_row(splat)),
        gaussian=per_pair(per_row(gaussian)),
        x=x,
        y=per_pair(y),
        alpha=alpha,
    )


def _contributing_candidates(
    projected: ProjectedGaussians, opacities: torch.Tensor, width: int, height: int
) -> _Candidates:
    """Pairs with alpha >= threshold, front to back, minus pairs on already stopped pixels."""
    cameras = projected.depths.shape[0]
    # Per pixel, the sum of log(1 - alpha) over all its earlier pairs. Once that is at the
    # floor, the stop rule excludes every later pair there, so later chunks can drop them.
    # The margin keeps float rounding from closing a pixel one pair early.
    log_transmittance_so_far = torch.zeros(
        cameras * height * width, dtype=torch.float64, device=opacities.device
    )
    closed_below = LOG_MIN_TRANSMITTANCE - 1e-3
    parts = []
    # split() yields one empty chunk when nothing is visible, so parts is never empty.
    for splat in _visible_front_to_back(projected).split(CHUNK_SPLATS):
        candidates = _scan_convert(projected, splat, opacities, width, height)
        open_pixel = log_transmittance_so_far.index_select(0, candidates.pixel) > closed_below
        keep = open_pixel & (candidates.alpha >= ALPHA_THRESHOLD)
        candidates = candidates.take(torch.nonzero(keep).squeeze(-1))
        log_transmittance_so_far.index_add_(
            0, candidates.pixel, torch.log(1.0 - candidates.alpha).double()
        )
        parts.append(candidates)
    return _Candidates.cat(parts)


@torch.no_grad()
def select_pairs(
    projected: ProjectedGaussians, opacities: torch.Tensor, width: int, height: int
) -> PixelPairs:
    """The pairs gsplat blends, sorted by pixel, front to back within a pixel."""
    candidates = _contributing_candidates(projected, opacities, width, height)
    # Stable: candidates come front to back, and that order must survive within a pixel.
    ordered = candidates.take(torch.argsort(candidates.pixel, stable=True))
    starts = segment_starts(ordered.pixel)
    # log(1 - alpha), not log1p: the same rounding as gsplat's T * (1 - alpha), and faster.
    log_transmittance = torch.log(1.0 - ordered.alpha)
    after = exclusive_segment_cumsum(log_transmittance, starts) + log_transmittance
    # Transmittance only falls along a pixel's list, so this keeps a prefix of every list.
    kept = ordered.take(torch.nonzero(after > LOG_MIN_TRANSMITTANCE).squeeze(-1))
    return PixelPairs(
        pixel=kept.pixel,
        splat=kept.splat,
        gaussian=kept.gaussian,
        x=kept.x,
        y=kept.y,
        segment_start=segment_starts(kept.pixel),
    )
