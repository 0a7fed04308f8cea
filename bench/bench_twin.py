"""How far apart are the NumPy engine and its PyTorch twin (bridge/twin.py)?

For every MLP setting (each activation x both losses x SGD / momentum / Adam, L2 0.001), a CNN with
strides, padding and overlapping pooling, and the two built-in models: one batch of 64 through both
(the largest |difference| of the logits, the loss and every gradient), then both train BATCHES
mini-batches of 64 from the same weights (largest loss and final weight difference, and each side's
time, one thread each). Prints one line per case and the largest of each column.

    OPENBLAS_NUM_THREADS=1 python bench/bench_twin.py [--batches 50]    (MNIST_DIR=...: the full set)
"""
import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bridge import twin  # noqa: E402
from engine.convnet import ConvNet, cnn_spec  # noqa: E402
from engine.data import load_mnist, to_float  # noqa: E402
from engine.layers import ACTIVATIONS  # noqa: E402
from engine.modelfile import load_model  # noqa: E402
from engine.network import LOSSES, Network  # noqa: E402
from engine.optim import OPTIMIZERS  # noqa: E402
from engine.trainer import Settings  # noqa: E402

LR = {"sgd": 0.1, "momentum": 0.05, "adam": 0.002}
ODD_CNN = [{"kind": "conv2d", "filters": 8, "k": 3, "p": 1, "s": 2}, {"kind": "activation", "name": "tanh"},
           {"kind": "maxpool2d", "size": 3, "stride": 2},
           {"kind": "conv2d", "filters": 16, "k": 3, "p": 0, "s": 1}, {"kind": "activation", "name": "leaky_relu"},
           {"kind": "flatten"}, {"kind": "dense", "units": 32}, {"kind": "activation", "name": "sigmoid"},
           {"kind": "dense", "units": 10}]


def cases():
    for activation in ACTIVATIONS:
        for loss in LOSSES:
            for opt in OPTIMIZERS:
                net = Network([784, 128, 64, 10], activation, loss, seed=0)
                yield (f"MLP 784-128-64-10 {activation}, {loss}, {opt}", net,
                       Settings(sizes=net.sizes, activation=activation, loss=loss, optimizer=opt, lr=LR[opt], l2=1e-3))
    for name, spec in (("CNN conv 16, 32", cnn_spec((16, 32))), ("CNN strides/padding/overlap", ODD_CNN)):
        for opt in OPTIMIZERS:
            net = ConvNet(spec, seed=0)
            yield f"{name}, {opt}", net, Settings(sizes=net.sizes, layers=spec, optimizer=opt, lr=LR[opt], l2=1e-3)
    for path in ("pretrained.npz", "pretrained_cnn.npz"):
        net, saved = load_model(str(ROOT / "engine" / "models" / path))
        yield f"built-in {path}", net, twin.settings_for(net, saved)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batches", type=int, default=50)
    args = ap.parse_args()
    data = load_mnist()
    print(f"data: {data.source}; one batch of 64, then {args.batches} mini-batches of 64 on both")
    x, labels = to_float(data.x_train[:64]), data.y_train[:64]
    print(f"{'case':<58} {'one batch':>9} {'train loss':>10} {'weights':>9} {'NumPy s':>8} {'torch s':>8}")
    worst = [0.0, 0.0, 0.0]
    for name, net, s in cases():
        s.batch_size = 64
        check = twin.compare(net, x, labels, s.l2)
        race = twin.train_both(net, data.x_train, data.y_train, s, args.batches)
        row = [check.largest, race.loss_diff, race.weight_diff]
        worst = [max(a, b) for a, b in zip(worst, row)]
        print(f"{name:<58} {row[0]:9.1e} {row[1]:10.1e} {row[2]:9.1e} {race.engine_seconds:8.2f} "
              f"{race.torch_seconds:8.2f}" + (" FLAGGED" if check.flagged() else ""))
    print(f"{'largest':<58} {worst[0]:9.1e} {worst[1]:10.1e} {worst[2]:9.1e}")


if __name__ == "__main__":
    main()
