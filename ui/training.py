"""The session's training run: start, pause, resume, stop, reset, finish.

The run trains in a thread of its own (engine/worker.py), so the pages never
train: they only ask (pause, resume, stop, reset) and draw what the run has done.
Every request is seen by the run within a fraction of a second, whatever the
settings; a click never waits for a mini-batch, and a session never trains in two
threads at once. Before Start the run's memory and the time of one mini-batch are
estimated and settings over the server's limits (ui/limits.py) are refused; at most
limits.MAX_TRAINING_RUNS runs of the whole server train at once, the others wait
in line (engine/worker.Slots).

Session keys used:
    train_<knob>     the settings widgets (see WIDGETS), restored after a page switch
    trainer          the engine Trainer of the current run, or absent
    train_job        the worker.BackgroundRun training it, or absent
    train_status     "idle" | "running" | "paused" | "stopping" | "finished" | "stopped" | "diverged"
    train_error      why the last Start was refused, or ""
    train_result     final metrics of the current run once it ended
    runs             every ended run: settings + history + final metrics (a list)
    train_upload     the model-file uploader; train_upload_result remembers its outcome
"""
import time

import pandas as pd
import streamlit as st

from engine import metrics
from engine.convnet import cnn_spec
from engine.cost import run_cost
from engine.modelfile import ModelFileError, load_model_with_notes
from engine.trainer import Settings, new_run
from engine.worker import BackgroundRun
from i18n import N_, _, as_is, num, pct
from ui import formats, limits, linework, pages, server, state, translation

TICK_SECONDS = 1.0       # the live panels redraw this often while a run is going
ANSWER_SECONDS = 1.0     # Pause and Stop wait at most this long for the run to answer
SLOW_MOTION_SECONDS = 30.0   # slow motion spreads a whole run over about this long
STEERABLE = ("train_lr", "train_momentum", "train_l2", "train_batch_size")   # may change during a run

_D = Settings()
# Widget key -> default value (the engine's Settings() defaults).
WIDGETS = {
    "train_hidden": ",".join(str(s) for s in _D.sizes[1:-1]),
    "train_activation": _D.activation,
    "train_loss": _D.loss,
    "train_optimizer": _D.optimizer,
    "train_lr": float(_D.lr),
    "train_momentum": float(_D.momentum),
    "train_l2": float(_D.l2),
    "train_batch_size": int(_D.batch_size),
    "train_epochs": int(_D.epochs),
    "train_seed": int(_D.seed),
    "train_val_fraction": float(_D.val_fraction),
    "train_shuffle": bool(_D.shuffle),
    "train_init_scale": float(_D.init_scale),
    "train_augment": float(_D.augment),
    "train_lr_decay": float(_D.lr_decay),
    # The kind of network, and a CNN's knobs (engine/convnet.py cnn_spec): for each number in
    # train_filters a conv layer of that many kernel x kernel filters (padding), an activation and a
    # pool x pool max-pooling; then an optional dense hidden layer of train_dense units (0 = none).
    "train_kind": "mlp",
    "train_filters": "8,16",
    "train_kernel": 5,
    "train_padding": 0,
    "train_pool": 2,
    "train_dense": 0,
}
KINDS = {"mlp": N_("MLP (dense layers)"), "cnn": N_("CNN (convolutions)")}
ACTIVE = ("running", "paused", "stopping")


# ------------------------------------------------------------------ settings

def restore_widgets():
    """Put the settings back into their widget keys (Streamlit drops widget
    values when another page is shown). Call before drawing the widgets."""
    st.session_state.setdefault("train_status", "idle")
    st.session_state.setdefault("train_error", "")
    st.session_state.setdefault("runs", [])
    saved = st.session_state.setdefault("train_saved", dict(WIDGETS))
    for key, default in WIDGETS.items():
        if key not in st.session_state:
            st.session_state[key] = saved.get(key, default)


def save_widgets():
    """Remember the widgets' current values. Call after drawing them."""
    st.session_state["train_saved"] = {k: st.session_state.get(k, v) for k, v in WIDGETS.items()}


