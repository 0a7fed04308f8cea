"""Nothing lost on reload: a browser's runs and model, kept on the server for a while.

Streamlit starts a new, empty session when a page is reloaded or a lost connection
cannot be resumed. So each browser gets a random key of its own, kept in a cookie
that a tiny component sets (nothing in the address: a lesson link carries no key,
and another browser has another key). The server keeps the finished
runs and the current model of each key for limits.KEEP_HOURS, within limits.KEEP_MB
in all (the oldest are dropped first), and offers them back when that browser returns.
A run still training when the page goes away is not kept: it stops a minute later.
The same for the language models (ui/language/): the ended runs (ui/language/runs.py records)
and the current language model, kept as its model file's bytes (engine/language/modelfile.py,
read back by its checking loader) with its label.
A school's server (several app processes sharing a PostgreSQL class database) keeps them in
that database instead (ui/keep_shared.py), so that any of its processes offers them back.
"""
import hashlib
import re
import secrets
import threading
import time
from dataclasses import dataclass, field

import numpy as np
import streamlit as st

from engine.language.modelfile import lm_to_bytes, load_language_model
from engine.modelfile import ModelFileError
from i18n import _, ngettext, num
from ui import class_db, keep_shared, lesson, limits
from ui.language import runs as language_runs

COOKIE = "digits_browser_key"
KEY_JS = """
export default function(component) {
    // Keep the key the server made for this browser, so it comes back with the next visit.
    const name = "digits_browser_key";
    if (!document.cookie.split("; ").some(c => c.startsWith(name + "="))) {
        document.cookie = `${name}=${component.data}; path=/; max-age=2592000; SameSite=Strict`;
    }
}
"""
KEY_PATTERN = re.compile(r"[0-9a-f]{32}")


@dataclass
class Kept:
    runs: list
    model: object            # engine Network, or None
    model_info: dict
    saved: float = field(default_factory=time.time)
    nbytes: int = 0
    lm_runs: list = field(default_factory=list)     # ui/language/runs.py records
    lm_model: dict | None = None                    # {"file": uint8 array of the model file, "label", "origin"}


class Store:
    """What the server keeps, by browser (a hash of its key). Thread-safe, bounded."""

    def __init__(self, max_bytes, max_seconds):
        self.max_bytes, self.max_seconds = max_bytes, max_seconds
        self._kept, self._lock = {}, threading.Lock()

    @staticmethod
    def _id(key):
        return hashlib.sha256(key.encode()).hexdigest()

    def put(self, key, runs, model, model_info, **more):
        nbytes = sum(p.nbytes for p in model.params()) if model is not None else 0
        nbytes += sum(16 * (len(r.get("history", {}).get("batch_loss", [])) + 50) for r in runs)
        nbytes += _more_bytes(**more)
        with self._lock:
            self._kept[self._id(key)] = Kept(list(runs), model, dict(model_info or {}), nbytes=nbytes, **more)
            self._prune()

    def get(self, key):
        with self._lock:
            self._prune()
            return self._kept.get(self._id(key))

    def drop(self, key):
        with self._lock:
            self._kept.pop(self._id(key), None)

    def total_bytes(self):
        with self._lock:
            return sum(k.nbytes for k in self._kept.values())

    def _prune(self):
        old = time.time() - self.max_seconds
        for kid in [kid for kid, k in self._kept.items() if k.saved < old]:
            del self._kept[kid]
        by_age = sorted(self._kept, key=lambda kid: self._kept[kid].saved)
        while by_age and sum(k.nbytes for k in self._kept.values()) > self.max_bytes:
            del self._kept[by_age.pop(0)]


def _more_bytes(lm_runs=(), lm_model=None):
    """The kept size of the language-model parts (counted as the digit runs and model are)."""
    nbytes = sum(16 * (len(r.get("history", {}).get("batch_loss", [])) + 50) for r in lm_runs)
    return nbytes + (lm_model["file"].nbytes if lm_model else 0)


def _lm_kept(entry):
    """The session's language model (ui/language/train.py lm_model) as it is kept: its model file's bytes
    as a uint8 array, its label and origin; None without one."""
    if not entry or entry.get("model") is None or entry.get("vocab") is None:
        return None
    content = lm_to_bytes(entry["model"], entry["vocab"], entry.get("settings"))
    return {"file": np.frombuffer(content, dtype=np.uint8), "label": str(entry.get("label", "")),
            "origin": str(entry.get("origin", ""))}


def _lm_entry(kept):
    """The session's language model entry back from _lm_kept's dict (read by the model file's checking loader)."""
    model, vocab, settings, _notes = load_language_model(kept["file"].tobytes(), name="the kept language model")
    return {"model": model, "vocab": vocab, "settings": settings, "label": kept["label"], "origin": kept["origin"]}


