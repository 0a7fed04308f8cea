"""The engine's network as a PyTorch model, number for number.

    torch_model(net)        an nn.Sequential with the engine network's layers and a copy of its weights
    compare(net, x, labels) one batch through both: the largest |difference| of the logits, the loss and
                            every layer's weight and bias gradients
    train_both(net, ...)    both train the same mini-batches from the same weights: two loss curves, two times

No layout conversion is needed, and that is no accident: the engine stores a dense layer's W as
(n_out, n_in) and a convolution's as (filters, channels, k, k), exactly as nn.Linear and nn.Conv2d
do, and its Flatten reads (n, c, h, w) in the same order as nn.Flatten. torch is imported inside
the functions, so this module loads without it (torch_available() says whether it is there).
"""
import importlib.util
import time
from dataclasses import dataclass, field, fields, replace

import numpy as np

from engine.convnet import ConvNet
from engine.data import to_float
from engine.layers import LEAK, Activation, Conv2D, Dense, Flatten, MaxPool2D
from engine.network import one_hot
from engine.linework import forward_flops, run_through
from engine.trainer import PART_FLOPS, Settings, Trainer

FLAG = 1e-4          # a difference above this is more than float32 rounding: something differs
MAX_BATCHES = 200    # train_both stays within the first epoch (one learning rate), and short on a shared server


def torch_available():
    """True when PyTorch can be imported (found without importing it: that takes a second)."""
    try:
        return importlib.util.find_spec("torch") is not None
    except (ImportError, ValueError):      # sys.modules["torch"] = None, as a test does
        return False


# ---------------------------------------------------------------- the model

def _activation(name):
    """The nn module of the engine activation `name` (engine/layers.py ACTIVATIONS)."""
    from torch import nn
    return {"sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "relu": nn.ReLU,
            "leaky_relu": lambda: nn.LeakyReLU(LEAK)}[name]()


def _layer(layer):
    """One engine layer of a ConvNet -> the nn module that computes the same."""
    from torch import nn
    if isinstance(layer, Dense):
        return nn.Linear(layer.W.shape[1], layer.W.shape[0])
    if isinstance(layer, Conv2D):
        f, c, k, _ = layer.W.shape
        return nn.Conv2d(c, f, k, stride=layer.s, padding=layer.p)
    if isinstance(layer, MaxPool2D):
        return nn.MaxPool2d(layer.size, layer.stride)
    if isinstance(layer, Flatten):
        return nn.Flatten()
    if isinstance(layer, Activation):
        return _activation(layer.name)
    raise ValueError(f"no PyTorch twin for the layer {layer!r}")


def torch_model(net):
    """The engine network (Network or ConvNet) as an nn.Sequential holding copies of its weights.

    It takes the same input, rows of 784 pixels, and returns the logits z (no softmax or sigmoid:
    the loss applies that, as F.cross_entropy does)."""
    from torch import nn
    if isinstance(net, ConvNet):
        modules = [nn.Unflatten(1, net.input_shape)] + [_layer(layer) for layer in net.layers]
    else:
        modules = []
        for l, W in enumerate(net.weights):
            modules.append(nn.Linear(W.shape[1], W.shape[0]))
            if l < net.n_layers - 1:
                modules.append(_activation(net.activation))
    model = nn.Sequential(*modules)
    copy_weights(net, model)
    return model


def weighted(model):
    """The modules with weights (nn.Linear, nn.Conv2d), bottom to top: the engine's weights' order."""
    return [m for m in model if getattr(m, "weight", None) is not None]


def copy_weights(net, model):
    """Put the engine's weights into the model, as they are: same shapes, nothing transposed."""
    import torch
    with torch.no_grad():
        for m, W, b in zip(weighted(model), net.weights, net.biases, strict=True):
            if tuple(m.weight.shape) != W.shape:
                raise ValueError(f"{m} needs weights {tuple(m.weight.shape)}, the engine has {W.shape}")
            m.weight.copy_(torch.from_numpy(np.array(W, dtype=np.float32)))
            m.bias.copy_(torch.from_numpy(np.array(b, dtype=np.float32)))


def torch_loss(z, labels, loss, model, l2=0.0):
    """The engine's loss (engine/network.py loss_value) from the logits z and integer labels.

    cross-entropy: F.cross_entropy takes logits and does log-softmax itself (exact, never log(0)).
    mse: the engine sums 1/2 (a - y)^2 over the 10 outputs and averages over the batch;
    F.mse_loss averages over all n*10 numbers, so the sum is asked for and divided by n.
    L2: l2/2 * the sum of every squared weight (not the biases), as the engine adds it."""
    import torch.nn.functional as F
    if loss == "cross-entropy":
        value = F.cross_entropy(z, labels)
    else:
        y = F.one_hot(labels, z.shape[1]).to(z.dtype)
        value = 0.5 * F.mse_loss(z.sigmoid(), y, reduction="sum") / len(z)
    return value + l2_penalty(model, l2) if l2 else value


