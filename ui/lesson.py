"""Lesson links: the Train page's settings <-> its URL.

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
    kind        mlp | cnn: the kind of network (the parameters below are a CNN's, written only for one)
    filters     a CNN's filters per conv layer, dash-separated: 8, 8-16 (at most 3 layers of 128)
    kernel      a CNN's kernel size, 1 to 9 (its filters are kernel x kernel)
    padding     a CNN's padding, 0 to 4 (smaller than the kernel)
    pool        a CNN's max-pooling size, 1 (none) to 4
    dense       a CNN's dense hidden layer after the convolutions, 0 (none) to 2048 units
    present     1 = presenter mode (handled by ui/presenter.py, on every page)

Example: /train?hidden=5&activation=sigmoid&loss=mse&lr=3&epochs=5
A CNN:   /train?kind=cnn&filters=16-32&kernel=3&padding=1&epochs=3

Unknown parameters and bad values are ignored, each with a note saying why
(long names and values cut short, at most MAX_NOTES notes and a count of the rest).
A link is applied once, when the page opens with it; after that the widgets
lead and the URL follows them.
"""
import math
import re

import streamlit as st

import i18n
from engine.network import ACTIVATIONS, LOSSES
from i18n import _
from engine.optim import OPTIMIZERS
from ui import limits as server_limits, training, translation

PRESENT = "present"     # the presenter-mode parameter (ui/presenter.py)
NOT_SETTINGS = (PRESENT, i18n.QUERY)    # ... and the language's (ui/translation.py): the address's, not the page's

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
    "epochs": ("train_epochs", "int", (1, server_limits.MAX_EPOCHS, False)),
    "seed": ("train_seed", "int", (0, 2**31 - 1, False)),
    "val": ("train_val_fraction", "float", (0.0, 0.5, False)),
    "shuffle": ("train_shuffle", "bool", None),
    "init": ("train_init_scale", "float", (0.0, 100.0, True)),
    "augment": ("train_augment", "float", (0.0, 1.0, False)),
    "kind": ("train_kind", "choice", tuple(training.KINDS)),
    "filters": ("train_filters", "filters", None),
    "kernel": ("train_kernel", "int", (1, server_limits.MAX_KERNEL, False)),
    "padding": ("train_padding", "int", (0, server_limits.MAX_PADDING, False)),
    "pool": ("train_pool", "int", (1, server_limits.MAX_POOL, False)),
    "dense": ("train_dense", "int", (0, server_limits.MAX_UNITS, False)),
}
# Written into a link only for its kind of network (the other kind's knobs do nothing).
ONLY_FOR = {"hidden": "mlp", "filters": "cnn", "kernel": "cnn", "padding": "cnn", "pool": "cnn", "dense": "cnn"}
PARAMS = {name: spec for name, spec in PARAMS.items() if spec[0] in training.WIDGETS}
ALIASES = {"act": "activation", "opt": "optimizer", "lr_decay": "decay", "batch_size": "batch",
           "val_fraction": "val", "init_scale": "init"}
VALUE_ALIASES = {"loss": {"ce": "cross-entropy", "crossentropy": "cross-entropy", "cross_entropy": "cross-entropy"},
                 "activation": {"leaky-relu": "leaky_relu", "leakyrelu": "leaky_relu"}}
SNAP = {"val": 0.05, "augment": 0.1}    # sliders move in these steps
TRUE, FALSE = ("1", "true", "on", "yes"), ("0", "false", "off", "no")
SIZES = re.compile(r"[0-9]+(?: *[-_,; ] *[0-9]+)*")     # layer sizes in a link: 8, 8-16, 256_128
URL_PATH = "train"      # the Train page's address (st.navigation names it after the file)


