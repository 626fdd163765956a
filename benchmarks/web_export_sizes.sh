#!/usr/bin/env bash
# Size of the web export (`avatar4d export RUN --format web`) of Soldier Walk runs with the GPU
# preset's structure (Grid-24x60 times, the GPU preset's nodes, control points and tracks) and a
# given number of Gaussians, trained one step on the CPU. The export's size depends only on that
# structure and the counts (fixed-width quantised arrays, no entropy coding), not on how well
# the model was trained, so this gives the size of a GPU run's export without a GPU.
#
#   bash benchmarks/web_export_sizes.sh ASSETS_DIR WORK [NODES_GAUSSIANS] [RIG_GAUSSIANS]
#
# The default counts are the Soldier Walk 512² GPU runs' (docs/benchmarks.md, rig vs nodes).
set -euo pipefail
assets=${1:?assets folder holding Soldier.glb}
work=${2:?work folder}
nodes_count=${3:-148308}
rig_count=${4:-120221}
avatar4d=${AVATAR4D:-avatar4d}

mkdir -p "$work"
"$avatar4d" grid "$assets/Soldier.glb" --clip Walk --res 64 --train-times 60 --track-points 4096 \
  --out "$work/grid" --force
for spec in "nodes:$nodes_count" "rig:$rig_count"; do
  motion=${spec%%:*}
  count=${spec##*:}
  "$avatar4d" train "$work/grid" --out "$work/run_$motion" --preset gpu --device cpu --steps 1 \
    --motion "$motion" --init-points "$count" --quiet --force
  "$avatar4d" export "$work/run_$motion" --format web --out "$work/web_$motion" --force
  du -sb "$work/web_$motion"
done
