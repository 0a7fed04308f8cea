"""Is an MLP epoch still as fast as before the layers refactor? (issue 13 §1: "in the same run,
an MLP epoch is no slower than before this change (within 10%)")

engine/network.py was last changed before the layers refactor in commit BEFORE (issue 12's tuned
MLP); the refactor (c472a1c) made it read its activations from engine/layers.py's table. This
script loads that old network.py straight from git (`git show BEFORE:engine/network.py`, into a
module of its own: it needs only NumPy) and times one training epoch of each in the same process,
through the current Trainer (the app's own path: uint8 batches made float, one-hot labels,
forward, backward, the optimiser's step), on the same data with the same seed. Best of three for
each, old and new taking turns so that a busy spell of the machine hits both. Both the wall clock
and this process's CPU time are printed: on a shared machine the clock also counts the time other
programs held the CPU, the CPU time only the work done (one BLAS thread: one core's work).

    MNIST_DIR=/path/to/mnist OPENBLAS_NUM_THREADS=1 python bench/bench_mlp_speed.py [--repeats 3]

Without MNIST_DIR it runs on the built-in sample (fewer images: the timings are less steady).
Needs the repository's git history (a clone, not an exported copy).
"""
import argparse
import importlib.util
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine.data import load_mnist  # noqa: E402
from engine.network import Network  # noqa: E402
from engine.trainer import Settings, Trainer  # noqa: E402

BEFORE = "b03266d10d8d5ece316edec8fe1e2e64c5e61203"   # the last engine/network.py before the layers refactor (c472a1c)

SETUPS = {   # the shipped default, and the origin write-up's sigmoid + MSE (another activation's path)
    "default: 784-256-10 relu, softmax + CE, momentum, batch 64":
        dict(sizes=(784, 256, 10), activation="relu", loss="cross-entropy", optimizer="momentum", lr=0.1,
             batch_size=64),
    "origin: 784-100-10 sigmoid + MSE, SGD, batch 100":
        dict(sizes=(784, 100, 10), activation="sigmoid", loss="mse", optimizer="sgd", lr=3.0, batch_size=100),
}


def old_network_class():
    """The Network class of engine/network.py as it was at commit BEFORE, loaded from git."""
    source = subprocess.run(["git", "-C", str(ROOT), "show", f"{BEFORE}:engine/network.py"],
                            capture_output=True, text=True, check=True).stdout
    with tempfile.NamedTemporaryFile("w", suffix="_network_before.py", delete=False) as f:
        f.write(source)
    spec = importlib.util.spec_from_file_location("network_before", f.name)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    Path(f.name).unlink()

    class OldNetwork(module.Network):
        # The current Trainer sizes its parts with this; it came with the refactor (same formula).
        def flops_per_example(self):
            return 6 * sum(W.size for W in self.weights)

    return OldNetwork


def epoch_seconds(network_class, x, y, setup):
    """((wall, CPU) seconds of one training epoch (no validation pass), the net) for a new network_class net."""
    s = Settings(**{**Settings().as_dict(), **setup, "val_fraction": 0.0, "epochs": 1, "seed": 0})
    net = network_class(list(s.sizes), s.activation, s.loss, seed=0)
    trainer = Trainer(net, x, y, s)
    wall, cpu = time.perf_counter(), time.process_time()
    trainer.run(batches=trainer.batches_per_epoch)
    return (time.perf_counter() - wall, time.process_time() - cpu), net


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3, help="epochs timed for each version (default 3)")
    args = ap.parse_args()
    data = load_mnist(download=False)
    x, y = data.x_train, data.y_train
    OldNetwork = old_network_class()
    print(f"{len(y):,} training images ({data.source}); old engine/network.py from commit {BEFORE[:7]}; "
          f"best of {args.repeats} epochs each, taking turns")
    worst = {"wall": 0.0, "CPU": 0.0}
    for name, setup in SETUPS.items():
        epoch_seconds(Network, x[:2000], y[:2000], setup)            # warm up BLAS and the caches
        times = {"before": [], "now": []}
        for _ in range(args.repeats):
            t_old, old = epoch_seconds(OldNetwork, x, y, setup)
            t_new, new = epoch_seconds(Network, x, y, setup)
            times["before"].append(t_old)
            times["now"].append(t_new)
        # Same seed, same data, same maths: the two must have learnt the same weights.
        same = all(np.allclose(p, q, atol=1e-4) for p, q in zip(old.params(), new.params()))
        print(f"\n{name}" + ("" if same else "   WARNING: the weights differ after the epoch"))
        for k, clock in enumerate(("wall", "CPU")):
            best_old = min(t[k] for t in times["before"])
            best_new = min(t[k] for t in times["now"])
            ratio = best_new / best_old
            worst[clock] = max(worst[clock], ratio)
            print(f"  {clock:>4}: before {best_old:.3f} s, now {best_new:.3f} s: now / before = {ratio:.3f} "
                  f"({(ratio - 1) * 100:+.1f}%)   all before: {', '.join(f'{t[k]:.3f}' for t in times['before'])}; "
                  f"all now: {', '.join(f'{t[k]:.3f}' for t in times['now'])}")
    print()
    for clock, ratio in worst.items():
        print(f"worst now / before ({clock}): {ratio:.3f} -> {'within' if ratio <= 1.10 else 'NOT within'} 10%")


if __name__ == "__main__":
    main()
