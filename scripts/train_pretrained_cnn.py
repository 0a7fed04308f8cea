"""Rebuild the built-in pretrained CNN (engine/models/pretrained_cnn.npz) or, with --mlp, the built-in MLP
(engine/models/pretrained.npz) with the project's own Trainer, or train one of them further (--start).

    MNIST_DIR=../shared/mnist OPENBLAS_NUM_THREADS=1 python scripts/train_pretrained_cnn.py [--epochs 10]
    MNIST_DIR=../shared/mnist OPENBLAS_NUM_THREADS=1 python scripts/train_pretrained_cnn.py --mlp

CNN: bench/bench_cnn.py's best setting (issue 13): conv 16@5x5 -> relu -> maxpool 2 -> conv 64@5x5 -> relu
-> maxpool 2 -> dense 10, Adam lr 0.002 x 0.7 per epoch, batch 64, 10 epochs, augment 0.3. MLP: 784-256-10 ReLU,
momentum 0.9, lr 0.05 x 0.95 per epoch, batch 128, 20 epochs, augment 0.5 (scripts/train_pretrained.sh's first
step does the same with `python -m engine train`). Both on all 60,000 training images, seeded; augmentation
moves, turns, thickens or thins every image a little (engine/augment.py's augment).

For digits drawn as people draw them (docs/drawn.md) the built-in models then go on training (--start) on MNIST
plus drawings of engine/drawn.py's wild tier (--drawn-set, made by scripts/drawn_training_set.py from other
seeds than the benchmark's), e.g. the CNN:

    python scripts/drawn_training_set.py --seeds 10 --out drawn_10k.npz
    ... scripts/train_pretrained_cnn.py --start engine/models/pretrained_cnn.npz --drawn-set drawn_10k.npz \
        --epochs 3 --lr 0.0003 --lr-decay 0.6

--drawn S gives a share S of each batch augment.augment_drawn's canvas-like changes first (thick pens, slants
up to 35 degrees, a slashed 0, a crossed 7, a 1 with a base, a skipped bit of stroke).
Prints after every epoch the test accuracy and the accuracy on 200 drawings of the wild tier (seed 7: neither
the benchmark's seed 0 nor a training seed); needs the full MNIST (not the built-in sample).
"""
import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from engine import metrics  # noqa: E402
from engine.augment import augment_drawn  # noqa: E402
from engine.convnet import cnn_spec  # noqa: E402
from engine.data import load_mnist  # noqa: E402
from engine.drawn import make_drawn_set, to_rgba  # noqa: E402
from engine.modelfile import load_model, save_model  # noqa: E402
from engine.preprocess import preprocess_canvas  # noqa: E402
from engine.trainer import Settings, Trainer  # noqa: E402

MODELS = ROOT / "engine" / "models"


