"""What each part of a training step costs: step time with one part switched off at a time.

Run on the GPU machine after a grid exists (e.g. from ``grid_bench.py --stages grid``)::

    python3 benchmarks/step_cost.py /tmp/s/grid --out /tmp/cost --warmup 6000 --json cost.json

Trains ``--warmup`` steps of the GPU preset (``--set`` overrides it), times ``--steps`` steps
with densification still running (with our screen-gradient statistics and gsplat's, in turn),
then stops densification (so the Gaussian count no longer
changes) and times the same number of steps for each variant: the preset, and the preset with
one loss or setting changed at run time (``VARIANTS``). Variants run in turn, then again in
the reverse order, and each reports the mean of its two windows, so a steady drift of the
device does not favour one; the JSON keeps every window.
A variant's saving over the preset is what that part costs (forward and backward together).
"""

from __future__ import annotations

import argparse

from profile_train import add_run_arguments, timed_steps, warmed_session, write_result

from avatar4d.raster.gsplat_backend import SETTINGS
from avatar4d.run.config import TrainConfig, with_settings
from avatar4d.train.session import TrainingSession

VARIANTS: dict[str, dict[str, object]] = {
    "preset": {},
    "no depth loss": {"depth_weight": 0.0},
    "no motion smoothness": {"motion_smoothness": 0.0},
    "no SSIM": {"ssim_weight": 0.0},
    "no normal loss": {"track_normal_weight": 0.0},
    "no track losses": {"track_weight": 0.0},
    "4 cameras": {"batch_cameras": 4},
    "16 cameras": {"batch_cameras": 16},
    "packed rasterisation": {"packed": True},
}
RASTER_KEYS = ("packed",)  # gsplat settings, not TrainConfig fields


def with_variant(session: TrainingSession, base: TrainConfig, changes: dict, tracks) -> None:
    raster = {key: value for key, value in changes.items() if key in RASTER_KEYS}
    SETTINGS.update({"packed": False} | raster)
    config_changes = {key: value for key, value in changes.items() if key not in RASTER_KEYS}
    session.config = with_settings(base, **config_changes)
    # Without the track loss the session carries no tracks (as a run with --track-weight 0).
    session.tracks = None if session.config.losses.track_weight <= 0 else tracks


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_run_arguments(parser, warmup=6000)
    args = parser.parse_args()

    session = warmed_session(args)
    base = session.config
    # While densifying (the count grows): ours, gsplat's, gsplat's, ours, so that a steady
    # growth weighs on both alike.
    step = args.warmup
    densifying: dict[bool, list[float]] = {False: [], True: []}
    for gsplat_statistics in (False, True, True, False):
        session.strategy.gsplat_statistics = gsplat_statistics
        densifying[gsplat_statistics].append(timed_steps(session, step, args.steps))
        step += args.steps
    session.strategy.gsplat_statistics = False
    densifying_ms = sum(densifying[False]) / 2
    gsplat_statistics_ms = sum(densifying[True]) / 2

    session.strategy.refine_stop_iter = step  # the Gaussian count is fixed from here on
    tracks = session.tracks
    windows: dict[str, list[float]] = {name: [] for name in VARIANTS}
    failed: dict[str, str] = {}
    for round_order in (list(VARIANTS.items()), list(VARIANTS.items())[::-1]):
        for name, changes in round_order:
            if "track_normal_weight" in changes and not base.track_normal_weight:
                continue
            if name in failed:
                continue
            with_variant(session, base, changes, tracks)
            try:
                windows[name].append(timed_steps(session, step, args.steps))
            except Exception as error:  # report and go on with the other variants
                failed[name] = f"{type(error).__name__}: {error}"
                windows[name].clear()
                print(f"{name}: failed: {failed[name]}")
            step += args.steps
    with_variant(session, base, {}, tracks)

    step_ms = {name: sum(times) / len(times) for name, times in windows.items() if times}
    preset = step_ms["preset"]
    result = {
        "settings": args.set,
        "gaussians": len(session.params["means"]),
        "warmup_steps": args.warmup,
        "steps_per_window": args.steps,
        "windows_ms": windows,
        "densifying_windows_ms": {"ours": densifying[False], "gsplat": densifying[True]},
        "densifying_step_ms": densifying_ms,
        "densifying_step_ms_gsplat_statistics": gsplat_statistics_ms,
        "step_ms": step_ms,
        "saving_ms": {name: preset - ms for name, ms in step_ms.items() if name != "preset"},
        "failed": failed,
    }
    print(
        f"{result['gaussians']} Gaussians; {densifying_ms:.2f} ms a step while densifying "
        f"({gsplat_statistics_ms:.2f} with gsplat's statistics)"
    )
    for name, ms in step_ms.items():
        print(f"  {name:22s} {ms:6.2f} ms a step ({ms - preset:+.2f})")
    write_result(args.json, result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
