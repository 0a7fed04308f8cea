"""Nothing lost on reload: a browser's runs and model, kept on the server for a while.

Streamlit starts a new, empty session when a page is reloaded or a lost connection
cannot be resumed. So each browser gets a random key of its own, kept in a cookie
that a tiny component sets (nothing in the address: a lesson link carries no key,
and another browser has another key). The server keeps the finished
runs and the current model of each key for limits.KEEP_HOURS, within limits.KEEP_MB
in all (the oldest are dropped first), and offers them back when that browser returns.
A run still training when the page goes away is not kept: it stops a minute later.
"""
import hashlib
import re
import secrets
import threading
import time
from dataclasses import dataclass, field

import streamlit as st

from i18n import _, ngettext, num
from ui import lesson, limits

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


class Store:
    """What the server keeps, by browser (a hash of its key). Thread-safe, bounded."""

    def __init__(self, max_bytes, max_seconds):
        self.max_bytes, self.max_seconds = max_bytes, max_seconds
        self._kept, self._lock = {}, threading.Lock()

    @staticmethod
    def _id(key):
        return hashlib.sha256(key.encode()).hexdigest()

    def put(self, key, runs, model, model_info):
        nbytes = sum(p.nbytes for p in model.params()) if model is not None else 0
        nbytes += sum(16 * (len(r.get("history", {}).get("batch_loss", [])) + 50) for r in runs)
        with self._lock:
            self._kept[self._id(key)] = Kept(list(runs), model, dict(model_info or {}), nbytes=nbytes)
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


@st.cache_resource
def store():
    """The server's one Store (shared by every session)."""
    return Store(limits.KEEP_MB * 2**20, limits.KEEP_HOURS * 3600)


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
    if "keep_answered" not in ss:
        fresh = not ss.get("runs") and ss.get("model") is None
        ss["keep_answered"] = not (fresh and store().get(key) is not None)
    kept = None if ss["keep_answered"] else store().get(key)
    if kept is None:
        ss["keep_answered"] = True
        return
    minutes = round((time.time() - kept.saved) / 60)
    runs = ngettext("{n} run", "{n} runs", len(kept.runs)).format(n=num(len(kept.runs)))
    what = (_("{runs} and your model").format(runs=runs) if kept.runs and kept.model is not None
            else runs if kept.runs else _("your model"))
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
    mine = (len(ss.get("runs", [])), id(ss.get("model")))
    if ss.get("keep_saved") != mine and (ss.get("runs") or ss.get("model") is not None):
        store().put(key, ss.get("runs", []), ss.get("model"), ss.get("model_info"))
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
    st.session_state["keep_answered"] = True


def _discard(key):
    store().drop(key)
    st.session_state["keep_answered"] = True
