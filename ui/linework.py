"""A page's heavy computation: done right away when it is small, else in the server's line of runs
(engine/linework.py), a part at a time, with a progress line, Pause and Stop on the page.

    value = linework.result(name, key, flops, steps, what)
    if value is None:        # being computed in the line: its progress line is on the page instead
        ...

- Up to PAGE_SECONDS of arithmetic (at limits.CORE_GFLOPS) is done on the page, at once.
- More goes into the line of runs (the same line as training runs, server.training_slots(), at most
  limits.MAX_TRAINING_RUNS at a time), in parts; one place at a time per browser. It stops when
  Stop is clicked, when the browser leaves (server.session_alive: gone for 60 s, as a training run)
  and when another page is shown (leave_other_pages, called by dashboard.py on every run).
- Results are kept for the whole server under `key` (a model's fingerprint, the data, the settings:
  the same key is the same result), the last KEEP of them within KEEP_MB, so a rerun, another page
  asking for the same thing, or another browser with the same model, recomputes nothing. An error is
  kept too, and raised again for whoever asks.

`name` is the work's place on the page ("evaluate", "inside pca"...): one work per name and browser,
so asking for another key under the same name (another model picked) stops the old work.
"""
import threading
from collections import OrderedDict

import numpy as np
import streamlit as st

import i18n
from engine.linework import LineWork, forward_flops, outputs_steps, run_through
from i18n import _, num, pct
from ui import formats, limits, server, state

PAGE_SECONDS = 1.0       # a computation of at most this many seconds' arithmetic is done right on the page
TICK_SECONDS = 1.0       # the progress line redraws this often
KEEP = 64                # results kept for the server...
KEEP_MB = 300            # ...within this much memory, the oldest dropped first


def page_flops():
    """The arithmetic a page may do at once: about PAGE_SECONDS on one core."""
    return PAGE_SECONDS * limits.CORE_GFLOPS * 1e9


# ------------------------------------------------------------------ results kept for the server

