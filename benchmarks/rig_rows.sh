#!/usr/bin/env bash
# Issue 20's 512² rows of the rig model, on the GPU machine (after `source
# benchmarks/device_env.sh`), each result JSON into OUT as soon as it is made, the most wanted
# first (a session's device time may end before the last):
#   1. the device tests of the GPU skinning and rasteriser;
#   2. side by side on the card (quality only; their training times share the GPU and are not
#      comparable): Soldier Walk Grid-24x60 with the rig model and the GPU preset's node model,
#      RobotExpressive Dance with the rig model, Soldier trained on Idle and Walk with novel
#      clip Run, RobotExpressive trained on Dance, Walking, Idle and Wave (30 train times each)
#      with novel clips Jump and ThumbsUp;
#   3. the built-in character (wave), Grid-24x60, alone on the card: quality, training time,
#      render FPS on new times (the mesh skinned on the GPU, poses sampled in batches);
#   4. render FPS of the Soldier and RobotExpressive rig runs, each alone on the card;
#   5. the web export of the Soldier Walk rig run: its size (issue 21 asks <= 15 MB).
#   setsid nohup bash benchmarks/rig_rows.sh .assets OUT >LOG 2>&1 &   (touches OUT/done)
# Each run's log is OUT/NAME.log. OUT should outlive a device call ($OUT there is emptied by
# the next call): copy or pack it into $OUT from the polling calls.
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
  >"$out/device_tests.txt" 2>&1
stamp tested

soldier="$assets/Soldier.glb" robot="$assets/RobotExpressive.glb"
walk=(--clip Walk --work "$work/soldier")
dance=(--clip Dance --work "$work/robot_dance")
soldier_multi=(--clip Idle --clip Walk --novel-clip Run --work "$work/soldier_multi")
robot_multi=(--clip Dance --clip Walking --clip Idle --clip Wave --novel-clip Jump
  --novel-clip ThumbsUp --train-times 30 --work "$work/robot_multi")
bench "$soldier" "${walk[@]}" --stages grid --json "$work/grid1.json" >/dev/null 2>&1
bench "$robot" "${dance[@]}" --stages grid --json "$work/grid2.json" >/dev/null 2>&1
bench "$soldier" "${soldier_multi[@]}" --stages grid --json "$work/grid3.json" >/dev/null 2>&1
bench "$robot" "${robot_multi[@]}" --stages grid --json "$work/grid4.json" >/dev/null 2>&1
stamp grids

side() {
  local name=$1
  shift
  bench "$@" --stages train,eval --json "$out/$name.json" >"$out/$name.log" 2>&1
  stamp "$name"
}
side soldier_walk_rig "$soldier" "${walk[@]}" --motion rig --run-name rig &
side soldier_walk_nodes "$soldier" "${walk[@]}" --motion nodes --run-name nodes &
side robot_dance_rig "$robot" "${dance[@]}" --motion rig --run-name rig &
side soldier_idle_walk_rig "$soldier" "${soldier_multi[@]}" --motion rig --run-name rig &
side robot_four_clips_rig "$robot" "${robot_multi[@]}" --motion rig --run-name rig &
wait

bench "$assets/demo.glb" --clip wave --work "$work/demo" --motion rig --run-name rig \
  --video-frames 60 --json "$out/demo_wave_rig.json" >"$out/demo_wave_rig.log" 2>&1
stamp demo

bench "$soldier" "${walk[@]}" --run-name rig --stages speed --video-frames 30 --fps-frames 100 \
  --json "$out/soldier_walk_rig_speed.json" >"$out/soldier_walk_rig_speed.log" 2>&1
bench "$robot" "${dance[@]}" --run-name rig --stages speed --video-frames 30 --fps-frames 100 \
  --json "$out/robot_dance_rig_speed.json" >"$out/robot_dance_rig_speed.log" 2>&1
stamp speed

python3 -m avatar4d.cli export "$work/soldier/rig" --format web --out "$work/soldier_web" --force \
  >"$out/soldier_walk_rig_web.txt" 2>&1
du -sb "$work/soldier_web" >>"$out/soldier_walk_rig_web.txt" 2>&1
stamp web
