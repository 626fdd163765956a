#!/usr/bin/env bash
# Extract the peers' sources at their pinned commits into benchmarks/peers/.src/ (git-ignored;
# their code is never committed). Why these commits: ../shared/docs/PEERS.md.
#
# The sources come from bare git snapshots. In an agent session, bring each one onto this
# machine first with the search tool's `fetch github:OWNER/NAME`; it answers with
# /work/.mirror/OWNER+NAME/repo. Elsewhere, `git clone --bare https://github.com/OWNER/NAME
# DIR/OWNER+NAME/repo` gives the same layout. MIRROR overrides where the snapshots are.
#
# Usage: benchmarks/peers/fetch_sources.sh   (re-running replaces .src/ with pristine copies;
# run apply_patches.sh afterwards)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
mirror="${MIRROR:-/work/.mirror}"
dest="$here/.src"

# name  snapshot  commit
pins=(
  "4DGaussians hustvl+4DGaussians 843d5ac636c37e4b611242287754f3d4ed150144"
  "Deformable-3D-Gaussians ingra14m+Deformable-3D-Gaussians ab49a1149a06b734e7a3026bb5e424cc08e94240"
  "depth-diff-gaussian-rasterization ingra14m+depth-diff-gaussian-rasterization f2d8fa9921ea9a6cb9ac1c33a34ebd1b11510657"
  "simple-knn camenduru+simple-knn 44f764299fa305faf6ec5ebd99939e0508331503"
  "glm g-truc+glm 5c46b9c07008ae65cb81ab79cd677ecc1934b903"
)

mkdir -p "$dest"
for pin in "${pins[@]}"; do
  read -r name snap commit <<<"$pin"
  gitdir="$mirror/$snap/repo"
  if ! git --git-dir "$gitdir" cat-file -e "$commit^{commit}" 2>/dev/null; then
    echo "fetch_sources.sh: $gitdir lacks commit $commit (fetch github:${snap/+//} first)" >&2
    exit 1
  fi
  # A snapshot may lack its largest blobs (4DGaussians: two demo videos and a notebook, none
  # used here): leave those out, say which, and fail if a source file is among them.
  excludes=()
  while IFS=$'\t' read -r meta path; do
    sha="$(cut -d' ' -f3 <<<"$meta")"
    if ! git --git-dir "$gitdir" cat-file -e "$sha" 2>/dev/null; then
      case "$path" in
        *.py | *.cu | *.h | *.hpp | *.cpp | *.sh | *.txt) echo "fetch_sources.sh: $name: $path is absent from the snapshot" >&2; exit 1 ;;
      esac
      echo "  $name: left out $path (absent from the snapshot, not needed)"
      excludes+=(":(exclude)$path")
    fi
  done < <(git --git-dir "$gitdir" ls-tree -r "$commit" | awk -F'\t' '$1 ~ / blob /')
  rm -rf "${dest:?}/$name"
  mkdir -p "$dest/$name"
  # (git archive still names an absent blob on stderr even when excluded: that line is dropped)
  git --git-dir "$gitdir" archive "$commit" -- . "${excludes[@]}" 2> >(grep -v '^error: invalid object' >&2) |
    tar -x -C "$dest/$name"
  echo "$commit" >"$dest/$name/.pinned_commit"
  echo "extracted $name at ${commit:0:7}"
done

# The rasteriser's glm is a git submodule (third_party/glm), which `git archive` leaves empty:
# fill it with glm's headers (its docs and tests stay out). The peers' assets/ folders hold
# only their README's images and videos (no code reads them). Both are left out so that
# .src/ fits a device call's carry (64 MiB): about 20 MB in all.
rast="$dest/depth-diff-gaussian-rasterization"
rm -rf "$rast/third_party/glm"
mkdir -p "$rast/third_party/glm"
cp -r "$dest/glm/glm" "$dest/glm/copying.txt" "$rast/third_party/glm/"
rm -rf "$dest/glm" "$dest/4DGaussians/assets" "$dest/Deformable-3D-Gaussians/assets"

# Pure-Python wheels the peers import and the GPU machine lacks (PEERS.md): downloaded once
# into .src/.whl (kept across re-runs), installed with --no-deps into .src/.pydeps, which the
# run scripts and check_readers.py put on the path.
python="${PYTHON:-python3}"
if ! ls "$dest"/.whl/plyfile-*.whl "$dest"/.whl/tqdm-*.whl "$dest"/.whl/imageio-*.whl >/dev/null 2>&1; then
  "$python" -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 \
    --platform manylinux2014_x86_64 -d "$dest/.whl" plyfile tqdm imageio
fi
rm -rf "$dest/.pydeps"
"$python" -m pip install -q --no-deps --target "$dest/.pydeps" "$dest"/.whl/*.whl
echo "sources in $dest; wheels $(cd "$dest/.whl" && ls | tr '\n' ' ')installed in $dest/.pydeps"
