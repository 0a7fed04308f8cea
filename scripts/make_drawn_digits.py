"""Contact sheets of the synthetic drawn digits (engine/drawn.py).

The drawn set is not stored: make_drawn_set(n_per_digit, seed) regenerates
exactly the same drawings every time, so tests and the benchmark rebuild it.
This script draws pictures of it for docs/models.md and for eyeballing:

  docs/drawn_digits.png        the canvases, one row per digit (shrunk 5x)
  docs/drawn_preprocessed.png  the same drawings after preprocess_canvas,
                               i.e. what the network sees; if MNIST_DIR is
                               set, each row ends with real MNIST digits
                               of the same class for comparison

With --tier hard the pictures are of the hard tier (tiny to canvas-filling,
5-40 px pen, slanted up to 25 degrees, wobbly): docs/drawn_digits_hard.png and
docs/drawn_preprocessed_hard.png; with --tier wild of the wild tier (7% high to
cut off by the edge, 3 px to a third-of-the-canvas pen, slanted up to 35
degrees, broken and doubled strokes, slashed zeros...): docs/drawn_digits_wild.png
and docs/drawn_preprocessed_wild.png.

    python scripts/make_drawn_digits.py [--tier easy|hard|wild] [--per-digit 40] [--seed 0] [--out docs]
"""
import argparse
import gzip
import os
import sys
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine.drawn import make_drawn_set, to_rgba  # noqa: E402
from engine.preprocess import preprocess_canvas  # noqa: E402


def read_mnist_test(mnist_dir):
    """MNIST test images (10000, 28, 28) uint8 and labels (10000,) uint8."""
    with gzip.open(Path(mnist_dir) / "t10k-images-idx3-ubyte.gz") as f:
        images = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 28, 28)
    with gzip.open(Path(mnist_dir) / "t10k-labels-idx1-ubyte.gz") as f:
        labels = np.frombuffer(f.read(), np.uint8, offset=8)
    return images, labels


def grid(tiles, n_cols, gap=2, value=80):
    """Paste equal-sized (h, w) uint8 tiles row by row into one image."""
    h, w = tiles[0].shape
    n_rows = -(-len(tiles) // n_cols)
    sheet = np.full((n_rows * (h + gap) + gap, n_cols * (w + gap) + gap), value, np.uint8)
    for i, tile in enumerate(tiles):
        r, c = divmod(i, n_cols)
        sheet[gap + r * (h + gap):gap + r * (h + gap) + h, gap + c * (w + gap):gap + c * (w + gap) + w] = tile
    return sheet


def shrink(ink, factor):
    """Area-average an (H, W) uint8 image by an integer factor (for display)."""
    h, w = ink.shape
    return ink.reshape(h // factor, factor, w // factor, factor).mean(axis=(1, 3)).astype(np.uint8)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-digit", type=int, default=40)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--tier", choices=("easy", "hard", "wild"), default="easy")
    parser.add_argument("--columns", type=int, default=20, help="drawings shown per digit")
    parser.add_argument("--out", default=str(ROOT / "docs"))
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    ink, labels = make_drawn_set(args.per_digit, args.seed, tier=args.tier)
    suffix = "" if args.tier == "easy" else f"_{args.tier}"
    n = min(args.columns, args.per_digit)
    rows = [np.flatnonzero(labels == d)[:n] for d in range(10)]

    drawings = [shrink(ink[i], 5) for row in rows for i in row]
    Image.fromarray(grid(drawings, n)).save(out / f"drawn_digits{suffix}.png")

    mnist = None
    if os.environ.get("MNIST_DIR"):
        mnist = read_mnist_test(os.environ["MNIST_DIR"])
    tiles = []
    for d, row in enumerate(rows):
        for i in row:
            p = preprocess_canvas(to_rgba(ink[i]))
            tiles.append(np.round(p.centred * 255).astype(np.uint8))
        if mnist is not None:
            real = mnist[0][mnist[1] == d][:6]
            tiles += [np.full((28, 28), 160, np.uint8)] + list(real)  # grey tile = separator
    per_row = n + (7 if mnist is not None else 0)
    sheet = grid(tiles, per_row)
    Image.fromarray(sheet).resize((sheet.shape[1] * 2, sheet.shape[0] * 2), Image.NEAREST).save(
        out / f"drawn_preprocessed{suffix}.png")
    print(f"{len(labels)} {args.tier} drawings (seed {args.seed}); wrote {out / f'drawn_digits{suffix}.png'} "
          f"and {out / f'drawn_preprocessed{suffix}.png'}" + ("" if mnist else " (set MNIST_DIR to add real MNIST digits)"))


if __name__ == "__main__":
    main()
