"""The session's language-model run (Train a language model page): its settings widgets and lesson
link, start, pause, resume, stop, steering and slow motion, and the model files.

As on the digits' Train page (ui/training.py), the run trains in a thread of its own in the
server's line of runs (engine/worker.py BackgroundRun, ui/server.py), so the page only asks and
draws. What the two pages share lives in ui/training.py and ui/lesson.py; here is what is the
language model's own. A session trains one run at a time: digits or language.

Session keys used:
    lmt_<knob>      the settings widgets (see WIDGETS), restored after a page switch (lmt_saved)
    lmt_trainer     the engine LMTrainer of the current run; lmt_job: its worker.BackgroundRun
    lmt_status      "idle" | "running" | "paused" | "stopping" | "finished" | "stopped" | "diverged"
    lmt_error       why the last Start (or a change during the run) was refused, or ""
    lmt_result      the ended run's numbers; lmt_text: (label, vocabulary) of the run's text
    lm_model        the session's language model: {"model", "vocab", "settings", "label", "origin"}
                    (the last run that did not diverge, or an uploaded file)
    lm_runs         a record of every ended run (ui/language/runs.py), for Compare runs
"""
import time

import streamlit as st

from engine.cost import lm_run_cost
from engine.language.generate import generate
from engine.language.modelfile import lm_to_bytes, load_language_model, settings_of
from engine.language.trainer import LMSettings, new_lm_run
from engine.modelfile import ModelFileError
from engine.worker import BackgroundRun
import i18n
from i18n import N_, _, ngettext, num
from ui import lesson, server, training
from ui.language import runs, texts

SLOW_MOTION_SECONDS = 60.0     # slow motion spreads a whole run over about this long
EVAL_TOKENS = 4096             # held-out characters per evaluation (a second at most for the biggest model)
SAMPLE_CHARS = 160             # characters of each sample printed as it learns
ACTIVE = training.ACTIVE
KINDS = {"bigram": N_("Bigram (one character back)"), "mlp": N_("MLP (the last k characters)"),
         "transformer": N_("Transformer (attention)")}

# Widget key -> default. The default model: see docs/language_train.md for what it reaches in 60 s.
TEXT_KEY = "_kept_" + texts.CHOICE      # the language pages' text choice (ui/language/texts.py keeps it there)
WIDGETS = {
    TEXT_KEY: "names",
    "lmt_kind": "mlp",
    "lmt_k": 8,                 # MLP: characters looked back
    "lmt_embed": 16,
    "lmt_hidden": 256,
    "lmt_context": 32,          # transformer: characters read at once
    "lmt_width": 64,
    "lmt_blocks": 2,
    "lmt_heads": 2,
    "lmt_lr": 0.01,
    "lmt_min_lr": 0.001,
    "lmt_warmup": 0,
    "lmt_weight_decay": 0.01,
    "lmt_grad_clip": 1.0,
    "lmt_batch_size": 32,
    "lmt_steps": 3000,
    "lmt_eval_every": 100,
    "lmt_seed": 0,
}
STEERABLE = ("lmt_lr", "lmt_batch_size", "lmt_steps", "lmt_weight_decay")    # may change during a run
ONLY = {"mlp": ("lmt_k", "lmt_embed", "lmt_hidden"), "transformer": ("lmt_context", "lmt_width", "lmt_blocks",
                                                                      "lmt_heads")}

