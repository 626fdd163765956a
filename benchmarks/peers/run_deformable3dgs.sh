#!/usr/bin/env bash
# Build, train, render and score Deformable-3DGS (ingra14m/Deformable-3D-Gaussians, branch
# paper, ab49a11, patched) on an avatar4d grid, on the GPU machine. Prerequisites here:
# fetch_sources.sh, apply_patches.sh; carry benchmarks/peers/.src; there:
# `source benchmarks/device_env.sh`.
#
#   benchmarks/peers/run_deformable3dgs.sh GRID WORK
#
# A device call lasts at most 10 minutes and training takes longer, so start it detached and
# poll for WORK/done (or WORK/failed) in the following calls:
#   setsid nohup benchmarks/peers/run_deformable3dgs.sh GRID WORK >WORK.log 2>&1 </dev/null &
#
# Settings: their D-NeRF command (README: train.py -s DATA -m OUT --eval --is_blender, 40,000
# iterations) with -w (white background: our metrics are on white; without it they train on
# black); periodic test evaluation off (--test_iterations -1), one save at the end. Writes
# WORK/data (prepare_dataset.py), WORK/model, WORK/renders (named for `eval --renders`),
# WORK/eval/metrics.json, WORK/row.json (train seconds, Gaussians, model bytes, render FPS),
# WORK/done.
set -Eeuo pipefail # -E: the ERR trap also fires inside common.sh's functions
[ $# -eq 2 ] || { echo "usage: run_deformable3dgs.sh GRID WORK" >&2; exit 2; }
source "$(dirname "$0")/common.sh"
peer_start "$1" "$2"

cd "$src/Deformable-3D-Gaussians"
started=$EPOCHREALTIME
"$py" train.py -s "$work/data" -m "$work/model" --eval --is_blender -w \
  --test_iterations -1 --save_iterations 40000 --quiet
train_s=$(awk "BEGIN { printf \"%.1f\", $EPOCHREALTIME - $started }")
echo "train seconds: $train_s"
"$py" render.py -m "$work/model" --mode render --skip_train --quiet

renders=$(ls -d "$work"/model/test/ours_*/renders | sort -V | tail -n 1)
peer_finish Deformable-3D-Gaussians "$grid" "$work" "$train_s" "$renders" -m "$work/model"
touch "$work/done"
