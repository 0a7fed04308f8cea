"""Training a language model, in small resumable steps (the digits' engine/trainer.py, for text).

    every step: B windows of `window` characters at random places of the training text
                -> forward -> softmax + cross-entropy at every position -> backward
                -> clip the gradient's length -> AdamW step with the step's learning rate
    every eval_every steps: the loss on held-out text (nats per character) and a sample

LMTrainer has what engine/worker.py's BackgroundRun and the pages' steering use of
trainer.Trainer: run(batches, seconds, stop) -> StepReport, finished, diverged, message,
history (per-batch loss; one record per evaluation in history.epochs), step,
done_fraction, set_hyperparams(...), evaluate(...), train_seconds.
"""
import contextvars
import math
import time
from dataclasses import asdict, dataclass

import numpy as np

from i18n import N_, _, num

from .. import fast
from ..optim import LM_OPTIMIZERS, AdamW, make_optimizer
from ..trainer import (CUT_SHORT, PART_FLOPS, History, StepReport, add_part, carry_on, diverged_because,
                       guarded_step, until)
from .layers import sequence_cross_entropy
from .models import KINDS, build_model
from .text import split

# Names of the settings in sentences (translated where shown)
SETTING_NAMES = {"batch_size": N_("batch size"), "steps": N_("steps"), "warmup": N_("warmup"),
                 "eval_every": N_("eval every"), "eval_tokens": N_("eval tokens"),
                 "sample_chars": N_("sample chars"), "sequence": N_("sequence")}
STEERED = {"lr": N_("lr {value}"), "batch_size": N_("batch size {value}"), "steps": N_("steps {value}"),
           "weight_decay": N_("weight decay {value}")}


@dataclass
class LMSettings:
    """Every knob of a language-model run. context: characters the transformer reads at once, or k, the
    characters the MLP looks back (bigram: unused); window: length of the training sequences (None =
    the transformer's context, 32 for the others)."""
    kind: str = "transformer"
    context: int = 64
    width: int = 128          # transformer
    blocks: int = 4
    heads: int = 4
    embed: int = 10           # MLP
    hidden: int = 200
    window: int | None = None
    optimizer: str = "adamw"
    lr: float = 1e-3
    min_lr: float = 1e-4      # cosine decay from lr to min_lr over `steps` (after `warmup` steps rising from 0)
    warmup: int = 100
    weight_decay: float = 0.1
    grad_clip: float = 1.0    # the gradient's length (all weights together) is cut to this; 0 = never
    batch_size: int = 12
    steps: int = 2000
    seed: int = 0
    val_fraction: float = 0.1
    eval_every: int = 250
    eval_tokens: int = 15_360  # characters of held-out text per evaluation (nanoGPT's CPU run: 20 x 12 x 64)
    sample_chars: int = 0      # characters sampled at every evaluation (0 = none)

    def spec(self, vocab_size):
        if self.kind == "bigram":
            return {"kind": "bigram", "vocab": vocab_size}
        if self.kind == "mlp":
            return {"kind": "mlp", "vocab": vocab_size, "context": self.context, "embed": self.embed,
                    "hidden": self.hidden}
        return {"kind": "transformer", "vocab": vocab_size, "context": self.context, "width": self.width,
                "blocks": self.blocks, "heads": self.heads}

    @property
    def sequence(self):
        """The training windows' length."""
        if self.window is not None:
            return self.window
        return self.context if self.kind == "transformer" else 32

    def check(self, n_chars=None):
        """ValueError, in one sentence, for a setting out of range."""
        if self.kind not in KINDS:
            raise ValueError(_("the kind of model must be one of {kinds} (got {kind!r})").format(
                kinds=", ".join(KINDS), kind=self.kind))
        if self.optimizer not in LM_OPTIMIZERS:
            raise ValueError(_("the optimiser must be one of {names} (got {name!r})").format(
                names=", ".join(LM_OPTIMIZERS), name=self.optimizer))
        if not 0 < self.lr <= 10 or not 0 <= self.min_lr <= self.lr:
            raise ValueError(_("the learning rate must be above 0 and at most 10, and the lowest one from 0 to it "
                               "(got {lr} and {min_lr})").format(lr=num(self.lr), min_lr=num(self.min_lr)))
        if not 0 <= self.weight_decay <= 10 or not 0 <= self.grad_clip <= 1e6:
            raise ValueError(_("weight decay must be from 0 to 10 and gradient clipping from 0 to 1e6"))
        for name, low, high in (("batch_size", 1, 4096), ("steps", 1, 10_000_000), ("warmup", 0, 10_000_000),
                                ("eval_every", 1, 10_000_000), ("eval_tokens", 1, 10_000_000),
                                ("sample_chars", 0, 10_000), ("sequence", 1, 1024)):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or not low <= v <= high:
                raise ValueError(_("{setting} must be a whole number from {low} to {high} (got {value!r})").format(
                    setting=_(SETTING_NAMES[name]), low=num(low), high=num(high), value=v))
        if self.kind == "transformer" and self.sequence > self.context:
            raise ValueError(_("training windows of {n} characters are longer than the {context} the transformer "
                               "reads").format(n=num(self.sequence), context=num(self.context)))
        if not 0 < self.val_fraction < 0.9:
            raise ValueError(_("the held-out fraction must be above 0 and below 0.9 (got {value})").format(
                value=num(self.val_fraction)))
        if n_chars is not None:
            n_train = n_chars - int(round(n_chars * self.val_fraction))
            n_val = n_chars - n_train
            if min(n_train, n_val) < self.sequence + 1:
                raise ValueError(_("the text is too short: {n} characters leave {train} for training and {val} held "
                                   "out, and each needs at least {least}").format(
                    n=num(n_chars), train=num(n_train), val=num(n_val), least=num(self.sequence + 1)))

    def as_dict(self):
        return asdict(self)