def reset_widgets():
    """All settings back to the engine defaults."""
    for key, default in WIDGETS.items():
        st.session_state[key] = default
    st.session_state["train_saved"] = dict(WIDGETS)


def _whole(text):
    """int(text) for digits 0-9 only (int() also reads other scripts' digits: '٨' is 8); else ValueError."""
    if not text.isascii():
        raise ValueError(text)
    return int(text)


def parse_hidden(text):
    """'256, 128' -> (256, 128); '' -> () (no hidden layer). Raises ValueError."""
    parts = [p.strip() for p in str(text).replace(";", ",").replace(" ", ",").split(",")]
    parts = [p for p in parts if p]
    try:
        sizes = tuple(_whole(p) for p in parts)
    except ValueError:
        raise ValueError(_("hidden layers must be whole numbers separated by commas, like 128 or 256,128 "
                           "(got '{text}')").format(text=text)) from None
    if any(s < 1 for s in sizes):
        raise ValueError(_("every hidden layer needs at least 1 unit (got '{text}')").format(text=text))
    if len(sizes) > limits.MAX_HIDDEN_LAYERS:
        raise ValueError(_("at most {limit} hidden layers here (got {n})").format(limit=limits.MAX_HIDDEN_LAYERS,
                                                                                  n=len(sizes)))
    if sizes and max(sizes) > limits.MAX_UNITS:
        raise ValueError(_("at most {limit} units per layer here (got {n})").format(limit=limits.MAX_UNITS,
                                                                                    n=max(sizes)))
    return sizes


def parse_filters(text):
    """'8, 16' -> (8, 16): filters of each conv layer. Raises ValueError saying what is wrong."""
    parts = [p for p in str(text).replace(";", ",").replace(" ", ",").split(",") if p.strip()]
    try:
        filters = tuple(_whole(p) for p in parts)
    except ValueError:
        raise ValueError(_("filters must be whole numbers separated by commas, like 8 or 8,16 (got '{text}')")
                         .format(text=text)) from None
    if not filters:
        raise ValueError(_("a CNN needs at least one conv layer: give its number of filters, like 8"))
    if min(filters) < 1:
        raise ValueError(_("every conv layer needs at least 1 filter (got '{text}')").format(text=text))
    if len(filters) > limits.MAX_CONV_LAYERS:
        raise ValueError(_("at most {limit} conv layers here (got {n})").format(limit=limits.MAX_CONV_LAYERS,
                                                                                n=len(filters)))
    if max(filters) > limits.MAX_FILTERS:
        raise ValueError(_("at most {limit} filters per conv layer here (got {n})").format(limit=limits.MAX_FILTERS,
                                                                                           n=max(filters)))
    return filters


def cnn_layers(values, n_classes=10):
    """The layer stack (convnet spec) of the CNN knobs in `values` (widget key -> value).
    Raises ValueError for a bad filters text or a padding not smaller than the kernel."""
    k, p = int(values["train_kernel"]), int(values["train_padding"])
    if p >= k:
        raise ValueError(_("the padding ({p}) must be smaller than the kernel size ({k})").format(p=p, k=k))
    dense = int(values["train_dense"])
    return cnn_spec(parse_filters(values["train_filters"]), k, p, int(values["train_pool"]),
                    (dense,) if dense else (), values["train_activation"], n_classes)


def cnn_knobs(layers):
    """The CNN knobs (filters, kernel, padding, pool, dense) of a layer stack that cnn_spec made,
    or None for any other stack (a file's hand-made one): for words about a run."""
    try:
        convs = [d for d in layers if d.get("kind") == "conv2d"]
        pools = [d["size"] for d in layers if d.get("kind") == "maxpool2d"]
        dense = [d["units"] for d in layers if d.get("kind") == "dense"][:-1]
        acts = [d.get("name") for d in layers if d.get("kind") == "activation"]
        knobs = {"filters": tuple(d["filters"] for d in convs), "kernel": convs[0]["k"], "padding": convs[0]["p"],
                 "pool": pools[0] if pools else 1, "dense": dense[0] if dense else 0}
        same = cnn_spec(knobs["filters"], knobs["kernel"], knobs["padding"], knobs["pool"], tuple(dense[:1]),
                        acts[0] if acts else "relu", layers[-1]["units"])
    except (AttributeError, IndexError, KeyError, TypeError):
        return None
    return knobs if same == [dict(d) for d in layers] else None


