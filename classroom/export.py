"""The class set as MNIST files: the four official IDX files, gzipped, that the app's MNIST
folder box and MNIST_DIR read (engine/data.py), with a share of the class's digits held
out as the "t10k" test files.
"""
import gzip
import io
import zipfile

import numpy as np

from engine.data import FILES, MAGIC_IMAGES, MAGIC_LABELS

TEST_SHARE = 0.2       # the share of the class set written as test files


def idx_bytes(array):
    """An IDX file's bytes for uint8 images (n, 28, 28) or labels (n,): the header
    (magic number, then each dimension as a 4-byte big-endian integer), then the raw bytes."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    magic = MAGIC_IMAGES if array.ndim == 3 else MAGIC_LABELS
    header = magic.to_bytes(4, "big") + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    return header + array.tobytes()


def split(y, test_share=TEST_SHARE, seed=0):
    """(train, test) indices: a fixed, shuffled share of each digit held out for testing
    (at least one digit in each part once there are two)."""
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(y))
    y = np.asarray(y)[order]
    test = np.zeros(len(y), bool)
    for d in range(10):            # ten digits: each keeps its own share out
        idx = np.flatnonzero(y == d)
        test[idx[:int(round(len(idx) * test_share))]] = True
    if len(y) >= 2 and test.all():
        test[0] = False
    if len(y) >= 2 and not test.any():
        test[-1] = True
    return np.sort(order[~test]), np.sort(order[test])


def mnist_files(x, y, test_share=TEST_SHARE, seed=0):
    """{file name: gzipped bytes} of the four MNIST files for images x (n, 784) uint8 and labels y."""
    if len(y) < 2:
        raise ValueError("the class set needs at least two digits to be written as MNIST files")
    x = np.asarray(x, dtype=np.uint8).reshape(len(x), 28, 28)
    y = np.asarray(y, dtype=np.uint8)
    train, test = split(y, test_share, seed)
    names = list(FILES)     # train images, train labels, test images, test labels
    parts = [x[train], y[train], x[test], y[test]]
    return {name + ".gz": gzip.compress(idx_bytes(a), mtime=0) for name, a in zip(names, parts)}


def mnist_zip(x, y, test_share=TEST_SHARE, seed=0):
    """The four files in one .zip (a folder to unpack and name in MNIST_DIR)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:   # the files are gzipped already
        for name, data in mnist_files(x, y, test_share, seed).items():
            z.writestr(f"class-digits/{name}", data)
    return buf.getvalue()
