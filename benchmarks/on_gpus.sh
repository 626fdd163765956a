#!/usr/bin/env bash
# Several grid_bench.py runs at once, one per GPU of a multi-GPU machine (run i on GPU i).
# Run on the GPU machine:
#   source benchmarks/device_env.sh
#   bash benchmarks/on_gpus.sh OUTDIR "name: ASSET --clip CLIP --work W [grid_bench options]" ...
# Each run writes OUTDIR/<name>.json and OUTDIR/<name>.log. gsplat's CUDA extension is built
# once before the runs start (they would otherwise race to build it). The runs share the
# host's CPUs, but each has a GPU to itself.
set -u
out=$1
shift
mkdir -p "$out"
gpus=$(nvidia-smi -L | wc -l)
[ "$#" -le "$gpus" ] || { echo "$# runs but $gpus GPUs" >&2; exit 2; }
python3 -c "import sys; sys.path.insert(0, 'benchmarks'); import grid_bench as g
print('gsplat ready in', g._cuda_compile_seconds(), 's')" || exit 1
pids=()
gpu=0
for spec in "$@"; do
  name=${spec%%:*}
  read -ra args <<<"${spec#*:}"
  CUDA_VISIBLE_DEVICES=$gpu python3 benchmarks/grid_bench.py "${args[@]}" \
    --json "$out/$name.json" >"$out/$name.log" 2>&1 &
  pids+=($!)
  gpu=$((gpu + 1))
done
status=0
for pid in "${pids[@]}"; do wait "$pid" || status=1; done
for spec in "$@"; do tail -3 "$out/${spec%%:*}.log"; done
python3 benchmarks/summarize_sweep.py "$out"/*.json
exit $status
