"""The server's one class database (classroom/store.py), opened once per process and shared by
every part that uses it: the class set and leaderboard (ui/class_set.py) and, when several app
processes share it (PostgreSQL), what a browser left for "Welcome back" (ui/keep_shared.py) and
the teacher passcode's wrong tries (ui/class_set.py). A database that fails to open is tried
again after RETRY_SECONDS, so that a dead server does not cost every rerun a wait."""
import threading
import time

import streamlit as st

from classroom.store import Store, StoreUnavailable, default_url, is_shared

RETRY_SECONDS = 30          # a store that failed to open is tried again after this long
_failed = {}                # where -> (when, why): every rerun must not wait for a dead server
_lock = threading.Lock()


@st.cache_resource(show_spinner=False)
def _open(where):
    return Store(where)


def store():
    """(the server's Store, None), or (None, one sentence saying why the class set is off)."""
    where = default_url()
    with _lock:
        when, why = _failed.get(where, (0.0, ""))
        if time.monotonic() - when < RETRY_SECONDS:
            return None, why
    try:
        s = _open(where)
        try:
            s.check()       # the file removed, replaced or damaged since it was opened
        except StoreUnavailable:
            _open.clear()   # opened afresh after RETRY_SECONDS: a file put back (or a new one) is then used
            s.close()
            raise
        return s, None
    except StoreUnavailable as e:
        with _lock:
            _failed[where] = (time.monotonic(), str(e))
        return None, str(e)


def shared():
    """True when this server's processes share their state through the class database
    (DIGITS_DB is a postgresql:// URL); False for the single-process default (SQLite)."""
    return is_shared(default_url())
