"""Command line: python -m engine train | evaluate | predict | download, and for language models
train --lm | evaluate LM.npz | sample LM.npz (engine/language/cli.py).

Every error (bad flag, bad file, missing data) is one line on stderr and exit
code 2 - never a traceback.

Its sentences are in the language of LANGUAGE / LC_ALL / LANG (i18n.from_environment: LANG=it_IT.UTF-8 gives
Italian); the numbers stay as Python writes them (0.9635), for the scripts that read them.
"""
import argparse
import sys

import numpy as np

import i18n
from i18n import _

from . import metrics
from .data import DataError, download_mnist, load_mnist
from .convnet import cnn_spec
from .modelfile import ModelFileError, load_model, save_model
from .network import ACTIVATIONS, LOSSES
from .optim import OPTIMIZERS
from .trainer import Settings, new_run
from .language import cli as language_cli


class UsageError(Exception):
    """A problem with what the user typed or pointed at."""


class Parser(argparse.ArgumentParser):
    def error(self, message):
        # argparse would print the whole usage text; one clear line is kinder.
        raise UsageError(_("{program}: {message} (see --help)").format(program=self.prog, message=message))


def layer_sizes(text):
    try:
        sizes = [int(s) for s in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(_("expected comma-separated integers like 784,128,10, got {text}").format(
            text=repr(text)))
    if len(sizes) < 2 or min(sizes) < 1:
        raise argparse.ArgumentTypeError(_("need at least 2 layers of 1 or more units, got {text}").format(
            text=repr(text)))
    return sizes


def whole_numbers(text):
    try:
        numbers = [int(s) for s in text.split(",") if s.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(_("expected comma-separated integers like 16,64, got {text}").format(
            text=repr(text)))
    if min(numbers, default=1) < 1:
        raise argparse.ArgumentTypeError(_("every number must be at least 1, got {text}").format(text=repr(text)))
    return numbers


def build_parser():
    d = Settings()
    p = Parser(prog="python -m engine", description="Digits from Scratch: NumPy MLPs and CNNs for MNIST.")
    sub = p.add_subparsers(dest="command", required=True, parser_class=Parser)

    t = sub.add_parser("train", help="train a model and save it",
                       description=f"Train a model and save it. The defaults are the Train page's (engine/trainer.py "
                                   f"Settings): {'-'.join(map(str, d.sizes))}, {d.optimizer} {d.momentum:g}, "
                                   f"lr {d.lr:g} x {d.lr_decay:g} per epoch, batch {d.batch_size}, {d.epochs} epochs, "
                                   f"{d.val_fraction:.0%} held out for validation (docs/benchmarks.md: what they reach). "
                                   f"Add --cnn for a convolutional network (see its options below).",
                       formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    t.add_argument("--layers", type=layer_sizes, default=",".join(map(str, d.sizes)),
                   help="layer sizes, e.g. 784,128,10")
    t.add_argument("--activation", choices=ACTIVATIONS, default=d.activation, help="hidden-layer activation")
    t.add_argument("--loss", choices=LOSSES, default=d.loss,
                   help="mse = sigmoid outputs + mean squared error; cross-entropy = softmax outputs")
    t.add_argument("--optimizer", choices=OPTIMIZERS, default=d.optimizer)
    t.add_argument("--lr", type=float, default=d.lr, help="learning rate")
    t.add_argument("--lr-decay", type=float, default=d.lr_decay,
                   help="multiply the learning rate by this after every epoch (1 = constant)")
    t.add_argument("--momentum", type=float, default=d.momentum, help="momentum (optimizer momentum)")
    t.add_argument("--l2", type=float, default=d.l2, help="L2 weight decay")
    t.add_argument("--batch-size", type=int, default=d.batch_size)
    t.add_argument("--epochs", type=int, default=d.epochs)
    t.add_argument("--seed", type=int, default=d.seed)
    t.add_argument("--val-fraction", type=float, default=d.val_fraction,
                   help="fraction of the training set held out for validation")
    t.add_argument("--no-shuffle", action="store_true", help="keep the same batch order every epoch")
    t.add_argument("--init-scale", type=float, default=d.init_scale, help="multiplies the initial weights")
    t.add_argument("--augment", type=float, default=d.augment,
                   help="random shifts/rotations/thickness of training images, 0 (off) to 1")
    t.add_argument("--out", default="model.npz", help="where to save the model")
    t.add_argument("--lm", action="store_true",
                   help="train a language model on text instead (its own options: python -m engine train --lm --help)")
    c = t.add_argument_group(
        "convolutional network (--cnn)",
        "With --cnn the model is a CNN instead of the MLP of --layers: for each number in --filters, a "
        "convolution with that many filters of --kernel x --kernel (padding --padding), the --activation, "
        "and a --pool x --pool max-pooling; then dense layers of --hidden units and 10 outputs. Example: "
        "--cnn --filters 16,64 --kernel 5 --pool 2 --optimizer adam --lr 0.003 --batch-size 64")
    c.add_argument("--cnn", action="store_true", help="train a convolutional network")
    c.add_argument("--filters", type=whole_numbers, default="8,16", help="filters of each convolution")
    c.add_argument("--kernel", type=int, default=5, help="kernel size k (k x k pixels)")
    c.add_argument("--padding", type=int, default=0, help="zeros added around each image, 0 to kernel-1")
    c.add_argument("--pool", type=int, default=2, help="max-pooling window after each convolution (1 = none)")
    c.add_argument("--hidden", type=whole_numbers, default="", help="dense hidden layers after the convolutions")
    add_data_args(t)

    e = sub.add_parser("evaluate", help="test accuracy, per-class table and confusion matrix; "
                                         "for a language model: loss in nats per character and perplexity")
    e.add_argument("model")
    e.add_argument("--text", default=None, help="language models: shakespeare, names or a UTF-8 file "
                                                "(default: the held-out part of the text it was trained on)")
    add_data_args(e)

    r = sub.add_parser("predict", help="read the digit in an image file")
    r.add_argument("model")
    r.add_argument("image", help="PNG/JPEG of one digit, any size (white on black or black on white)")

    language_cli.add_sample_parser(sub)

    g = sub.add_parser("download", help="download the full MNIST into the cache (or --dir)")
    g.add_argument("--dir", default=None, help="folder to download into (default: the user cache folder)")
    return p


def add_data_args(p):
    p.add_argument("--data-dir", default=None,
                   help="folder with the MNIST files (default: $MNIST_DIR, then the cache, then the built-in sample)")
    p.add_argument("--download", action="store_true", help="download the full MNIST if no copy is found")


def progress_bar(done, total, text="", width=30):
    """One line that redraws itself: [#####-----]  45%  text. Only on a terminal."""
    if not sys.stderr.isatty():
        return
    frac = done / total if total else 0
    bar = "#" * int(frac * width) + "-" * (width - int(frac * width))
    sys.stderr.write(f"\r[{bar}] {frac:4.0%}  {text}   ")
    sys.stderr.flush()


def load_data(args):
    data = load_mnist(data_dir=args.data_dir, download=args.download,
                      progress=download_progress if args.download else None)
    print(_("dataset: {source}").format(source=data.source))
    if data.note:
        print(_("note: {note}").format(note=data.note))
    return data


def download_progress(name, done, total):
    progress_bar(done, total or done or 1, _("{name}  {done} of {total} MB").format(
        name=name, done=f"{done / 1e6:.1f}", total=f"{(total or 0) / 1e6:.1f}"))
    if total and done >= total:
        # On a terminal, end the bar's line; elsewhere (a log) one line per file.
        sys.stderr.write("\n" if sys.stderr.isatty() else _("downloaded {name} ({size} MB)").format(
            name=name, size=f"{done / 1e6:.1f}") + "\n")


# ------------------------------------------------------------------ commands

def cmd_train(args):
    s = Settings(sizes=tuple(args.layers), activation=args.activation, loss=args.loss,
                 optimizer=args.optimizer, lr=args.lr, lr_decay=args.lr_decay, momentum=args.momentum, l2=args.l2,
                 batch_size=args.batch_size, epochs=args.epochs, seed=args.seed,
                 val_fraction=args.val_fraction, shuffle=not args.no_shuffle,
                 init_scale=args.init_scale, augment=args.augment)
    if args.cnn:
        s.layers = cnn_spec(filters=args.filters, k=args.kernel, p=args.padding, pool=args.pool,
                            hidden=args.hidden, activation=args.activation)
    elif s.sizes[0] != 784 or s.sizes[-1] != 10:
        raise UsageError(_("--layers must start with 784 (pixels) and end with 10 (digits), got {layers}").format(
            layers=args.layers))
    s.check()
    data = load_data(args)
    s.check(len(data.x_train))
    trainer = new_run(data.x_train, data.y_train, s)
    print(_("training {model} with {optimizer}, lr {lr}, batch {batch}, {epochs} epochs on {n} images ({held} held "
            "out for validation)").format(model=trainer.net.describe(), optimizer=s.optimizer, lr=f"{s.lr:g}",
                                          batch=s.batch_size, epochs=s.epochs, n=trainer.n_train,
                                          held=len(trainer.val_idx)))
    while not (trainer.finished or trainer.diverged):
        report = trainer.run(seconds=0.2)
        h = trainer.history
        progress_bar(trainer.done_fraction, 1,
                     _("epoch {epoch}/{epochs}  loss {loss}").format(epoch=min(trainer.epoch + 1, s.epochs),
                                                                      epochs=s.epochs, loss=f"{h.batch_loss[-1]:.4f}")
                     if h.batch_loss else "")
        for rec in report.epochs_finished:
            val = ("  " + _("val loss {loss}  val acc {acc}").format(loss=f"{rec['val_loss']:.4f}",
                                                                      acc=f"{rec['val_acc']:.4f}")
                   if "val_acc" in rec else "")
            if sys.stderr.isatty():
                sys.stderr.write("\r" + " " * 79 + "\r")
            print(_("epoch {epoch}  train loss {loss}  train acc {acc}").format(
                epoch=f"{rec['epoch']:3d}", loss=f"{rec['train_loss']:.4f}", acc=f"{rec['train_acc']:.4f}")
                  + f"{val}  ({rec['seconds']:.1f} s)", flush=True)
    if sys.stderr.isatty():
        sys.stderr.write("\n")
    if trainer.diverged:
        print(trainer.message)
        print(_("the model was not saved"))
        return 1
    acc = metrics.accuracy(trainer.net.predict(data.test_float()), data.y_test)
    print(_("test accuracy: {acc}").format(acc=f"{acc:.4f}"))
    save_model(args.out, trainer.net, {**s.as_dict(), "test_accuracy": acc,
                                       # (the kind of data, not the folder: the file may be shared)
                                       "dataset": data.source if data.is_sample else "full MNIST",
                                       "train_seconds": round(trainer.train_seconds, 2)})
    print(_("saved {file}").format(file=args.out))
    return 0


def cmd_evaluate(args):
    if language_cli.is_language_model(args.model):
        return language_cli.cmd_evaluate_lm(args, UsageError)
    net = load_model(args.model)[0]
    data = load_data(args)
    predicted = net.predict(data.test_float())
    print(_("model: {model}").format(model=net.describe()))
    print(_("test accuracy: {acc}").format(acc=f"{metrics.accuracy(predicted, data.y_test):.4f}"))
    print()
    print(metrics.format_report(metrics.confusion_matrix(data.y_test, predicted, net.sizes[-1])))
    return 0


def read_image(path):
    """An image file -> greyscale float array (H, W). Pillow reads the file format."""
    try:
        from PIL import Image, UnidentifiedImageError
    except ImportError:
        raise UsageError(_("reading images needs Pillow (pip install pillow)")) from None
    try:
        with Image.open(path) as im:
            return np.asarray(im.convert("RGBA"))
    except FileNotFoundError:
        raise UsageError(_("{path} does not exist").format(path=path)) from None
    except (UnidentifiedImageError, OSError) as err:
        raise UsageError(_("{path} is not an image Pillow can read: {error}").format(path=path, error=err)) from None


def cmd_predict(args):
    from .preprocess import preprocess_canvas
    net = load_model(args.model)[0]
    prep = preprocess_canvas(read_image(args.image))
    if prep.empty:
        raise UsageError(f"{args.image}: {prep.message}")
    probs = net.predict_proba(prep.x[None, :])[0]
    print(_("digit: {digit}").format(digit=int(probs.argmax())))
    for digit, p in enumerate(probs):
        print(f"  {digit}: {p:.4f}  {'#' * int(round(p * 40))}")
    return 0


def cmd_download(args):
    folder = download_mnist(args.dir, progress=download_progress)
    print(_("full MNIST is in {folder}").format(folder=folder))
    return 0


def main(argv=None):
    i18n.use(i18n.from_environment())          # the terminal's language
    try:
        argv = sys.argv[1:] if argv is None else list(argv)
        if argv[:1] == ["train"] and "--lm" in argv:
            return language_cli.cmd_train_lm(language_cli.train_parser(Parser).parse_args(argv), UsageError)
        args = build_parser().parse_args(argv)
        command = {"train": cmd_train, "evaluate": cmd_evaluate, "predict": cmd_predict, "download": cmd_download,
                   "sample": lambda a: language_cli.cmd_sample(a, UsageError)}[args.command]
        return command(args)
    except (UsageError, ModelFileError, DataError, ValueError) as err:
        print(_("error: {message}").format(message=err), file=sys.stderr)
        return 2
    except BrokenPipeError:      # output piped into `head`, which stopped reading
        return 0
    except KeyboardInterrupt:
        print("\n" + _("interrupted"), file=sys.stderr)
        return 130
