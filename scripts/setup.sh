#!/usr/bin/env bash
# Set up avatar4d in ./.venv: the system libraries headless OpenGL needs, then the package.
# Safe to run again: it only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

python=${PYTHON:-python3}
if ! command -v "$python" >/dev/null 2>&1; then
  echo "setup: error: $python not found; install Python 3.10 or newer" >&2
  exit 2
fi

# Mesa's EGL gives headless OpenGL on any machine (llvmpipe on a CPU); python3-venv for the venv;
# chromium runs the web player's test (tests/test_web_export.py) headless.
missing=()
for pkg in libegl1 libgl1-mesa-dri chromium; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
"$python" -c "import ensurepip, venv" >/dev/null 2>&1 || missing+=(python3-venv)
if [ ${#missing[@]} -gt 0 ] && command -v apt-get >/dev/null 2>&1; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "setup: installing ${missing[*]} (Debian packages)"
  $sudo apt-get update -qq && $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null \
    || { echo "setup: error: could not install ${missing[*]}; install them with apt-get and run again" >&2; exit 2; }
fi

if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e ".[train,dev]"
echo "setup: ready (avatar4d installed in .venv)"
