"""Rebuild the built-in pretrained CNN (engine/models/pretrained_cnn.npz) with the project's own Trainer.

    MNIST_DIR=../shared/mnist OPENBLAS_NUM_THREADS=1 python scripts/train_pretrained_cnn.py [--epochs 10]

The setting is bench/bench_cnn.py's best (issue 13): conv 16@5x5 -> relu -> maxpool 2 -> conv 64@5x5 -> relu
-> maxpool 2 -> dense 10, Adam lr 0.002 x 0.7 per epoch, batch 64, on all 60,000 training images, seeded.
Light augmentation (shifts, small turns, thicker/thinner strokes) helps it read mouse drawings.
Prints the test accuracy after every epoch and at the end; needs the full MNIST (not the built-in sample).
"""
import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from engine import metrics  # noqa: E402
from engine.convnet import cnn_spec  # noqa: E402
from engine.data import load_mnist  # noqa: E402
from engine.modelfile import save_model  # noqa: E402
from engine.trainer import Settings, Trainer  # noqa: E402

OUT = ROOT / "engine" / "models" / "pretrained_cnn.npz"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--augment", type=float, default=0.3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=str(OUT))
    args = ap.parse_args()

    data = load_mnist()
    if data.is_sample:
        print("The built-in CNN is trained on the full MNIST: set MNIST_DIR (e.g. MNIST_DIR=../shared/mnist).")
        return 1
    print(f"dataset: {data.source} ({len(data.x_train)} train / {len(data.x_test)} test)")
    s = Settings(layers=cnn_spec(filters=(16, 64), k=5), optimizer="adam", lr=0.002, lr_decay=0.7,
                 batch_size=64, epochs=args.epochs, seed=args.seed, val_fraction=0.0, augment=args.augment)
    s.check(len(data.x_train))
    net = s.new_net()
    trainer = Trainer(net, data.x_train, data.y_train, s)
    xt, yt = data.test_float(), data.y_test
    print(f"{net.describe()}, {net.n_params():,} weights; Adam lr {s.lr:g} x {s.lr_decay:g}/epoch, "
          f"batch {s.batch_size}, augment {s.augment:g}, seed {s.seed}, {s.epochs} epochs", flush=True)
    start = time.perf_counter()
    while not trainer.finished:
        report = trainer.run(batches=trainer.batches_per_epoch)
        if report.diverged:
            print(report.message)
            print("the model was not saved")
            return 1
        for rec in report.epochs_finished:
            acc = metrics.accuracy(net.predict(xt), yt)
            print(f"epoch {rec['epoch']:2d}  train loss {rec['train_loss']:.4f}  test accuracy {acc:.4f}  "
                  f"({trainer.train_seconds:.1f} s of training, {time.perf_counter() - start:.0f} s in all)",
                  flush=True)
    acc = metrics.accuracy(net.predict(xt), yt)
    print(f"test accuracy: {acc:.4f}")
    save_model(args.out, net, {**s.as_dict(), "test_accuracy": acc, "dataset": "full MNIST",
                               "train_seconds": round(trainer.train_seconds, 2)})
    print(f"saved {args.out} ({Path(args.out).stat().st_size / 1e3:.0f} kB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
