"""Why a second thread helps the engine less than it helps PyTorch (issue 25): measures and prints.

    python bench/bench_threads.py [--repeats 60]

The engine uses a second core by working on two slices of a mini-batch in two Python threads at once
(engine/fast.py trick 1). NumPy lets go of Python's lock (the GIL) inside each operation, so two
operations really run at once; but between operations each thread needs the lock back, and when the
other thread holds it, it waits to be woken. This script shows where that costs:

  1. a CNN slice's forward + backward (conv 16 - conv 64, 32 images, the bench_speed.py network) alone,
     next to a thread doing one long matrix product after another (it needs the lock only between
     them), and next to a thread doing the same slice (it needs the lock between every operation);
  2. short operations (20 additions on 1,000 numbers) and long ones (a 2048 x 400 by 400 x 64 product)
     alone and with a second thread doing the same at once;
  3. the CNN's batch of 64 as the Trainer works it (fast.in_threads: two slices of 32), on one thread and on
     two, and how long each slice takes when the two run at once (they start together and do the same
     operations in step, so their short operations meet);
  4. the MLP (784-128-10, batch 128): its biggest product (128 x 784 by 784 x 128) whole, and cut in two
     halves computed by two threads (handing half over to a thread of a pool, as trick 1 does); and an
     epoch's matrix products alone (bench_engine.py section 4) with OpenBLAS on 1 thread and on 2.
Each figure is the median of --repeats timings, in milliseconds, with the load average.
BLAS runs on one thread (OPENBLAS_NUM_THREADS=1, as the app runs it): the threads are ours.
"""
import argparse
import os
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

os.environ["OPENBLAS_NUM_THREADS"] = "1"
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
import numpy as np  # noqa: E402

from engine.convnet import ConvNet, cnn_spec  # noqa: E402
from engine.network import one_hot  # noqa: E402


def load():
    return "load average %.2f %.2f %.2f" % os.getloadavg()


def median_ms(fn, repeats):
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1e3 * float(np.median(times))


def beside(fn, other, repeats):
    """median_ms(fn) while another thread calls other() again and again."""
    going = threading.Event()
    going.set()

    def loop():
        while going.is_set():
            other()
    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        return median_ms(fn, repeats)
    finally:
        going.clear()
        thread.join()


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--repeats", type=int, default=60)
    a = p.parse_args()
    n = a.repeats
    rng = np.random.default_rng(0)
    print(f"numpy {np.__version__}, {os.cpu_count()} cores, BLAS on 1 thread; {load()} at the start")
    print(f"command: python bench/bench_threads.py --repeats {n}\n")

    net = ConvNet(cnn_spec(filters=(16, 64), k=5))
    other_net = net.replica()
    x = rng.random((64, 784), dtype=np.float32)
    y = one_hot(rng.integers(0, 10, 64))
    a_big = rng.random((2048, 400), dtype=np.float32)
    b_big = rng.random((400, 2048), dtype=np.float32)

    def slice_a():
        net.gradients(x[:32], y[:32])

    def slice_b():
        other_net.gradients(x[32:], y[32:])

    def long_product():
        a_big @ b_big
    alone = median_ms(slice_a, n)
    with_product = beside(slice_a, long_product, n)
    with_slice = beside(slice_a, slice_b, n)
    print("1. A CNN slice's forward + backward (conv 16 - conv 64, 32 images), ms:")
    print(f"   alone {alone:.2f}; next to a thread of long matrix products {with_product:.2f} "
          f"({with_product / alone:.2f}x); next to a thread doing the same slice {with_slice:.2f} "
          f"({with_slice / alone:.2f}x)   ({load()})")

    small = rng.random(1000, dtype=np.float32)
    p1, p2 = rng.random((2048, 400), dtype=np.float32), rng.random((400, 64), dtype=np.float32)

    def short_ops():
        for _ in range(20):
            small + 1

    def product():
        p1 @ p2
    print("2. Operations alone and with a second thread doing the same at once, ms:")
    for name, fn in (("20 additions on 1,000 numbers", short_ops), ("a 2048x400 by 400x64 product", product)):
        one, two = median_ms(fn, n * 5), beside(fn, fn, n * 5)
        print(f"   {name}: alone {one:.3f}, two at once {two:.3f} ({two / one:.2f}x)")

    from engine import fast
    nets = [net, other_net]
    cut = {"most_rows": fast.cache_rows(net), "fewest": fast.fewest_rows(net)}
    took = {}

    def timed(part_net, xs, ys):
        start = time.perf_counter()
        out = part_net.gradients(xs, ys)
        took.setdefault(threading.current_thread().name, []).append(time.perf_counter() - start)
        return out
    one = median_ms(lambda: fast.in_threads(timed, nets[:1], x, y, **cut), n)
    took.clear()
    two = median_ms(lambda: fast.in_threads(timed, nets, x, y, **cut), n)
    each = 1e3 * float(np.median([t for times in took.values() for t in times]))
    print("3. The CNN's batch of 64 in the Trainer's two slices of 32 (fast.in_threads), ms:")
    print(f"   on one thread {one:.2f}; on two {two:.2f} ({one / two:.2f}x faster); each slice, the two at once, "
          f"{each:.2f} (alone, 1.: {alone:.2f})   ({load()})")

    xb = rng.random((128, 784), dtype=np.float32)
    W = rng.random((128, 784), dtype=np.float32)
    pool = ThreadPoolExecutor(1)

    def whole():
        return xb @ W.T

    def halves():
        out = np.empty((128, 128), np.float32)
        later = pool.submit(np.matmul, xb, W[64:].T, out=out[:, 64:])
        np.matmul(xb, W[:64].T, out=out[:, :64])
        later.result()
        return out
    assert np.array_equal(whole(), halves())
    one, two = median_ms(whole, n * 10), median_ms(halves, n * 10)
    print("4. The MLP's biggest product (128x784 by 784x128), ms:")
    print(f"   whole on one thread {one:.3f}; in two halves on two threads {two:.3f} ({two / one:.2f}x)   "
          f"({load()})")
    pool.shutdown()
    code = ("import sys; sys.path.insert(0, 'bench'); from bench_engine import epoch_matmul_time; "
            "print(epoch_matmul_time(60000, (784, 128, 10), 128)[0])")
    seconds = {}
    for threads in (1, 2):           # OpenBLAS reads its thread count when it starts: a process each
        env = dict(os.environ, OPENBLAS_NUM_THREADS=str(threads))
        out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                             check=True)
        seconds[threads] = float(out.stdout.split()[-1])
    print(f"   an epoch's matrix products alone (bench_engine.py section 4): OpenBLAS on 1 thread {seconds[1]:.3f} s, "
          f"on 2 threads {seconds[2]:.3f} s   ({load()})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
