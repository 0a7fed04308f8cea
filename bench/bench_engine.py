"""Engine benchmark: speed and accuracy on the full MNIST. Prints its figures.

    MNIST_DIR=../shared/mnist python bench/bench_engine.py [--quick]

Measures, in one run on this machine:
  1. the origin write-up's setup (784-100-10, sigmoid + MSE, batch 100, plain SGD) for 10 epochs;
  2. the app's default (784-128-10, ReLU, softmax + cross-entropy, momentum): accuracy within 10 s of training;
  3. a bigger setting for 98.5% within 60 s of training;
  4. speed against the limit: an epoch's time against the time its matrix multiplies alone take,
     and the machine's float32 matrix-multiply peak;
  5. inference time for one image and for the 10,000 test images; peak memory.
Training time counts only trainer.run (not the test-set evaluations between epochs).
"""
import argparse
import os
import resource
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from engine.data import load_mnist  # noqa: E402
from engine.trainer import Settings, new_run  # noqa: E402

ORIGIN = dict(sizes=(784, 100, 10), activation="sigmoid", loss="mse", optimizer="sgd", lr=3.0,
              batch_size=100, epochs=10)
DEFAULT = Settings().as_dict()
BIG = dict(sizes=(784, 256, 10), activation="relu", loss="cross-entropy", optimizer="momentum", lr=0.05, lr_decay=0.95,
           momentum=0.9, batch_size=128, epochs=30, l2=0.0, augment=0.5)


def train_for(data, settings, budget=None, epochs=None):
    """Train epoch by epoch, printing seconds and test accuracy; stop at `budget` training seconds."""
    s = Settings(**{**Settings().as_dict(), **settings, "val_fraction": 0.0})
    if epochs:
        s.epochs = epochs
    trainer = new_run(data.x_train, data.y_train, s)
    xt, yt = data.test_float(), data.y_test
    best = (0.0, 0)
    print(f"  {trainer.net.describe()}, {s.optimizer} lr {s.lr:g}, batch {s.batch_size}"
          + (f", augment {s.augment:g}" if s.augment else "") + (f", l2 {s.l2:g}" if s.l2 else ""))
    while not trainer.finished:
        left = None if budget is None else budget - trainer.train_seconds
        if left is not None and left <= 0:
            break
        before = trainer.train_seconds
        report = trainer.run(batches=trainer.batches_per_epoch - trainer.pos // s.batch_size, seconds=left)
        if report.diverged:
            print("  " + report.message)
            break
        acc = float((trainer.net.predict(xt) == yt).mean())
        partial = "" if report.epochs_finished else " (partial epoch: time budget reached)"
        print(f"  epoch {trainer.epoch + (0 if report.epochs_finished else 1):3d}  {trainer.train_seconds - before:6.2f} s"
              f"  total {trainer.train_seconds:6.1f} s  test accuracy {acc:.4f}{partial}", flush=True)
        best = max(best, (acc, trainer.epoch))
    return trainer, acc


def matmul_peak(n=2048, repeats=5):
    a = np.random.default_rng(0).random((n, n), dtype=np.float32)
    a @ a
    t = min(timed(lambda: a @ a) for _ in range(repeats))
    return 2 * n ** 3 / t / 1e9


def timed(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def epoch_matmul_time(n_train, sizes, batch):
    """Time of only the matrix multiplies one epoch needs (forward + backward), same shapes."""
    rng = np.random.default_rng(0)
    ws = [rng.random((o, i), dtype=np.float32) for i, o in zip(sizes[:-1], sizes[1:])]
    a0 = rng.random((batch, sizes[0]), dtype=np.float32)
    acts = [a0] + [rng.random((batch, o), dtype=np.float32) for o in sizes[1:]]

    def one_batch():
        for l, w in enumerate(ws):
            acts[l] @ w.T                       # forward
        for l in range(len(ws) - 1, -1, -1):
            d = acts[l + 1]
            d.T @ acts[l]                       # grad_w
            if l:
                d @ w                           # delta to the layer below
    n_batches = -(-n_train // batch)
    one_batch()
    return min(timed(lambda: [one_batch() for _ in range(n_batches)]) for _ in range(3))


def epoch_flops(n_train, sizes):
    flops = 0
    for l, (i, o) in enumerate(zip(sizes[:-1], sizes[1:])):
        flops += 2 * n_train * i * o * (3 if l else 2)   # forward, grad_w, (delta below)
    return flops


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="skip the 60 s run")
    args = ap.parse_args()
    start = time.perf_counter()
    data = load_mnist()
    load_s = time.perf_counter() - start
    if data.is_sample:
        print("This benchmark needs the full MNIST: set MNIST_DIR (e.g. MNIST_DIR=../shared/mnist).")
        return 1
    print(f"dataset: {data.source} ({len(data.x_train)} train / {len(data.x_test)} test), loaded in {load_s:.2f} s")
    print(f"numpy {np.__version__}, {os.cpu_count()} cores, "
          f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'unset (all cores)')}, "
          f"load average {os.getloadavg()[0]:.1f}")

    print("\n1. The origin write-up's setup, 10 epochs:")
    _, acc_origin = train_for(data, ORIGIN)
    print(f"   -> test accuracy after 10 epochs: {acc_origin:.4f} (target 0.96; the write-up reports ~0.90)")

    print("\n2. The app's default, 10 seconds of training:")
    t_default, acc_default = train_for(data, DEFAULT, budget=10.0, epochs=100)
    print(f"   -> test accuracy within 10 s: {acc_default:.4f} (target 0.980)")

    if not args.quick:
        print("\n3. A bigger setting, 60 seconds of training:")
        _, acc_big = train_for(data, BIG, budget=60.0)
        print(f"   -> test accuracy within 60 s: {acc_big:.4f} (target 0.985)")

    print("\n4. Speed against the limit (784-128-10, batch 128, 60,000 images):")
    sizes, n = (784, 128, 10), len(data.x_train)
    peak = matmul_peak()
    mm = epoch_matmul_time(n, sizes, 128)
    s = Settings(batch_size=128, epochs=3, val_fraction=0.0)
    trainer = new_run(data.x_train, data.y_train, s)
    epoch_s = min(trainer.run(batches=trainer.batches_per_epoch).seconds for _ in range(3))
    flops = epoch_flops(n, sizes)
    print(f"   float32 matmul peak (2048x2048): {peak:.1f} GFLOP/s")
    print(f"   one epoch: {epoch_s:.3f} s = {flops / epoch_s / 1e9:.1f} GFLOP/s achieved")
    print(f"   its matrix multiplies alone: {mm:.3f} s ({flops / mm / 1e9:.1f} GFLOP/s) "
          f"-> epoch / matmuls = {epoch_s / mm:.2f}x (target within 1.5x)")
    try:
        import torch  # noqa: F401  (optional comparison, only when installed)
        print("   (PyTorch is installed but the comparison is not implemented in this script)")
    except ImportError:
        print("   PyTorch not installed: no PyTorch comparison")

    print("\n5. Inference with the default model:")
    net, xt = t_default.net, data.test_float()
    one = xt[:1]
    net.predict(one)
    times = [timed(lambda: net.predict(one)) for _ in range(2000)]
    print(f"   one image: {np.median(times) * 1e6:.0f} µs (median of 2000)")
    print(f"   10,000 test images: {min(timed(lambda: net.predict(xt)) for _ in range(5)) * 1e3:.1f} ms")
    print(f"   peak memory (max RSS) of this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
