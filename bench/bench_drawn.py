"""How well does a model trained on MNIST read digits drawn on a canvas?

Runs saved models on the synthetic drawn digits of engine/drawn.py, three
tiers ("easy": drawn with some care; "hard": tiny to canvas-filling, 5-40 px
pen, slanted up to 25 degrees, wobbly; "wild": 7% of the canvas high to cut
off by its edge, a 3 px pen to a third of the canvas, slanted up to 35 degrees,
broken and doubled strokes, slashed zeros, crossed 7s, 1s with a base...),
400 drawings each by default, regenerated from a seed so every run sees the
same drawings, twice:

  preprocess_canvas  crop, scale to 20 px, centre by mass (how MNIST was made)
  resize_naive       shrink the whole canvas to 28x28 (what most demos do)

and prints the accuracy of each, per-digit accuracy, and the time taken per
drawing by each preprocessing. With two or more models it also reports their
probabilities averaged ("averaged", engine/ensemble.py: a candidate for the
Draw page's first answer, docs/drawn.md), and ends with a table of every tier
and model.

    python bench/bench_drawn.py [MODEL ...] [--tier easy|hard|wild|all] [--per-digit 40] [--seed 0]
    MNIST_DIR=... python bench/bench_drawn.py --mnist   # MNIST's stroke widths, MNIST through the canvas path

MODEL defaults to both built-in models (engine/models/pretrained.npz, the MLP,
and pretrained_cnn.npz, the CNN). Exits with status 1 if a model file is
missing or not a valid model file.
"""
import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine.drawn import make_drawn_set, to_rgba  # noqa: E402
from engine.preprocess import preprocess_canvas, resize_naive  # noqa: E402

DEFAULT_MODELS = [ROOT / "engine" / "models" / "pretrained.npz", ROOT / "engine" / "models" / "pretrained_cnn.npz"]


def prepare(images, method):
    """Run one preprocessing on every image.

    images: list of (H, W, 4) uint8 canvas images.
    method: "preprocess_canvas" or "resize_naive".
    Returns x (N, 784) float32, ms (N,) milliseconds per image, and the
    number of images preprocess_canvas found empty (their x is all zeros).
    """
    x = np.zeros((len(images), 784), np.float32)
    ms = np.zeros(len(images))
    empty = 0
    for i, image in enumerate(images):
        start = time.perf_counter()
        if method == "preprocess_canvas":
            result = preprocess_canvas(image)
            x[i] = result.x
            empty += result.empty
        else:
            x[i] = resize_naive(image)
        ms[i] = (time.perf_counter() - start) * 1000
    return x, ms, empty


def prepared_set(per_digit=40, seed=0, tier="easy"):
    """The drawn set of `tier`, prepared both ways: ({method: (x, ms, empty)}, labels)."""
    ink, labels = make_drawn_set(per_digit, seed, tier=tier)
    images = [to_rgba(grey) for grey in ink]
    return {method: prepare(images, method) for method in ("preprocess_canvas", "resize_naive")}, labels


def evaluate(net, per_digit=40, seed=0, tier="easy", prepared=None):
    """Accuracy of `net` on the drawn set of `tier` with both preprocessings.

    net: anything with predict(x (n, 784) float32) -> (n,) int.
    prepared: prepared_set's result, to share one preparation between models.
    Returns {method: {"accuracy", "per_digit" (10,), "ms_median", "ms_mean",
    "empty"}} and the labels.
    """
    prepared, labels = prepared or prepared_set(per_digit, seed, tier)
    results = {}
    for method, (x, ms, empty) in prepared.items():
        correct = np.asarray(net.predict(x)) == labels
        results[method] = {
            "accuracy": correct.mean(),
            "per_digit": np.array([correct[labels == d].mean() for d in range(10)]),
            "ms_median": np.median(ms),
            "ms_mean": ms.mean(),
            "empty": empty,
        }
    return results, labels


def report(results, labels, model, seed, tier="easy"):
    n = len(labels)
    print(f"Drawn digits, {tier} tier: {n} ({n // 10} per digit, seed {seed}), 280x280 RGBA canvases")
    print(f"Model: {model}")
    print()
    print(f"{'preprocessing':<19}{'accuracy':>9}{'ms/drawing (median, mean)':>28}")
    for method, r in results.items():
        print(f"{method:<19}{r['accuracy']:>8.1%}{r['ms_median']:>16.2f}{r['ms_mean']:>8.2f}")
    print()
    print("per digit          " + "".join(f"{d:>6}" for d in range(10)))
    for method, r in results.items():
        print(f"{method:<19}" + "".join(f"{a:>6.0%}" for a in r["per_digit"]))
    empty = results["preprocess_canvas"]["empty"]
    if empty:
        print(f"\nwarning: preprocess_canvas found {empty} drawings empty")


