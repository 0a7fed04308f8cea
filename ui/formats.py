"""The words and numbers shown to users: the names of settings, run states and
the pretrained model, and how numbers are written on the pages and in the charts.

One module for every wording, so a name is changed in one place and reads the
same on every page. Where two places need different words for the same thing
(a menu has room for the update rule, a sentence does not), both tables sit here
side by side.

The words are English, marked N_() (i18n): a page shows them through _(), e.g. _(STATUS_LABELS[status]).
"""
import math
import re

import numpy as np

import i18n
from i18n import _, as_is

N_ = i18n.N_
PRETRAINED_LABEL = N_("the built-in pretrained model")

# Optimisers (engine/optim.py OPTIMIZERS): in a sentence (Home: "Trained with ...")
# and in the Train page's menu, where the update rule fits next to the name.
OPTIMIZER_NAMES = {"sgd": N_("plain gradient descent (SGD)"), "momentum": N_("SGD with momentum"),
                   "adam": N_("Adam")}
OPTIMIZER_CHOICES = {"sgd": N_("plain SGD (w = w − lr·grad)"), "momentum": N_("SGD with momentum"),
                     "adam": N_("Adam")}

# Output + loss: the Train page's menu, a run's settings in a few words (Train, Compare)
# and a run's default name, shortest.
LOSS_CHOICES = {"cross-entropy": N_("softmax + cross-entropy"), "mse": N_("sigmoid + MSE (as in the write-up)")}
LOSS_SHORT = {"cross-entropy": "softmax + CE", "mse": "sigmoid + MSE"}
LOSS_WORDS = {"cross-entropy": N_("softmax + cross-entropy"), "mse": N_("sigmoid + MSE")}     # (model_text)
LOSS_ABBREVIATIONS = {"cross-entropy": "CE", "mse": "MSE"}

# A run's state (ui/training.py train_status): on its progress line, and how an
# ended run ended in a list of runs (Train, Compare).
STATUS_LABELS = {"running": N_("Training…"), "paused": N_("Paused"), "stopping": N_("Stopping…"),
                 "finished": N_("Finished"), "stopped": N_("Stopped early"), "diverged": N_("Diverged")}
ENDINGS = {"finished": i18n.N_("finished"), "stopped": i18n.N_("stopped early"), "diverged": i18n.N_("diverged")}


def ending_text(status):
    """How a run ended, in words (a state without a word is shown as it is)."""
    return i18n._(ENDINGS[status]) if status in ENDINGS else status


def decimal_sign(text):
    """A number Python wrote ("0.1234", "1.50e-04") with the decimal sign of the run's language ("0,1234" in
    Italian); English as it is."""
    if i18n.current() in (i18n.SOURCE, i18n.PSEUDO):
        return text
    from babel.numbers import get_decimal_symbol
    return text.replace(".", get_decimal_symbol(i18n.current()))


def num(v):
    """A number for the text: 4 decimals, or scientific notation when tiny (with the language's decimal sign)."""
    v = float(v) + 0.0   # + 0.0 turns -0.0 into 0.0
    return decimal_sign(f"{v:.4f}" if v == 0 or abs(v) >= 1e-3 else f"{v:.2e}")


def sure_text(p):
    """A probability as a percentage that never rounds up to a certain-sounding '100%'."""
    if p > 0.999:            # float32 softmax can give exactly 1.0: the network is never certain
        return i18n._("over {p}").format(p=i18n.pct(0.999, 1))
    return i18n.pct(np.floor(p * 1000) / 1000, 1) if p >= 0.995 else i18n.pct(p, 0)


def value_text(v):
    """Whole numbers (a one-hot label's 0 and 1) without decimals, other values with two."""
    return f"{v:.0f}" if float(v).is_integer() else f"{v:.2f}"     # (in vectors "[0, 0.50, 1]": the point stays)


def output_text(value, is_probability):
    """One output of the network: a probability as sure_text, the score of a sigmoid
    output (MSE models, whose outputs need not add up to 1) as 'output 0.87'."""
    return sure_text(value) if is_probability else i18n._("output {value}").format(value=i18n.num(value, 2))


