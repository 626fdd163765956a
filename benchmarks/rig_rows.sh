#!/usr/bin/env bash
# Issue 20's 512² rows of the rig model still wanted after the session of 2026-12-07 (its five
# side-by-side rows are in docs/benchmarks.md), on the GPU machine after `source
# benchmarks/device_env.sh`; each result JSON into OUT as soon as it is made, the most wanted
# first (a session's device time may end before the last):
#   1. the device tests (GPU skinning, rasteriser, and that posing new times and moving
#      cameras to the GPU never make the host wait for it);
#   2. each alone on the card (training time and render FPS on new times count): the built-in
#      character (wave), Soldier Walk and RobotExpressive Dance, Grid-24x60, rig model;
#   3. side by side (quality only): RobotExpressive Dance with the GPU preset's node model,
#      Soldier Walk rig with --shading lambert, and Soldier Walk rig without the track loss;
#   4. the training step of rig against the node model on the demo grid (profile_train.py).
#   setsid nohup bash benchmarks/rig_rows.sh .assets OUT >LOG 2>&1 &   (touches OUT/done)
# Each run's log is OUT/NAME.log, progress in OUT/progress.txt. OUT should outlive a device
# call ($OUT there is emptied by the next call): pack it into $OUT from the polling calls, e.g.
#   tar czf $OUT/rows.tgz -C OUT .
# and never `pkill -f` a pattern that the polling command's own text contains.
set -uo pipefail
assets=$1 out=$2
work=${WORK:-/tmp/rig_rows}
mkdir -p "$work" "$out"
bench() { python3 benchmarks/grid_bench.py "$@"; }
trap 'touch "$out/done"' EXIT
stamp() { echo "$(date +%T) $*" >>"$out/progress.txt"; }

stamp start
python3 -c "from gsplat.cuda._backend import _C" >/dev/null  # the one-time CUDA build
stamp built
python3 -m pytest -q -p no:cacheprovider tests/test_skin_layout.py tests/test_raster_gpu_agreement.py \
  tests/test_host_copy.py tests/test_rig_model.py -k "gpu or GPU or cuda" >"$out/device_tests.txt" 2>&1
stamp tested

soldier="$assets/Soldier.glb" robot="$assets/RobotExpressive.glb"
demo=(--clip wave --work "$work/demo")
walk=(--clip Walk --work "$work/soldier")
dance=(--clip Dance --work "$work/robot_dance")
for grid in demo walk dance; do
  case $grid in
    demo) bench "$assets/demo.glb" "${demo[@]}" --stages grid --json "$work/grid_$grid.json" ;;
    walk) bench "$soldier" "${walk[@]}" --stages grid --json "$work/grid_$grid.json" ;;
    dance) bench "$robot" "${dance[@]}" --stages grid --json "$work/grid_$grid.json" ;;
  esac >"$out/grid_$grid.log" 2>&1
done
stamp grids

alone() {
  local name=$1
  shift
  bench "$@" --motion rig --run-name rig --video-frames 60 --fps-frames 200 \
    --json "$out/$name.json" >"$out/$name.log" 2>&1
  stamp "$name"
}
alone demo_wave_rig "$assets/demo.glb" "${demo[@]}"
alone soldier_walk_rig "$soldier" "${walk[@]}"
alone robot_dance_rig "$robot" "${dance[@]}"

side() {
  local name=$1
  shift
  bench "$@" --stages train,eval --json "$out/$name.json" >"$out/$name.log" 2>&1
  stamp "$name"
}
side robot_dance_nodes "$robot" "${dance[@]}" --motion nodes --run-name nodes &
side soldier_walk_rig_lambert "$soldier" "${walk[@]}" --motion rig --run-name lambert \
  --set shading=lambert &
side soldier_walk_rig_track0 "$soldier" "${walk[@]}" --motion rig --run-name track0 \
  --set track_weight=0 &
wait

for motion in rig nodes; do
  python3 benchmarks/profile_train.py "$work/demo/grid" --out "$work/profile_$motion" \
    --motion "$motion" --warmup 2000 --steps 300 --profile-steps 20 \
    --json "$out/profile_$motion.json" >"$out/profile_$motion.log" 2>&1
done
stamp profile
