# Sourced by run_4dgaussians.sh and run_deformable3dgs.sh (bash, on the GPU machine, from the
# repository root, after `source benchmarks/device_env.sh`). Sets $peers, $src, $py; builds the
# two CUDA extensions once into .src/.site; puts them and .src/.pydeps on PYTHONPATH.
peers="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
src="$peers/.src"
py="${PYTHON:-python3}"

peer_setup() {
  for dir in "$src/depth-diff-gaussian-rasterization" "$src/simple-knn" "$src/.pydeps"; do
    [ -d "$dir" ] || { echo "missing $dir: run fetch_sources.sh and apply_patches.sh here first" >&2; return 1; }
  done
  "$peers/apply_patches.sh" >/dev/null # idempotent: fails loudly on sources it cannot patch
  if [ ! -f "$src/.site/.built" ]; then
    echo "building diff_gaussian_rasterization and simple_knn into $src/.site"
    local started=$SECONDS
    rm -rf "$src/.site"
    TORCH_CUDA_ARCH_LIST="${TORCH_CUDA_ARCH_LIST:-9.0}" MAX_JOBS="${MAX_JOBS:-16}" \
      "$py" -m pip install -q --no-build-isolation --no-deps --no-index --target "$src/.site" \
      "$src/depth-diff-gaussian-rasterization" "$src/simple-knn"
    echo "built in $((SECONDS - started)) s"
    touch "$src/.site/.built"
  fi
  export PYTHONPATH="$src/.site:$src/.pydeps${PYTHONPATH:+:$PYTHONPATH}"
  "$py" -c "import torch, torchvision, diff_gaussian_rasterization, simple_knn._C, plyfile, tqdm, imageio" ||
    { echo "a module the peers need does not import (above)" >&2; return 1; }
}

# peer_start GRID WORK: sets $grid and $work (absolute), clears the markers and the outputs of
# an earlier run, writes WORK/failed on any error (the caller runs with set -E), sets the peers
# up and prepares the dataset into WORK/data.
peer_start() {
  grid="$(cd "$1" && pwd)"
  mkdir -p "$2"
  work="$(cd "$2" && pwd)"
  rm -f "$work/done" "$work/failed"
  trap 'echo "failed at line $LINENO" >"$work/failed"' ERR
  peer_setup
  rm -rf "$work/data" "$work/model" "$work/renders" "$work/eval"
  "$py" "$peers/prepare_dataset.py" "$grid" "$work/data"
}

# peer_finish NAME GRID WORK TRAIN_SECONDS MODEL_ARGS...: FPS, stats, collect renders, score.
peer_finish() {
  local name=$1 grid=$2 work=$3 train_s=$4 renders_from=$5
  shift 5
  (cd "$src/$name" && "$py" "$peers/peer_fps.py" "$name" "$@") | tail -n 1 >"$work/fps.json"
  "$py" "$peers/peer_stats.py" "$work/model" >"$work/stats.json"
  "$py" "$peers/collect_renders.py" "$renders_from" "$work/data" "$work/renders"
  "$py" -m avatar4d.cli eval --renders "$work/renders" "$grid" --out "$work/eval"
  "$py" - "$name" "$work" "$train_s" <<'PY'
import json, sys
from pathlib import Path
name, work, train_s = sys.argv[1], Path(sys.argv[2]), float(sys.argv[3])
row = {"peer": name, "train_seconds": train_s,
       **json.loads((work / "stats.json").read_text()),
       "render": json.loads((work / "fps.json").read_text()),
       "prepared": json.loads((work / "data" / "prepared.json").read_text()),
       "metrics": str(work / "eval" / "metrics.json")}
(work / "row.json").write_text(json.dumps(row, indent=1) + "\n")
print(json.dumps({k: row[k] for k in ("peer", "train_seconds", "gaussians", "model_bytes")}))
PY
}
