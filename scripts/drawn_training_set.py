"""Drawings of engine/drawn.py's wild tier, prepared as the Draw page prepares a drawing, to train on.

    OPENBLAS_NUM_THREADS=1 python scripts/drawn_training_set.py [--per-seed 1000] [--seeds 20] [--out FILE]

Seeds 100, 101, ... (the benchmark draws seed 0, tests 2-5, the training scripts watch seed 7): 10 x
per_digit drawings each, preprocessed with preprocess_canvas, stored as x (N, 784) uint8 (pixel x 255, as
MNIST's files) and y (N,) uint8 in one .npz (written atomically).
"""
import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from engine.drawn import make_drawn_set, to_rgba  # noqa: E402
from engine.preprocess import preprocess_canvas  # noqa: E402

FIRST_SEED = 100


def drawn_training_set(per_seed=1000, seeds=20, first_seed=FIRST_SEED):
    """x (seeds * per_seed, 784) uint8 and y (N,) uint8: the wild tier's drawings, preprocessed."""
    xs, ys = [], []
    for seed in range(first_seed, first_seed + seeds):
        ink, labels = make_drawn_set(per_seed // 10, seed=seed, tier="wild")
        xs.append(np.stack([np.round(preprocess_canvas(to_rgba(g), "black").x * 255) for g in ink]).astype(np.uint8))
        ys.append(labels)
    return np.concatenate(xs), np.concatenate(ys)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--per-seed", type=int, default=1000)
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--out", default="drawn_training_set.npz")
    args = ap.parse_args()
    start = time.perf_counter()
    x, y = drawn_training_set(args.per_seed, args.seeds)
    tmp = args.out + ".part.npz"
    np.savez_compressed(tmp, x=x, y=y)
    os.replace(tmp, args.out)
    print(f"{len(y)} drawings (seeds {FIRST_SEED}-{FIRST_SEED + args.seeds - 1}) in {time.perf_counter() - start:.0f} s: "
          f"{args.out}")


if __name__ == "__main__":
    main()
