"""How fast does MNIST load, and how much memory does it take?

Usage:
    MNIST_DIR=/path/to/mnist python bench/bench_data.py

Prints the time to load the full set from MNIST_DIR (the .gz files), the time
to load the built-in sample, and the memory held by the arrays, as uint8 and
as the float32 copies the network trains on.
"""
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # so `engine` imports

from engine.data import load_mnist, load_sample  # noqa: E402

REPEATS = 5


def timed(load):
    """Run load() REPEATS times; return (last result, fastest seconds, slowest seconds)."""
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        result = load()
        times.append(time.perf_counter() - start)
    return result, min(times), max(times)


def report(name, load):
    ds, fastest, slowest = timed(load)
    uint8 = sum(a.nbytes for a in (ds.x_train, ds.y_train, ds.x_test, ds.y_test))
    start = time.perf_counter()
    floats = ds.test_float().nbytes
    float_time = time.perf_counter() - start
    print(f"{name}: {ds.source}")
    print(f"  load time      {fastest:.3f} s best, {slowest:.3f} s worst of {REPEATS}")
    print(f"  shapes         x_train {ds.x_train.shape}, x_test {ds.x_test.shape}")
    print(f"  memory uint8   {uint8 / 1e6:.1f} MB (images + labels)")
    print(f"  memory float32 {floats / 1e6:.1f} MB (test_float, made in {float_time:.3f} s)")


def main():
    mnist_dir = os.environ.get("MNIST_DIR")
    if mnist_dir:
        report("full set", lambda: load_mnist(data_dir=mnist_dir))
    else:
        print("full set: skipped (set MNIST_DIR to a folder with the four .gz files)")
    report("sample", load_sample)


if __name__ == "__main__":
    main()
