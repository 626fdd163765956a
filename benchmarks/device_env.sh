# Source this on the GPU machine (bash): installs the carried wheels (.whl/, and .whl_av/ with
# PyAV when carried for videos) and EGL loader packages (.gl/), and sets up gsplat's CUDA build
# for an H200. The folders are filled here by benchmarks/prepare_device_carry.sh. See
# docs/benchmarks.md.
for f in .gl/*.deb; do dpkg -x "$f" /; done
ldconfig
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
  --target /tmp/site .whl/*.whl $(ls .whl_av/*.whl 2>/dev/null) || return 1
export PYTHONPATH="/tmp/site:$PWD/src"
export TORCH_CUDA_ARCH_LIST=9.0 MAX_JOBS=16 TORCH_EXTENSIONS_DIR="$PWD/.torch_ext"
export PYTHONUNBUFFERED=1
nvidia_egl=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
[ -f "$nvidia_egl" ] && export __EGL_VENDOR_LIBRARY_FILENAMES="$nvidia_egl"
true
