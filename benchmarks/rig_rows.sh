#!/usr/bin/env bash
# Issue 20's 512² rows of the rig model, on the GPU machine (after `source
# benchmarks/device_env.sh`), each result JSON into OUT:
#   1. the built-in character (wave), Grid-24x60, alone on the card: quality, training time,
#      render FPS on new times (the mesh posed on the GPU), model size;
#   2. the training step of rig against the GPU preset's node model on that grid
#      (benchmarks/profile_train.py, 300 timed steps after 2,000);
#   3. side by side on the card (quality only; their training times share the GPU and are not
#      comparable): Soldier trained on Idle and Walk with novel clip Run; RobotExpressive
#      trained on Dance, Walking, Idle and Wave with novel clips Jump and ThumbsUp; and Soldier
#      Walk Grid-24x60 as variants of the rig: as it is, --shading lambert, and denser
#      (grow_grad2d 5e-5);
#   4. the web export of the Soldier Walk rig run: its size (issue 21 asks <= 15 MB).
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

bench "$assets/demo.glb" --clip wave --work "$work/demo" --motion rig --run-name rig \
  --video-frames 60 --json "$out/demo_wave_rig.json"
for motion in rig nodes; do
  python3 benchmarks/profile_train.py "$work/demo/grid" --out "$work/profile_$motion" \
    --motion "$motion" --warmup 2000 --steps 300 --profile-steps 20 \
    --json "$out/profile_$motion.json" >"$work/profile_$motion.txt" 2>&1
done

soldier="$assets/Soldier.glb" robot="$assets/RobotExpressive.glb"
bench "$soldier" --clip Idle --clip Walk --novel-clip Run --work "$work/soldier_multi" \
  --stages grid --json "$work/grid1.json"
bench "$robot" --clip Dance --clip Walking --clip Idle --clip Wave --novel-clip Jump \
  --novel-clip ThumbsUp --train-times 30 --work "$work/robot_multi" --stages grid \
  --json "$work/grid2.json"
bench "$soldier" --clip Walk --work "$work/soldier" --stages grid --json "$work/grid3.json"
side() { bench "$@" --stages train,eval --motion rig >/dev/null 2>&1; }
side "$soldier" --clip Idle --clip Walk --novel-clip Run --work "$work/soldier_multi" \
  --run-name rig --json "$out/soldier_idle_walk_rig.json" &
side "$robot" --clip Dance --clip Walking --clip Idle --clip Wave --novel-clip Jump \
  --novel-clip ThumbsUp --train-times 30 --work "$work/robot_multi" --run-name rig \
  --json "$out/robot_four_clips_rig.json" &
side "$soldier" --clip Walk --work "$work/soldier" --run-name rig --json "$out/soldier_walk_rig.json" &
side "$soldier" --clip Walk --work "$work/soldier" --run-name lambert --set shading=lambert \
  --json "$out/soldier_walk_rig_lambert.json" &
side "$soldier" --clip Walk --work "$work/soldier" --run-name dense --set grow_grad2d=5e-5 \
  --json "$out/soldier_walk_rig_dense.json" &
wait
python3 -m avatar4d.cli export "$work/soldier/rig" --format web --out "$work/soldier_web" --force \
  >"$out/soldier_walk_rig_web.txt" 2>&1
du -sb "$work/soldier_web" >>"$out/soldier_walk_rig_web.txt" 2>&1