def mnist_check(nets, names):
    """On the MNIST test digits (the built-in sample's without MNIST_DIR): the percentiles of their
    stroke widths (where engine/preprocess.py's THIN_STROKE and MNIST_STROKE come from), and each
    model's accuracy on them as they are and drawn 10x bigger on a canvas and preprocessed, with and
    without the thickening of thin strokes: the preprocessing must not cost real digits anything."""
    from engine import preprocess
    from engine.data import load_mnist
    data = load_mnist(download=False)
    images, labels = data.x_test.reshape(-1, 28, 28), data.y_test
    widths = np.array([preprocess.stroke_width(img / 255) for img in images])
    cuts = (1, 5, 10, 25, 50, 75, 95)
    print(f"stroke width of {len(widths):,} test digits ({data.source}), pixels of the 20x20 box:")
    print("  " + "  ".join(f"{p}%: {v:.2f}" for p, v in zip(cuts, np.percentile(widths, cuts))))
    print(f"\n{'model':<24}{'as they are':>12}{'10x, preprocessed':>19}{'... no thickening':>19}")
    thin = preprocess.THIN_STROKE
    canvas = {}
    for label, limit in (("with", thin), ("without", 0.0)):
        preprocess.THIN_STROKE = limit          # 0: no stroke is ever thinner, nothing is thickened
        out = [preprocess_canvas(np.kron(img, np.ones((10, 10), np.uint8)), "black") for img in images]
        canvas[label] = np.stack([p.x for p in out])
        if limit:
            thickened = sum(p.thickened > 0 for p in out)
    preprocess.THIN_STROKE = thin
    for name, net in zip(names, nets):
        print(f"{name:<24}" + "".join(f"{(np.asarray(net.predict(x)) == labels).mean():>{w}.2%}" for x, w in (
            (data.test_float(), 12), (canvas["with"], 19), (canvas["without"], 19))))
    print(f"({thickened} of the {len(labels):,} digits had their strokes thickened)")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="*", default=[str(m) for m in DEFAULT_MODELS],
                        help="model files (.npz); default: both built-in models")
    parser.add_argument("--tier", choices=("easy", "hard", "wild", "all"), default="all",
                        help="which drawn set (default all three)")
    parser.add_argument("--per-digit", type=int, default=40, help="drawings per digit (default 40)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the drawn set (default 0)")
    parser.add_argument("--mnist", action="store_true",
                        help="print the stroke widths of the MNIST test digits (preprocess.py's THIN_STROKE and "
                             "MNIST_STROKE) and the models' accuracy on them drawn 10x on a canvas, then stop")
    args = parser.parse_args(argv)

    from engine.modelfile import ModelFileError, load_model
    nets = []
    for model in args.models:
        if not Path(model).is_file():
            print(f"Model file not found: {model}\n"
                  "Train or download a model first, or pass the path of one.", file=sys.stderr)
            return 1
        try:
            nets.append(load_model(model)[0])
        except ModelFileError as err:
            print(f"Cannot use the model {model}: {err}", file=sys.stderr)
            return 1
    if args.mnist:
        mnist_check(nets, [Path(m).name for m in args.models])
        return 0
    tiers = ("easy", "hard", "wild") if args.tier == "all" else (args.tier,)
    names = [Path(m).name for m in args.models]
    if len(nets) > 1:
        from engine.ensemble import Averaged
        nets, names = nets + [Averaged(nets)], names + ["averaged"]
    summary = []
    for tier in tiers:
        prepared = prepared_set(args.per_digit, args.seed, tier)
        for name, net in zip(names, nets):
            results, labels = evaluate(net, tier=tier, prepared=prepared)
            report(results, labels, name if name == "averaged" else args.models[names.index(name)], args.seed, tier)
            print()
            summary.append((tier, name, results))
    print(f"{'tier':<6}{'model':<24}{'preprocess_canvas':>19}{'resize_naive':>14}")
    for tier, name, results in summary:
        print(f"{tier:<6}{name:<24}{results['preprocess_canvas']['accuracy']:>18.1%}"
              f"{results['resize_naive']['accuracy']:>14.1%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
