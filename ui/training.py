"""The session's training run: start, pause, resume, stop, reset, one slice, finish.

Everything lives in st.session_state, so a run survives reruns, button clicks
and page switches. The Train page only draws what is here; tests drive the
same functions directly.

Session keys used:
    train_<knob>     the settings widgets (see WIDGETS), restored after a page switch
    trainer          the engine Trainer of the current run, or absent
    train_status     "idle" | "running" | "paused" | "finished" | "stopped" | "diverged"
    train_error      why the last Start was refused (Settings.check message), or ""
    train_result     final metrics of the current run once it ended
    runs             every ended run: settings + history + final metrics (a list)
    train_upload     the model-file uploader; train_upload_result remembers its outcome
    train_timing     seconds spent training vs drawing the live charts (to check their cost)
    train_loop_seconds, train_slice_seconds   optional overrides of LOOP_SECONDS and
                     SLICE_SECONDS (tests set them to act in the middle of a run)

How the page trains: its live panel is an st.fragment(run_every=TICK_SECONDS).
Each run of it trains slice after slice (train_slice, about SLICE_SECONDS each),
redrawing in place between slices, for up to LOOP_SECONDS; then run_every starts
it again. A click (Pause, Stop, another page) interrupts between two slices, so
the network is never left half-updated. On every other page, sidebar_panel()
keeps a running run going the same way, with a small progress bar in the
sidebar, so a class can look at other pages while a long run trains.
"""
import time

import numpy as np
import pandas as pd
import streamlit as st

from engine import metrics
from engine.modelfile import ModelFileError, load_model
from engine.trainer import Settings, new_run
from ui import state

SLICE_SECONDS = 0.5      # training between two updates of the progress bar
CHART_EVERY = 1.0        # seconds between redraws of the loss and accuracy charts ...
HEAVY_EVERY = 2.0        # ... and of the weight pictures
LOOP_SECONDS = 20.0      # one run of the live panel trains slices for this long ...
TICK_SECONDS = 0.5       # ... and st.fragment(run_every=...) starts the next one
SIDEBAR_SLICE_SECONDS = 0.2   # shorter slices on other pages: a click there waits at most this long
MAX_HIDDEN_LAYERS = 5    # keep runs small enough for a shared classroom server
MAX_UNITS = 2048

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
}
if hasattr(_D, "augment"):      # newer engines can distort the training images a little
    WIDGETS["train_augment"] = float(_D.augment)
if hasattr(_D, "lr_decay"):     # ... and shrink the learning rate after every epoch
    WIDGETS["train_lr_decay"] = float(_D.lr_decay)
ACTIVE = ("running", "paused")


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


def parse_hidden(text):
    """'256, 128' -> (256, 128); '' -> () (no hidden layer). Raises ValueError."""
    parts = [p.strip() for p in str(text).replace(";", ",").replace(" ", ",").split(",")]
    parts = [p for p in parts if p]
    try:
        sizes = tuple(int(p) for p in parts)
    except ValueError:
        raise ValueError(f"hidden layers must be whole numbers separated by commas, like 128 or 256,128 "
                         f"(got '{text}')") from None
    if any(s < 1 for s in sizes):
        raise ValueError(f"every hidden layer needs at least 1 unit (got '{text}')")
    if len(sizes) > MAX_HIDDEN_LAYERS:
        raise ValueError(f"at most {MAX_HIDDEN_LAYERS} hidden layers here (got {len(sizes)})")
    if sizes and max(sizes) > MAX_UNITS:
        raise ValueError(f"at most {MAX_UNITS} units per layer here (got {max(sizes)})")
    return sizes


def settings_from_widgets(n_inputs=784, n_classes=10):
    """A Settings built from the widget values. Raises ValueError for bad text."""
    ss = st.session_state
    # A widget hidden in this run (presenter mode) loses its key: use its saved value.
    saved = ss.get("train_saved", {})
    get = lambda k: ss.get(k, saved.get(k, WIDGETS[k]))  # noqa: E731
    return Settings(sizes=(n_inputs, *parse_hidden(get("train_hidden")), n_classes),
                    activation=get("train_activation"), loss=get("train_loss"),
                    optimizer=get("train_optimizer"), lr=float(get("train_lr")),
                    momentum=float(get("train_momentum")), l2=float(get("train_l2")),
                    batch_size=int(get("train_batch_size")), epochs=int(get("train_epochs")),
                    seed=int(get("train_seed")), val_fraction=float(get("train_val_fraction")),
                    shuffle=bool(get("train_shuffle")), init_scale=float(get("train_init_scale")),
                    **({"augment": float(get("train_augment"))} if "train_augment" in WIDGETS else {}),
                    **({"lr_decay": float(get("train_lr_decay"))} if "train_lr_decay" in WIDGETS else {}))