def l2_penalty(model, l2):
    """l2/2 * the sum of every squared weight (not the biases), as the engine adds it to the loss."""
    return 0.5 * l2 * sum((m.weight ** 2).sum() for m in weighted(model))


def torch_optimizer(settings, model):
    """The engine optimiser of `settings` (engine/optim.py) as a torch.optim one.

    Momentum: the engine keeps v = m v - lr g and adds v; torch keeps b = m b + g and subtracts lr b.
    With one learning rate that is the same step (v = -lr b)."""
    import torch
    if settings.optimizer == "sgd":
        return torch.optim.SGD(model.parameters(), lr=settings.lr)
    if settings.optimizer == "momentum":
        return torch.optim.SGD(model.parameters(), lr=settings.lr, momentum=settings.momentum)
    if settings.optimizer == "adam":
        return torch.optim.Adam(model.parameters(), lr=settings.lr, betas=(0.9, 0.999), eps=1e-8)
    raise ValueError(f"no PyTorch twin for the optimiser {settings.optimizer!r}")


def layer_names(net):
    """A name for each weighted layer: 'layer 1 (dense 256)', 'layer 1 (conv 16@5x5)'..."""
    kinds = ([repr(layer) for layer in net.weighted] if isinstance(net, ConvNet)
             else [f"dense {W.shape[0]}" for W in net.weights])
    return [f"layer {i + 1} ({kind})" for i, kind in enumerate(kinds)]


# ---------------------------------------------------------------- one batch through both

@dataclass
class Comparison:
    """One batch through both: rows of (what, largest |engine - torch|, largest |engine value|)."""
    rows: list = field(default_factory=list)

    @property
    def largest(self):
        return max(diff for _, diff, _ in self.rows)

    def flagged(self, limit=FLAG):
        """The rows whose difference is above `limit`: more than float32 rounding."""
        return [row for row in self.rows if row[1] > limit]

    def table(self):
        """The rows as text, one a line (for the notebook)."""
        return "\n".join(f"{what:<40} max |diff| {diff:.2e}   (values up to {scale:.3g})"
                         for what, diff, scale in self.rows)


def _row(what, ours, theirs):
    theirs = theirs.detach().numpy() if hasattr(theirs, "detach") else np.asarray(theirs)
    ours = np.asarray(ours, dtype=np.float64)
    return what, float(np.max(np.abs(ours - theirs))), float(np.max(np.abs(ours)))


def compare(net, x, labels, l2=0.0):
    """One batch x (n, 784) float32 in [0, 1], labels (n,) ints, through the engine network and
    its torch twin: a Comparison of the logits, the loss and every weight and bias gradient.
    Works on copies: `net` (maybe a shared built-in model) is not touched. (All at once: compare_steps.)"""
    return run_through(compare_steps(net, x, labels, l2))


