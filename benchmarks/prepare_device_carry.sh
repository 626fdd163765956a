#!/usr/bin/env bash
# Run here (not on the GPU machine), from the repository root: fills the git-ignored folders
# that a device call carries and benchmarks/device_env.sh installs there:
#   .whl/     wheels the GPU image lacks (gsplat and the grid's own dependencies), Python 3.12
#   .whl_av/  PyAV, for the MP4 stage of grid_bench.py
#   .gl/      the EGL / OpenGL loader packages (Debian, amd64)
#   .assets/  the shared characters and the built-in one (demo.glb)
#   .commit   the commit the rows will name (AVATAR4D_COMMIT=$(cat .commit) there)
# Then: run with carry [".whl", ".whl_av", ".gl", ".assets", ".commit"] and a command that
# starts with `source benchmarks/device_env.sh`.
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-.venv/bin/python}

for folder in .whl_av .assets .commit; do
  grep -qx "/$folder/\?" .git/info/exclude 2>/dev/null || echo "/$folder" >>.git/info/exclude
done

platforms=(manylinux_2_28_x86_64 manylinux_2_27_x86_64 manylinux_2_24_x86_64 manylinux_2_17_x86_64
  manylinux2014_x86_64 manylinux1_x86_64)
download() {
  local target=$1
  shift
  python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 \
    --implementation cp "${platforms[@]/#/--platform=}" -d "$target" "$@"
}
download .whl gsplat==1.5.3 DracoPy moderngl glcontext tyro docstring-parser shtab typeguard
download .whl_av av

mkdir -p .gl /tmp/amd64/partial
apt_options=(-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64)
apt-get "${apt_options[@]}" update -qq
(cd .gl && apt-get "${apt_options[@]}" download -qq libvulkan1 libegl1 libglvnd0 libopengl0 \
  libgl1 libglx0 libgles2)

mkdir -p .assets
cp ../shared/assets/*.glb .assets/
chmod u+w .assets/*.glb
"$python" -c "from pathlib import Path
from avatar4d.asset.demo.character import write_demo_character
write_demo_character(Path('.assets/demo.glb'), force=True)"
git rev-parse HEAD >.commit
du -shc .whl .whl_av .gl .assets | tail -1