def _sizes(parse, blank_ok):
    """A parser for a dash-separated list of sizes in a link (hidden layers, filters)."""
    def read(text):
        if blank_ok and text.lower() in ("", "none", "0"):
            return ""
        if not SIZES.fullmatch(text):       # a dash separates sizes: '-8' is not 8
            raise ValueError(_("must be whole numbers separated by dashes, like {example}").format(
                example="128-64" if blank_ok else "8-16"))
        sizes_text = text.replace("-", ",").replace("_", ",")
        try:
            sizes = parse(sizes_text)
        except ValueError as err:   # it quotes the text it got, which in a link can be 10 kB long
            raise ValueError(str(err).replace(sizes_text, _shown(sizes_text))) from None
        return ",".join(map(str, sizes))
    return read


def _range_text(low, high, low_open):
    """'must be above 0 and at most 100' or 'must be from 1 to 200'."""
    return (_("must be above {low} and at most {high}") if low_open else _("must be from {low} to {high}")).format(
        low=f"{low:g}", high=f"{high:g}")


MAX_NOTES = 10          # a link can hold hundreds of bad parameters: say a few, count the rest
SHOWN_CHARS = 40        # ...and any of them can be 10 kB long: show its start only


def _shown(text, limit=SHOWN_CHARS):
    """Link text as it is quoted in a note: at most `limit` characters, on one line,
    without backticks (they would end the note's code span)."""
    text = str(text).replace("`", "'").replace("\n", " ").replace("\r", " ")
    return text if len(text) <= limit else text[:limit] + "…"


