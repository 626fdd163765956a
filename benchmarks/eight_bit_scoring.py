"""What scoring 8-bit renders instead of float ones changes: per test frame, PSNR, foreground
PSNR and SSIM of the float straight-alpha render and of the same render quantised to 8 bits
(what `avatar4d eval RUN` and `avatar4d eval --renders` score), against the same ground truth.

    PYTHONPATH=src python benchmarks/eight_bit_scoring.py RUN [--device cuda]

Prints the mean and the largest float - 8-bit difference of each metric, and the mean PSNR.
"""

from __future__ import annotations

import argparse
from itertools import groupby

import numpy as np
import torch

from avatar4d.data.dnerf import load_dataset, load_image_rgba
from avatar4d.evaluate.metrics import score_image
from avatar4d.evaluate.run_eval import render_straight_rgba
from avatar4d.evaluate.scoring import quantize_rgba
from avatar4d.run.trained import load_trained_model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    model = load_trained_model(args.run, device=args.device)
    frames = load_dataset(model.dataset_root).splits["test"]
    rows, psnrs = [], []

    def key(frame):
        return (frame.time or 0.0, frame.width, frame.height)

    with torch.no_grad():
        for _, group in groupby(sorted(frames, key=key), key=key):
            group = list(group)
            for frame, pred in zip(
                group, render_straight_rgba(model, group, key(group[0])[0]), strict=True
            ):
                rgba = torch.as_tensor(np.array(load_image_rgba(frame)), device=pred.device)
                gt = rgba.float() / 255.0
                exact = score_image(pred, gt)
                eight = score_image(quantize_rgba(pred).float() / 255.0, gt)
                rows.append(
                    (
                        exact.psnr - eight.psnr,
                        exact.fg_psnr - eight.fg_psnr,
                        exact.ssim - eight.ssim,
                    )
                )
                psnrs.append(eight.psnr)
    diffs = np.array(rows)
    print(f"{len(rows)} test frames, mean 8-bit PSNR {np.mean(psnrs):.2f} dB")
    for name, column, unit in zip(
        ("psnr", "fg_psnr", "ssim"), diffs.T, (" dB", " dB", ""), strict=True
    ):
        print(
            f"{name:8s} float - 8-bit: mean {column.mean():+.6f}{unit}, "
            f"largest |diff| {np.abs(column).max():.5f}{unit}"
        )


if __name__ == "__main__":
    main()