def compare_steps(net, x, labels, l2=0.0):
    """compare() as steps (engine/linework.py), in parts of at most trainer.PART_FLOPS on both sides, as
    a Trainer's parts. A part's gradients count by its share of
    the batch: the engine adds them up, PyTorch's backward adds them into .grad (that is what it is for);
    the L2 penalty is added once."""
    def steps(stop=None):
        import torch
        mine = net.copy()
        xs, ys = np.asarray(x, dtype=np.float32), np.asarray(labels, dtype=np.int64)
        # a part: the logits (a forward pass), then forward and backward, as a Trainer's part is sized
        size = max(1, int(PART_FLOPS // (mine.flops_per_example() + forward_flops(mine))))
        model, n = torch_model(mine), len(xs)
        logits, t_logits, loss, t_loss, grads = [], [], 0.0, 0.0, None
        for start in range(0, n, size):
            xp, lp = xs[start:start + size], ys[start:start + size]
            share = len(xp) / n
            zs, _ = mine.forward(xp, keep=True)                 # the engine: forward, loss, backward
            part_loss, grad_w, grad_b, _ = mine.gradients(xp, one_hot(lp, mine.sizes[-1]), l2)
            part_grads = [share * g for g in (*grad_w, *grad_b)]
            grads = part_grads if grads is None else [a + b for a, b in zip(grads, part_grads)]
            logits.append(zs[-1])
            loss += share * part_loss
            yield (start + len(xp) / 2) / n
            z = model(torch.from_numpy(xp))                     # PyTorch: the same three steps
            part = torch_loss(z, torch.from_numpy(lp), mine.loss, model) * share
            part.backward()
            t_logits.append(z.detach())
            t_loss += part.item()
            yield (start + len(xp)) / n
        if l2:
            penalty = l2_penalty(model, l2)
            penalty.backward()
            t_loss += penalty.item()
        k = len(mine.weights)
        rows = [_row("logits", np.concatenate(logits), torch.cat(t_logits)), _row("loss", loss, t_loss)]
        for name, m, gw, gb in zip(layer_names(mine), weighted(model), grads[:k], grads[k:]):
            rows += [_row(f"{name}: weight gradient", gw, m.weight.grad),
                     _row(f"{name}: bias gradient", gb, m.bias.grad)]
        return Comparison(rows)
    return steps


# ---------------------------------------------------------------- training both

@dataclass
class Race:
    """Both trained on the same mini-batches: the loss of each batch, and each side's training time."""
    engine_losses: list
    torch_losses: list
    engine_seconds: float
    torch_seconds: float
    weight_diff: float      # largest |engine weight - torch weight| at the end
    note: str = ""

    @property
    def loss_diff(self):
        return float(np.max(np.abs(np.subtract(self.engine_losses, self.torch_losses))))


def settings_for(net, saved=None):
    """Training settings for `net`: its saved settings (a model file's, a run's) where they are
    usable, else the engine's defaults; sizes and layers are the network's own."""
    known = {f.name for f in fields(Settings)}
    s = Settings(**{k: v for k, v in (saved or {}).items() if k in known})
    s.sizes = tuple(net.sizes)
    s.layers = net.spec() if isinstance(net, ConvNet) else None
    try:
        s.check()
    except ValueError:
        s = Settings(sizes=tuple(net.sizes), layers=s.layers, loss=net.loss)
    return s


def train_both(net, x, labels, settings, batches=50):
    """Train a copy of `net` with the engine's Trainer and its torch twin on the same `batches`
    mini-batches of (x uint8 rows, labels), from the same weights, one thread each (as the app
    trains). Without augmentation (it draws random numbers) and within the first epoch (one
    learning rate). Returns a Race. (All at once: train_both_steps.)"""
    return run_through(train_both_steps(net, x, labels, settings, batches))


def train_both_steps(net, x, labels, settings, batches=50):
    """train_both() as steps (engine/linework.py). Each mini-batch goes through both in the Trainer's
    parts (trainer.parts_of), one step per part: the engine's (Trainer.batch_steps), then PyTorch's, the
    same parts, their gradients added up in .grad (each part's loss times its share of the batch, the L2
    penalty once), then one optimizer.step(). So a step is never more than a part, whatever the batch size:
    between two steps the line may let another work have its turn, and the batch carries on after it."""
    def steps(stop=None):
        import torch
        s = replace(settings, augment=0.0, val_fraction=min(settings.val_fraction, 0.5))
        engine = Trainer(net.copy(), x, labels, s)
        n_batches = int(min(batches, engine.batches_per_epoch, MAX_BATCHES))
        model = torch_model(engine.net)          # before any step: the same initial weights
        optimizer = torch_optimizer(s, model)
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        engine_losses, torch_losses, engine_seconds, torch_seconds = [], [], 0.0, 0.0
        try:
            for b in range(n_batches):
                # The engine's batch a part at a time, each part a step of its own: between two parts the
                # line may give the place to another work and give it back, the batch carries on.
                before = engine.pos if engine.order is not None else 0
                batch, loss = engine.batch_steps(), None
                while True:
                    begin = time.perf_counter()
                    try:
                        done = next(batch)
                    except StopIteration as end:
                        loss = end.value
                        break
                    finally:
                        engine_seconds += time.perf_counter() - begin
                    yield (b + done / 2) / n_batches
                if loss is None:                  # diverged
                    break
                engine_losses.append(loss)
                idx = engine.order[before:engine.pos]      # the batch the engine just learned from
                optimizer.zero_grad()
                total = 0.0
                for start in range(0, len(idx), engine.part):
                    yield (b + 0.5 + start / len(idx) / 2) / n_batches
                    begin = time.perf_counter()
                    part = idx[start:start + engine.part]
                    xb = torch.from_numpy(to_float(x[part]))
                    yb = torch.from_numpy(np.asarray(labels[part], dtype=np.int64))
                    loss = torch_loss(model(xb), yb, engine.net.loss, model) * (len(part) / len(idx))
                    loss.backward()
                    total += loss.item()
                    torch_seconds += time.perf_counter() - begin
                begin = time.perf_counter()
                if s.l2:
                    penalty = l2_penalty(model, s.l2)
                    penalty.backward()
                    total += penalty.item()
                optimizer.step()
                torch_seconds += time.perf_counter() - begin
                torch_losses.append(total)
                yield (b + 1) / n_batches
        finally:
            torch.set_num_threads(threads)
        weight_diff = max(float(np.max(np.abs(W - m.weight.detach().numpy())))
                          for W, m in zip(engine.net.weights, weighted(model)))
        note = engine.message if engine.diverged else ""
        return Race(engine_losses, torch_losses[:len(engine_losses)], engine_seconds, torch_seconds, weight_diff,
                    note)
    return steps