def seconds_text(t):
    """A time in seconds to 2 decimals, or to 2 significant digits where that would read 0.00 (one quick batch
    took 0.0021 s, not "0.00 s"), in the language's way of writing numbers."""
    return i18n.num(t, 2 if t >= 0.005 or t <= 0 else 1 - math.floor(math.log10(t)))


def cannot_train_text(reason):
    """What a Train page says before Start when its settings cannot train (a stack that leaves nothing to work
    on, a model over the budget): the same reason Start would give, in a box the eye finds."""
    return _("⚠️ Can't train this: {reason}.").format(reason=reason)


def duration_text(seconds):
    """12 s, 5 min, 2 h 10 min: a duration as a person says it."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    hours, minutes = divmod(round(seconds / 60), 60)
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


def ordinal(n):
    """1st, 2nd, 3rd, 11th, 22nd... in English; in another language its catalogue's form of "{n}." (2º in
    Italian)."""
    if i18n.current() not in (i18n.SOURCE, i18n.PSEUDO):
        return i18n.pgettext("ordinal number", "{n}.").format(n=i18n.num(n))
    return f"{n}{'th' if 10 <= n % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}"


# ---------------------------------------------------------------- a dataset's source, in words
# The engine names a dataset's source and why the full set is not used in English (engine/data.py: the words are
# also a cache key and go into model files); source_text() and note_text() say them in the run's language.
_SAMPLE = re.compile(r"built-in sample: ([\d,]+) of ([\d,]+) digits(?: \(read from (.+)\))?", re.S)
_FULL = re.compile(r"full MNIST from (.+)", re.S)
_NOTES = [(re.compile(r"no full MNIST found \(MNIST_DIR is not set and (.+) holds no copy\)", re.S),
           lambda m: _("no full MNIST found (MNIST_DIR is not set and {folder} holds no copy)").format(
               folder=as_is(m[1]))),
          (re.compile(r"the cached copy is unusable: (.+)", re.S),
           lambda m: _("the cached copy is unusable: {reason}").format(reason=as_is(m[1]))),
          (re.compile(r"download failed: (.+)", re.S),
           lambda m: _("download failed: {reason}").format(reason=as_is(m[1]))),
          (re.compile(r"(.+) holds the built-in sample, not the full set", re.S),
           lambda m: _("{file} holds the built-in sample, not the full set").format(file=as_is(m[1])))]


def source_text(source):
    """Where a dataset came from (engine/data.py's Dataset.source, or one recorded in a model file), in the
    run's language: "built-in sample: 12,000 of 70,000 digits" -> "campione incorporato: 12.000 ..."."""
    source = str(source)
    m = _SAMPLE.fullmatch(source)
    if m:
        n, total = (i18n.num(int(g.replace(",", ""))) for g in m.groups()[:2])
        if m[3]:
            return _("built-in sample: {n} of {total} digits (read from {file})").format(
                n=n, total=total, file=as_is(m[3]))
        return _("built-in sample: {n} of {total} digits").format(n=n, total=total)
    m = _FULL.fullmatch(source)
    if m:
        return _("full MNIST from {folder}").format(folder=as_is(m[1]))
    return as_is(source)


def note_text(note):
    """Why the full set is not in use (engine/data.py's Dataset.note), in the run's language."""
    for pattern, words in _NOTES:
        m = pattern.fullmatch(str(note))
        if m:
            return words(m)
    return as_is(note)


def model_text(net):
    """A model's layers in a few words, like the engine's net.describe() ('784-256-10, relu, softmax +
    cross-entropy'), with the output and loss in the run's language and the layers (notation) as they are."""
    loss = _(LOSS_WORDS["mse" if net.loss == "mse" else "cross-entropy"])
    layers = net.describe().rsplit(", ", 1)[0]          # all but the engine's words for the output and loss
    return f"{as_is(layers)}, {loss}"