# URL name -> (widget key, kind, (low, high, low_is_open)): the lesson link's parameters and the widgets' limits.
PARAMS = {
    "text": (TEXT_KEY, "choice", tuple(texts.CHOICES)),
    "kind": ("lmt_kind", "choice", tuple(KINDS)),
    "k": ("lmt_k", "int", (1, 32, False)),
    "embed": ("lmt_embed", "int", (1, 128, False)),
    "hidden": ("lmt_hidden", "int", (1, 1024, False)),
    "context": ("lmt_context", "int", (4, 256, False)),
    "width": ("lmt_width", "int", (8, 512, False)),
    "blocks": ("lmt_blocks", "int", (1, 4, False)),
    "heads": ("lmt_heads", "int", (1, 4, False)),
    "lr": ("lmt_lr", "float", (0.0, 1.0, True)),
    "min_lr": ("lmt_min_lr", "float", (0.0, 1.0, False)),
    "warmup": ("lmt_warmup", "int", (0, 10_000, False)),
    "wd": ("lmt_weight_decay", "float", (0.0, 1.0, False)),
    "clip": ("lmt_grad_clip", "float", (0.0, 100.0, False)),
    "batch": ("lmt_batch_size", "int", (1, 512, False)),
    "steps": ("lmt_steps", "int", (1, 100_000, False)),
    "every": ("lmt_eval_every", "int", (10, 10_000, False)),
    "seed": ("lmt_seed", "int", (0, 2**31 - 1, False)),
}
ONLY_FOR = {"k": "mlp", "embed": "mlp", "hidden": "mlp", "context": "transformer", "width": "transformer",
            "blocks": "transformer", "heads": "transformer"}
URL_PATH = "train_language"


def _together(values, notes):
    """Settings in range one by one but not together: the lowest learning rate above the learning
    rate, a width the heads do not divide."""
    lr = values.get("lmt_lr", WIDGETS["lmt_lr"])
    if values.get("lmt_min_lr", 0.0) > lr:
        notes.append(_("`min_lr={value:g}`: must be at most the learning rate ({lr})").format(
            value=values.pop('lmt_min_lr'), lr=num(lr)))
    heads = values.get("lmt_heads", WIDGETS["lmt_heads"])
    if values.get("lmt_width", heads) % heads:
        notes.append(_("`width={value}`: must be a multiple of the number of heads ({heads})").format(
            value=values.pop('lmt_width'), heads=heads))


def save_widgets():
    """Remember the widgets' current values. Call after drawing them."""
    st.session_state["lmt_saved"] = {k: st.session_state.get(k, v) for k, v in WIDGETS.items()}


LINK = lesson.Link(PARAMS, WIDGETS, URL_PATH, "lmt_lesson_", aliases={"batch_size": "batch", "weight_decay": "wd"},
                   only_for=ONLY_FOR, kind_key="lmt_kind", check=_together, save=save_widgets)
LINK.saved_key = "lmt_saved"


def restore_widgets():
    """Put the settings back into their widget keys (Streamlit drops them on other pages)."""
    st.session_state.setdefault("lmt_status", "idle")
    st.session_state.setdefault("lmt_error", "")
    saved = st.session_state.setdefault("lmt_saved", dict(WIDGETS))
    for key, default in WIDGETS.items():
        if key not in st.session_state:
            st.session_state[key] = saved.get(key, default)


def reset_widgets():
    """The knobs back to their defaults (the text stays as chosen)."""
    for key, default in WIDGETS.items():
        if key != TEXT_KEY:
            st.session_state[key] = default
    save_widgets()


def settings_from_values(values):
    """The engine's LMSettings for widget values (missing ones: the defaults). ValueError in one sentence."""
    v = {**WIDGETS, **values}
    kind = v["lmt_kind"]
    if kind == "transformer" and int(v["lmt_width"]) % int(v["lmt_heads"]):
        raise ValueError(_("the width ({width}) must be a multiple of the number of heads ({heads}): each head gets "
                           "width ÷ heads numbers").format(width=v['lmt_width'], heads=v['lmt_heads']))
    lr = float(v["lmt_lr"])
    s = LMSettings(kind=kind, context=int(v["lmt_k"] if kind == "mlp" else v["lmt_context"]),
                   width=int(v["lmt_width"]), blocks=int(v["lmt_blocks"]), heads=int(v["lmt_heads"]),
                   embed=int(v["lmt_embed"]), hidden=int(v["lmt_hidden"]), lr=lr,
                   min_lr=min(float(v["lmt_min_lr"]), lr), warmup=int(v["lmt_warmup"]),
                   weight_decay=float(v["lmt_weight_decay"]), grad_clip=float(v["lmt_grad_clip"]),
                   batch_size=int(v["lmt_batch_size"]), steps=int(v["lmt_steps"]), seed=int(v["lmt_seed"]),
                   eval_every=int(v["lmt_eval_every"]), eval_tokens=EVAL_TOKENS, sample_chars=SAMPLE_CHARS)
    s.check()
    return s