def cnn_words(layers):
    """A CNN's layers in a few words: 'conv 8,16 @5×5, pool 2, dense 64' (or its layers as they are)."""
    knobs = cnn_knobs(layers)
    if knobs is None:
        return "CNN of " + " - ".join(d.get("kind", "?") for d in layers)
    words = f"conv {','.join(map(str, knobs['filters']))} @{knobs['kernel']}×{knobs['kernel']}"
    words += f" pad {knobs['padding']}" if knobs["padding"] else ""
    words += f", pool {knobs['pool']}" if knobs["pool"] > 1 else ", no pool"
    return words + (f", dense {knobs['dense']}" if knobs["dense"] else "")


def settings_from_values(values, n_inputs=784, n_classes=10):
    """A Settings built from widget values (widget key -> value; missing ones: the defaults).
    Raises ValueError for bad text."""
    v = {**WIDGETS, **values}
    cnn = v["train_kind"] == "cnn"
    return Settings(sizes=(n_inputs, n_classes) if cnn else (n_inputs, *parse_hidden(v["train_hidden"]), n_classes),
                    layers=cnn_layers(v, n_classes) if cnn else None,
                    activation=v["train_activation"], loss=v["train_loss"],
                    optimizer=v["train_optimizer"], lr=float(v["train_lr"]),
                    momentum=float(v["train_momentum"]), l2=float(v["train_l2"]),
                    batch_size=int(v["train_batch_size"]), epochs=int(v["train_epochs"]),
                    seed=int(v["train_seed"]), val_fraction=float(v["train_val_fraction"]),
                    shuffle=bool(v["train_shuffle"]), init_scale=float(v["train_init_scale"]),
                    augment=float(v["train_augment"]), lr_decay=float(v["train_lr_decay"]))


def settings_from_widgets(n_inputs=784, n_classes=10):
    """A Settings built from the widget values. Raises ValueError for bad text."""
    ss = st.session_state
    # A widget hidden in this run (presenter mode, the other kind's knobs) loses its key: use its saved value.
    saved = ss.get("train_saved", {})
    return settings_from_values({k: ss.get(k, saved.get(k, d)) for k, d in WIDGETS.items()}, n_inputs, n_classes)


def network_text(settings):
    """The network of `settings` in words: '784 → 256 → 10 units', or a CNN's layers one after the other."""
    if settings.layers is None:
        return _("{sizes} units").format(sizes=" → ".join(map(str, settings.sizes)))
    return as_is(" → ".join(repr(layer) for layer in settings.new_net().layers))


def check_cost(settings, n_test, n_examples=0):
    """Refuse (ValueError saying what to change) settings over the budget every model has
    (engine/budget.py, the model loader's too) or over the server's limits.

    n_examples: training images, of which settings.val_fraction are checked after each epoch.
    Returns (cost, seconds of one mini-batch): both estimates, shown before Start."""
    cost = run_cost(settings, n_test, int(round(n_examples * settings.val_fraction)))
    if cost.over_budget:
        raise ValueError((_("this network is bigger than any model may be in this app: {why} (use fewer or smaller "
                            "conv layers, a smaller kernel or more pooling)") if settings.layers is not None else
                          _("this network is bigger than any model may be in this app: {why} (use fewer or smaller "
                            "hidden layers)")).format(why=cost.over_budget))
    return cost, refuse_over_limits(cost, settings.batch_size, _("images"), _("use fewer or smaller hidden layers"))


