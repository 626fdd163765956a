# Source this on the GPU machine (bash): installs the carried wheels (.whl/) and EGL loader
# packages (.gl/), and sets up gsplat's CUDA build for an H200. See docs/benchmarks.md.
for f in .gl/*.deb; do dpkg -x "$f" /; done
ldconfig
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
  --target /tmp/site .whl/*.whl $(ls .whl_av/*.whl 2>/dev/null) || return 1
# A carried gsplat build (.torch_ext, from an earlier machine): newer than the sources just
# installed, so torch's ninja build finds it up to date and skips the compile. Its object
# files may be emptied to save transfer: ninja only compares times.
if [ -f .torch_ext/gsplat_cuda/gsplat_cuda.so ]; then
  find .torch_ext -name '*.o' -exec touch {} +
  sleep 1
  touch .torch_ext/gsplat_cuda/gsplat_cuda.so
fi
export PYTHONPATH="/tmp/site:$PWD/src"
export TORCH_CUDA_ARCH_LIST=9.0 MAX_JOBS=16 TORCH_EXTENSIONS_DIR="$PWD/.torch_ext"
export PYTHONUNBUFFERED=1
nvidia_egl=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
[ -f "$nvidia_egl" ] && export __EGL_VENDOR_LIBRARY_FILENAMES="$nvidia_egl"
true