def settings_from_widgets():
    return settings_from_values(LINK.widget_values())


def check_cost(settings, vocab_size):
    """(RunCost, seconds of one step): refused (ValueError saying what to change) over the server's limits."""
    cost = lm_run_cost(settings, vocab_size)
    smaller = (_("use fewer blocks or a smaller width or context") if settings.kind == "transformer"
               else _("use a smaller hidden layer or fewer characters back"))
    return cost, training.refuse_over_limits(cost, settings.batch_size,
                                             _("windows of {n} characters").format(n=num(settings.sequence)), smaller)


def model_text(settings, vocab_size):
    """The model of `settings` in words, with its number of weights."""
    from engine.language.models import spec_params
    spec = settings.spec(vocab_size)
    words = {"bigram": lambda: _("a {V} × {V} table of scores (each character → the next one's): {n} weights"),
             "mlp": lambda: _("the last {context} characters, each as {embed} numbers, into a tanh layer of {hidden}, "
                              "then scores for {V} characters: {n} weights"),
             "transformer": lambda: ngettext(
                 "{blocks} block of {heads}-head attention + feed-forward, width {width}, reading {context} "
                 "characters at once: {n} weights",
                 "{blocks} blocks of {heads}-head attention + feed-forward, width {width}, reading {context} "
                 "characters at once: {n} weights", settings.blocks)}[settings.kind]()
    return words.format(V=vocab_size, context=settings.context, embed=settings.embed, hidden=num(settings.hidden),
                        blocks=settings.blocks, heads=settings.heads, width=settings.width,
                        n=num(spec_params(spec)))


# ------------------------------------------------------------------ run control

def trainer():
    return st.session_state.get("lmt_trainer")


def job():
    return st.session_state.get("lmt_job")


def status():
    return st.session_state.get("lmt_status", "idle")


def sync():
    """Record a run whose thread has ended. Called at the start of every page and fragment run."""
    if status() in ACTIVE and job() is not None and job().done:
        finish()
    return status()


def start(prepared, label):
    """Start a new run on `prepared` (ui/language/texts: the text's ids and vocabulary) with the
    widgets' settings. Returns "" or the error (also kept in lmt_error)."""
    if sync() in ACTIVE:
        return ""
    try:
        if training.sync() in ACTIVE:
            raise ValueError(_("a digits run is going on the Train page; stop it first "
                               "(a session trains one run at a time)"))
        settings = settings_from_widgets()
        ids, settings.val_fraction = _ids(prepared)
        check_cost(settings, prepared.vocab.size)
        run = new_lm_run(ids, settings, prepared.vocab.size, prepared.vocab)
    except ValueError as err:
        st.session_state["lmt_error"] = _("Can't start: {reason}.").format(reason=err)
        return st.session_state["lmt_error"]
    worker = BackgroundRun(run, server.training_slots(), None, None, alive=server.session_alive(),
                           name=f"training {run.model.describe()}")
    st.session_state.update(lmt_trainer=run, lmt_job=worker, lmt_status="running", lmt_error="", lmt_result=None,
                            lmt_text=(label, prepared.vocab), lmt_started=time.time(),
                            lmt_corpus=st.session_state.get(texts.CHOICE, "names"))     # kept with the model
    set_pace()
    return ""


def _ids(prepared):
    """(ids of the whole text, held-out share): the training part, then the validation part without
    the characters the training part never has (they have no id), so the trainer's split falls
    exactly between the two parts."""
    import numpy as np
    val = prepared.val_ids[prepared.val_ids >= 0]
    ids = np.concatenate([prepared.train_ids, val])
    return ids, len(val) / len(ids)


