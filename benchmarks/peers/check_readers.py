"""Check, on a CPU, that each peer's own D-NeRF reader reads a dataset made by prepare_dataset.py.

    python benchmarks/peers/check_readers.py PREPARED [--peer 4DGaussians|Deformable-3D-Gaussians]

Imports each peer's `scene.dataset_readers.readNerfSyntheticInfo` from benchmarks/peers/.src
(patched: fetch_sources.sh, apply_patches.sh) in a child process of its own (both peers have
top-level packages named `scene` and `utils`) and checks what it returns against the prepared
transforms files and the source grid's RGBA images:

- as many train and test cameras as frames, in the transforms files' order, each named after
  its frame's file_path (the render script's output index i is test frame i);
- times in [0, 1]: Deformable-3DGS uses the frame's time, 4DGaussians time / (largest time);
- the pose rebuilt from the reader's (R, T) equals transform_matrix (OpenGL camera-to-world);
- the horizontal field of view equals camera_angle_x, the image keeps its native size;
- the ground truth is the RGBA image composited on white, within 1/255 (the readers truncate
  where we round), and exactly white where alpha is 0.

Then it imports the peer's train.py and render.py as modules (their `__main__` blocks do not
run), so that a module-level import this machine lacks shows up here rather than on the GPU.

Modules the check does not exercise and this machine lacks (the CUDA extensions simple_knn and
diff_gaussian_rasterization; torchvision, which 4DGaussians imports but its reader never calls)
are replaced by empty stand-ins, and the output says which. Wheels in benchmarks/peers/.src/.pydeps
(plyfile, tqdm, imageio: fetch_sources.sh's notes) are put on the path when present.
Exit status 0 only when every check passes for every peer asked for.
"""

from __future__ import annotations

import argparse
import importlib.abc
import importlib.machinery
import importlib.util
import json
import subprocess
import sys
import types
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
PEERS = ("4DGaussians", "Deformable-3D-Gaussians")
STUBBABLE = ("simple_knn", "diff_gaussian_rasterization", "torchvision")


class _Anything(types.ModuleType):
    """A stand-in module: every attribute is another stand-in (never called by the readers)."""

    def __getattr__(self, name: str) -> object:
        if name.startswith("__"):
            raise AttributeError(name)
        return _Anything(f"{self.__name__}.{name}")


class _StubFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def __init__(self, roots: set[str]) -> None:
        self.roots = roots
        self.used: set[str] = set()

    def find_spec(self, fullname, path=None, target=None):  # noqa: ANN001, ANN201
        if fullname.split(".")[0] in self.roots:
            self.used.add(fullname)
            return importlib.machinery.ModuleSpec(fullname, self, is_package=True)
        return None

    def create_module(self, spec):  # noqa: ANN001, ANN201
        module = _Anything(spec.name)
        module.__path__ = []
        return module

    def exec_module(self, module) -> None:  # noqa: ANN001
        pass


def _pose_from_reader(R: np.ndarray, T: np.ndarray) -> np.ndarray:
    """Undo the readers' conversion: w2c (COLMAP axes) = [R^T | T]; flip y, z back to OpenGL."""
    w2c = np.eye(4)
    w2c[:3, :3] = np.asarray(R).T
    w2c[:3, 3] = np.asarray(T)
    c2w = np.linalg.inv(w2c)
    c2w[:3, 1:3] *= -1
    return c2w


def _on_white(rgba_path: Path) -> np.ndarray:
    from PIL import Image

    rgba = np.asarray(Image.open(rgba_path).convert("RGBA"), dtype=np.float64) / 255.0
    return rgba[..., :3] * rgba[..., 3:4] + (1.0 - rgba[..., 3:4]), rgba[..., 3]


