"""All channels of a clip sampled at once: channels grouped by kind, keyframes padded to a table.

One pose of a character samples hundreds of channels; looping over them in Python would cost
more than the skinning, so every group is interpolated with a few array operations.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from avatar4d.asset import quaternions
from avatar4d.asset.animation import Channel, Clip


@dataclass(frozen=True)
class SampledGroup:
    path: str  # translation | rotation | scale | weights
    nodes: np.ndarray  # (C,) target node of each channel
    values: np.ndarray  # (C, W) float64 sampled values


@dataclass(frozen=True)
class _ChannelGroup:
    path: str
    interpolation: str
    nodes: np.ndarray  # (C,)
    times: np.ndarray  # (C, K) keyframe times, padded with +inf after each channel's last key
    last: np.ndarray  # (C,) index of each channel's last key
    values: np.ndarray  # (C, K, W), or (C, K, 3, W) for CUBICSPLINE (in, value, out)


class ClipSampler:
    def __init__(self, clip: Clip) -> None:
        buckets: dict[tuple[str, str, int], list[Channel]] = defaultdict(list)
        for channel in clip.channels:
            buckets[(channel.path, channel.interpolation, channel.values.shape[-1])].append(channel)
        self._groups = [_group(path, kind, chans) for (path, kind, _), chans in buckets.items()]

    def sample(self, seconds: float) -> list[SampledGroup]:
        """Every group at one time: values (C, W)."""
        return [
            SampledGroup(g.path, g.nodes, values[0])
            for g, values in zip(self._groups, self._values([seconds]), strict=True)
        ]

    def sample_many(self, seconds: Sequence[float]) -> list[SampledGroup]:
        """Every group at T times at once: values (T, C, W)."""
        return [
            SampledGroup(g.path, g.nodes, values)
            for g, values in zip(self._groups, self._values(seconds), strict=True)
        ]

    def _values(self, seconds: Sequence[float]) -> list[np.ndarray]:
        times = np.asarray(seconds, np.float64).reshape(-1)
        return [_sample_group(group, times) for group in self._groups]


def _group(path: str, interpolation: str, channels: list[Channel]) -> _ChannelGroup:
    keys = max(len(c.times) for c in channels)
    times = np.full((len(channels), keys), np.inf)
    values = np.zeros((len(channels), keys, *channels[0].values.shape[1:]))
    for i, channel in enumerate(channels):
        times[i, : len(channel.times)] = channel.times
        values[i, : len(channel.times)] = channel.values
    return _ChannelGroup(
        path=path,
        interpolation=interpolation,
        nodes=np.array([c.node for c in channels], np.int64),
        times=times,
        last=np.array([len(c.times) - 1 for c in channels], np.int64),
        values=values,
    )


def _sample_group(group: _ChannelGroup, seconds: np.ndarray) -> np.ndarray:
    """(T, C, W) values of the group's C channels at T times."""
    rows = np.arange(len(group.nodes))[None, :]
    when = seconds[:, None]  # (T, 1)
    # Key at or before each time (T, C); -1 before the first.
    index = (group.times[None] <= when[..., None]).sum(axis=-1) - 1
    if group.interpolation == "STEP":
        return group.values[rows, np.clip(index, 0, group.last)]
    # The segment [k0, k1] holding the time; clamped times land on an end key (s = 0 or 1).
    k0 = np.clip(index, 0, np.maximum(group.last - 1, 0))
    k1 = np.minimum(k0 + 1, group.last)
    t0, t1 = group.times[rows, k0], group.times[rows, k1]
    interval = t1 - t0
    s = np.clip((when - t0) / np.where(interval > 0, interval, 1.0), 0.0, 1.0)
    s = np.where(interval > 0, s, 0.0)[..., None]
    if group.interpolation == "CUBICSPLINE":
        start, end = group.values[rows, k0], group.values[rows, k1]
        value = _hermite(start, end, s, interval[..., None])
        return quaternions.normalize(value) if group.path == "rotation" else value
    a, b = group.values[rows, k0], group.values[rows, k1]
    if group.path == "rotation":
        return quaternions.slerp(a, b, s)
    return a + s * (b - a)


def _hermite(start: np.ndarray, end: np.ndarray, s: np.ndarray, interval: np.ndarray) -> np.ndarray:
    """Cubic Hermite between keys (in-tangent, value, out-tangent), tangents scaled by the
    keyframe interval as the glTF specification defines."""
    p0, m0 = start[..., 1, :], start[..., 2, :] * interval
    p1, m1 = end[..., 1, :], end[..., 0, :] * interval
    s2, s3 = s * s, s * s * s
    return (
        (2 * s3 - 3 * s2 + 1) * p0
        + (s3 - 2 * s2 + s) * m0
        + (3 * s2 - 2 * s3) * p1
        + (s3 - s2) * m1
    )