def steer():
    """A steerable setting changed during a run: it applies from the next step (marked on the chart)."""
    run, ss = trainer(), st.session_state
    if run is None or status() not in ("running", "paused"):
        return
    try:
        changed = LMSettings(**{**run.settings.as_dict(), "batch_size": int(ss["lmt_batch_size"])})
        check_cost(changed, run.model.V)
        run.set_hyperparams(lr=float(ss["lmt_lr"]), batch_size=int(ss["lmt_batch_size"]),
                            steps=max(int(ss["lmt_steps"]), run.step + 1),
                            weight_decay=float(ss["lmt_weight_decay"]))
        ss["lmt_error"] = ""
    except ValueError as err:
        ss["lmt_error"] = _("Can't change that now: {reason}.").format(reason=err)
    set_pace()


def set_pace():
    """Slow motion (widget lmt_slow) on or off for the current run."""
    run, worker = trainer(), job()
    if worker is not None:
        worker.batch_seconds = SLOW_MOTION_SECONDS / run.settings.steps if st.session_state.get("lmt_slow") else 0.0


def pace_toggle(present):
    training.pace_toggle(present, key="lmt_slow", apply=set_pace, seconds=SLOW_MOTION_SECONDS)


def pause():
    if status() == "running":
        job().pause(wait=training.ANSWER_SECONDS)
        st.session_state["lmt_status"] = "paused"


def resume():
    if status() == "paused":
        job().resume()
        st.session_state["lmt_status"] = "running"


def stop():
    if status() in ("running", "paused"):
        st.session_state["lmt_status"] = "stopping"
        if job().stop(wait=training.ANSWER_SECONDS):
            finish()


def reset():
    """Forget the current run (its charts and samples); the session's language model stays."""
    if job() is not None:
        job().stop(wait=0)
    for key in ("lmt_trainer", "lmt_job", "lmt_result"):
        st.session_state.pop(key, None)
    st.session_state.update(lmt_status="idle", lmt_error="")


def finish():
    """Record the run once its thread is done; unless it diverged its model becomes the session's."""
    run, worker = trainer(), job()
    if run is None or worker is None or not worker.done or status() not in ACTIVE:
        return st.session_state.get("lmt_result")
    if worker.error is not None or worker.result is None:
        st.session_state.update(lmt_status="stopped",
                                lmt_error=_("The run stopped: {reason}.").format(
                                    reason=worker.error or _("its page was closed")))
        return None
    val_loss, val_acc = worker.result
    end = "diverged" if run.diverged else ("finished" if run.finished else "stopped")
    label, vocab = st.session_state.get("lmt_text", (_("the text"), None))
    result = {"status": end, "val_loss": float(val_loss), "val_acc": float(val_acc), "steps": run.step,
              "train_seconds": run.train_seconds, "message": run.message}
    runs.add(run, result, label)        # the Compare page's record of it (ui/language/runs.py)
    if end != "diverged":
        model = run.model.copy()        # the session's model never changes under anyone's feet
        st.session_state["lm_model"] = {
            "model": model, "vocab": vocab,
            "label": _("{model}, trained on {text}").format(model=model.describe(), text=label),
            "origin": _("trained on this page"),
            "settings": settings_of(run.settings, val_loss=round(float(val_loss), 4), corpus=label[:200],
                                    step=run.step, train_seconds=round(run.train_seconds, 2),
                                    text=st.session_state.get("lmt_corpus", "yours"))}
    st.session_state.update(lmt_status=end, lmt_result=result)
    return result


def sidebar_panel():
    """On the other pages: the run's progress in the sidebar, with Pause and a link back here."""
    language = i18n.current()           # for the fragment's own reruns (they do not pass through dashboard.py)
    training.sidebar_panel(status(), lambda: _sidebar_live(language))


def _sidebar_live(language=None):
    if language:
        i18n.use(language)
    run = trainer()
    training.sidebar_progress(sync(), run.done_fraction, _("**Training a language model** · step {step}/{steps}").format(
        step=num(run.step), steps=num(run.settings.steps)), pause, "train_language", "lm_sidebar_pause")


