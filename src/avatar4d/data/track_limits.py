"""Limits on surface tracks, shared by the grid writer and the reader (no numpy: the CLI's
--help imports them)."""

MAX_TRACK_POINTS = 1_000_000
MAX_TRACK_TIMES = 10_000
MAX_TRACK_VALUES = 200_000_000  # T x P x 3 floats: 800 MB of positions (+ 400 MB of normals)
