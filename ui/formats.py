"""The words and numbers shown to users: the names of settings, run states and
the pretrained model, and how numbers are written on the pages and in the charts.

One module for every wording, so a name is changed in one place and reads the
same on every page. Where two places need different words for the same thing
(a menu has room for the update rule, a sentence does not), both tables sit here
side by side.
"""
import numpy as np

import i18n

PRETRAINED_LABEL = "the built-in pretrained model"

# Optimisers (engine/optim.py OPTIMIZERS): in a sentence (Home: "Trained with ...")
# and in the Train page's menu, where the update rule fits next to the name.
OPTIMIZER_NAMES = {"sgd": "plain gradient descent (SGD)", "momentum": "SGD with momentum", "adam": "Adam"}
OPTIMIZER_CHOICES = {"sgd": "plain SGD (w = w − lr·grad)", "momentum": "SGD with momentum", "adam": "Adam"}

# Output + loss: the Train page's menu, a run's settings in a few words (Train, Compare)
# and a run's default name, shortest.
LOSS_CHOICES = {"cross-entropy": "softmax + cross-entropy", "mse": "sigmoid + MSE (as in the write-up)"}
LOSS_SHORT = {"cross-entropy": "softmax + CE", "mse": "sigmoid + MSE"}
LOSS_ABBREVIATIONS = {"cross-entropy": "CE", "mse": "MSE"}

# A run's state (ui/training.py train_status): on its progress line, and how an
# ended run ended in a list of runs (Train, Compare).
STATUS_LABELS = {"running": "Training…", "paused": "Paused", "stopping": "Stopping…", "finished": "Finished",
                 "stopped": "Stopped early", "diverged": "Diverged"}
ENDINGS = {"finished": i18n.N_("finished"), "stopped": i18n.N_("stopped early"), "diverged": i18n.N_("diverged")}


def ending_text(status):
    """How a run ended, in words (a state without a word is shown as it is)."""
    return i18n._(ENDINGS[status]) if status in ENDINGS else status


def num(v):
    """A number for the text: 4 decimals, or scientific notation when tiny."""
    v = float(v) + 0.0   # + 0.0 turns -0.0 into 0.0
    return f"{v:.4f}" if v == 0 or abs(v) >= 1e-3 else f"{v:.2e}"


def sure_text(p):
    """A probability as a percentage that never rounds up to a certain-sounding '100%'."""
    if p > 0.999:            # float32 softmax can give exactly 1.0: the network is never certain
        return i18n._("over {p}").format(p=i18n.pct(0.999, 1))
    return i18n.pct(np.floor(p * 1000) / 1000, 1) if p >= 0.995 else i18n.pct(p, 0)


def value_text(v):
    """Whole numbers (a one-hot label's 0 and 1) without decimals, other values with two."""
    return f"{v:.0f}" if float(v).is_integer() else f"{v:.2f}"


def output_text(value, is_probability):
    """One output of the network: a probability as sure_text, the score of a sigmoid
    output (MSE models, whose outputs need not add up to 1) as 'output 0.87'."""
    return sure_text(value) if is_probability else i18n._("output {value}").format(value=i18n.num(value, 2))


def duration_text(seconds):
    """12 s, 5 min, 2 h 10 min: a duration as a person says it."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    hours, minutes = divmod(round(seconds / 60), 60)
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


def ordinal(n):
    """1st, 2nd, 3rd, 11th, 22nd..."""
    return f"{n}{'th' if 10 <= n % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}"
