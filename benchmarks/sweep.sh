#!/usr/bin/env bash
# Several training configurations on one grid, one after another (SWEEP_PARALLEL=1: all at
# once; one run already keeps an H200 busy, and concurrent timings are not benchmark timings).
# Run on the GPU machine:
#   source benchmarks/device_env.sh
#   bash benchmarks/sweep.sh ASSET CLIP WORK OUTDIR STEPS "name:k=v,k=v" "name2:" ...
# Builds WORK/grid once, then runs grid_bench.py train,eval for every spec; each writes
# OUTDIR/<name>.json and OUTDIR/<name>.log. With SWEEP_STATIC_STEPS=N, also a run of N steps
# on the grid cut to its first time (benchmarks/one_time_subset.py): the static ceiling.
set -u
asset=$1 clip=$2 work=$3 out=$4 steps=$5 res=${SWEEP_RES:-512}
shift 5
python3 benchmarks/grid_bench.py "$asset" --clip "$clip" --work "$work" --stages grid --res "$res" \
  --json "$out/grid.json" >"$out/grid.log" 2>&1 || { tail -5 "$out/grid.log"; exit 1; }
python3 -c "import sys; sys.path.insert(0, 'benchmarks'); import grid_bench as g
print('gsplat ready in', g._cuda_compile_seconds(), 's')" || exit 1  # compile once, not racing
run() { if [ -n "${SWEEP_PARALLEL:-}" ]; then "$@" & pids+=($!); else "$@"; fi; }
pids=()
if [ -n "${SWEEP_STATIC_STEPS:-}" ]; then  # the static ceiling: one time, no motion to learn
  python3 benchmarks/one_time_subset.py "$work/grid" "$work/static/grid" --time-index 0 &&
    run python3 benchmarks/grid_bench.py "$asset" --clip "$clip" --work "$work/static" \
      --stages train,eval --steps "$SWEEP_STATIC_STEPS" --run-name static --set loop=no \
      --json "$out/static.json" >"$out/static.log" 2>&1
fi
for spec in "$@"; do
  name=${spec%%:*}
  sets=()
  IFS=, read -ra pairs <<<"${spec#*:}"
  for pair in "${pairs[@]}"; do [ -n "$pair" ] && sets+=(--set "$pair"); done
  run python3 benchmarks/grid_bench.py "$asset" --clip "$clip" --work "$work" --stages train,eval \
    --steps "$steps" --run-name "$name" --json "$out/$name.json" "${sets[@]}" \
    >"$out/$name.log" 2>&1
  python3 benchmarks/summarize_sweep.py "$out/$name.json"
done
status=0
for pid in "${pids[@]}"; do wait "$pid" || status=1; done
python3 benchmarks/summarize_sweep.py "$out"/*.json
exit $status
