"""CNN benchmark (issue 13 §2): accuracy within a training-time budget, speed against the matrix multiplies,
time to classify one image. Prints its figures.

    OPENBLAS_NUM_THREADS=1 MNIST_DIR=../shared/mnist python bench/bench_cnn.py [--budget 120] [--filters 16,64]

Measures, in one run on this machine, with the project's own Trainer (engine/trainer.py) and ConvNet
(engine/convnet.py):
  1. a CNN trained on all 60,000 training images until `--budget` seconds of training (trainer.train_seconds:
     wall time of the mini-batches; the test-set checks after each epoch are not counted), test accuracy after
     every epoch and at the end (target >= 99.0% within 120 s);
  2. an epoch's time against the time of the same epoch's matrix multiplies alone (same shapes, timed in this
     run, best of three), in wall time and in CPU time of this process (the CPU ratio hardly moves when other
     programs share the machine) (target <= 2x);
  3. the time to classify one image (median of 300) and the 10,000 test images (target < 20 ms for one).
"""
import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from engine.convnet import ConvNet, cnn_spec  # noqa: E402
from engine.data import load_mnist  # noqa: E402
from engine.layers import Conv2D, Dense  # noqa: E402
from engine.trainer import Settings, Trainer  # noqa: E402


def timed_both(fn):
    """(wall seconds, CPU seconds of this process) of one call of fn."""
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def batch_matmuls(net, batch):
    """Random arrays of the shapes of every matrix multiply one training batch makes (forward, dW, dx)."""
    rng = np.random.default_rng(0)

    def r(*shape):
        return rng.random(shape, dtype=np.float32)
    pairs = []
    for layer, shape in zip(net.layers, net.shapes[1:]):
        if isinstance(layer, Conv2D):
            f, c, k, _ = layer.W.shape
            rows = batch * shape[1] * shape[2]               # one row per output pixel
            pairs += [(r(rows, k * k * c), r(k * k * c, f)),  # forward: cols W^T
                      (r(f, rows), r(rows, k * k * c))]       # dW = dy^T cols
            if layer.need_dx:
                pairs.append((r(rows, f), r(k * k, f, c)))    # dcols, offset by offset (one batched call)
        elif isinstance(layer, Dense):
            d_out, d_in = layer.W.shape
            pairs += [(r(batch, d_in), r(d_in, d_out)), (r(d_out, batch), r(batch, d_in))]
            if layer.need_dx:
                pairs.append((r(batch, d_out), r(d_out, d_in)))
    return pairs