def refuse_over_limits(cost, batch_size, examples, smaller):
    """ValueError, saying what to change, for a run (engine/cost.RunCost) over the server's memory or
    mini-batch time limits; else the estimated seconds of one mini-batch. examples: what a batch holds
    ("images"); smaller: what to do when the memory is too much ("use fewer or smaller hidden layers")."""
    megabytes = cost.memory_bytes / 2**20
    if megabytes > limits.RUN_MEMORY_MB:
        raise ValueError(_("this network would need about {mb} MB of memory to train, and this server "
                           "allows {limit} MB per run: {smaller}").format(mb=num(megabytes, 0),
                                                                         limit=num(limits.RUN_MEMORY_MB, 0),
                                                                         smaller=smaller))
    seconds = cost.batch_flops / (limits.CORE_GFLOPS * 1e9)
    if seconds > limits.BATCH_SECONDS:
        fits = max(1, int(batch_size * limits.BATCH_SECONDS / seconds))
        raise ValueError(_("one mini-batch of {n} {examples} would take about {seconds} s on this server, and it "
                           "allows {limit} s: use a batch size of at most {fits}, or a smaller network").format(
            n=num(batch_size), examples=examples, seconds=num(seconds, 0), limit=num(limits.BATCH_SECONDS),
            fits=num(fits)))
    return seconds


def passes_text(cost, n_test, n_val):
    """The estimate of the run's validation and test passes, in words (after check_cost)."""
    def took(flops):
        seconds = flops / (limits.CORE_GFLOPS * 1e9)
        return duration_text(seconds) if seconds >= 1 else _("under a second")
    if n_val:
        return _("checking the {n_val} validation images {val_time} after each epoch, testing on the {n_test} test "
                 "images {test_time} at the end").format(n_val=num(n_val), val_time=took(cost.val_flops),
                                                          n_test=num(n_test), test_time=took(cost.test_flops))
    return _("testing on the {n_test} test images {test_time} at the end").format(n_test=num(n_test),
                                                                                 test_time=took(cost.test_flops))


# ------------------------------------------------------------------ run control

def trainer():
    return st.session_state.get("trainer")


def job():
    return st.session_state.get("train_job")


def status():
    """The run's status, as of the start of this page run (see sync)."""
    return st.session_state.get("train_status", "idle")


def sync():
    """Record a run whose thread has ended (finish). Called once at the start of
    every page run and fragment run, so that one run draws one consistent state."""
    if status() in ACTIVE and job() is not None and job().done:
        finish()
    return status()


def start(settings=None):
    """Start a new run with `settings` (default: the widgets). Returns an error
    message (also kept in train_error) or "" when the run started."""
    translation.choose()        # a button's callback runs before dashboard.py sets the run's language
    if sync() in ACTIVE:
        return ""                       # one run at a time (a double click lands here)
    data = state.dataset()
    from ui import class_set      # "Add our class's digits" (imported here: class_set imports this module)
    try:
        if st.session_state.get("lmt_status") in ACTIVE:     # ui/language/train.py: one run per session
            raise ValueError(_("a language model is training on the Train a language model page; stop it first "
                               "(a session trains one run at a time)"))
        x_train, y_train = class_set.training_data(data)
        if settings is None:
            settings = settings_from_widgets(data.x_train.shape[1], 10)
        settings.check(len(x_train))
        check_cost(settings, len(data.y_test), len(x_train))
        run = new_run(x_train, y_train, settings)
    except ValueError as err:
        st.session_state["train_error"] = _("Can't start: {error}.").format(error=err)
        return st.session_state["train_error"]
    worker = BackgroundRun(run, server.training_slots(), data.test_float(), data.y_test,
                           alive=server.session_alive(), name=f"training {run.net.describe()}")
    st.session_state.update(trainer=run, train_job=worker, train_status="running", train_error="",
                            train_result=None, train_data_source=data.source, train_started=time.time())
    set_pace()
    return ""


def steer():
    """A steerable setting changed during a run: it applies from the next batch,
    and the change is marked on the loss chart (engine: Trainer.set_hyperparams)."""
    translation.choose()        # a widget's callback runs before dashboard.py sets the run's language
    run, ss = trainer(), st.session_state
    if run is None or status() not in ("running", "paused"):
        return
    try:
        changed = Settings(**{**run.settings.as_dict(), "batch_size": int(ss["train_batch_size"])})
        check_cost(changed, len(state.dataset().y_test))
        run.set_hyperparams(lr=float(ss["train_lr"]), momentum=float(ss["train_momentum"]),
                            l2=float(ss["train_l2"]), batch_size=int(ss["train_batch_size"]))
        ss["train_error"] = ""
    except ValueError as err:
        ss["train_error"] = _("Can't change that now: {error}.").format(error=err)
    set_pace()                           # the number of batches may have changed


