#!/usr/bin/env bash
# Issue 20's CPU-sized targets, run where it is quick (on the GPU machine: --device cuda, the
# numbers are those of the 64² grids, rasteriser aside): RobotExpressive Dance at 64², 24
# cameras x 12 times, 2,000 steps of the cpu preset, for the rig, node and spline motion
# models; and RobotExpressive trained on Dance, Walking, Idle and Wave with --novel-clip Jump
# --novel-clip ThumbsUp, the rig model. Writes each run's metrics.json under $OUT.
#   bash benchmarks/rig_targets.sh ASSETS_DIR OUT [DEVICE]
set -euo pipefail
assets=$1 out=$2 device=${3:-cuda}
work=${WORK:-/tmp/rig_targets}
mkdir -p "$work" "$out"
robot="$assets/RobotExpressive.glb"
grid() { python3 -m avatar4d.cli grid "$robot" --res 64 --train-times 12 --novel-times 4 "$@"; }
train_eval() {  # NAME GRID MOTION
  python3 -m avatar4d.cli train "$2" --out "$work/$1" --preset cpu --device "$device" \
    --steps 2000 --motion "$3" --quiet --force
  python3 -m avatar4d.cli eval "$work/$1" --force --device "$device"
  cp "$work/$1/eval/metrics.json" "$out/$1.json"
}
# gsplat builds its CUDA extension on first use: once, before the runs start in parallel.
python3 -c "from gsplat.cuda._backend import _C" >/dev/null
grid --clip Dance --out "$work/dance" --force
grid --clip Dance --clip Walking --clip Idle --clip Wave --novel-clip Jump --novel-clip ThumbsUp \
  --out "$work/multi" --force
train_eval dance_rig "$work/dance" rig &
train_eval dance_nodes "$work/dance" nodes &
train_eval dance_spline "$work/dance" spline &
train_eval multi_rig "$work/multi" rig &
train_eval multi_nodes "$work/multi" nodes &
wait
