"""Lesson links (Train settings <-> URL) and the guided experiments of the Train page.

A teacher sets up the Train page, copies its address, and every student who
opens it gets the same settings. Only settings that differ from the defaults
are written, so links stay short. The URL parameters:

    hidden      hidden layer sizes, dash-separated: 128, 256-128; none = no hidden layer
    activation  relu | sigmoid | tanh | leaky_relu                 (also: act)
    loss        cross-entropy | mse                                (also: ce)
    optimizer   sgd | momentum | adam                              (also: opt)
    lr          learning rate, above 0, at most 100
    decay       learning-rate decay per epoch, 0.01 to 1           (also: lr_decay)
    momentum    0 to 0.999
    l2          0 to 10
    batch       batch size, 1 to 60000                             (also: batch_size)
    epochs      1 to 200
    seed        0 to 2147483647
    val         validation share, 0 to 0.5                         (also: val_fraction)
    shuffle     1 or 0 (also on/off, true/false, yes/no)
    init        initial-weight scale, above 0, at most 100         (also: init_scale)
    augment     0 to 1
    present     1 = presenter mode (handled by ui/presenter.py, on every page)

Example: /train?hidden=5&activation=sigmoid&loss=mse&lr=3&epochs=5

Unknown parameters and bad values are ignored, each with a note saying why
(long names and values cut short, at most MAX_NOTES notes and a count of the rest).
A link is applied once, when the page opens with it; after that the widgets
lead and the URL follows them.
"""
import math

import streamlit as st

from engine.network import ACTIVATIONS, LOSSES
from engine.optim import OPTIMIZERS
from ui import training

PRESENT = "present"     # the presenter-mode parameter (ui/presenter.py)

# URL name -> (widget key, kind, details). Numeric details: (low, high, low_is_open).
# The Train page's widgets take their limits from here, so a link can never hold
# a value its widget would refuse.
PARAMS = {
    "hidden": ("train_hidden", "hidden", None),
    "activation": ("train_activation", "choice", ACTIVATIONS),
    "loss": ("train_loss", "choice", LOSSES),
    "optimizer": ("train_optimizer", "choice", OPTIMIZERS),
    "lr": ("train_lr", "float", (0.0, 100.0, True)),
    "decay": ("train_lr_decay", "float", (0.01, 1.0, False)),
    "momentum": ("train_momentum", "float", (0.0, 0.999, False)),
    "l2": ("train_l2", "float", (0.0, 10.0, False)),
    "batch": ("train_batch_size", "int", (1, 60000, False)),
    "epochs": ("train_epochs", "int", (1, 200, False)),
    "seed": ("train_seed", "int", (0, 2**31 - 1, False)),
    "val": ("train_val_fraction", "float", (0.0, 0.5, False)),
    "shuffle": ("train_shuffle", "bool", None),
    "init": ("train_init_scale", "float", (0.0, 100.0, True)),
    "augment": ("train_augment", "float", (0.0, 1.0, False)),
}
PARAMS = {name: spec for name, spec in PARAMS.items() if spec[0] in training.WIDGETS}
ALIASES = {"act": "activation", "opt": "optimizer", "lr_decay": "decay", "batch_size": "batch",
           "val_fraction": "val", "init_scale": "init"}
VALUE_ALIASES = {"loss": {"ce": "cross-entropy", "crossentropy": "cross-entropy", "cross_entropy": "cross-entropy"},
                 "activation": {"leaky-relu": "leaky_relu", "leakyrelu": "leaky_relu"}}
SNAP = {"val": 0.05, "augment": 0.1}    # sliders move in these steps
TRUE, FALSE = ("1", "true", "on", "yes"), ("0", "false", "off", "no")
URL_PATH = "train"      # the Train page's address (st.navigation names it after the file)


def limits(key):
    """(min_value, max_value) of the widget `key` for st.number_input / st.slider."""
    for _, (k, kind, details) in PARAMS.items():
        if k == key:
            low, high, _ = details
            return (int(low), int(high)) if kind == "int" else (float(low), float(high))
    raise KeyError(key)


# ------------------------------------------------------------------ parsing

