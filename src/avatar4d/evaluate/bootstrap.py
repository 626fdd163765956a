"""Mean and percentile-bootstrap confidence interval over per-image values.

Resampling is over images (each image one draw), with a seeded generator so the same values
always give the same interval. Non-finite values (NaN: "no foreground"; inf) are excluded
before anything is computed, and counted.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

_MAX_DRAWS_PER_CHUNK = 4_000_000


@dataclass(frozen=True)
class MeanCI:
    mean: float  # NaN when no finite value is left
    low: float
    high: float
    n: int  # finite values used
    excluded: int  # non-finite values dropped


def bootstrap_mean(
    values: Iterable[float],
    confidence: float = 0.95,
    resamples: int = 2000,
    seed: int = 0,
) -> MeanCI:
    """Mean of the finite values and its percentile-bootstrap interval at ``confidence``."""
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    if resamples < 1:
        raise ValueError(f"resamples must be at least 1, got {resamples}")
    array = np.asarray(list(values), dtype=np.float64).reshape(-1)
    finite = array[np.isfinite(array)]
    excluded = int(array.size - finite.size)
    if finite.size == 0:
        return MeanCI(math.nan, math.nan, math.nan, 0, excluded)
    mean = float(finite.mean())
    if finite.size == 1:
        return MeanCI(mean, mean, mean, 1, excluded)
    rng = np.random.default_rng(seed)
    resampled_means = np.empty(resamples)
    # In chunks, so that memory stays bounded for large subsets.
    chunk = max(1, _MAX_DRAWS_PER_CHUNK // finite.size)
    for start in range(0, resamples, chunk):
        count = min(chunk, resamples - start)
        draws = rng.integers(0, finite.size, size=(count, finite.size))
        resampled_means[start : start + count] = finite[draws].mean(axis=1)
    tail = (1.0 - confidence) / 2.0
    low, high = np.quantile(resampled_means, [tail, 1.0 - tail])
    # A percentile interval can miss the sample mean by a hair (rounding, tiny skewed samples);
    # widen it to include the mean so that no report shows a mean outside its own interval.
    return MeanCI(mean, min(float(low), mean), max(float(high), mean), int(finite.size), excluded)


def mean_ci(
    values: Iterable[float],
    confidence: float = 0.95,
    resamples: int = 2000,
    seed: int = 0,
) -> tuple[float, float, float]:
    """(mean, low, high); see ``bootstrap_mean`` for the counts of used and excluded values."""
    result = bootstrap_mean(values, confidence, resamples, seed)
    return result.mean, result.low, result.high