def set_pace():
    """Slow motion (widget train_slow) on or off for the current run."""
    run, worker = trainer(), job()
    if worker is not None:
        batches = run.settings.epochs * run.batches_per_epoch
        worker.batch_seconds = SLOW_MOTION_SECONDS / batches if st.session_state.get("train_slow") else 0.0


def pace_toggle(present, key="train_slow", apply=None, seconds=SLOW_MOTION_SECONDS):
    """The slow-motion switch (widget `key`): on by default in presenter mode, until someone uses it.
    apply(): sets the current run's pace from it (default: the digits' run, set_pace)."""
    ss = st.session_state
    chosen = ss.get(key + "_chosen")          # None until the switch is used
    ss[key] = present if chosen is None else chosen
    st.toggle(_("🐢 Slow motion"), key=key, on_change=_pace_chosen, args=(key,),
              help=_("Spreads a run over about {seconds} seconds, so a class can watch the "
                     "curves move (a run that needs longer than that at full speed goes at full speed). "
                     "It can be switched during a run. Off = full speed.").format(seconds=num(seconds, 0)))
    (apply or set_pace)()


def _pace_chosen(key):
    st.session_state[key + "_chosen"] = st.session_state[key]


def pause():
    if status() == "running":
        job().pause(wait=ANSWER_SECONDS)
        st.session_state["train_status"] = "paused"


def resume():
    if status() == "paused":
        job().resume()
        st.session_state["train_status"] = "running"


def stop():
    """End the run now; the model as it is becomes the session's model (once
    the run has answered, within a second; until then the status is "stopping")."""
    translation.choose()        # a button's callback runs before dashboard.py sets the run's language
    if status() in ("running", "paused"):
        st.session_state["train_status"] = "stopping"
        if job().stop(wait=ANSWER_SECONDS):
            finish()


def reset():
    """Forget the current run (its charts); the session's model and `runs` stay."""
    if job() is not None:
        job().cancel(wait=0)         # its test pass too: nobody will see it
    for key in ("trainer", "train_job", "train_result", "train_data_source"):
        st.session_state.pop(key, None)
    st.session_state["train_status"] = "idle"
    st.session_state["train_error"] = ""


def sidebar_panel(now=None, live=None):
    """On pages other than Train: while a run is going, show its progress in the
    sidebar, with a Pause button and a link to the Train page. The run trains in
    its own thread; this panel only redraws, so a click here is answered at once.
    now, live: another kind of run's status and its panel (ui/language/train.py)."""
    if (now or status()) in ("running", "stopping"):
        with st.sidebar:
            st.fragment(live or _sidebar_live, run_every=TICK_SECONDS)()


def _sidebar_live():
    translation.choose()     # a fragment's rerun does not run dashboard.py, which sets the run's language
    sidebar_progress(sync(), progress()["fraction"], progress_text(short=True), pause, "train", "sidebar_pause")


def sidebar_progress(now, fraction, text, pause_now, page_name, pause_key):
    """The sidebar's progress bar, Pause button and link to the run's page (now: the run's status)."""
    if now not in ("running", "stopping"):   # paused from here, or the run ended
        st.rerun()                    # ... the whole page again: every page now shows the new model
    st.progress(fraction, text=text)
    c1, c2 = st.columns([1, 1.4], vertical_alignment="center")
    c1.button(_("Pause"), key=pause_key, icon=":material/pause:", on_click=pause_now)
    pages.page_link(page_name, label=_("Watch it"), where=c2)