def _range_text(low, high, low_open):
    return f"{'above' if low_open else 'from'} {low:g} {'and at most' if low_open else 'to'} {high:g}"


def parse_value(name, text):
    """The widget value for URL parameter `name` given as `text`.

    Returns (widget_key, value). Raises ValueError saying why the value can't be used.
    """
    key, kind, details = PARAMS[name]
    text = str(text).strip()
    if kind == "hidden":
        if text.lower() in ("", "none", "0"):
            return key, ""
        sizes_text = text.replace("-", ",").replace("_", ",")
        try:
            sizes = training.parse_hidden(sizes_text)
        except ValueError as err:   # it quotes the text it got, which in a link can be 10 kB long
            raise ValueError(str(err).replace(sizes_text, _shown(sizes_text))) from None
        return key, ",".join(map(str, sizes))
    if kind == "choice":
        value = VALUE_ALIASES.get(name, {}).get(text.lower(), text.lower())
        if value not in details:
            raise ValueError(f"choose one of {', '.join(details)}")
        return key, value
    if kind == "bool":
        if text.lower() in TRUE:
            return key, True
        if text.lower() in FALSE:
            return key, False
        raise ValueError("use 1 (on) or 0 (off)")
    low, high, low_open = details
    try:
        number = float(text)
    except ValueError:
        raise ValueError("not a number") from None
    if math.isnan(number):
        raise ValueError("not a number")
    # The range first: a huge number (float() makes 1e400 infinite) is out of range, not "not whole".
    if number < low or number > high or (low_open and number == low):
        raise ValueError(f"must be {_range_text(low, high, low_open)}")
    if kind == "int" and not number.is_integer():
        raise ValueError("must be a whole number")
    if name in SNAP:
        number = round(round(number / SNAP[name]) * SNAP[name], 10)
    return key, int(number) if kind == "int" else float(number)


MAX_NOTES = 10          # a link can hold hundreds of bad parameters: say a few, count the rest
SHOWN_CHARS = 40        # ...and any of them can be 10 kB long: show its start only


def _shown(text, limit=SHOWN_CHARS):
    """Link text as it is quoted in a note: at most `limit` characters, on one line,
    without backticks (they would end the note's code span)."""
    text = str(text).replace("`", "'").replace("\n", " ").replace("\r", " ")
    return text if len(text) <= limit else text[:limit] + "…"


def from_params(params):
    """Widget values from URL parameters (a dict name -> text).

    Returns (values, notes): values maps widget key -> value for every valid
    parameter; notes lists each ignored parameter and why (at most MAX_NOTES,
    then one line counting the rest). Unknown names and the presenter flag are
    not settings (the flag is ignored silently).
    """
    values, notes = {}, []
    for raw_name, text in params.items():
        if raw_name == PRESENT:
            continue
        name = ALIASES.get(raw_name.lower(), raw_name.lower())
        shown = f"`{_shown(raw_name)}={_shown(text)}`"
        if name not in PARAMS:
            notes.append(f"{shown}: not a setting of this page (known: {', '.join(PARAMS)})")
            continue
        try:
            key, value = parse_value(name, text)
        except ValueError as err:
            notes.append(f"{shown}: {_shown(err, 200)}")    # some reasons quote the value again
            continue
        values[key] = value
    if len(notes) > MAX_NOTES:
        notes = notes[:MAX_NOTES] + [f"…and {len(notes) - MAX_NOTES} more parameters, ignored too."]
    return values, notes


def _text(name, value):
    kind = PARAMS[name][1]
    if kind == "hidden":
        return "-".join(str(s) for s in training.parse_hidden(value)) or "none"
    if kind == "bool":
        return "1" if value else "0"
    if kind == "int":
        return str(int(value))
    if kind == "float":
        return f"{float(value):g}"
    return str(value)


def to_params(values):
    """URL parameters (name -> text) for widget values: only those that differ from
    the defaults. A hidden-layer text that isn't valid is left out."""
    params = {}
    for name, (key, _, _) in PARAMS.items():
        value = values.get(key, training.WIDGETS[key])
        if value == training.WIDGETS[key]:
            continue
        try:
            text = _text(name, value)
        except ValueError:
            continue
        if text != _text(name, training.WIDGETS[key]):
            params[name] = text
    return params