def settings(mlp, args):
    if mlp:
        return Settings(sizes=(784, 256, 10), activation="relu", loss="cross-entropy", optimizer="momentum",
                        lr=args.lr or 0.05, lr_decay=args.lr_decay or 0.95, momentum=0.9, batch_size=128,
                        epochs=args.epochs or 20, seed=args.seed, val_fraction=0.0, augment=args.augment or 0.5)
    return Settings(layers=cnn_spec(filters=(16, 64), k=5), optimizer="adam", lr=args.lr or 0.002,
                    lr_decay=args.lr_decay or 0.7, batch_size=64, epochs=args.epochs or 10, seed=args.seed,
                    val_fraction=0.0, augment=args.augment or 0.3)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mlp", action="store_true", help="the built-in MLP instead of the CNN")
    ap.add_argument("--epochs", type=int, default=0, help="default: 10 (CNN), 20 (MLP)")
    ap.add_argument("--augment", type=float, default=0, help="augment's strength; default: 0.3 (CNN), 0.5 (MLP)")
    ap.add_argument("--drawn", type=float, default=0.0,
                    help="share of each batch changed as on a canvas first (augment_drawn); default 0")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--start", default=None, help="go on training this model file (same kind) instead of a new one")
    ap.add_argument("--lr", type=float, default=0, help="learning rate; default: 0.002 (CNN), 0.05 (MLP)")
    ap.add_argument("--lr-decay", type=float, default=0, help="per epoch; default: 0.7 (CNN), 0.95 (MLP)")
    ap.add_argument("--drawn-set", nargs="*", default=[],
                    help="also train on these drawings (scripts/drawn_training_set.py's .npz files)")
    ap.add_argument("--out", default=None, help="default: engine/models/pretrained_cnn.npz (or pretrained.npz)")
    ap.add_argument("--each-epoch", action="store_true", help="also save the model after every epoch (OUT_e1.npz...)")
    args = ap.parse_args()
    out = args.out or str(MODELS / ("pretrained.npz" if args.mlp else "pretrained_cnn.npz"))

    data = load_mnist()
    if data.is_sample:
        print("The built-in models are trained on the full MNIST: set MNIST_DIR (e.g. MNIST_DIR=../shared/mnist).")
        return 1
    print(f"dataset: {data.source} ({len(data.x_train)} train / {len(data.x_test)} test)")
    s = settings(args.mlp, args)
    x, y = data.x_train, data.y_train
    for f in args.drawn_set:
        with np.load(f) as drawn:                      # our own arrays: no pickles
            x, y = np.concatenate([x, drawn["x"]]), np.concatenate([y, drawn["y"]])
    s.check(len(x))
    # What the file will say: these settings, or with --start the first run's, these epochs added, and the
    # drawings, epochs and learning rate of this run (the Home page says both).
    record = {**s.as_dict(), "dataset": "full MNIST"}      # the test accuracy's test set
    if args.drawn:
        record["augment_drawn"] = args.drawn
    if args.start:
        net, old = load_model(args.start)
        print(f"going on from {args.start} ({old.get('epochs')} epochs, test accuracy {old.get('test_accuracy')})")
        record = {**old, "epochs": int(old.get("epochs", 0)) + s.epochs, "drawn_lr": s.lr,
                  "drawn_epochs": s.epochs + (int(old.get("drawn_epochs", 0)) if args.drawn_set else 0),
                  **({"augment_drawn": args.drawn} if args.drawn else {})}
    else:
        net = s.new_net()
    if len(y) > len(data.y_train):
        record["drawn_digits"] = len(y) - len(data.y_train)
    trainer = Trainer(net, x, y, s)
    if args.drawn:
        trainer.augmenter = lambda x, labels, rng, strength: augment_drawn(x, labels, rng, strength, args.drawn)
    xt, yt = data.test_float(), data.y_test
    ink, wild_y = make_drawn_set(20, seed=7, tier="wild")
    wild_x = np.stack([preprocess_canvas(to_rgba(grey)).x for grey in ink])
    print(f"{net.describe()}, {net.n_params():,} weights; {s.optimizer} lr {s.lr:g} x {s.lr_decay:g}/epoch, "
          f"batch {s.batch_size}, augment {s.augment:g}, drawn {args.drawn:g}, seed {s.seed}, {s.epochs} epochs",
          flush=True)
    start = time.perf_counter()
    while not trainer.finished:
        report = trainer.run(batches=trainer.batches_per_epoch)
        if report.diverged:
            print(report.message)
            print("the model was not saved")
            return 1
        for rec in report.epochs_finished:
            acc = metrics.accuracy(net.predict(xt), yt)
            wild = metrics.accuracy(net.predict(wild_x), wild_y)
            print(f"epoch {rec['epoch']:2d}  train loss {rec['train_loss']:.4f}  test accuracy {acc:.4f}  "
                  f"wild tier (seed 7) {wild:.3f}  ({trainer.train_seconds:.1f} s of training, "
                  f"{time.perf_counter() - start:.0f} s in all)", flush=True)
            if args.each_epoch:
                save_model(out.replace(".npz", f"_e{rec['epoch']}.npz"), net, {**record, "test_accuracy": acc})
    acc = metrics.accuracy(net.predict(xt), yt)
    print(f"test accuracy: {acc:.4f}")
    seconds = float(record.get("train_seconds", 0)) if args.start else 0.0
    save_model(out, net, {**record, "test_accuracy": acc, "train_seconds": round(seconds + trainer.train_seconds, 2)})
    print(f"saved {out} ({Path(out).stat().st_size / 1e3:.0f} kB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