class Link:
    """The lesson link of one page: its settings widgets <-> its URL parameters (see the module doc).

    params: URL name -> (widget key, kind, details), kind one of choice, bool, int, float or a key of
    `readers`/`writers` (text kinds of the page's own); defaults: widget key -> default value;
    only_for: URL name -> the value(s) (a tuple) of the widget kind_key for which it is written; check(values, notes):
    a look at values that are in range one by one but not together; prefix: of its session keys."""

    def __init__(self, params, defaults, url_path, prefix, aliases=None, value_aliases=None, snap=None,
                 only_for=None, kind_key=None, readers=None, writers=None, check=None, save=None):
        self.params, self.defaults, self.url_path, self.prefix = params, defaults, url_path, prefix
        self.aliases, self.value_aliases = aliases or {}, value_aliases or {}
        self.snap, self.only_for, self.kind_key = snap or {}, only_for or {}, kind_key
        self.readers, self.writers = readers or {}, writers or {}
        self.check, self.save = check, save
        self.saved_key = None       # set by the page's widgets module if hidden widgets keep a saved value

    def limits(self, key):
        """(min_value, max_value) of the widget `key` for st.number_input / st.slider."""
        for _, (k, kind, details) in self.params.items():
            if k == key:
                low, high, _ = details
                return (int(low), int(high)) if kind == "int" else (float(low), float(high))
        raise KeyError(key)

    def parse_value(self, name, text):
        """The widget value for URL parameter `name` given as `text`.

        Returns (widget_key, value). Raises ValueError saying why the value can't be used.
        """
        key, kind, details = self.params[name]
        text = str(text).strip()
        if kind not in ("choice", "bool") and not text.isascii():
            # Python's int() and float() read any script's digits ('٨' is 8): a link's numbers are 0-9 only.
            raise ValueError(_("use the digits 0-9"))
        if kind in self.readers:
            return key, self.readers[kind](text)
        if kind == "choice":
            value = self.value_aliases.get(name, {}).get(text.lower(), text.lower())
            if value not in details:
                raise ValueError(_("choose one of {choices}").format(choices=i18n.as_is(", ".join(details))))
            return key, value
        if kind == "bool":
            if text.lower() in TRUE:
                return key, True
            if text.lower() in FALSE:
                return key, False
            raise ValueError(_("use 1 (on) or 0 (off)"))
        low, high, low_open = details
        try:
            number = float(text)
        except ValueError:
            raise ValueError(_("not a number")) from None
        if math.isnan(number):
            raise ValueError(_("not a number"))
        # The range first: a huge number (float() makes 1e400 infinite) is out of range, not "not whole".
        if number < low or number > high or (low_open and number == low):
            raise ValueError(_range_text(low, high, low_open))
        if kind == "int" and not number.is_integer():
            raise ValueError(_("must be a whole number"))
        if name in self.snap:
            number = round(round(number / self.snap[name]) * self.snap[name], 10)
        return key, int(number) if kind == "int" else float(number)

    def from_params(self, params):
        """Widget values from URL parameters (a dict name -> text).

        Returns (values, notes): values maps widget key -> value for every valid
        parameter; notes lists each ignored parameter and why (at most MAX_NOTES,
        then one line counting the rest). Unknown names and the presenter flag are
        not settings (the flag is ignored silently).
        """
        values, notes = {}, []
        for raw_name, text in params.items():
            if raw_name in NOT_SETTINGS:
                continue
            name = self.aliases.get(raw_name.lower(), raw_name.lower())
            shown = f"`{_shown(raw_name)}={_shown(text)}`"
            if name not in self.params:
                notes.append(_("{parameter}: not a setting of this page (known: {known})").format(
                    parameter=shown, known=i18n.as_is(", ".join(self.params))))
                continue
            try:
                key, value = self.parse_value(name, text)
            except ValueError as err:
                notes.append(f"{shown}: {_shown(err, 200)}")    # some reasons quote the value again
                continue
            values[key] = value
        if self.check is not None:
            self.check(values, notes)
        if len(notes) > MAX_NOTES:
            notes = notes[:MAX_NOTES] + [_("…and {n} more parameters, ignored too.").format(n=len(notes) - MAX_NOTES)]
        return values, notes

    def _text(self, name, value):
        kind = self.params[name][1]
        if kind in self.writers:
            return self.writers[kind](value)
        if kind == "bool":
            return "1" if value else "0"
        if kind == "int":
            return str(int(value))
        if kind == "float":
            return f"{float(value):g}"
        return str(value)

    def to_params(self, values):
        """URL parameters (name -> text) for widget values: only those that differ from
        the defaults. A text value that isn't valid is left out."""
        params = {}
        kind = values.get(self.kind_key, self.defaults.get(self.kind_key))
        for name, (key, _, _) in self.params.items():
            allowed = self.only_for.get(name, kind)
            if kind not in (allowed if isinstance(allowed, tuple) else (allowed,)):
                continue
            value = values.get(key, self.defaults[key])
            if value == self.defaults[key]:
                continue
            try:
                text = self._text(name, value)
            except ValueError:
                continue
            if text != self._text(name, self.defaults[key]):
                params[name] = text
        return params

    # -------------------------------------------------------------- the page's URL
    def widget_values(self):
        saved = st.session_state.get(self.saved_key, {}) if self.saved_key else {}
        return {key: st.session_state.get(key, saved.get(key, default)) for key, default in self.defaults.items()}

    def apply(self, values):
        """Set the widgets: the defaults, then `values` (widget key -> value)."""
        for key, default in self.defaults.items():
            st.session_state[key] = values.get(key, default)
        if self.save is not None:
            self.save()

    def read_url(self, busy=False):
        """Call after the widgets' values are restored, before drawing them.

        A link's settings are applied once, when the URL differs from what this
        page last wrote there (a freshly opened link). An address without settings
        (e.g. after a page switch) changes nothing: the widgets keep their values.
        """
        url = _url_settings()
        if not url or url == st.session_state.get(self.prefix + "synced"):
            return
        if busy:
            st.session_state[self.prefix + "notes"] = (self.to_params(self.widget_values()), [
                _("This link's settings were not loaded because a run is going. Stop or Reset it, then open the "
                  "link again.")])
            return
        values, notes = self.from_params(url)
        self.apply(values)
        st.session_state[self.prefix + "notes"] = (self.to_params(self.widget_values()), notes)

    def write_url(self):
        """Call after drawing the widgets: the URL follows their values. Returns the
        settings' parameters (name -> text)."""
        params = self.to_params(self.widget_values())
        url = _url_settings()
        if url != params:
            for name in url:
                if name not in params:
                    del st.query_params[name]
            changed = {k: v for k, v in params.items() if url.get(k) != v}
            if changed:
                st.query_params.update(changed)
        st.session_state[self.prefix + "synced"] = params
        return params

    def notes(self):
        """Why parts of the link that opened this page were ignored (list of text), while
        the settings are still those the link gave; [] once the user changes one."""
        applied, ignored = st.session_state.get(self.prefix + "notes", (None, []))
        if applied is None:
            return ignored
        return ignored if applied == self.to_params(self.widget_values()) else []

    def link(self, params):
        """The lesson link for these settings: full address when the browser's is known."""
        query = query_string({**params, **({PRESENT: "1"} if st.session_state.get("presenter") else {}),
                              **translation.link_params()})
        try:
            base = st.context.url
        except Exception:  # noqa: BLE001 - no browser (tests, scripts)
            base = None
        if not base:
            base = f"/{self.url_path}"
        elif not base.rstrip("/").endswith(f"/{self.url_path}"):
            base = base.rstrip("/") + f"/{self.url_path}"
        return base + (f"?{query}" if query else "")


