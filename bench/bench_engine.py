"""Engine benchmark: speed and accuracy on the full MNIST. Prints its figures.

    MNIST_DIR=../shared/mnist OPENBLAS_NUM_THREADS=1 python bench/bench_engine.py [--quick] [--seeds 0,1,2]

Measures, in one run on this machine:
  1. the origin write-up's setup (784-100-10, sigmoid + MSE, batch 100, plain SGD) for 10 epochs;
  2. the shipped default, exactly as `python -m engine train --seed N` and the Train page run it
     (engine/trainer.py Settings(), 10% of the training set held out for validation): test accuracy
     and training time, for every seed;
  3. the 60-second setting (BIG below, a fixed number of epochs, so its accuracy does not depend on the
     machine's load): test accuracy and training time, for every seed;
  4. speed against the limit: an epoch's time against the time its matrix multiplies alone take, in wall
     time and in CPU time of this process (the CPU ratio hardly moves when other programs share the
     machine), and the machine's float32 matrix-multiply peak;
  5. inference time for one image and for the 10,000 test images; peak memory.
Training time is trainer.train_seconds: every mini-batch and the validation passes, not the test-set
evaluations this script adds after each epoch.
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
              lr_decay=1.0, batch_size=100, epochs=10, val_fraction=0.0)
TURNS = 5                          # section 4: epochs and their products alone, timed in turns
DEFAULT = Settings().as_dict()     # what `python -m engine train` and the Train page use
BIG = dict(sizes=(784, 256, 10), activation="relu", loss="cross-entropy", optimizer="momentum", lr=0.1, lr_decay=0.8,
           momentum=0.9, batch_size=128, epochs=10, l2=0.0, augment=0.5, val_fraction=0.0)


def train_for(data, settings, seed=0, budget=None):
    """Train epoch by epoch, printing seconds and test accuracy; stop at `budget` training seconds.

    Returns (trainer, test accuracy at the end)."""
    s = Settings(**{**Settings().as_dict(), **settings, "seed": seed})
    trainer = new_run(data.x_train, data.y_train, s)
    xt, yt = data.test_float(), data.y_test
    print(f"  {trainer.net.describe()}, {s.optimizer} lr {s.lr:g}"
          + (f" x {s.lr_decay:g}/epoch" if s.lr_decay != 1 else "") + f", batch {s.batch_size}, {s.epochs} epochs"
          + (f", augment {s.augment:g}" if s.augment else "") + (f", l2 {s.l2:g}" if s.l2 else "")
          + f", seed {seed}, {trainer.n_train} training images ({len(trainer.val_idx)} held out)")
    acc = 0.0
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
    return trainer, acc


def over_seeds(data, settings, seeds, target, seconds):
    """Train `settings` once per seed; print and return [(seed, accuracy, training seconds)]."""
    results = []
    for seed in seeds:
        trainer, acc = train_for(data, settings, seed)
        results.append((seed, acc, trainer.train_seconds))
    hits = sum(acc >= target for _, acc, _ in results)
    print("   -> " + ", ".join(f"seed {seed}: {acc:.2%} in {t:.1f} s" for seed, acc, t in results))
    print(f"   -> >= {target:.1%} in {hits} of {len(results)} runs; longest training {max(t for *_, t in results):.1f} s "
          f"(budget {seconds} s)")
    return results


def matmul_peak(n=2048, repeats=5):
    a = np.random.default_rng(0).random((n, n), dtype=np.float32)
    a @ a
    t = min(timed(lambda: a @ a) for _ in range(repeats))
    return 2 * n ** 3 / t / 1e9


def timed(fn, clock=time.perf_counter):
    start = clock()
    fn()
    return clock() - start


def timed_both(fn):
    """(wall seconds, CPU seconds of this process) of one call of fn."""
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def epoch_matmul_time(n_train, sizes, batch, repeats=3):
    """(wall, CPU) time of only the matrix multiplies one epoch needs (forward + backward), same shapes;
    the smallest of `repeats` tries each."""
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
                d @ ws[l]                       # delta to the layer below
    n_batches = -(-n_train // batch)
    one_batch()
    tries = [timed_both(lambda: [one_batch() for _ in range(n_batches)]) for _ in range(repeats)]
    return min(w for w, _ in tries), min(c for _, c in tries)


def epoch_flops(n_train, sizes):
    flops = 0
    for l, (i, o) in enumerate(zip(sizes[:-1], sizes[1:])):
        flops += 2 * n_train * i * o * (3 if l else 2)   # forward, grad_w, (delta below)
    return flops


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="skip the 60 s setting (3.)")
    ap.add_argument("--seeds", default="0,1,2", help="seeds for 2. and 3. (default 0,1,2)")
    args = ap.parse_args()
    seeds = [int(x) for x in args.seeds.split(",")]
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

    print("\n2. The shipped default (= python -m engine train --seed N, and the Train page), 10% held out:")
    over_seeds(data, DEFAULT, seeds, target=0.98, seconds=15)

    if not args.quick:
        print("\n3. The 60-second setting (all 60,000 training images):")
        over_seeds(data, BIG, seeds, target=0.985, seconds=60)

    print("\n4. Speed against the limit (784-128-10, batch 128, 60,000 images):")
    sizes, n = (784, 128, 10), len(data.x_train)
    peak = matmul_peak()
    s = Settings(sizes=sizes, batch_size=128, epochs=TURNS + 1, val_fraction=0.0)
    trainer = new_run(data.x_train, data.y_train, s)
    trainer.run(batches=20)                                    # (warm up)
    # In turns, an epoch then its products alone, TURNS times: a machine that is slower for a while
    # (a neighbour's work) slows both sides of the ratio alike; the best of each is kept.
    tries, mm_tries = [], []
    for _ in range(TURNS):
        tries.append(timed_both(lambda: trainer.run(batches=trainer.batches_per_epoch)))
        mm_tries.append(epoch_matmul_time(n, sizes, 128, repeats=1))
    epoch_wall, epoch_cpu = min(w for w, _ in tries), min(c for _, c in tries)
    mm_wall, mm_cpu = min(w for w, _ in mm_tries), min(c for _, c in mm_tries)
    flops = epoch_flops(n, sizes)
    print(f"   float32 matmul peak (2048x2048): {peak:.1f} GFLOP/s")
    print(f"   one epoch: {epoch_wall:.3f} s = {flops / epoch_wall / 1e9:.1f} GFLOP/s achieved (CPU time {epoch_cpu:.3f} s)")
    print(f"   its matrix multiplies alone: {mm_wall:.3f} s ({flops / mm_wall / 1e9:.1f} GFLOP/s; CPU time {mm_cpu:.3f} s)")
    print(f"   -> epoch / matmuls = {epoch_wall / mm_wall:.2f}x wall time, {epoch_cpu / mm_cpu:.2f}x CPU time "
          f"(issue 25's goal: within 1.3x; best of {TURNS} turns each)")
    try:
        import torch  # noqa: F401  (optional comparison, only when installed)
        print("   (PyTorch is installed: the side-by-side comparison is bench/bench_speed.py, docs/speed.md)")
    except ImportError:
        print("   PyTorch not installed: no PyTorch comparison")

    print("\n5. Inference with the 784-128-10 model of 4.:")
    net, xt = trainer.net, data.test_float()
    one = xt[:1]
    net.predict(one)
    times = [timed(lambda: net.predict(one)) for _ in range(2000)]
    print(f"   one image: {np.median(times) * 1e6:.0f} µs (median of 2000)")
    print(f"   10,000 test images: {min(timed(lambda: net.predict(xt)) for _ in range(5)) * 1e3:.1f} ms")
    print(f"   peak memory (max RSS) of this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