def finish():
    """Record the run once its thread is done: its test accuracy in `runs`, and
    (unless it diverged) its network as the session's model. Safe to call twice."""
    run, worker = trainer(), job()
    if run is None or worker is None or not worker.done or \
            st.session_state.get("train_status", "idle") not in ACTIVE:
        return st.session_state.get("train_result")
    data = state.dataset()
    if worker.error is not None or worker.result is None:
        st.session_state["train_status"] = "stopped"
        st.session_state["train_error"] = _("The run stopped: {why}.").format(why=worker.error or
                                                                             _("its page was closed"))
        return None
    test_loss, test_acc = worker.result
    net = run.net.copy()     # the session's model never changes under anyone's feet
    end = "diverged" if run.diverged else ("finished" if run.finished else "stopped")
    history = {"batch_step": list(run.history.batch_step), "batch_loss": list(run.history.batch_loss),
               "epochs": [dict(e) for e in run.history.epochs], "marks": list(run.history.marks)}
    source = st.session_state.get("train_data_source", data.source)
    result = {"status": end, "test_accuracy": float(test_acc), "test_loss": float(test_loss),
              "epochs_done": run.epoch, "epoch_fraction": run.done_fraction * run.settings.epochs,
              "train_seconds": run.train_seconds, "n_params": int(net.n_params()),
              "wall_seconds": time.time() - st.session_state.get("train_started", time.time()),
              "message": run.message}
    label = _("your model ({network})").format(network=as_is(net.describe()))
    run_id = st.session_state["run_counter"] = st.session_state.get("run_counter", 0) + 1
    record = {"id": run_id, "label": label, "settings": run.settings.as_dict(), "history": history,
              "source": source, "n_train": run.n_train, **result}
    st.session_state.setdefault("runs", []).append(record)
    if end != "diverged":
        state.set_user_model(net, {"label": label, "settings": run.settings.as_dict(),
                                   "test_accuracy": float(test_acc), "test_loss": float(test_loss),
                                   "history": history, "source": source,
                                   "origin": _("trained on the Train page"), "status": end})
    st.session_state["train_status"] = end
    st.session_state["train_result"] = result
    return result


def batch_points(run):
    """(batch numbers, losses) of the run's loss curve, as two lists of one length.
    The run's thread appends to both (and halves both on long runs) while a page
    reads them: a copy taken between its two steps is taken again."""
    h = run.history
    while True:
        steps, losses = list(h.batch_step), list(h.batch_loss)
        if len(steps) == len(losses):
            return steps, losses


duration_text = formats.duration_text     # (kept here too: pages and tests use training.duration_text)


def progress_text(short=False):
    """The progress line of the current run, in words."""
    now, p = status(), progress()
    epoch = _("epoch {epoch}/{epochs}").format(epoch=p["epoch"], epochs=p["epochs"])
    if short:
        return _("**Training** · {epoch} · {percent}").format(epoch=epoch, percent=pct(p["fraction"], 0))
    where = _("epoch {epoch}/{epochs} · batch {batch}/{batches}").format(**p)
    waiting = line_text(job()) if now == "running" else ""
    if waiting:
        return f"{waiting} · {where}"
    label = _(formats.STATUS_LABELS[now])
    secs = p["seconds_left"]
    left = " · " + _("about {duration} left").format(duration=duration_text(secs)) \
        if now == "running" and secs is not None else ""
    if now in ("stopped", "diverged"):
        where = _("after epoch {epoch}/{epochs} · batch {batch}/{batches}").format(**p)
    pace = " · " + _("🐢 slow motion") if job() is not None and job().batch_seconds else ""
    rate = " · " + _("{speed} examples/s").format(speed=num(p["speed"], 0)) if p["speed"] > 0 else ""  # none yet
    return f"**{label}** {where}{rate}{left}{pace}{passes_progress()}"