def values_of(settings):
    """The Train widgets' values (widget key -> value) that give a run's settings dict back (Settings.as_dict()):
    an MLP's or a CNN's that the Train page made (training.cnn_knobs). {} for settings it cannot make (none, or
    a file's hand-made layer stack)."""
    if not settings:
        return {}
    values = {k: settings[k[len("train_"):]] for k in training.WIDGETS
              if k not in ("train_hidden", "train_kind") and k[len("train_"):] in settings}
    if settings.get("layers"):
        knobs = training.cnn_knobs(settings["layers"])
        if knobs is None:
            return {}
        values.update(train_kind="cnn", train_filters=",".join(map(str, knobs["filters"])),
                      train_kernel=knobs["kernel"], train_padding=knobs["padding"], train_pool=knobs["pool"],
                      train_dense=knobs["dense"])
    else:
        values.update(train_kind="mlp", train_hidden=",".join(str(n) for n in settings.get("sizes", [])[1:-1]))
    return values


def query_string(params):
    return "&".join(f"{k}={v}" for k, v in params.items())


def _url_settings():
    """The URL's parameters other than the presenter flag and the language (and Streamlit's own embed ones)."""
    return {k: st.query_params[k] for k in st.query_params if k not in NOT_SETTINGS}


def _kernel_and_padding(values, notes):
    kernel = values.get("train_kernel", training.WIDGETS["train_kernel"])
    if values.get("train_padding", 0) >= kernel:       # each is in range, but not the two together
        notes.append(_("`padding={padding}`: must be smaller than the kernel size ({kernel})").format(
            padding=values.pop("train_padding"), kernel=kernel))


TRAIN = Link(PARAMS, training.WIDGETS, URL_PATH, "lesson_", aliases=ALIASES, value_aliases=VALUE_ALIASES,
             snap=SNAP, only_for=ONLY_FOR, kind_key="train_kind",
             readers={"hidden": _sizes(training.parse_hidden, True), "filters": _sizes(training.parse_filters, False)},
             writers={"hidden": lambda v: "-".join(str(s) for s in training.parse_hidden(v)) or "none",
                      "filters": lambda v: "-".join(str(s) for s in training.parse_filters(v))},
             check=_kernel_and_padding, save=training.save_widgets)
TRAIN.saved_key = "train_saved"
# The Train page's link, as functions (the names other modules and tests use).
limits, parse_value, from_params, to_params = TRAIN.limits, TRAIN.parse_value, TRAIN.from_params, TRAIN.to_params
widget_values, apply, read_url, write_url, notes, link = (TRAIN.widget_values, TRAIN.apply, TRAIN.read_url,
                                                         TRAIN.write_url, TRAIN.notes, TRAIN.link)
