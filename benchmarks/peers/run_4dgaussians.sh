#!/usr/bin/env bash
# Build, train, render and score 4DGaussians (hustvl/4DGaussians 843d5ac, patched) on an
# avatar4d grid, on the GPU machine. Prerequisites here: fetch_sources.sh, apply_patches.sh;
# carry benchmarks/peers/.src; there: `source benchmarks/device_env.sh`.
#
#   benchmarks/peers/run_4dgaussians.sh GRID WORK
#
# A device call lasts at most 10 minutes and training takes longer, so start it detached and
# poll for WORK/done (or WORK/failed) in the following calls:
#   setsid nohup benchmarks/peers/run_4dgaussians.sh GRID WORK >WORK.log 2>&1 </dev/null &
#
# Settings: their D-NeRF settings (arguments/dnerf/dnerf_default.py: 3,000 coarse + 20,000 fine
# iterations, white background) with the temporal grid at 30 (their rule: half the number of
# frames; arguments/dnerf/avatar4d_grid.py, from our patch); periodic test evaluation off
# (--test_iterations -1), one save at the end. Writes WORK/data (prepare_dataset.py), WORK/model,
# WORK/renders (named for `eval --renders`), WORK/eval/metrics.json, WORK/row.json (train
# seconds, Gaussians, model bytes, render FPS), WORK/done.
set -Eeuo pipefail # -E: the ERR trap also fires inside common.sh's functions
[ $# -eq 2 ] || { echo "usage: run_4dgaussians.sh GRID WORK" >&2; exit 2; }
source "$(dirname "$0")/common.sh"
peer_start "$1" "$2"
config=arguments/dnerf/avatar4d_grid.py

cd "$src/4DGaussians"
started=$EPOCHREALTIME
"$py" train.py -s "$work/data" -m "$work/model" --expname avatar4d --configs "$config" \
  --port "${PORT:-6017}" --test_iterations -1 --save_iterations 20000 --quiet
train_s=$(awk "BEGIN { printf \"%.1f\", $EPOCHREALTIME - $started }")
echo "train seconds: $train_s"
"$py" render.py -m "$work/model" --configs "$config" --skip_train --skip_video --quiet

renders=$(ls -d "$work"/model/test/ours_*/renders | sort -V | tail -n 1)
peer_finish 4DGaussians "$grid" "$work" "$train_s" "$renders" -m "$work/model" --configs "$config"
touch "$work/done"