def query_string(params):
    return "&".join(f"{k}={v}" for k, v in params.items())


# ------------------------------------------------------------------ the page's URL

def widget_values():
    saved = st.session_state.get("train_saved", {})
    return {key: st.session_state.get(key, saved.get(key, default)) for key, default in training.WIDGETS.items()}


def apply(values):
    """Set the Train widgets: the defaults, then `values` (widget key -> value)."""
    for key, default in training.WIDGETS.items():
        st.session_state[key] = values.get(key, default)
    training.save_widgets()


def _url_settings():
    """The URL's parameters other than the presenter flag (and Streamlit's own embed ones)."""
    return {k: st.query_params[k] for k in st.query_params if k != PRESENT}


def read_url(busy=False):
    """Call on the Train page after training.restore_widgets(), before drawing the widgets.

    A link's settings are applied once, when the URL differs from what this
    page last wrote there (a freshly opened link). An address without settings
    (e.g. after a page switch) changes nothing: the widgets keep their values.
    """
    url = _url_settings()
    if not url or url == st.session_state.get("lesson_synced"):
        return
    if busy:
        st.session_state["lesson_notes"] = (to_params(widget_values()), [
            "This link's settings were not loaded because a run is going. Stop or Reset it, then open the link again."])
        return
    values, notes = from_params(url)
    apply(values)
    st.session_state["lesson_notes"] = (to_params(widget_values()), notes)


def write_url():
    """Call after drawing the widgets: the URL follows their values. Returns the
    settings' parameters (name -> text)."""
    params = to_params(widget_values())
    url = _url_settings()
    if url != params:
        for name in url:
            if name not in params:
                del st.query_params[name]
        changed = {k: v for k, v in params.items() if url.get(k) != v}
        if changed:
            st.query_params.update(changed)
    st.session_state["lesson_synced"] = params
    return params


def notes():
    """Why parts of the link that opened this page were ignored (list of text), while
    the settings are still those the link gave; [] once the user changes one."""
    applied, ignored = st.session_state.get("lesson_notes", (None, []))
    if applied is None:
        return ignored
    return ignored if applied == to_params(widget_values()) else []


def link(params):
    """The lesson link for these settings: full address when the browser's is known."""
    query = query_string({**params, **({PRESENT: "1"} if st.session_state.get("presenter") else {})})
    base = None
    try:
        base = st.context.url
    except Exception:  # noqa: BLE001 - no browser (tests, scripts)
        base = None
    if not base:
        base = f"/{URL_PATH}"
    elif not base.rstrip("/").endswith(f"/{URL_PATH}"):
        base = base.rstrip("/") + f"/{URL_PATH}"
    return base + (f"?{query}" if query else "")


# ------------------------------------------------------------------ guided experiments
# Each experiment: one or two variants (button label -> widget values, applied over
# the defaults), what to look for and why. The effects were checked on the built-in
# sample (10,000 training images) with the engine; numbers in the text are rounded.