def passes_progress():
    """' · checking the validation images: 300 of 1,000' while the run checks them (after an
    epoch), ' · testing: 800 of 2,000 test images' during its closing test pass, ' · mini-batch 3: 1,800 of its
    9,000 examples done' in the middle of a mini-batch worked through in parts, else ''."""
    worker, run = job(), trainer()
    if worker is not None and worker.testing is not None and not worker.done:
        return " · " + _("testing: {seen} of {total} test images").format(seen=num(worker.testing.seen),
                                                                          total=num(worker.testing.total))
    checking = run.checking if run is not None else None
    if checking is not None and not checking.done:
        return " · " + _("checking the validation images: {seen} of {total}").format(seen=num(checking.seen),
                                                                                    total=num(checking.total))
    under_way = getattr(run, "under_way", None) if status() in ("running", "paused") else None
    if under_way:                         # a mini-batch of several parts, between two of them (kept when paused)
        return " · " + _("mini-batch {batch}: {done} of its {size} examples done").format(
            batch=num(run.pos // run.settings.batch_size + 1), done=num(under_way[0]), size=num(under_way[1]))
    return ""


def line_text(worker):
    """'**Waiting for a free place** (2nd in line): ...' while `worker` waits in the server's line; else ''."""
    place = worker.position() if worker is not None else 0
    if not place:
        return ""
    training_now, waiting = server.training_slots().counts()
    return _("**Waiting for a free place** ({place} in line): this server trains {limit} runs at a time, and "
             "{wanting} want to").format(place=formats.ordinal(place), limit=limits.MAX_TRAINING_RUNS,
                                         wanting=training_now + waiting)


def numbers_text(run):
    """The charts' latest numbers in words, for whoever cannot see the charts
    (a screen reader reads text, not a chart's lines): the last mini-batch loss,
    then the last epoch's loss and accuracy."""
    steps, losses = batch_points(run)
    words = [_("mini-batch loss {loss} (batch {batch})").format(loss=num(losses[-1], 4), batch=num(steps[-1]))] \
        if losses else []
    if run.history.epochs:
        e = run.history.epochs[-1]
        numbers = dict(epoch=e["epoch"], train_loss=num(e["train_loss"], 4), train_acc=pct(e["train_acc"], 1))
        if "val_loss" in e:
            words.append(_("epoch {epoch}: training loss {train_loss}, accuracy {train_acc}; validation loss "
                           "{val_loss}, accuracy {val_acc}").format(val_loss=num(e["val_loss"], 4),
                                                                    val_acc=pct(e["val_acc"], 1), **numbers))
        else:
            words.append(_("epoch {epoch}: training loss {train_loss}, accuracy {train_acc}").format(**numbers))
    return _("Latest: {numbers}").format(numbers=" · ".join(words)) if words else ""


def progress(run=None):
    """Numbers for the progress line of `run` (default: the session's current run), a dict, or None."""
    worker = job() if run is None else None
    run = run if run is not None else trainer()
    if run is None:
        return None
    s = run.settings
    if run.finished:                      # all done: show the last batch of the last epoch
        epoch, in_epoch = s.epochs - 1, run.n_train
    elif run.pos >= run.n_train:          # an epoch's batches are done (it is being validated): show it
        epoch, in_epoch = run.epoch, run.n_train   # complete, so the line never steps back to its batch 0
    else:
        epoch, in_epoch = run.epoch, run.pos
    seen = epoch * run.n_train + in_epoch
    total = s.epochs * run.n_train
    # Slow motion's rests count: the speed and the time left are the ones the class sees.
    spent = run.train_seconds + (worker.rested if worker is not None else 0.0)
    speed = seen / spent if spent > 0 else 0.0
    return {"fraction": min(1.0, seen / total),
            "epoch": epoch + 1, "epochs": s.epochs,
            "batch": -(-in_epoch // s.batch_size), "batches": run.batches_per_epoch,
            "speed": speed, "seconds_left": (total - seen) / speed if speed > 0 else None,
            "elapsed": run.train_seconds}


# ------------------------------------------------------------------ run records

HISTORY_COLUMNS = ["run", "kind", "epoch", "batch", "train_loss", "train_acc", "val_loss", "val_acc",
                   "batch_loss", "seconds", "change"]


def history_frame(record, name=None):
    """A run record's history as one table: a row per epoch (kind "epoch"), then a
    row per stored mini-batch loss (kind "batch"; averaged once a run is long), then a
    row per change of a setting during the run (kind "change", from the batch it applies)."""
    name = name or record.get("name") or record.get("label", "run")
    history = record.get("history") or {}
    rows = [{"run": name, "kind": "epoch", **{k: e.get(k) for k in
                                              ("epoch", "train_loss", "train_acc", "val_loss", "val_acc", "seconds")}}
            for e in history.get("epochs", [])]
    rows += [{"run": name, "kind": "batch", "batch": s, "batch_loss": loss}
             for s, loss in zip(history.get("batch_step", []), history.get("batch_loss", []))]
    rows += [{"run": name, "kind": "change", "batch": m[0], "change": m[1]} for m in history.get("marks") or []]
    return pd.DataFrame(rows, columns=HISTORY_COLUMNS)


def history_csv(records, names=None):
    """CSV text of the histories of one or more run records (see history_frame)."""
    names = names or [None] * len(records)
    frames = [history_frame(r, n) for r, n in zip(records, names)]
    return pd.concat(frames, ignore_index=True).to_csv(index=False) if frames else ",".join(HISTORY_COLUMNS) + "\n"


# ------------------------------------------------------------------ model files

def load_uploaded(uploaded):
    """Handle the uploader's file once: make it the session's model if valid.

    Returns (ok, message). On any problem the current model is kept.
    """
    if uploaded is None:
        st.session_state.pop("train_upload_result", None)
        return None
    done = st.session_state.get("train_upload_result")
    if done and done[0] == uploaded.file_id:
        return done[1:]
    result = _load(uploaded.getvalue(), uploaded.name)
    st.session_state["train_upload_result"] = (uploaded.file_id, *result)
    return result


def _load(content, name):
    data = state.dataset()
    kept = (_("Your current model is still in use.") if state.user_model()[0] is not None
            else _("{Model} is still in use.").format(Model=_(formats.PRETRAINED_LABEL)[:1].upper()
                                                      + _(formats.PRETRAINED_LABEL)[1:]))
    try:
        net, settings, notes = load_model_with_notes(bytes(content), name=name)
    except ModelFileError as err:
        return False, _("Could not load that model: {error}. {kept}").format(error=err, kept=kept)
    if net.sizes[0] != data.x_train.shape[1] or net.sizes[-1] != 10:
        return False, _("Could not load that model: {name} has layer sizes {sizes}, but MNIST needs {n} inputs and "
                        "10 outputs. {kept}").format(name=as_is(name), sizes="-".join(map(str, net.sizes)),
                                                      n=data.x_train.shape[1], kept=kept)
    label = _("your uploaded model ({network})").format(network=as_is(net.describe()))
    state.set_user_model(net, {"label": label, "settings": settings, "test_accuracy": None, "history": None,
                               "source": data.source, "origin": _("uploaded file {name}").format(name=as_is(name))})
    # At once when it is small; else in the line, started where the Train page shows the model (measure_upload).
    small = linework.forward_flops(net) * len(data.y_test) <= linework.page_flops()
    test_acc = measure_upload() if small else None
    ignored = " " + _("Some training settings in the file were ignored: {notes}.").format(notes="; ".join(notes)) \
        if notes else ""
    if test_acc is None:
        return True, _("Loaded {name}: {network}. It is now your model; its accuracy on the {n} test images is being "
                       "measured (below).").format(name=as_is(name), network=as_is(net.describe()),
                                                   n=num(len(data.y_test))) + ignored
    return True, _("Loaded {name}: {network}, {accuracy} on the test set. It is now your model.").format(
        name=as_is(name), network=as_is(net.describe()), accuracy=pct(test_acc, 1)) + ignored


def measure_upload():
    """The session's uploaded model's test accuracy, kept in its info once measured; None while its
    outputs are computed in the line (ui/linework.py: their progress line is drawn where this is called)."""
    net, info = state.user_model()
    if net is None or not info or info.get("test_accuracy", 0) is not None:
        return (info or {}).get("test_accuracy")
    probs = linework.test_outputs(net, _("your uploaded model"))
    if probs is not None:
        info["test_accuracy"] = metrics.accuracy(probs.argmax(axis=1), state.dataset().y_test)
    return info["test_accuracy"]