# ------------------------------------------------------------------ run control

def status():
    return st.session_state.get("train_status", "idle")


def trainer():
    return st.session_state.get("trainer")


def start(settings=None):
    """Start a new run with `settings` (default: the widgets). Returns an error
    message (also kept in train_error) or "" when the run started."""
    data = state.dataset()
    try:
        if settings is None:
            settings = settings_from_widgets(data.x_train.shape[1], 10)
        settings.check(len(data.x_train))
        run = new_run(data.x_train, data.y_train, settings)
    except ValueError as err:
        st.session_state["train_error"] = f"Can't start: {err}."
        return st.session_state["train_error"]
    st.session_state.update(trainer=run, train_status="running", train_error="",
                            train_result=None, train_data_source=data.source,
                            train_timing={"started": time.time(), "train": 0.0, "draw": 0.0})
    return ""


def pause():
    if status() == "running":
        st.session_state["train_status"] = "paused"


def resume():
    if status() == "paused":
        st.session_state["train_status"] = "running"


def stop():
    """End the run now; the model as it is becomes the session's model."""
    if status() in ACTIVE:
        finish(stopped=True)


def reset():
    """Forget the current run (its charts); the session's model and `runs` stay."""
    for key in ("trainer", "train_result", "train_data_source"):
        st.session_state.pop(key, None)
    st.session_state["train_status"] = "idle"
    st.session_state["train_error"] = ""


def train_slice(seconds=SLICE_SECONDS):
    """Train for about `seconds` if a run is going; finish it when it ends.

    Returns the engine's StepReport, or None when nothing was trained.
    """
    run = trainer()
    if run is None or status() != "running":
        return None
    report = run.run(seconds=seconds)
    timing = st.session_state.setdefault("train_timing", {"train": 0.0, "draw": 0.0})
    timing["train"] += report.seconds
    if run.finished or run.diverged:
        finish()
    return report


def sidebar_panel():
    """On pages other than Train: if a run is going, keep training it in a
    fragment in the sidebar, with a progress bar, a Pause button and a link
    to the Train page. Call it after the page has run, so the page shows first."""
    if status() == "running":
        st.session_state["_sidebar_inline"] = True      # this first call is part of the page's run
        with st.sidebar:
            st.fragment(_sidebar_live, run_every=TICK_SECONDS)()


def _sidebar_live():
    if status() != "running":        # paused from here, or the run ended
        st.rerun()                   # ... the whole page again, without this panel
    bar = st.empty()
    c1, c2 = st.columns([1, 1.4], vertical_alignment="center")
    c1.button("Pause", key="sidebar_pause", icon=":material/pause:", on_click=pause)
    c2.page_link("app_pages/4_train.py", label="Watch it", icon="🏋️")
    # Within the page's own run: one slice, so the page is soon done; on the
    # fragment's own ticks: slices for up to LOOP_SECONDS, like the Train page.
    inline = st.session_state.pop("_sidebar_inline", False)
    end = time.perf_counter() + (0 if inline else st.session_state.get("train_loop_seconds", LOOP_SECONDS))
    while True:
        train_slice(st.session_state.get("train_slice_seconds", SIDEBAR_SLICE_SECONDS))
        if status() != "running":
            st.rerun()               # finished: every page now shows the new model
        p = progress()
        bar.progress(p["fraction"], text=f"**Training** · epoch {p['epoch']}/{p['epochs']} · "
                                         f"{p['fraction']:.0%}")
        if time.perf_counter() >= end:
            break