EXPERIMENTS = [
    {
        "id": "lr_too_high",
        "title": "A learning rate far too high",
        "variants": {
            "Learning rate 10": {"train_lr": 10.0, "train_epochs": 3},
        },
        "look_for": "Within a few dozen mini-batches the loss shoots up and the run stops with "
                    "**Training diverged…**: the engine says where and why, and your model is not replaced.",
        "why": "Each step moves the weights by lr × gradient. With lr 10 (and momentum adding steps up) a step "
               "jumps right over the valley to a place where the loss is higher, so the next gradient is bigger "
               "and the next jump bigger still. The weights grow until they blow up; the engine stops when a "
               "weight passes 10,000 or the loss stops being a number, and keeps the last good weights.",
    },
    {
        "id": "saturation",
        "title": "Sigmoid with huge starting weights",
        "variants": {
            "Sigmoid, init scale 30": {"train_activation": "sigmoid", "train_init_scale": 30.0, "train_epochs": 3},
            "Sigmoid, init scale 1 (to compare)": {"train_activation": "sigmoid", "train_epochs": 3},
        },
        "look_for": "With init scale 30 the first losses are more than ten times higher and take several "
                    "times as many mini-batches to come down; after 3 epochs it is several points behind the "
                    "scale-1 run.",
        "why": "Big weights make big weighted sums z, and a sigmoid is flat far from 0: its output sticks at 0 or "
               "1 and its slope σ(z)(1 − σ(z)) is almost 0. Backprop multiplies the blame by that slope, so little "
               "blame reaches the first layer and its units barely learn (here about three quarters of the hidden "
               "outputs start stuck near 0 or 1). The outputs also start confidently wrong, hence the huge first loss.",
    },
    {
        "id": "tiny_hidden",
        "title": "A hidden layer of only 5 units",
        "variants": {
            "5 hidden units": {"train_hidden": "5", "train_epochs": 5},
            "128 hidden units (to compare)": {"train_epochs": 5},
        },
        "look_for": "The 5-unit network levels off in the mid-80s %, and its *training* accuracy stays low too; "
                    "128 units get well over 90% in the same 5 epochs.",
        "why": "Everything the output layer knows about an image must squeeze through 5 numbers. Five features "
               "are not enough to tell 10 digits apart, so the network underfits: it is too small to learn the "
               "task, which is a different problem from memorising (overfitting).",
    },
    {
        "id": "mse_vs_ce",
        "title": "The write-up's sigmoid + MSE vs ReLU + softmax + cross-entropy",
        "variants": {
            "Sigmoid + MSE (the write-up)": {"train_activation": "sigmoid", "train_loss": "mse",
                                              "train_optimizer": "sgd", "train_lr": 0.5,
                                              "train_batch_size": 100, "train_epochs": 5},
            "ReLU + softmax + cross-entropy": {"train_activation": "relu", "train_loss": "cross-entropy",
                                               "train_optimizer": "sgd", "train_lr": 0.5,
                                               "train_batch_size": 100, "train_epochs": 5},
        },
        "look_for": "Same plain SGD, learning rate, batches of 100 and 5 epochs. Sigmoid + MSE creeps: on the "
                    "built-in sample, about two thirds of the validation images right after the first epoch and "
                    "mid-80s % at the end, while cross-entropy is near 90% after one epoch and mid-90s % at the "
                    "end (the full MNIST gives higher numbers and a similar gap). Compare accuracies, not "
                    "losses: the two losses use different scales. Train both, then open **Compare runs**.",
        "why": "With sigmoid outputs and MSE, an output's blame is (a − y)·σ′(z), and σ′(z) is nearly 0 when the "
               "output is confidently wrong: the blame is tiny exactly when it should be big. Softmax + "
               "cross-entropy makes it simply a − y, so sure-and-wrong gets the biggest correction. ReLU hidden "
               "units don't flatten out for large positive z the way sigmoids do either.",
    },
    {
        "id": "no_shuffle",
        "title": "No shuffling",
        "variants": {
            "Shuffle off": {"train_shuffle": False, "train_epochs": 3},
            "Shuffle on (to compare)": {"train_shuffle": True, "train_epochs": 3},
        },
        "look_for": "In *Loss of each mini-batch*, the wiggles of every epoch repeat the same pattern (same batches "
                    "in the same order). The accuracy ends up about the same.",
        "why": "MNIST's images are already in random order, so each fixed batch is still a fair mix of digits. "
               "Shuffling matters when data is sorted (all the 0s, then all the 1s…): the network would chase "
               "whichever digit it saw last and forget the others. Fresh batches every epoch also add a little "
               "useful noise.",
    },
    {
        "id": "batch_size",
        "title": "Batch size 1 vs 1,000",
        "variants": {
            "Batch 1 (1 epoch: slow)": {"train_batch_size": 1, "train_optimizer": "sgd", "train_lr": 0.01,
                                        "train_epochs": 1},
            "Batch 1,000 (1 epoch)": {"train_batch_size": 1000, "train_optimizer": "sgd", "train_lr": 0.01,
                                      "train_epochs": 1},
        },
        "look_for": "Same single epoch, same learning rate. Batch 1 makes one update per image: a jagged, noisy "
                    "loss and about 90% at the end, but it is slow (around 10 s on the built-in sample, about a "
                    "minute on the full MNIST; watch examples/s). Batch 1,000 makes only a handful of smooth "
                    "updates in a blink and is still far from trained.",
        "why": "Learning happens in the updates. A big batch gives a more accurate gradient but few steps per "
               "epoch, so it needs a bigger learning rate or more epochs. Tiny batches give many cheap, noisy "
               "steps, and waste NumPy's ability to process a 1,000-row matrix almost as fast as a single row.",
    },
    {
        "id": "l2",
        "title": "L2 (weight decay) off and on",
        "variants": {
            "L2 off, 15 epochs": {"train_l2": 0.0, "train_epochs": 15},
            "L2 0.002, 15 epochs": {"train_l2": 0.002, "train_epochs": 15},
        },
        "look_for": "Without L2 the training accuracy reaches 100% and the training loss heads for 0, while "
                    "validation stays a few points lower: it is memorising. With L2 the gap between training and "
                    "validation shrinks and the training loss stays higher (it includes the penalty). The test "
                    "accuracy changes little on this data, and may even drop a bit.",
        "why": "L2 adds ½·λ·Σw² to the loss, so every update also shrinks every weight a little. Large weights "
               "that only help fit a few training images get pulled back. Too much L2 keeps even useful "
               "weights small, and the network underfits.",
    },
]


