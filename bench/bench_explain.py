"""How long each explanation panel (ui/explain.py) takes for the built-in MLP and CNN, and which of them
resists the "smallest change that fools it" more.

    OPENBLAS_NUM_THREADS=1 python bench/bench_explain.py [--digits 20] [--fool 200]
    OPENBLAS_NUM_THREADS=1 MNIST_DIR=../shared/mnist python bench/bench_explain.py

Times are the engine work a panel does when it is opened for a new digit (the page itself only draws the
pictures), median and worst over --digits test digits; "nearest, first time" is the one-off reading of the
searched training images by a model (then shared by every session). Fooling: --fool test digits that both
models read right, each pushed towards the same random other digit (seeded) by the panel's steps (length 0.1,
at most 300): how often it flips, how many steps, and how big the change is.
"""
import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine import explain  # noqa: E402
from engine.data import load_mnist, to_float  # noqa: E402
from engine.modelfile import load_model  # noqa: E402
from ui.explain import DREAM_EVERY, DREAM_STEPS, FOOL_MAX_STEPS, FOOL_STEP, POOL  # noqa: E402


def timed(f):
    t = time.perf_counter()
    f()
    return time.perf_counter() - t


def panel_times(net, x_test, train_x):
    """{panel: [seconds per digit]} and the one-off time of the training features."""
    rows = explain.search_rows(len(train_x), POOL)
    searched = to_float(train_x[rows])
    pixel_index = explain.NearestIndex(searched)
    cold = timed(lambda: explain.NearestIndex(explain.hidden_features(net, searched)))
    hidden_index = explain.NearestIndex(explain.hidden_features(net, searched))
    times = {k: [] for k in ["which pixels", "cover it up", "nearest images", "fool (to its 2nd choice)",
                             "class picture (60 steps)"]}
    for i, x in enumerate(x_test):
        probs = net.predict_proba(x[None, :])[0]
        guess, second = np.argsort(-probs)[:2]

        def pixels():
            g = -explain.input_gradient(net, x, "loss", cls=guess)[0][0]
            explain.gradient_times_input(g, x)

        times["which pixels"].append(timed(pixels))
        times["cover it up"].append(timed(lambda: explain.occlusion(net, x, cls=guess)))
        times["nearest images"].append(timed(lambda: (hidden_index.nearest(explain.hidden_features(net, x)[0], 8),
                                                      pixel_index.nearest(x, 8))))
        times["fool (to its 2nd choice)"].append(
            timed(lambda: explain.fool(net, x, int(second), step=FOOL_STEP, max_steps=FOOL_MAX_STEPS)))
        times["class picture (60 steps)"].append(
            timed(lambda: list(explain.dream(net, i % 10, steps=DREAM_STEPS, every=DREAM_EVERY))))
    return times, cold, len(rows)


def resistance(net, x, targets):
    t = time.perf_counter()
    f = explain.fool(net, x, targets, step=FOOL_STEP, max_steps=FOOL_MAX_STEPS)
    seconds = time.perf_counter() - t
    change = f.change(x)
    ok = f.flipped
    return {"flipped": ok.mean(), "steps": np.median(f.steps[ok]), "l2": np.median(np.linalg.norm(change[ok], axis=1)),
            "moved": np.median(explain.changed_pixels(change[ok])), "linf": np.median(np.abs(change[ok]).max(axis=1)),
            "seconds": seconds}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--digits", type=int, default=20, help="test digits to time every panel on")
    ap.add_argument("--fool", type=int, default=200, help="test digits for the MLP-vs-CNN fooling comparison")
    args = ap.parse_args()
    data = load_mnist(data_dir=os.environ.get("MNIST_DIR") or None)
    print(f"data: {data.source}; OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'unset (all cores)')}; "
          f"load average at start {os.getloadavg()[0]:.1f}")
    models = {"MLP": load_model(str(ROOT / "engine/models/pretrained.npz"))[0],
              "CNN": load_model(str(ROOT / "engine/models/pretrained_cnn.npz"))[0]}
    x_test = data.test_float()

    print(f"\nSeconds for one panel on a new digit (median / worst of {args.digits} test digits):\n")
    results = {name: panel_times(net, x_test[:args.digits], data.x_train) for name, net in models.items()}
    print("| panel | " + " | ".join(results) + " |")
    print("| --- | " + " | ".join("---" for _ in results) + " |")
    for panel in results["MLP"][0]:
        cells = [f"{np.median(r[0][panel]):.3f} / {max(r[0][panel]):.3f}" for r in results.values()]
        print(f"| {panel} | " + " | ".join(cells) + " |")
    n_rows = results["MLP"][2]
    print(f"| nearest, first time (reads {n_rows:,} training images, once per model) | "
          + " | ".join(f"{r[1]:.2f}" for r in results.values()) + " |")

    both = np.flatnonzero((models["MLP"].predict(x_test) == data.y_test) &
                          (models["CNN"].predict(x_test) == data.y_test))[:args.fool]
    rng = np.random.default_rng(0)
    targets = (data.y_test[both] + rng.integers(1, 10, len(both))) % 10
    print(f"\nFooling {len(both)} test digits both read right, each towards the same random other digit "
          f"(steps of length {FOOL_STEP}, at most {FOOL_MAX_STEPS}); medians over the flipped ones:\n")
    print("| model | flipped | steps | change's length (L2) | pixels moved ≥ 0.1 | largest pixel change | seconds |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for name, net in models.items():
        r = resistance(net, x_test[both], targets)
        print(f"| {name} | {r['flipped']:.1%} | {r['steps']:.0f} | {r['l2']:.2f} | {r['moved']:.0f} | "
              f"{r['linf']:.2f} | {r['seconds']:.1f} |")


if __name__ == "__main__":
    main()
