"""Build engine/sample/mnist_sample.npz, the small MNIST sample shipped with the app.

It picks, at random but reproducibly (numpy default_rng(0)), 1,000 training
and 200 test images of each digit from the official files, so every digit is
equally represented. The file also records which original images were picked
(train_index, test_index), so anyone can check the sample against the originals.

Usage:
    MNIST_DIR=/path/to/mnist python scripts/build_sample.py
    python scripts/build_sample.py --mnist-dir /path/to/mnist [--out FILE]

Running it twice gives a byte-for-byte identical file.
"""
import argparse
import gzip
import hashlib
import io
import os
import sys
import zipfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # so `engine` imports when run as a plain script

from engine.data import FILES, SAMPLE_FORMAT, SAMPLE_PATH, read_idx  # noqa: E402
from engine.files import atomic_write_bytes  # noqa: E402

TRAIN_PER_DIGIT = 1000
TEST_PER_DIGIT = 200
SEED = 0


def pick(labels, per_digit, rng):
    """Indices of `per_digit` random examples of each digit 0-9, in original order.

    labels: (n,) uint8. Returns (10 * per_digit,) int32, sorted.
    """
    chosen = [rng.choice(np.flatnonzero(labels == digit), per_digit, replace=False)
              for digit in range(10)]
    return np.sort(np.concatenate(chosen)).astype(np.int32)


def npz_bytes(arrays):
    """The bytes of a compressed .npz holding `arrays` (a dict name -> array).

    Like np.savez_compressed, but every zip entry gets the same fixed date, so
    the same arrays always give the same bytes (savez stamps the current time).
    """
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, array in arrays.items():
            npy = io.BytesIO()
            np.lib.format.write_array(npy, np.asarray(array), allow_pickle=False)
            info = zipfile.ZipInfo(name + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, npy.getvalue(), compresslevel=9)
    return buffer.getvalue()


def read_verified(folder, name):
    """Read one official IDX file (raw or .gz) after checking its SHA-256."""
    path = folder / name if (folder / name).exists() else folder / (name + ".gz")
    content = path.read_bytes()
    if path.suffix == ".gz":
        content = gzip.decompress(content)
    if hashlib.sha256(content).hexdigest() != FILES[name]:
        sys.exit(f"{path}: checksum differs from the official file")
    return read_idx(path)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mnist-dir", default=os.environ.get("MNIST_DIR"),
                        help="folder with the four official IDX files (default: env MNIST_DIR)")
    parser.add_argument("--out", default=str(SAMPLE_PATH), help="output file")
    args = parser.parse_args()
    if not args.mnist_dir:
        parser.error("give --mnist-dir or set MNIST_DIR")
    folder = Path(args.mnist_dir)

    train_images = read_verified(folder, "train-images-idx3-ubyte")
    train_labels = read_verified(folder, "train-labels-idx1-ubyte")
    test_images = read_verified(folder, "t10k-images-idx3-ubyte")
    test_labels = read_verified(folder, "t10k-labels-idx1-ubyte")

    rng = np.random.default_rng(SEED)
    train_index = pick(train_labels, TRAIN_PER_DIGIT, rng)
    test_index = pick(test_labels, TEST_PER_DIGIT, rng)

    arrays = {
        "format": np.array(SAMPLE_FORMAT),
        "x_train": train_images[train_index],  # (10000, 28, 28) uint8
        "y_train": train_labels[train_index],  # (10000,) uint8
        "x_test": test_images[test_index],     # (2000, 28, 28) uint8
        "y_test": test_labels[test_index],     # (2000,) uint8
        "train_index": train_index,            # positions in the official files
        "test_index": test_index,
        "source_sizes": np.array([len(train_labels), len(test_labels)], dtype=np.int32),
    }
    data = npz_bytes(arrays)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(out, data)
    print(f"wrote {out}: {len(train_index):,} train + {len(test_index):,} test digits, "
          f"{len(data) / 1e6:.2f} MB, sha256 {hashlib.sha256(data).hexdigest()[:16]}...")


if __name__ == "__main__":
    main()