@st.cache_resource
def store():
    """The server's one Store (shared by every session): in its memory, or in the class database
    that a school's app processes share (ui/keep_shared.py)."""
    here = Store(limits.KEEP_MB * 2**20, limits.KEEP_HOURS * 3600)
    return keep_shared.SharedStore(Kept, here) if class_db.shared() else here


@st.cache_resource
def _key_component():
    return st.components.v2.component("digits_browser_key", js=KEY_JS)


def browser_key():
    """This browser's key: the one it brought (a cookie), or a new random one that a
    tiny component stores in the browser for next time. The page never reruns for it."""
    key = st.context.cookies.get(COOKIE)
    if isinstance(key, str) and KEY_PATTERN.fullmatch(key):
        return key
    key = st.session_state.setdefault("browser_key_new", secrets.token_hex(16))
    _key_component()(data=key, key="browser_key")
    return key


def offer(key):
    """Call before the page: on a session's first run, look for what this browser
    left here; if there is something, offer it back in the sidebar (Restore / No thanks)."""
    ss = st.session_state
    if ss.get("keep_message"):
        st.sidebar.warning(ss.pop("keep_message"))
    if "keep_answered" not in ss:
        fresh = not ss.get("runs") and ss.get("model") is None and not ss.get("lm_runs") and not ss.get("lm_model")
        ss["keep_answered"] = not (fresh and store().get(key) is not None)
    kept = None if ss["keep_answered"] else store().get(key)
    if kept is None:
        ss["keep_answered"] = True
        return
    minutes = round((time.time() - kept.saved) / 60)
    runs = ngettext("{n} run", "{n} runs", len(kept.runs)).format(n=num(len(kept.runs)))
    digits = (_("{runs} and your model").format(runs=runs) if kept.runs and kept.model is not None
              else runs if kept.runs else _("your model") if kept.model is not None else "")
    lm = ngettext("{n} language-model run", "{n} language-model runs", len(kept.lm_runs)).format(
        n=num(len(kept.lm_runs)))
    words = (_("{runs} and your language model").format(runs=lm) if kept.lm_runs and kept.lm_model is not None
             else lm if kept.lm_runs else _("your language model") if kept.lm_model is not None else "")
    what = _("{digits} and {words}").format(digits=digits, words=words) if digits and words else digits or words
    when = _("a moment ago") if minutes < 1 else _("{minutes} min ago").format(minutes=num(minutes))
    with st.sidebar.container(border=True):
        st.markdown(_("**Welcome back!** This browser left {what} here {when}.").format(what=what, when=when))
        c1, c2 = st.columns(2)
        c1.button(_("Restore"), key="keep_restore", icon=":material/restore:", on_click=_restore, args=(key,))
        c2.button(_("No thanks"), key="keep_discard", on_click=_discard, args=(key,))


def remember(key):
    """Call after the page: keep this session's runs and model for its browser
    (not while an offer is unanswered: that would overwrite what is offered)."""
    ss = st.session_state
    if not ss.get("keep_answered"):
        return
    lm_model = (ss.get("lm_model") or {}).get("model")
    mine = (len(ss.get("runs", [])), id(ss.get("model")), len(ss.get("lm_runs", [])), id(lm_model))
    if ss.get("keep_saved") != mine and (ss.get("runs") or ss.get("model") is not None or ss.get("lm_runs")
                                         or lm_model is not None):
        store().put(key, ss.get("runs", []), ss.get("model"), ss.get("model_info"),
                    lm_runs=list(ss.get("lm_runs", [])), lm_model=_lm_kept(ss.get("lm_model")))
        ss["keep_saved"] = mine


def _restore(key):
    kept = store().get(key)
    if kept is not None:
        st.session_state["runs"] = list(kept.runs) + st.session_state.get("runs", [])
        st.session_state["run_counter"] = max([r.get("id", 0) for r in kept.runs] + [0])
        if kept.model is not None:
            st.session_state["model"], st.session_state["model_info"] = kept.model, dict(kept.model_info)
            # The run's settings come back with its model, into the Train page's settings that every page reads
            # (the Train page itself, its lesson link, "Download as notebook" on Train and PyTorch).
            values = lesson.values_of(kept.model_info.get("settings"))
            if values:
                lesson.apply(values)
        if kept.lm_runs:
            st.session_state["lm_runs"] = language_runs.merged(kept.lm_runs, st.session_state.get("lm_runs", []))
        if kept.lm_model is not None:
            try:
                st.session_state["lm_model"] = _lm_entry(kept.lm_model)
            except ModelFileError as err:      # cannot happen with what this server wrote; says so if it does
                st.session_state["keep_message"] = _("Your language model could not be restored: {why}.").format(
                    why=err)
    st.session_state["keep_answered"] = True


def _discard(key):
    store().drop(key)
    st.session_state["keep_answered"] = True
