"""The training loop, in small resumable steps.

    for each epoch:
        shuffle the training examples
        for each mini-batch:
            forward -> loss -> backward (gradients) -> optimiser step (update)

`Trainer.run(batches=n)` does n mini-batches and returns a `StepReport`, so a
user interface can train a little, redraw its charts, and continue. Stopping
between two calls never leaves the model half-updated.
"""
import contextvars
import time
from dataclasses import dataclass, field

import numpy as np

from i18n import N_, _, num

from . import fast
from .augment import augment
from .data import to_float
from .modelfile import MAX_PARAMS
from .convnet import ConvNet
from .network import Network, one_hot
from .optim import make_optimizer

MAX_WEIGHT = 1e4        # a weight this large means training has blown up
MAX_BATCH_POINTS = 2000  # per-batch loss history is halved when it grows past this
# A big mini-batch is worked through in parts of at most this much arithmetic
# (about 0.1 s on one core), so a request to stop is seen between two parts.
PART_FLOPS = 4e9
CUT_SHORT = object()    # carry_on: work stopped between two of its parts, carried on from there next time


def part_size(sizes, flops=PART_FLOPS):
    """How many examples one part of an MLP with layer `sizes` may hold: forward +
    backward cost about 6 floating-point operations per weight and example
    (Network.flops_per_example; any network: parts_of)."""
    n_weights = sum(n_in * n_out for n_in, n_out in zip(sizes[:-1], sizes[1:]))
    return max(1, int(flops // (6 * n_weights)))


def parts_of(net, flops=PART_FLOPS):
    """How many examples one part may hold, from the network's own cost per example
    (a convolution does far more arithmetic per weight than a dense layer)."""
    return max(1, int(flops // net.flops_per_example()))


def add_part(grads, part_grads, share):
    """The gradient of a batch worked through in parts: the sum of each part's gradient times its
    share of the batch (len(part) / len(batch)). grads: the sum so far (None before the first part)."""
    if share == 1:
        return part_grads                             # the usual case: one part
    if grads is None:
        return [np.multiply(g, share, dtype=g.dtype) for g in part_grads]
    for total, g in zip(grads, part_grads):
        total += share * g
    return grads


def carry_on(steps, cut, report):
    """Drive the generator `steps` (one part of work per next()) until it returns: its value. Or, when cut()
    says True between two of its parts, CUT_SHORT: the generator stays where it is, and the caller carries it
    on later with its next part (Trainer.run's mini-batches, the language models' steps and checks).
    Counts the parts in report.parts."""
    while True:
        try:
            next(steps)
        except StopIteration as end:
            return end.value
        report.parts += 1
        if cut():
            return CUT_SHORT


def until(steps, stop=None):
    """Drive the generator `steps` to its end and return its value, asking stop() between two of
    its steps: None (and the steps closed, so nothing of them is kept) once stop() says True."""
    try:
        while True:
            next(steps)
            if stop is not None and stop():
                return None
    except StopIteration as end:
        return end.value
    finally:
        steps.close()


def largest(a):
    """max |a| (nan if a holds a nan), from two passes that only read a: no |a| array is made."""
    hi, lo = float(a.max()), float(a.min())
    return hi if hi != hi else max(hi, -lo)


def guarded_step(optimizer, net, grads, known=None):
    """The optimiser's step on net's weights, made only if no weight of net.weights would pass
    MAX_WEIGHT: otherwise FloatingPointError, and the weights are as they were (training diverged;
    the optimiser's memory is not, the caller resets it).
    The check is made on the change d before it is applied, since |w + d| <= |w| + |d|; only a step
    that could come near the limit is tried out on copies first.
    known: what the last call returned for this net (None at first, or after the weights were changed
    by anything else). Returns a bound of every |w| after the step, for the next call: fast.py trick 9
    (the weights themselves are read only when that bound comes near the limit)."""
    params = net.params()
    changes = optimizer.changes(params, grads)
    checked = {id(W) for W in net.weights}
    steps = [d for p, d in zip(params, changes) if id(p) in checked]
    bound = fast.carried_bound(known, net.weights, steps, MAX_WEIGHT)
    if bound is None:                                  # not known, or near the limit: look at every weight
        bound = max(largest(p) + largest(d) for p, d in zip(params, changes) if id(p) in checked)
    if not bound <= MAX_WEIGHT:                        # (also when bound is nan)
        trial = [p.copy() for p in params]
        optimizer.apply(trial, changes)
        biggest = max(largest(t) for p, t in zip(params, trial) if id(p) in checked)
        if not biggest <= MAX_WEIGHT:
            raise FloatingPointError(N_("a weight reached {value}"), {"value": f"{biggest:.3g}"})
        bound = biggest
    optimizer.apply(params, changes)
    return fast.WeightBound(list(net.weights), bound)


def diverged_because(err):
    """The reason of a FloatingPointError of training, in the current language: raised as (message, its
    values) by the step (guarded_step, the loss check), it is translated where it is read."""
    if len(err.args) == 2 and isinstance(err.args[1], dict):
        return _(err.args[0]).format(**err.args[1])
    return str(err)


@dataclass
class Settings:
    """Every knob of a training run."""
    sizes: tuple = (784, 256, 10)
    activation: str = "relu"
    loss: str = "cross-entropy"
    optimizer: str = "momentum"
    lr: float = 0.1
    lr_decay: float = 0.85    # the learning rate is multiplied by this after every epoch
    momentum: float = 0.9
    l2: float = 0.0
    batch_size: int = 64
    epochs: int = 10
    seed: int = 0
    val_fraction: float = 0.1
    shuffle: bool = True
    init_scale: float = 1.0
    augment: float = 0.0      # 0 = train on the images as they are; up to 1 = shifted, turned, thicker...
    # A layer stack (convnet.py's spec: a list of dicts, as convnet.cnn_spec makes) for a CNN;
    # None = the MLP of `sizes` and `activation`.
    layers: list | None = None

    def check(self, n_examples=None):
        """Raise ValueError with a clear message for a setting out of range (in the current language:
        the Train page shows it, e.g. for a lesson link asking for a batch bigger than the training set)."""
        def bad(message, **values):
            raise ValueError(_(message).format(**values))
        if len(self.sizes) < 2 or min(self.sizes) < 1:
            bad(N_("every layer needs at least 1 unit (got sizes {sizes})"), sizes="-".join(map(str, self.sizes)))
        if not (0 < self.lr <= 100):
            bad(N_("learning rate must be above 0 and at most 100 (got {value})"), value=num(self.lr))
        if not (0 < self.lr_decay <= 1):
            bad(N_("learning-rate decay must be above 0 and at most 1 (got {value})"), value=num(self.lr_decay))
        if not (0 <= self.momentum < 1):
            bad(N_("momentum must be at least 0 and below 1 (got {value})"), value=num(self.momentum))
        if not (0 <= self.l2 <= 10):
            bad(N_("L2 must be between 0 and 10 (got {value})"), value=num(self.l2))
        if self.epochs < 1:
            bad(N_("epochs must be at least 1 (got {value})"), value=num(self.epochs))
        if self.batch_size < 1:
            bad(N_("batch size must be at least 1 (got {value})"), value=num(self.batch_size))
        if not (0 <= self.val_fraction < 0.9):
            bad(N_("validation fraction must be at least 0 and below 0.9 (got {value})"), value=num(self.val_fraction))
        if not (0 <= self.augment <= 1):
            bad(N_("augmentation must be between 0 and 1 (got {value})"), value=num(self.augment))
        if self.init_scale <= 0:
            bad(N_("initial weight scale must be above 0 (got {value})"), value=num(self.init_scale))
        if self.layers is not None:
            if not isinstance(self.layers, (list, tuple)):
                bad(N_("layers must be a list of layer descriptions (got {kind})"), kind=type(self.layers).__name__)
            self.new_net()                # ConvNet's ValueError says what is wrong with the stack
        if n_examples is not None:
            n_train = n_examples - int(round(n_examples * self.val_fraction))
            if self.batch_size > n_train:
                bad(N_("batch size {batch} is bigger than the {n} training examples"),
                    batch=num(self.batch_size), n=num(n_train))

    def new_net(self):
        """A fresh network for these settings: the ConvNet of `layers` if set, else the MLP of `sizes`.
        ConvNet raises ValueError for an impossible stack, and for one with more than MAX_PARAMS
        weights before allocating them (a typing slip must not take a shared server's memory)."""
        if self.layers is not None:
            return ConvNet(self.layers, self.loss, self.seed, self.init_scale, max_params=MAX_PARAMS)
        return Network(self.sizes, self.activation, self.loss, self.seed, self.init_scale)

    def as_dict(self):
        d = dict(self.__dict__)
        d["sizes"] = list(self.sizes)
        if self.layers is None:
            del d["layers"]       # an MLP's settings stay as they were (model files, older releases)
        else:
            d["layers"] = [dict(layer) for layer in self.layers]
        return d


# The settings Trainer.set_hyperparams may change during a run, with their short names.
STEERABLE = {"lr": "lr", "momentum": "momentum", "l2": "L2", "batch_size": "batch", "epochs": "epochs"}


def steering(marks):
    """Every change of every setting during a run, from its history's marks:
    {setting: [(batch it applies from, old value, new value), ...]} in the order made.
    Marks without values (runs recorded before they were kept) give nothing."""
    out = {}
    for mark in marks or ():
        for key, (old, new) in (mark[2] if len(mark) > 2 else {}).items():
            out.setdefault(key, []).append((int(mark[0]), old, new))
    return out


def started_with(settings, marks):
    """The settings dict a run started with: its last settings (Settings.as_dict()) with every change in
    `marks` undone."""
    start = dict(settings)
    for key, changes in steering(marks).items():
        start[key] = changes[0][1]
    return start


@dataclass
class StepReport:
    """What one call of Trainer.run did."""
    batches: int = 0          # mini-batches done in this call
    examples: int = 0         # examples seen in this call
    parts: int = 0            # parts done in this call: of mini-batches (a big one has several) and of validation passes
    seconds: float = 0.0      # wall time of this call
    epochs_finished: list = field(default_factory=list)  # epoch records completed in this call
    finished: bool = False    # all epochs done
    diverged: bool = False    # stopped because the loss blew up
    message: str = ""         # human-readable note (e.g. the divergence message)


class History:
    """Per-batch loss (bounded) and per-epoch metrics of one run."""

    def __init__(self, max_batch_points=MAX_BATCH_POINTS):
        self.max_batch_points = max_batch_points
        self.batch_step = []   # global batch number of each stored point
        self.batch_loss = []   # loss at that point (an average once downsampled)
        self.epochs = []       # dicts: epoch, train_loss, train_acc, val_loss, val_acc, seconds
        # (batch step, what changed in words, {setting: (old, new)}) for every change made during the run
        # (Trainer.set_hyperparams): the loss chart's marks and, read by steering(), every record of the run
        self.marks = []
        self._stride = 1       # how many batches each stored point averages
        self._pending = []     # batches waiting to fill the current stride

    def add_batch(self, step, loss):
        self._pending.append(loss)
        if len(self._pending) < self._stride:
            return
        self.batch_step.append(step)
        # (one loss is its own mean: np.mean's call costs more than a small batch's whole update)
        self.batch_loss.append(float(loss) if self._stride == 1 else float(np.mean(self._pending)))
        self._pending = []
        if len(self.batch_loss) >= self.max_batch_points:
            # Keep memory bounded on long runs: average neighbouring pairs.
            self.batch_step = self.batch_step[1::2]
            losses = self.batch_loss
            self.batch_loss = [(a + b) / 2 for a, b in zip(losses[0::2], losses[1::2])]
            self._stride *= 2


class Trainer:
    """Trains `net` on (x, labels) with mini-batches, a few batches at a time.

    net: a Network or a ConvNet; x: (n, 784) images, uint8 0..255 or float32 in [0,1];
    labels: (n,) ints. x is only read: each mini-batch is turned into
    float32 on its own, so uint8 images never need a float copy of the
    whole set.
    settings: a Settings. A fraction settings.val_fraction of x is held out
    (chosen with settings.seed) as the validation set.
    """

    def __init__(self, net, x, labels, settings):
        settings.check(len(x))
        if x.shape[1] != net.sizes[0] or int(np.max(labels)) >= net.sizes[-1]:
            raise ValueError(f"a {net.sizes[0]}-input, {net.sizes[-1]}-output network cannot learn "
                             f"{x.shape[1]}-pixel images with labels up to {int(np.max(labels))}")
        self.net, self.settings = net, settings
        self.n_classes = net.sizes[-1]
        rng = np.random.default_rng(settings.seed)
        order = rng.permutation(len(x))
        n_val = int(round(len(x) * settings.val_fraction))
        self.val_idx, self.train_idx = np.sort(order[:n_val]), np.sort(order[n_val:])
        self.x, self.labels = x, np.asarray(labels)
        self.rng = np.random.default_rng(settings.seed + 1)      # only for shuffling
        self.aug_rng = np.random.default_rng(settings.seed + 2)  # only for augmentation
        # How images are augmented (when settings.augment > 0): augment(x, rng, strength), or a
        # function (x, labels, rng, strength) -> x set here, e.g. augment.augment_drawn (the
        # built-in models' training scripts).
        self.augmenter = None
        self.optimizer = make_optimizer(settings.optimizer, settings.lr, settings.momentum)
        self.history = History()
        self.epoch = 0            # epochs completed
        self.pos = 0              # position inside the current epoch's order
        self.step = 0             # mini-batches done in total
        self.order = None         # this epoch's shuffled training indices
        self.diverged = False
        self.message = ""
        self._language = contextvars.copy_context()   # its messages, written in the run's thread, in this language
        self.train_seconds = 0.0
        self._sum_loss = self._sum_correct = self._seen = 0.0
        self.part = parts_of(net)   # examples per part of a big batch
        # how a part is cut into slices (fast.py tricks 1 and 6): fixed by the network, so worked out once
        self._slicing = {"most_rows": fast.cache_rows(net), "fewest": fast.fewest_rows(net)}
        # Threads working on slices of a part at once (fast.py trick 1): 1 unless whoever runs this
        # trainer gives it more (a run in the line of runs: its place's share of the cores).
        self.threads = 1
        self.checking = None        # the validation pass under way (an Evaluation), between two parts
        self._batch = None          # the mini-batch under way (batch_steps), between two of its parts
        self._bound = None          # a bound of every |weight| after the last step (guarded_step, fast.py trick 9)
        self.under_way = None       # (examples done, examples) of a mini-batch of several parts, between two of them

    # ------------------------------------------------------------ settings

    def set_hyperparams(self, lr=None, momentum=None, l2=None, batch_size=None, epochs=None):
        """Change hyper-parameters between steps; they apply from the next batch.

        Raises ValueError (Settings.check) for a value out of range. Each change is
        noted in history.marks with the batch it applies from, old and new values
        ("lr 0.01 → 0.2"). Returns that note."""
        s = self.settings
        asked = {k: v for k, v in dict(lr=lr, momentum=momentum, l2=l2, batch_size=batch_size,
                                       epochs=epochs).items() if v is not None and v != getattr(s, k)}
        if not asked:
            return ""
        new = Settings(**{**s.as_dict(), **asked})
        new.sizes, new.layers = s.sizes, s.layers
        new.check(len(self.x))
        self.settings = new
        self.optimizer.lr = new.lr * new.lr_decay ** self.epoch
        if hasattr(self.optimizer, "momentum"):     # only SGD with momentum has one
            self.optimizer.momentum = new.momentum
        changes = {k: (getattr(s, k), v) for k, v in asked.items()}
        note = ", ".join(f"{STEERABLE[k]} {old:g} → {new:g}" for k, (old, new) in changes.items())
        self.history.marks.append((self.step + 1, note, changes))
        return note

    # ------------------------------------------------------------ progress

    @property
    def n_train(self):
        return len(self.train_idx)

    @property
    def batches_per_epoch(self):
        return -(-self.n_train // self.settings.batch_size)

    @property
    def finished(self):
        return self.epoch >= self.settings.epochs

    @property
    def done_fraction(self):
        total = self.settings.epochs * self.n_train
        return min(1.0, (self.epoch * self.n_train + self.pos) / total)

    # ------------------------------------------------------------ training

    def _start_epoch(self):
        # Big steps early, finer steps later: lr * lr_decay^epoch.
        self.optimizer.lr = self.settings.lr * self.settings.lr_decay ** self.epoch
        if self.settings.shuffle:
            self.order = self.train_idx[self.rng.permutation(self.n_train)]
        else:
            self.order = self.train_idx
        self.pos = 0
        self._sum_loss = self._sum_correct = self._seen = 0.0

    def train_batch(self, idx, stop=None):
        """One step of learning on the examples idx: forward, backward, update.

        Returns the batch loss (before the update). A batch bigger than
        self.part is worked through in parts (batch_parts). stop() is asked
        between parts; if it says True the batch is dropped, nothing has
        changed, and None is returned.
        """
        return until(self.batch_parts(idx), stop)

    def batch_parts(self, idx):
        """train_batch(idx) as a generator: it yields the fraction of idx done between two parts
        (nothing is changed until the last part is done) and returns the batch loss. Whoever drives
        it may do other things between two parts, and come back: the batch is not done again.
        The batch's gradient is the size-weighted mean of the parts' gradients, so the step is the same.
        """
        s = self.settings
        loss, grads, correct = 0.0, None, 0.0
        threads = max(1, int(self.threads))
        nets = [self.net] + [self.net.replica() for _ in range(threads - 1)]
        step = self.part                                  # the threads share each part (fast.py trick 1)
        try:
            for start in range(0, len(idx), step):
                if start:
                    self.under_way = (start, len(idx))        # the progress line reads it between two parts
                    yield start / len(idx)
                part = idx[start:start + step]
                x = to_float(np.take(self.x, part, axis=0))   # (b, 784) float32 in [0, 1] (take: x[part], faster)
                labels = self.labels[part]
                if s.augment and self.augmenter is not None:
                    x = self.augmenter(x, labels, self.aug_rng, s.augment)
                elif s.augment:
                    x = augment(x, self.aug_rng, s.augment)
                y = one_hot(labels, self.n_classes)           # (b, 10)
                # Slices of the part that fit the cache, shared out among the threads: fast.py tricks 1 and 6
                for rows, (part_loss, grad_w, grad_b, out) in fast.in_threads(self._gradients, nets, x, y,
                                                                              **self._slicing):
                    share = (rows.stop - rows.start) / len(idx)
                    grads = add_part(grads, [g for gb in zip(grad_w, grad_b) for g in gb], share)
                    loss += share * part_loss
                    correct += float((out.argmax(axis=1) == labels[rows]).sum())
            if not np.isfinite(loss):
                raise FloatingPointError(N_("the loss became {loss}"), {"loss": loss})
            with np.errstate(over="ignore", invalid="ignore"):
                known, self._bound = self._bound, None     # (if the step raises, nothing is known)
                self._bound = guarded_step(self.optimizer, self.net, grads, known)
            self._sum_loss += loss * len(idx)
            self._sum_correct += correct
            self._seen += len(idx)
            return loss
        finally:
            self.under_way = None

    def _gradients(self, net, x, y):
        """net.gradients(x, y) with the settings' L2; overflow shows as a loss that is not finite."""
        with np.errstate(over="ignore", invalid="ignore"):     # (in every thread: errstate is per thread)
            return net.gradients(x, y, self.settings.l2)

    def batch_steps(self):
        """The epoch's next mini-batch as steps (engine/linework.py): yields the fraction of it done
        between two of its parts, returns its loss, or None when it diverged (self.message says why).
        For a caller that takes turns between parts (a work in the line); run() does the epoch's end."""
        if self.order is None:
            self._start_epoch()
        idx = self.order[self.pos:self.pos + self.settings.batch_size]
        try:
            loss = yield from self.batch_parts(idx)
        except FloatingPointError as err:
            self._diverge(err)
            return None
        self.pos += len(idx)
        self.step += 1
        self.history.add_batch(self.step, loss)
        return loss

    def _diverge(self, why):
        # The step that blew up was not made (guarded_step), so the weights are the last good ones;
        # the optimiser's memory (velocity, Adam moments) is tainted, so reset it.
        self.optimizer.reset()
        self.diverged = True
        self.message = self._language.run(lambda: _(
            "Training diverged at epoch {epoch}, batch {batch}: {why}. The learning rate {lr} is too high for this "
            "setup; the last good weights were kept. Try a smaller learning rate.").format(
            epoch=self.epoch + 1, batch=self.pos // self.settings.batch_size + 1, why=diverged_because(why),
            lr=num(self.settings.lr)))

    def run(self, batches=None, seconds=None, stop=None):
        """Train for `batches` mini-batches (None = to the end), or until `seconds` pass,
        or until stop() says True. Both are asked between batches and between the parts
        of a big one: a batch cut short between two parts is kept as it is (nothing has
        changed yet) and carried on from there at the next call, so a Pause, or a turn in
        the line of runs, waits for one part, not a whole mini-batch, and no part is done twice.
        An epoch's validation pass goes a part at a time too, asking stop() and the
        clock between parts (a batch limit does not cut it short); it carries on from
        where it was at the next call.

        Returns a StepReport. Does nothing once finished or diverged.
        """
        report = StepReport()
        start = time.perf_counter()
        while not self.diverged:
            if self.order is not None and self.pos >= self.n_train:   # an epoch's batches are all done
                if len(self.val_idx):     # check the validation set, one part per turn of this loop
                    if self.checking is None:
                        self.checking = self.evaluation(self.x, self.labels, self.val_idx)
                    if not self.checking.done:
                        if (stop is not None and stop()) or (seconds is not None and (report.batches or report.parts)
                                                             and time.perf_counter() - start >= seconds):
                            break         # stopped between two parts: carried on from here next time
                        self.checking.step()
                        report.parts += 1
                        continue
                report.epochs_finished.append(self._end_epoch(time.perf_counter() - start))
            if self.finished:
                break
            if batches is not None and report.batches >= batches:
                break
            if seconds is not None and report.batches and time.perf_counter() - start >= seconds:
                break
            if stop is not None and stop():
                break
            before = self.pos if self.order is not None else 0
            if self._batch is None:
                self._batch = self.batch_steps()
            loss = carry_on(self._batch, lambda: (stop is not None and stop()) or (
                seconds is not None and time.perf_counter() - start >= seconds), report)
            if loss is CUT_SHORT:
                break                             # stopped between two parts: carried on from there next time
            self._batch = None
            if loss is None:
                break                             # diverged
            report.batches += 1
            report.examples += self.pos - before
        report.seconds = time.perf_counter() - start
        self.train_seconds += report.seconds
        report.finished, report.diverged, report.message = self.finished, self.diverged, self.message
        return report

    def _end_epoch(self, seconds):
        record = {"epoch": self.epoch + 1,
                  "train_loss": self._sum_loss / self._seen,
                  "train_acc": self._sum_correct / self._seen}
        if self.checking is not None:
            record.update(val_loss=self.checking.result[0], val_acc=self.checking.result[1])
            self.checking = None
        record["seconds"] = self.train_seconds + seconds
        self.history.epochs.append(record)
        self.epoch += 1
        self.order, self.pos = None, 0
        return record

    def evaluation(self, x, labels, idx=None):
        """An Evaluation of the current network on (x, labels) (or the rows idx of them), in parts
        of a third of a training part's arithmetic (forward only: a third of the work per example)."""
        return Evaluation(self.net, x, labels, idx, chunk=min(5000, 3 * self.part), n_classes=self.n_classes)

    def evaluate(self, x, labels, idx=None, stop=None):
        """Loss and accuracy of the current network on (x, labels), or on the rows idx of them.

        Works in parts (no big copy of the data is ever made), asking stop()
        between them: returns None if it said True.
        """
        check = self.evaluation(x, labels, idx)
        while not check.done:
            if check.parts and stop is not None and stop():
                return None
            check.step()
        return check.result


class Evaluation:
    """Loss and accuracy of `net` on (x, labels)[idx], one part of `chunk` examples per step(),
    so that whoever runs it (Trainer.run's validation, the worker's test pass) can stop, pause or
    give its place in the line between two parts and carry on later where it was:

        loss     = (sum over parts of mean part loss * part size) / n
        accuracy = (examples whose highest output is their label) / n

    done: every part is done, and result = (loss, accuracy); `seen` of `total` examples so far.
    """

    def __init__(self, net, x, labels, idx=None, chunk=1000, n_classes=10):
        self.net, self.x, self.labels, self.chunk, self.n_classes = net, x, labels, max(1, int(chunk)), n_classes
        self.idx = np.arange(len(x)) if idx is None else idx
        self.total, self.seen, self.parts = len(self.idx), 0, 0
        self._loss = self._correct = 0.0

    @property
    def done(self):
        return self.seen >= self.total

    @property
    def result(self):
        return (self._loss / self.total, self._correct / self.total) if self.done and self.total else None

    def step(self):
        """Evaluate the next part (at most `chunk` examples)."""
        rows = self.idx[self.seen:self.seen + self.chunk]
        xb, lb = to_float(self.x[rows]), self.labels[rows]
        zs, acts = self.net.forward(xb, keep=True)
        self._loss += self.net.loss_value(zs[-1], acts[-1], one_hot(lb, self.n_classes)) * len(xb)
        self._correct += float((acts[-1].argmax(axis=1) == lb).sum())
        self.seen += len(rows)
        self.parts += 1


def new_run(x, labels, settings):
    """Build a fresh network from `settings` (a ConvNet if settings.layers is set, else a
    Network) and a Trainer for it."""
    settings.check(len(x))
    return Trainer(settings.new_net(), x, labels, settings)
