#!/usr/bin/env bash
# Apply our patches (benchmarks/peers/patches/<repo>.patch) to the sources that
# fetch_sources.sh extracted into benchmarks/peers/.src/<repo>. Idempotent: a patch that is
# already applied is skipped; one that neither applies nor is applied stops the script.
# What each patch changes and why: ../shared/docs/PEERS.md, docs/benchmarks.md "Peers (issue 22)".
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
status=0
for patch in "$here"/patches/*.patch; do
  repo="$(basename "$patch" .patch)"
  dir="$here/.src/$repo"
  if [ ! -d "$dir" ]; then
    echo "apply_patches.sh: $dir is missing (run fetch_sources.sh first)" >&2
    exit 1
  fi
  # git apply works on plain folders too (run outside any repository via --git-dir=/dev/null
  # so that the enclosing avatar4d checkout's .gitignore does not hide the ignored .src/).
  if (cd "$dir" && git --git-dir=/dev/null apply --reverse --check "$patch" 2>/dev/null); then
    echo "$repo: already applied"
  elif (cd "$dir" && git --git-dir=/dev/null apply --whitespace=nowarn --check "$patch"); then
    (cd "$dir" && git --git-dir=/dev/null apply --whitespace=nowarn "$patch")
    echo "$repo: applied $(grep -c '^+++ ' "$patch") files"
  else
    echo "apply_patches.sh: $patch does not apply to $dir (fresh sources: fetch_sources.sh)" >&2
    status=1
  fi
done
exit $status
