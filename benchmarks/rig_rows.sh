#!/usr/bin/env bash
# Issue 20's 512² rows of the rig model, on the GPU machine (after `source
# benchmarks/device_env.sh`), each result JSON into OUT as soon as it is made, the most wanted
# first (a session's device time may end before the last):
#   1. the device tests of the GPU skinning and rasteriser;
#   2. side by side on the card (quality only; their training times share the GPU and are not
#      comparable): Soldier Walk Grid-24x60 with the rig model and the GPU preset's node model
#      (the same session: rig vs nodes after the clip-boundary and triangle-binding fixes),
#      Soldier trained on Idle and Walk with novel clip Run, RobotExpressive trained on Dance,
#      Walking, Idle and Wave with novel clips Jump and ThumbsUp, and Soldier Walk with
#      --shading lambert;
#   3. the web export of the Soldier Walk rig run: its size (issue 21 asks <= 15 MB);
#   4. the built-in character (wave), Grid-24x60, alone on the card: quality, training time,
#      render FPS on new times (the mesh posed on the GPU, poses sampled in batches);
#   5. the training step of rig against the GPU preset's node model on that grid
#      (benchmarks/profile_train.py, 300 timed steps after 2,000).
#   setsid nohup bash benchmarks/rig_rows.sh .assets OUT >LOG 2>&1 &   (touches OUT/done)
set -uo pipefail
assets=$1 out=$2
work=${WORK:-/tmp/rig_rows}
mkdir -p "$work" "$out"
bench() { python3 benchmarks/grid_bench.py "$@"; }
trap 'touch "$out/done"' EXIT

python3 -c "from gsplat.cuda._backend import _C" >/dev/null  # the one-time CUDA build
python3 -m pytest -q -p no:cacheprovider tests/test_skin_layout.py tests/test_raster_gpu_agreement.py \
  >"$out/device_tests.txt" 2>&1

soldier="$assets/Soldier.glb" robot="$assets/RobotExpressive.glb"
bench "$soldier" --clip Walk --work "$work/soldier" --stages grid --json "$work/grid1.json"
bench "$soldier" --clip Idle --clip Walk --novel-clip Run --work "$work/soldier_multi" \
  --stages grid --json "$work/grid2.json"
bench "$robot" --clip Dance --clip Walking --clip Idle --clip Wave --novel-clip Jump \
  --novel-clip ThumbsUp --train-times 30 --work "$work/robot_multi" --stages grid \
  --json "$work/grid3.json"
side() { bench "$@" --stages train,eval >/dev/null 2>&1; }
side "$soldier" --clip Walk --work "$work/soldier" --motion rig --run-name rig \
  --json "$out/soldier_walk_rig.json" &
side "$soldier" --clip Walk --work "$work/soldier" --motion nodes --run-name nodes \
  --json "$out/soldier_walk_nodes.json" &
side "$soldier" --clip Idle --clip Walk --novel-clip Run --work "$work/soldier_multi" \
  --motion rig --run-name rig --json "$out/soldier_idle_walk_rig.json" &
side "$robot" --clip Dance --clip Walking --clip Idle --clip Wave --novel-clip Jump \
  --novel-clip ThumbsUp --train-times 30 --work "$work/robot_multi" --motion rig \
  --run-name rig --json "$out/robot_four_clips_rig.json" &
side "$soldier" --clip Walk --work "$work/soldier" --motion rig --run-name lambert \
  --set shading=lambert --json "$out/soldier_walk_rig_lambert.json" &
wait
python3 -m avatar4d.cli export "$work/soldier/rig" --format web --out "$work/soldier_web" --force \
  >"$out/soldier_walk_rig_web.txt" 2>&1
du -sb "$work/soldier_web" >>"$out/soldier_walk_rig_web.txt" 2>&1

bench "$assets/demo.glb" --clip wave --work "$work/demo" --motion rig --run-name rig \
  --video-frames 60 --json "$out/demo_wave_rig.json"
for motion in rig nodes; do
  python3 benchmarks/profile_train.py "$work/demo/grid" --out "$work/profile_$motion" \
    --motion "$motion" --warmup 2000 --steps 300 --profile-steps 20 \
    --json "$out/profile_$motion.json" >"$work/profile_$motion.txt" 2>&1
done