def epoch_matmul_time(net, n_train, batch):
    """(wall, CPU) time of only the matrix multiplies of one epoch; the smallest of three tries each."""
    pairs = batch_matmuls(net, batch)
    n_batches = -(-n_train // batch)

    def epoch():
        for _ in range(n_batches):
            for a, b in pairs:
                np.matmul(a, b)
    epoch()
    tries = [timed_both(epoch) for _ in range(3)]
    return min(w for w, _ in tries), min(c for _, c in tries)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--budget", type=float, default=120, help="seconds of training (default 120)")
    ap.add_argument("--filters", default="16,64", help="filters of each 5x5 conv + relu + maxpool 2 block")
    ap.add_argument("--hidden", default="", help="dense hidden layers before the output, e.g. 128")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--lr", type=float, default=0.002, help="Adam's learning rate")
    ap.add_argument("--decay", type=float, default=0.7, help="learning rate x this after every epoch")
    ap.add_argument("--augment", type=float, default=0.0)
    ap.add_argument("--epochs", type=int, default=30, help="at most this many epochs (the budget usually ends first)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--skip-training", action="store_true", help="only 2. and 3. (one epoch is still trained)")
    args = ap.parse_args()

    start = time.perf_counter()
    data = load_mnist()
    if data.is_sample:
        print("This benchmark needs the full MNIST: set MNIST_DIR (e.g. MNIST_DIR=../shared/mnist).")
        return 1
    print(f"dataset: {data.source} ({len(data.x_train)} train / {len(data.x_test)} test), "
          f"loaded in {time.perf_counter() - start:.2f} s")
    print(f"numpy {np.__version__}, {os.cpu_count()} cores, "
          f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'unset (all cores)')}, "
          f"load average {', '.join(f'{v:.1f}' for v in os.getloadavg())} (1, 5, 15 min)")
    print("command: " + " ".join(["OPENBLAS_NUM_THREADS=" + os.environ.get("OPENBLAS_NUM_THREADS", ""),
                                  "MNIST_DIR=" + os.environ.get("MNIST_DIR", ""), "python"] + sys.argv))

    filters = tuple(int(f) for f in args.filters.split(","))
    hidden = tuple(int(h) for h in args.hidden.split(",") if h)
    net = ConvNet(cnn_spec(filters=filters, k=5, hidden=hidden), seed=args.seed)
    s = Settings(optimizer="adam", lr=args.lr, lr_decay=args.decay, batch_size=args.batch,
                 epochs=1 if args.skip_training else args.epochs, seed=args.seed, val_fraction=0.0,
                 augment=args.augment)
    trainer = Trainer(net, data.x_train, data.y_train, s)     # parts sized by net.flops_per_example()
    xt, yt = data.test_float(), data.y_test
    print(f"\n1. {net.describe()}, {net.n_params():,} weights")
    print(f"   Adam lr {s.lr:g} x {s.lr_decay:g}/epoch, batch {s.batch_size}"
          + (f", augment {s.augment:g}" if s.augment else "")
          + f", seed {s.seed}, {trainer.n_train} training images, budget {args.budget:g} s of training")
    epoch_times, acc, cpu_total, first_99 = [], 0.0, 0.0, None
    while not trainer.finished and trainer.train_seconds < args.budget:
        before, cpu = trainer.train_seconds, time.process_time()
        report = trainer.run(batches=trainer.batches_per_epoch - trainer.pos // s.batch_size,
                             seconds=args.budget - trainer.train_seconds)
        cpu = time.process_time() - cpu
        cpu_total += cpu
        if report.diverged:
            print("   " + report.message)
            break
        if report.epochs_finished:
            epoch_times.append((trainer.train_seconds - before, cpu))
        acc = float((net.predict(xt) == yt).mean())
        if acc >= 0.99 and first_99 is None:
            first_99 = trainer.train_seconds
        partial = "" if report.epochs_finished else " (partial epoch: budget reached)"
        print(f"   epoch {trainer.epoch + (0 if report.epochs_finished else 1):2d}  {trainer.train_seconds - before:6.1f} s"
              f" (CPU {cpu:5.1f} s)  total {trainer.train_seconds:6.1f} s  test accuracy {acc:.4f}{partial}"
              f"  load {os.getloadavg()[0]:.1f}", flush=True)
    print(f"   -> test accuracy {acc:.2%} after {trainer.train_seconds:.1f} s of training (CPU {cpu_total:.1f} s); "
          f"target >= 99.0% within 120 s: {'MET' if acc >= 0.99 and trainer.train_seconds <= 120.5 else 'NOT MET'}"
          + (f"; first >= 99.0% after {first_99:.1f} s" if first_99 else ""))

    print(f"\n2. Speed against the matrix multiplies (batch {s.batch_size}, {trainer.n_train} images):")
    epoch_wall, epoch_cpu = min(w for w, _ in epoch_times), min(c for _, c in epoch_times)
    median_wall, median_cpu = np.median(epoch_times, axis=0)
    mm_wall, mm_cpu = epoch_matmul_time(net, trainer.n_train, s.batch_size)
    print(f"   one epoch (fastest of {len(epoch_times)}): {epoch_wall:.2f} s wall, {epoch_cpu:.2f} s CPU "
          f"(median {median_wall:.2f} s wall, {median_cpu:.2f} s CPU)")
    print(f"   its matrix multiplies alone: {mm_wall:.2f} s wall, {mm_cpu:.2f} s CPU "
          f"({net.flops_per_example(elementwise=False) * trainer.n_train / mm_cpu / 1e9:.1f} GFLOP/s of CPU time)")
    print(f"   -> epoch / matmuls = {epoch_wall / mm_wall:.2f}x wall time, {epoch_cpu / mm_cpu:.2f}x CPU time "
          f"(target <= 2x; median epoch: {median_wall / mm_wall:.2f}x wall, {median_cpu / mm_cpu:.2f}x CPU)")

    print("\n3. Classifying:")
    one = xt[:1]
    net.predict(one)
    times = []
    for i in range(300):
        t = time.perf_counter()
        net.predict(xt[i:i + 1])
        times.append(time.perf_counter() - t)
    print(f"   one image: {np.median(times) * 1e3:.2f} ms (median of 300; target < 20 ms)")
    wall, cpu = timed_both(lambda: net.predict(xt))
    print(f"   10,000 test images: {wall:.2f} s ({cpu:.2f} s CPU)")
    print(f"   load average at the end: {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