def _nbytes(value):
    if isinstance(value, np.ndarray):
        return value.nbytes
    if isinstance(value, dict):
        return sum(_nbytes(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return sum(_nbytes(v) for v in value)
    return sum(_nbytes(v) for v in getattr(value, "__dict__", {}).values()) + 64


class Kept:
    """Results by key, oldest dropped first past KEEP entries or KEEP_MB. Shared by every session."""

    def __init__(self):
        self.items, self.lock = OrderedDict(), threading.Lock()

    def get(self, key):
        with self.lock:
            if key in self.items:
                self.items.move_to_end(key)
                return self.items[key][0]
        return None

    def put(self, key, outcome):
        with self.lock:
            self.items[key] = (outcome, _nbytes(outcome[1]))
            while len(self.items) > 1 and (len(self.items) > KEEP or
                                           sum(n for _, n in self.items.values()) > KEEP_MB * 2**20):
                self.items.popitem(last=False)


@st.cache_resource
def kept():
    """The server's kept results (see Kept)."""
    return Kept()


def _give(outcome):
    ok, value = outcome
    if not ok:
        raise value
    return value


# ------------------------------------------------------------------ the one call

def result(name, key, flops, steps, what):
    """steps' result (engine/linework.py's protocol), or None while it is computed in the line.

    flops: its whole arithmetic (the choice: on the page or in the line); what: words for the
    progress line, e.g. "Reading the 2,000 test images with your model". An error raised by the
    steps is raised here (and again on every call with the same key)."""
    key = tuple(key)
    outcome = kept().get(key)
    if outcome is not None:
        return _give(outcome)
    works = st.session_state.setdefault("line_works", {})
    held = works.get(name)
    if held is not None and held["key"] != key:
        works.pop(name)["work"].stop(wait=0)     # another model (or image, or setting): the old one is not wanted
        held = None
    if held is None and flops <= page_flops():
        try:
            outcome = (True, run_through(steps))
        except Exception as err:
            outcome = (False, err.with_traceback(None))
        kept().put(key, outcome)
        return _give(outcome)
    if held is None or (held["work"].done and not held["work"].finished and held["work"].error is None
                        and not held["stopped"]):
        held = works[name] = _start(name, key, steps, what)     # new, or left (its page went away) and back
    work = held["work"]
    if work.done and (work.finished or work.error is not None):
        outcome = (True, work.result) if work.finished else (False, work.error)
        kept().put(key, outcome)
        works.pop(name, None)
        return _give(outcome)
    if held["stopped"]:
        _stopped(name, held)
    else:
        held["lang"] = i18n.current()      # the progress line's redraws run no page (dashboard.py): they read it
        st.fragment(_live, run_every=TICK_SECONDS)(name)
    return None


def outputs(name, net, model_key, x, about, what):
    """net.predict_proba(x) as result() gives it: x's outputs, kept under (model_key, about), `about`
    naming the images (the test set's source, the class set's digest)."""
    return result(name, ("outputs", model_key, *about), forward_flops(net) * len(x),
                  outputs_steps(net, x), what)


def test_outputs(net, label):
    """net's outputs on the session's test set (see outputs), or None while they are computed in the line.
    One work per model, whichever page asks (the upload on Train, Evaluate, Class): each sees its end."""
    data, key = state.dataset(), state.model_key(net)
    return outputs(f"test outputs {key}", net, key, data.test_float(), (data.source, len(data.y_test)),
                   _("Reading the {n} test images with {model}").format(n=num(len(data.y_test)), model=label))


def _start(name, key, steps, what):
    held = {"key": key, "what": what, "stopped": False, "page": st.session_state.get("line_page")}
    gate = st.session_state.setdefault("line_gate", threading.Lock())
    held["work"] = LineWork(steps, server.training_slots(), alive=server.session_alive(), gate=gate, name=name)
    return held


def leave_other_pages(page):
    """Stop this browser's works that a page other than `page` (its url_path) asked for: nobody looks at
    them any more. dashboard.py calls it before every page run (a progress line's redraw runs no page)."""
    st.session_state["line_page"] = page
    works = st.session_state.get("line_works", {})
    for name in [n for n, held in works.items() if held["page"] != page]:
        works.pop(name)["work"].stop(wait=0)


# ------------------------------------------------------------------ the progress line

def _live(name):
    held = st.session_state.get("line_works", {}).get(name)
    if held is None or held["work"].done or held["stopped"]:
        st.rerun()        # the result is there (or Stop was clicked): the whole page draws it
    # A redraw of this fragment alone runs in a new script thread, without dashboard.py: in the page's language.
    i18n.use(held.get("lang", i18n.SOURCE))
    work = held["work"]
    st.progress(work.fraction, text=progress_text(work, held["what"]))
    c1, c2 = st.columns([1, 1, 4])[:2]
    if work.state == "paused":
        c1.button(_("Go on"), key=f"line_{name}_resume", icon=":material/play_arrow:", on_click=work.resume)
    else:
        c1.button(_("Pause"), key=f"line_{name}_pause", icon=":material/pause:", on_click=work.pause,
                  help=_("Gives its place in the line to others until you click Go on."))
    c2.button(_("Stop"), key=f"line_{name}_stop", icon=":material/stop:", on_click=_stop, args=(name,))


def _stop(name):
    held = st.session_state.get("line_works", {}).get(name)
    if held is not None:
        held["stopped"] = True
        held["work"].stop(wait=1.0)


def _again(name):
    st.session_state.get("line_works", {}).pop(name, None)


def _stopped(name, held):
    st.info(_("Stopped: {what} ({done} done). Nothing of it is shown.").format(
        what=held['what'][0].lower() + held['what'][1:], done=pct(held['work'].fraction, 0)), icon="⏹️")
    st.button(_("Start it again"), key=f"line_{name}_again", icon=":material/replay:", on_click=_again,
              args=(name,))


def progress_text(work, what):
    """The progress line of a work in the line, in words."""
    if work.phase == "waiting" or (work.phase == "working" and not work.parts and work.position() != 0):
        place = work.position()
        if place:
            running, waiting = server.training_slots().counts()
            # (the source language writes "3rd"; a translation says "number 3 in line" its own way)
            ordinal = formats.ordinal(place) if i18n.current() in (i18n.SOURCE, i18n.PSEUDO) else num(place)
            return _("**Waiting for a free place** ({place} in line): this server runs {most} trainings and long "
                     "computations at a time, and {want} want to · {what}").format(
                place=ordinal, most=limits.MAX_TRAINING_RUNS, want=running + waiting, what=what)
        return _("**Waiting** for your other computation on this server to finish · {what}").format(what=what)
    if work.state == "paused" or work.phase == "paused":
        return _("**Paused** · {what} · {done} done").format(what=what, done=pct(work.fraction, 0))
    if 0 < work.fraction < 1:
        return _("**Working** · {what} · {done} · about {left} left").format(
            what=what, done=pct(work.fraction, 0),
            left=formats.duration_text(work.seconds / work.fraction * (1 - work.fraction)))
    return _("**Working** · {what} · {done}").format(what=what, done=pct(work.fraction, 0))