def finish(stopped=False):
    """Evaluate the run on the test set, record it in `runs`, and (unless it
    diverged) make its network the session's model. Safe to call twice."""
    run = trainer()
    if run is None or status() not in ACTIVE:
        return st.session_state.get("train_result")
    data = state.dataset()
    test_loss, test_acc = run.evaluate(data.test_float(), data.y_test)
    net = run.net.copy()     # the session's model never changes under anyone's feet
    end = "diverged" if run.diverged else ("stopped" if stopped and not run.finished else "finished")
    history = {"batch_step": list(run.history.batch_step), "batch_loss": list(run.history.batch_loss),
               "epochs": [dict(e) for e in run.history.epochs]}
    source = st.session_state.get("train_data_source", data.source)
    result = {"status": end, "test_accuracy": float(test_acc), "test_loss": float(test_loss),
              "epochs_done": run.epoch, "epoch_fraction": run.done_fraction * run.settings.epochs,
              "train_seconds": run.train_seconds, "n_params": int(net.n_params()),
              "wall_seconds": time.time() - st.session_state.get("train_timing", {}).get("started", time.time()),
              "message": run.message}
    label = f"your model ({net.describe()})"
    run_id = st.session_state["run_counter"] = st.session_state.get("run_counter", 0) + 1
    record = {"id": run_id, "label": label, "settings": run.settings.as_dict(), "history": history,
              "source": source, "n_train": run.n_train, **result}
    st.session_state.setdefault("runs", []).append(record)
    if end != "diverged":
        state.set_user_model(net, {"label": label, "settings": run.settings.as_dict(),
                                   "test_accuracy": float(test_acc), "test_loss": float(test_loss),
                                   "history": history, "source": source,
                                   "origin": "trained on the Train page", "status": end})
    st.session_state["train_status"] = end
    st.session_state["train_result"] = result
    return result


def progress():
    """Numbers for the progress line of the current run (dict) or None."""
    run = trainer()
    if run is None:
        return None
    s = run.settings
    if run.finished:                      # all done: show the last batch of the last epoch
        epoch, in_epoch = s.epochs - 1, run.n_train
    elif run.pos >= run.n_train:          # an epoch just ended; the next has not started
        epoch, in_epoch = run.epoch, 0
    else:
        epoch, in_epoch = run.epoch, run.pos
    seen = epoch * run.n_train + in_epoch
    total = s.epochs * run.n_train
    speed = seen / run.train_seconds if run.train_seconds > 0 else 0.0
    return {"fraction": min(1.0, seen / total),
            "epoch": epoch + 1, "epochs": s.epochs,
            "batch": -(-in_epoch // s.batch_size), "batches": run.batches_per_epoch,
            "speed": speed, "seconds_left": (total - seen) / speed if speed > 0 else None,
            "elapsed": run.train_seconds}


# ------------------------------------------------------------------ run records

HISTORY_COLUMNS = ["run", "kind", "epoch", "batch", "train_loss", "train_acc", "val_loss", "val_acc",
                   "batch_loss", "seconds"]


def history_frame(record, name=None):
    """A run record's history as one table: a row per epoch (kind "epoch"), then a
    row per stored mini-batch loss (kind "batch"; averaged once a run is long)."""
    name = name or record.get("name") or record.get("label", "run")
    history = record.get("history") or {}
    rows = [{"run": name, "kind": "epoch", **{k: e.get(k) for k in
                                              ("epoch", "train_loss", "train_acc", "val_loss", "val_acc", "seconds")}}
            for e in history.get("epochs", [])]
    rows += [{"run": name, "kind": "batch", "batch": s, "batch_loss": loss}
             for s, loss in zip(history.get("batch_step", []), history.get("batch_loss", []))]
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
    kept = ("Your current model is still in use." if state.user_model()[0] is not None
            else "The built-in pretrained model is still in use.")
    try:
        net, settings = load_model(bytes(content), name=name)
    except ModelFileError as err:
        return False, f"Could not load that model: {err}. {kept}"
    if net.sizes[0] != data.x_train.shape[1] or net.sizes[-1] != 10:
        return False, (f"Could not load that model: {name} has layer sizes {'-'.join(map(str, net.sizes))}, "
                       f"but MNIST needs {data.x_train.shape[1]} inputs and 10 outputs. {kept}")
    with np.errstate(all="ignore"):
        test_acc = metrics.accuracy(net.predict(data.test_float()), data.y_test)
    label = f"your uploaded model ({net.describe()})"
    state.set_user_model(net, {"label": label, "settings": settings, "test_accuracy": float(test_acc),
                               "history": None, "source": data.source, "origin": f"uploaded file {name}"})
    return True, f"Loaded {name}: {net.describe()}, {test_acc:.1%} on the test set. It is now your model."