def learning_rate(s, step):
    """The learning rate of step `step` (0, 1, ...): rising linearly over `warmup` steps, then
    cosine decay from lr to min_lr at step `steps` (nanoGPT's schedule)."""
    if step < s.warmup:
        return s.lr * (step + 1) / (s.warmup + 1)
    if step >= s.steps:
        return s.min_lr
    progress = (step - s.warmup) / max(1, s.steps - s.warmup)
    return s.min_lr + 0.5 * (1 + math.cos(math.pi * progress)) * (s.lr - s.min_lr)


def clip_gradients(grads, max_norm):
    """Scale every gradient by max_norm / |g| when the length |g| of all of them together is over max_norm.
    Returns |g| before clipping."""
    norm = math.sqrt(sum(float(np.vdot(g, g)) for g in grads))
    if max_norm and norm > max_norm:
        for g in grads:
            g *= max_norm / (norm + 1e-6)
    return norm


class LMTrainer:
    """Trains `model` (engine/language/models.py) on the ids of a text (int array), a few steps at a time.

    The last settings.val_fraction of the text is held out (text.split). vocab: the text's
    Vocabulary, for the samples printed at each evaluation (settings.sample_chars).
    """

    def __init__(self, model, ids, settings, vocab=None):
        ids = np.asarray(ids)
        settings.check(len(ids))
        if ids.size and (int(ids.min()) < 0 or int(ids.max()) >= model.V):
            raise ValueError(_("the text has ids up to {top}; the model knows {n} characters").format(
                top=int(ids.max()), n=num(model.V)))
        if settings.sequence > model.context:
            raise ValueError(_("training windows of {n} characters are longer than the {context} the model "
                               "reads").format(n=num(settings.sequence), context=num(model.context)))
        self._language = contextvars.copy_context()     # its messages, written in the run's thread, in this language
        self.model, self.settings, self.vocab = model, settings, vocab
        self.train_ids, self.val_ids = split(ids, settings.val_fraction)
        self.rng = np.random.default_rng(settings.seed + 1)          # windows
        self.sample_rng = np.random.default_rng(settings.seed + 2)   # samples
        self.optimizer = self._optimizer()
        self.history = History()
        self.history.samples = []     # (step, text) at every evaluation
        self.step = 0
        self.epoch = 0                # evaluations done (the digits' Trainer counts epochs there)
        self.diverged, self.message = False, ""
        self.train_seconds = 0.0
        self._sum_loss = self._seen = 0
        self.part = max(1, int(PART_FLOPS // (model.flops_per_token() * settings.sequence)))   # windows per part
        # Threads for the slices of a part (engine/fast.py trick 1), 1 unless whoever runs the trainer gives
        # more (the line of runs: its place's share of the cores). A window is worth a slice of its own once
        # it holds MIN_SLICE_FLOPS of arithmetic (the baby GPT's 64 characters: 0.3 GFLOP), and the cut
        # never depends on the threads: a run ends on the same numbers with one core or two.
        self.threads = 1
        window_flops = model.flops_per_token() * settings.sequence
        self._slicing = {"fewest": max(1, math.ceil(fast.MIN_SLICE_FLOPS / window_flops)), "smallest": 1}
        self._replicas = []
        self._stepping = None         # the step under way (step_parts, its characters), between two of its parts
        self.under_way = None         # (windows done, windows) of a step of several parts, between two of them
        self._bound = None            # a bound of every |weight| after the last step (guarded_step, fast.py trick 9)
        self.checking = None          # the held-out check under way (a HeldOutCheck), between two of its parts

    def _optimizer(self):
        s = self.settings
        if s.optimizer == "adamw":
            return AdamW(s.lr, weight_decay=s.weight_decay, decays=self.model.decays())
        return make_optimizer(s.optimizer, s.lr)

    # ------------------------------------------------------------ progress
    @property
    def finished(self):
        """Every step done, and the last held-out check too."""
        return self.step >= self.settings.steps and self.checking is None

    @property
    def done_fraction(self):
        return min(1.0, self.step / self.settings.steps)

    def set_hyperparams(self, lr=None, batch_size=None, steps=None, weight_decay=None):
        """Steering: change knobs between steps (from the next step). ValueError for a value out of range.
        Noted in history.marks; returns the note."""
        s = self.settings
        asked = {k: v for k, v in dict(lr=lr, batch_size=batch_size, steps=steps,
                                       weight_decay=weight_decay).items() if v is not None and v != getattr(s, k)}
        if not asked:
            return ""
        new = LMSettings(**{**s.as_dict(), **asked})
        new.min_lr = min(new.min_lr, new.lr)
        new.check()
        self.settings = new
        if hasattr(self.optimizer, "weight_decay"):
            self.optimizer.weight_decay = new.weight_decay
        note = ", ".join(_(STEERED[k]).format(value=num(v)) for k, v in asked.items())
        self.history.marks.append((self.step + 1, note))
        return note

    # ------------------------------------------------------------ training
    def batch(self, ids, n, rng):
        """n windows at random places of ids: inputs x (n, T) and targets y (n, T), y = x shifted by one."""
        T = self.settings.sequence
        starts = rng.integers(0, len(ids) - T, n)
        rows = starts[:, None] + np.arange(T + 1)
        w = ids[rows]
        return w[:, :-1], w[:, 1:]

    def train_batch(self, x, y, stop=None):
        """One step on windows x, y: forward, backward, clip, update. Returns the loss (before the update),
        or None if stop() said True between two parts (nothing changed)."""
        return until(self.step_parts(x, y), stop)

    def step_parts(self, x, y):
        """train_batch(x, y) as a generator: it yields the fraction of the windows done between two parts
        (nothing is changed until the last part is done) and returns the loss; whoever drives it may stop
        between two parts and carry on later (run)."""
        loss, grads = 0.0, None
        threads = max(1, int(self.threads))
        while len(self._replicas) < threads - 1:              # made once: they share the model's weights
            self._replicas.append(self.model.replica())
        models = [self.model] + self._replicas[:threads - 1]
        try:
            for start in range(0, len(x), self.part):
                if start:
                    self.under_way = (start, len(x))          # the progress line reads it between two parts
                    yield start / len(x)
                for rows, (part_loss, part_grads) in fast.in_threads(
                        lambda model, xs, ys: model.gradients(xs, ys), models,
                        x[start:start + self.part], y[start:start + self.part], **self._slicing):
                    share = (rows.stop - rows.start) / len(x)
                    grads = add_part(grads, part_grads, share)
                    loss += share * part_loss
            if not np.isfinite(loss):
                raise FloatingPointError(N_("the loss became {loss}"), {"loss": loss})
            clip_gradients(grads, self.settings.grad_clip)
            self.optimizer.lr = learning_rate(self.settings, self.step)
            known, self._bound = self._bound, None         # (if the step raises, nothing is known)
            self._bound = guarded_step(self.optimizer, self.model, grads, known)
            return loss
        finally:
            self.under_way = None

    def _diverge(self, why):
        self.optimizer.reset()                  # the step that blew up was not made (guarded_step)
        self.diverged = True
        self.message = self._language.run(lambda: _(
            "Training diverged at step {step}: {why}. The learning rate {lr} is too high for this model; the last "
            "good weights were kept. Try a smaller learning rate.").format(
            step=num(self.step + 1), why=diverged_because(why), lr=num(self.settings.lr)))

    def run(self, batches=None, seconds=None, stop=None):
        """Train `batches` steps (None = to the end), or until `seconds` pass, or stop() says True.
        Both are asked between steps and between the parts of a step or of a held-out check: a step or a
        check cut short there is kept as it is and carried on from its next part at the next call (nothing
        is done twice, the run's windows are the same as if it had never stopped).
        Returns a StepReport (epochs_finished: the evaluation records made in this call)."""
        report = StepReport()
        start = time.perf_counter()

        def cut():
            return (stop is not None and stop()) or (seconds is not None and time.perf_counter() - start >= seconds)
        while not self.diverged:
            if self.checking is not None:             # a held-out check under way comes first, a part at a time
                if not self.checking.done:
                    if (stop is not None and stop()) or (seconds is not None and (report.batches or report.parts)
                                                         and time.perf_counter() - start >= seconds):
                        break                         # carried on from here next time
                    self.checking.step()
                    report.parts += 1
                    continue
                report.epochs_finished.append(self._record(self.checking.result, time.perf_counter() - start))
                self.checking = None
            if self.finished:
                break
            if batches is not None and report.batches >= batches:
                break
            if seconds is not None and report.batches and time.perf_counter() - start >= seconds:
                break
            if stop is not None and stop():
                break
            if self._stepping is None:
                x, y = self.batch(self.train_ids, self.settings.batch_size, self.rng)
                self._stepping = (self.step_parts(x, y), x.size)
            steps, characters = self._stepping
            try:
                with np.errstate(over="ignore", invalid="ignore"):
                    loss = carry_on(steps, cut, report)
            except FloatingPointError as err:
                self._stepping = None
                self._diverge(err)
                break
            if loss is CUT_SHORT:
                break
            self._stepping = None
            self.step += 1
            report.batches += 1
            report.examples += characters          # (a batch size steered mid-step applies from the next step)
            self._sum_loss += loss
            self._seen += 1
            self.history.add_batch(self.step, loss)
            if self.step % self.settings.eval_every == 0 or self.step >= self.settings.steps:
                self.checking = self.evaluation()
        report.seconds = time.perf_counter() - start
        self.train_seconds += report.seconds
        report.finished, report.diverged, report.message = self.finished, self.diverged, self.message
        return report

    def _record(self, checked, seconds):
        """The record of a held-out check (checked: loss, accuracy) made `seconds` into this call of run()."""
        record = {"epoch": self.epoch + 1, "step": self.step, "train_loss": self._sum_loss / max(1, self._seen),
                  "val_loss": checked[0], "val_acc": checked[1], "seconds": self.train_seconds + seconds}
        self._sum_loss = self._seen = 0
        self.epoch += 1
        self.history.epochs.append(record)
        if self.settings.sample_chars and self.vocab is not None:
            from .generate import generate
            text = generate(self.model, self.vocab.encode("\n", unknown=self.vocab.chars[0])[:1],
                            self.settings.sample_chars, rng=self.sample_rng)
            self.history.samples.append((self.step, self.vocab.decode(text)))
        return record

    def evaluation(self, ids=None, labels=None):
        """evaluate(ids) as a HeldOutCheck, a part per step() (the worker's closing test pass). labels: unused."""
        ids = self.val_ids if ids is None else np.asarray(ids)
        return HeldOutCheck(self.model, ids, self.settings.sequence, self.settings.eval_tokens, part=3 * self.part)

    def evaluate(self, ids=None, labels=None, stop=None, max_tokens=None):
        """Loss (mean nats per character) and top-1 accuracy of the next character on held-out text
        (ids; None = this run's held-out part), read as back-to-back windows, at most max_tokens
        characters of it (None = settings.eval_tokens; 0 = all). labels: unused (BackgroundRun passes
        its y_test). Works a part at a time, asking stop() between parts: None if it said True."""
        ids = self.val_ids if ids is None else np.asarray(ids)
        return evaluate(self.model, ids, self.settings.sequence,
                        self.settings.eval_tokens if max_tokens is None else max_tokens,
                        part=3 * self.part, stop=stop)


def evaluate(model, ids, window, max_tokens=0, part=64, stop=None):
    """(loss in nats per character, top-1 accuracy) of `model` on ids, as back-to-back windows of
    `window` characters (each position predicted from the characters before it in its window), at most
    max_tokens characters of them (0 = all), `part` windows at a time; None if stop() said True between
    two parts."""
    return until(evaluation_steps(model, ids, window, max_tokens, part), stop)


def windows_checked(ids, window, max_tokens=0):
    """How many back-to-back windows of `window` characters a check of ids reads (at most max_tokens characters
    of them; 0 = all): ValueError in one sentence when the text is too short for one."""
    n_windows = (len(ids) - 1) // window
    if max_tokens:
        n_windows = min(n_windows, max(1, max_tokens // window))
    if n_windows < 1:
        raise ValueError(_("the text has {n} characters; at least {least} are needed").format(
            n=num(len(ids)), least=num(window + 1)))
    return n_windows


def evaluation_steps(model, ids, window, max_tokens=0, part=64):
    """evaluate() as a generator: yields the characters checked so far between two parts, returns
    (loss, accuracy)."""
    n_windows = windows_checked(ids, window, max_tokens)
    rows = np.arange(n_windows)[:, None] * window + np.arange(window + 1)
    total = correct = 0.0
    for i in range(0, n_windows, part):
        if i:
            yield i * window
        w = ids[rows[i:i + part]]
        z = model.forward(w[:, :-1])
        loss, _dz = sequence_cross_entropy(z, w[:, 1:])
        total += loss * w[:, 1:].size
        correct += float((z.argmax(-1) == w[:, 1:]).sum())
    n = n_windows * window
    return total / n, correct / n


class HeldOutCheck:
    """A check of held-out text a part per step(), read as worker.BackgroundRun reads the digits' closing test
    pass (trainer.Evaluation): so it answers Pause, Stop and the line of runs between two parts, and carries on
    where it was. `seen` of `total` characters, parts, done, result = (loss, accuracy)."""

    def __init__(self, model, ids, window, max_tokens=0, part=64):
        self.total = windows_checked(ids, window, max_tokens) * window
        self.seen = self.parts = 0
        self.result = None
        self._steps = evaluation_steps(model, ids, window, max_tokens, part)

    @property
    def done(self):
        return self.result is not None

    def step(self):
        """Check the next part of the windows."""
        try:
            self.seen = next(self._steps)
        except StopIteration as end:
            self.result, self.seen = end.value, self.total
        self.parts += 1


def new_lm_run(ids, settings, vocab_size, vocab=None):
    """A fresh model for `settings` and a trainer for it (ValueError in one sentence for a bad setting)."""
    settings.check(len(ids))
    model = build_model(settings.spec(vocab_size), seed=settings.seed)
    return LMTrainer(model, ids, settings, vocab)