def presets():
    """Every variant as (experiment id, variant label, widget values)."""
    return [(e["id"], label, values) for e in EXPERIMENTS for label, values in e["variants"].items()]


def load_preset(exp_id, label):
    """Button callback: put one experiment variant into the widgets (the URL follows)."""
    exp = next(e for e in EXPERIMENTS if e["id"] == exp_id)
    apply(exp["variants"][label])
    st.session_state["lesson_loaded"] = f"{exp['title']}: {label}"
    st.session_state["train_error"] = ""


def preset_label(settings):
    """The variant's label if a run's settings dict is exactly that variant's, else None."""
    for exp_id, label, values in presets():
        try:
            wanted = _settings_dict(values)
        except ValueError:
            continue
        if all(settings.get(k) == v for k, v in wanted.items()):
            return label.removesuffix(" (to compare)")
    return None


def _settings_dict(values):
    full = {**training.WIDGETS, **values}
    sizes = training.parse_hidden(full["train_hidden"])
    d = {"sizes": [784, *sizes, 10]}
    for key, value in full.items():
        if key != "train_hidden":
            d[key.removeprefix("train_")] = value
    return d


# ------------------------------------------------------------------ words for a run's settings

LOSS_SHORT = {"cross-entropy": "softmax + CE", "mse": "sigmoid + MSE"}


def short_name(settings):
    """A few words naming a run: layers, activation, loss, learning rate."""
    s = settings
    loss = {"cross-entropy": "CE", "mse": "MSE"}.get(s.get("loss"), s.get("loss"))
    return f"{'-'.join(map(str, s.get('sizes', [])))} {s.get('activation', '?')}, {loss}, lr {s.get('lr', 0):g}"


def settings_summary(settings):
    """A run's settings dict in a few words: the network, the step, the loop, and any
    other setting that differs from the defaults."""
    s = settings
    d = training.WIDGETS
    parts = [f"{'-'.join(map(str, s.get('sizes', [])))} {s.get('activation', '?')}, "
             f"{LOSS_SHORT.get(s.get('loss'), s.get('loss'))}",
             f"{s.get('optimizer', '?')} lr {s.get('lr', 0):g}",
             f"batch {s.get('batch_size', '?')}, {s.get('epochs', '?')} epochs"]
    extra = {"lr_decay": "decay {:g}", "momentum": "momentum {:g}", "l2": "L2 {:g}", "init_scale": "init ×{:g}",
             "augment": "augment {:g}", "val_fraction": "val {:.0%}", "seed": "seed {}"}
    for key, fmt in extra.items():
        if key == "momentum" and s.get("optimizer") != "momentum":
            continue
        if key in s and f"train_{key}" in d and s[key] != d[f"train_{key}"]:
            parts.append(fmt.format(s[key]))
    if s.get("shuffle") is False:
        parts.append("no shuffling")
    return " · ".join(parts)