def progress_text():
    """The progress line of the current run, in words."""
    run, now = trainer(), status()
    where = _("step {step}/{steps}").format(step=num(run.step), steps=num(run.settings.steps))
    waiting = training.line_text(job()) if now == "running" else ""
    if waiting:
        return f"{waiting} · {where}"
    speed = run.step * run.settings.batch_size * run.settings.sequence / run.train_seconds if run.train_seconds else 0
    parts = [f"**{_(training.formats.STATUS_LABELS[now])}** {where}"]
    if speed > 0:                                          # no rate before a step is done
        parts.append(_("{speed} characters/s").format(speed=num(round(speed))))
    if now == "running" and run.step and not job().batch_seconds:
        parts.append(_("about {time} left").format(
            time=training.duration_text(run.train_seconds / run.step * (run.settings.steps - run.step))))
    if job() is not None and job().batch_seconds:
        parts.append(_("🐢 slow motion"))
    worker = job()
    check = worker.testing if worker is not None and worker.testing is not None else run.checking
    if check is not None and not check.done and not (worker is not None and worker.done):   # a check in parts
        parts.append(_("checking the held-out text: {seen} of {total} characters").format(
            seen=num(check.seen), total=num(check.total)))
    elif run.under_way and now in ("running", "paused"):          # a step of several parts, between two of them
        parts.append(_("step {step}: {done} of its {size} windows done").format(
            step=num(run.step + 1), done=num(run.under_way[0]), size=num(run.under_way[1])))
    return " · ".join(parts)


def numbers_text(run):
    """The charts' latest numbers in words (a screen reader reads text, not a chart's lines)."""
    steps, losses = training.batch_points(run)
    words = [_("loss of the last step {loss} nats per character (step {step})").format(
        loss=num(losses[-1], 4), step=num(int(steps[-1])))] if losses else []
    if run.history.epochs:
        e = run.history.epochs[-1]
        words.append(_("at step {step}: training loss {train}, validation loss {val} nats per character").format(
            step=num(e['step']), train=num(e['train_loss'], 4), val=num(e['val_loss'], 4)))
    return _("Latest: {numbers}").format(numbers=" · ".join(words)) if words else ""


def one_line(text):
    """A sample on one line (it wraps), its line breaks shown as ↵: four samples of names fit on a screen."""
    return text.replace("\n", " ↵ ")


def sample_now(entry, n=300, temperature=0.8, seed=0):
    """n characters from the session's model `entry` (lm_model), after a line break when it knows one."""
    vocab, model = entry["vocab"], entry["model"]
    start = vocab.encode("\n", unknown=vocab.chars[0])[:1]
    return vocab.decode(generate(model, start, n, temperature=temperature, seed=seed))


# ------------------------------------------------------------------ model files

def model_bytes(entry):
    return lm_to_bytes(entry["model"], entry["vocab"], entry["settings"])


def load_uploaded(uploaded):
    """Handle the uploader's file once: make it the session's language model if valid.
    Returns (ok, message) or None; on any problem the current model is kept."""
    if uploaded is None:
        st.session_state.pop("lmt_upload_result", None)
        return None
    done = st.session_state.get("lmt_upload_result")
    if done and done[0] == uploaded.file_id:
        return done[1:]
    result = load_bytes(uploaded.getvalue(), uploaded.name[:80])
    st.session_state["lmt_upload_result"] = (uploaded.file_id, *result)
    return result


def load_bytes(content, name):
    kept = _("Your current language model is still in use.") if st.session_state.get("lm_model") else \
        _("Nothing was loaded.")
    try:
        model, vocab, settings, notes = load_language_model(bytes(content), name=name)
    except ModelFileError as err:
        return False, _("Could not load that file: {reason}.").format(reason=err) + " " + kept
    st.session_state["lm_model"] = {"model": model, "vocab": vocab, "settings": settings,
                                    "label": _("{model}, from the file {name}").format(model=model.describe(), name=name),
                                    "origin": _("uploaded file {name}").format(name=name)}
    ignored = (" " + _("Some settings in the file were ignored: {notes}.").format(notes="; ".join(notes))) if notes else ""
    return True, _("Loaded {name}: {model}, {n} characters. It is now your language model.").format(
        name=name, model=model.describe(), n=num(vocab.size)) + ignored
