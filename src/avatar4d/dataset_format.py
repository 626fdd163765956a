"""Names and limits of the grid dataset format (docs/dataset_format.md) that its writer and its
readers share: the test subsets' names and the limits on surface tracks.

The writer is capture/ (``avatar4d grid``), the readers are data/ and evaluate/. capture/ sits
below data/ in the data flow, so what both must agree on lives here, at the bottom beside
errors.py, rather than in either of them (tests/test_layering.py). No numpy: the CLI's --help
imports these.
"""

# The test frames' subsets, in report order: novel cameras at train times, train cameras at
# novel times, novel cameras at novel times, and (grids with --novel-clip only) novel cameras
# on a clip never trained (capture/grid_plan.py says how each is picked).
TEST_SUBSETS = ("novel_view", "novel_time", "novel_both", "novel_pose")
NOVEL_POSE = "novel_pose"

MAX_TRACK_POINTS = 1_000_000
MAX_TRACK_TIMES = 10_000
MAX_TRACK_VALUES = 200_000_000  # T x P x 3 floats: 800 MB of positions (+ 400 MB of normals)