def check_peer(peer: str, prepared: Path, gt_out: Path | None = None) -> list[str]:
    """Run the peer's reader on prepared; returns the failures (empty when all checks pass)."""
    pydeps = HERE / ".src" / ".pydeps"
    if pydeps.is_dir():
        sys.path.insert(0, str(pydeps))
    sys.path.insert(0, str(HERE / ".src" / peer))
    missing = {name for name in STUBBABLE if importlib.util.find_spec(name) is None}
    finder = _StubFinder(missing)
    sys.meta_path.insert(0, finder)
    from scene.dataset_readers import readNerfSyntheticInfo  # the peer's own reader

    info = readNerfSyntheticInfo(str(prepared), True, True)
    print(f"{peer}: stand-ins for {sorted(finder.used) or 'nothing'}")
    source = Path(json.loads((prepared / "prepared.json").read_text())["source"])
    transforms = {
        s: json.loads((prepared / f"transforms_{s}.json").read_text()) for s in ("train", "test")
    }
    all_times = [f["time"] for s in ("train", "test") for f in transforms[s]["frames"]]
    failures: list[str] = []
    worst = {"pose": 0.0, "time": 0.0, "fov": 0.0, "image": 0.0}
    if gt_out is not None:
        _write_like_render_py(peer, info.test_cameras, gt_out / peer)
    for split, cameras in (("train", info.train_cameras), ("test", info.test_cameras)):
        frames = transforms[split]["frames"]
        if len(cameras) != len(frames):
            failures.append(f"{split}: {len(cameras)} cameras for {len(frames)} frames")
            continue
        times = []
        for cam, frame in zip(cameras, frames, strict=True):
            if cam.image_name != Path(frame["file_path"]).name:
                failures.append(
                    f"{split}: camera {cam.image_name} where frame {frame['file_path']} is"
                )
            t = float(cam.fid if peer == "Deformable-3D-Gaussians" else cam.time)
            expected_t = (
                frame["time"]
                if peer == "Deformable-3D-Gaussians"
                else frame["time"] / max(all_times)
            )
            times.append(t)
            worst["time"] = max(worst["time"], abs(t - expected_t))
            pose = _pose_from_reader(cam.R, cam.T)
            worst["pose"] = max(
                worst["pose"], float(np.abs(pose - np.asarray(frame["transform_matrix"])).max())
            )
            worst["fov"] = max(worst["fov"], abs(cam.FovX - transforms[split]["camera_angle_x"]))
            if peer == "Deformable-3D-Gaussians":
                image = np.asarray(cam.image, dtype=np.float64) / 255.0  # PIL RGB
            else:
                image = np.asarray(cam.image, dtype=np.float64).transpose(
                    1, 2, 0
                )  # torch (3, H, W)
            truth, alpha = _on_white(source / (frame["file_path"] + ".png"))
            if image.shape != truth.shape:
                shapes = f"image {image.shape}, ground truth {truth.shape}"
                failures.append(f"{split}: {frame['file_path']}: {shapes}")
                continue
            worst["image"] = max(worst["image"], float(np.abs(image - truth).max()))
            if not np.all(image[alpha == 0] == 1.0):
                failures.append(f"{split}: {frame['file_path']}: background is not white")
        if times and not (min(times) >= 0.0 and max(times) <= 1.0):
            failures.append(f"{split}: times span [{min(times)}, {max(times)}], not within [0, 1]")
        size = f"{cameras[0].width}x{cameras[0].height}" if cameras else "-"
        span = f"[{min(times):.4f}, {max(times):.4f}]" if times else "-"
        counts = f"{len(cameras)} cameras for {len(frames)} frames"
        print(f"{peer}: {split}: {counts}, {size}, times {span}")
    limits = {"pose": 1e-9, "time": 1e-9, "fov": 1e-12, "image": 1.0 / 255.0 + 1e-9}
    for key, value in worst.items():
        ok = value <= limits[key]
        verdict = f"{'ok' if ok else 'FAIL'}, limit {limits[key]:.3g}"
        print(f"{peer}: largest {key} difference {value:.3g} ({verdict})")
        if not ok:
            failures.append(f"{key} differs by {value:.3g}")
    # Module-level imports of the scripts the GPU run uses: a package this machine lacks and
    # that is not a known stand-in would stop training there too.
    for script in ("train", "render"):
        try:
            importlib.import_module(script)
        except Exception as e:  # noqa: BLE001 (any import-time failure is the finding)
            failures.append(f"{script}.py does not import: {type(e).__name__}: {e}")
            continue
        print(f"{peer}: {script}.py imports (stand-ins so far: {sorted(finder.used)})")
    return failures


def _write_like_render_py(peer: str, cameras: list, folder: Path) -> None:
    """The reader's test images as {i:05d}.png in camera order, as the peer's render.py names
    its renders: collect_renders.py + `avatar4d eval --renders` on them must score the ground
    truth itself (PSNR limited only by the readers' truncation to 8 bits)."""
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    for i, cam in enumerate(cameras):
        if peer == "Deformable-3D-Gaussians":
            image = np.asarray(cam.image, dtype=np.uint8)
        else:
            image = np.rint(np.asarray(cam.image).transpose(1, 2, 0) * 255.0).astype(np.uint8)
        Image.fromarray(image).save(folder / f"{i:05d}.png")
    print(f"{peer}: wrote {len(cameras)} test images as {folder}/00000.png ...")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("prepared", type=Path, help="a folder written by prepare_dataset.py")
    parser.add_argument("--peer", choices=PEERS, help="check one peer in this process")
    parser.add_argument(
        "--gt-out",
        type=Path,
        help="also write each reader's test images, named as render.py names renders",
    )
    args = parser.parse_args(argv)
    if args.peer:
        gt_out = args.gt_out.resolve() if args.gt_out else None
        failures = check_peer(args.peer, args.prepared.resolve(), gt_out)
        for failure in failures:
            print(f"{args.peer}: FAIL {failure}")
        print(f"{args.peer}: {'FAIL' if failures else 'all checks passed'}")
        return 1 if failures else 0
    status = 0
    for peer in PEERS:
        child = [sys.executable, __file__, str(args.prepared), "--peer", peer]
        child += ["--gt-out", str(args.gt_out)] if args.gt_out else []
        status |= subprocess.run(child, check=False).returncode
    return status


if __name__ == "__main__":
    sys.exit(main())
