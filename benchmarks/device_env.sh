# Source this on the GPU machine (bash): installs the carried wheels (.whl/, and .whl_av/ with
# PyAV when carried for videos) and EGL loader packages (.gl/), and sets up gsplat's CUDA build
# for an H200. See docs/benchmarks.md.
for f in .gl/*.deb; do dpkg -x "$f" /; done
ldconfig
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
  --target /tmp/site .whl/*.whl $(ls .whl_av/*.whl 2>/dev/null) || return 1
export PYTHONPATH="/tmp/site:$PWD/src"
export TORCH_CUDA_ARCH_LIST=9.0 MAX_JOBS=16 TORCH_EXTENSIONS_DIR="$PWD/.torch_ext"
# A carried gsplat build (.torch_ext/gsplat_cuda: the library, its build log, and empty
# placeholders for the object files) is rebuilt (about 40 s) when ninja finds its inputs newer
# than its log: pip has just given gsplat's sources fresh times. Dated back, the build is
# reused; if it still cannot load, it is removed and the first use builds it from scratch.
if [ -f .torch_ext/gsplat_cuda/gsplat_cuda.so ]; then
  find /tmp/site/gsplat -exec touch -h -d 2020-01-01 {} +
  find .torch_ext/gsplat_cuda -name '*.o' -exec touch -d 2020-01-01 {} +
  python3 -c "import gsplat.cuda._backend as b; assert b._C is not None" >/dev/null 2>&1 ||
    rm -rf .torch_ext/gsplat_cuda
fi
export PYTHONUNBUFFERED=1
nvidia_egl=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
[ -f "$nvidia_egl" ] && export __EGL_VENDOR_LIBRARY_FILENAMES="$nvidia_egl"
true
