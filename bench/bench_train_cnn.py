"""The Train page's CNN on the built-in sample: how long its default run takes and how well it reads.

Trains, with the project's Trainer, exactly the settings the Train page starts from when the kind is
"CNN" (ui/training.py WIDGETS), and the two variants of the guided experiment "MLP vs CNN"
(ui/experiments.py), on the built-in sample (10,000 training images, 10% held out; 2,000 test images).
Prints, for each: weights, seconds of training (the trainer's own clock), seconds per epoch, the
accuracy on the 2,000 test images, and on those images moved 2 pixels right and down.

    OPENBLAS_NUM_THREADS=1 python bench/bench_train_cnn.py [--seeds 0,1]

The app trains with one BLAS thread per run, as this command does. Always the built-in sample
(MNIST_DIR is ignored): it is what a new user, and a class without the full MNIST, trains on.
"""
import argparse
import os
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.pop("MNIST_DIR", None)

from engine.data import load_mnist  # noqa: E402
from engine.metrics import accuracy  # noqa: E402
from engine.trainer import new_run  # noqa: E402
from ui import experiments, training  # noqa: E402


def shifted(x, pixels):
    """Every image moved `pixels` to the right and down (zeros come in)."""
    img = x.reshape(-1, 28, 28)
    out = np.zeros_like(img)
    out[:, pixels:, pixels:] = img[:, :28 - pixels, :28 - pixels]
    return out.reshape(len(x), 784)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="0", help="comma-separated seeds (default 0)")
    args = parser.parse_args()
    data = load_mnist(data_dir=None, download=False)
    x_test = data.test_float()
    print(f"data: {data.source}; {len(data.x_train):,} training images, {len(data.x_test):,} test images")
    exp = next(e for e in experiments.EXPERIMENTS if e["id"] == "mlp_vs_cnn")
    cases = {"Train page default CNN": {"train_kind": "cnn"}, **exp["variants"]}
    for seed in [int(s) for s in args.seeds.split(",")]:
        for name, values in cases.items():
            settings = training.settings_from_values({**values, "train_seed": seed})
            run = new_run(data.x_train, data.y_train, settings)
            run.run()
            acc = accuracy(run.net.predict(x_test), data.y_test)
            moved = accuracy(run.net.predict(shifted(x_test, 2)), data.y_test)
            print(f"seed {seed} | {name}: {run.net.describe()}; {run.net.n_params():,} weights; "
                  f"{settings.epochs} epochs in {run.train_seconds:.1f} s "
                  f"({run.train_seconds / settings.epochs:.2f} s an epoch); "
                  f"test accuracy {acc:.2%}; moved 2 px: {moved:.2%}", flush=True)


if __name__ == "__main__":
    main()
