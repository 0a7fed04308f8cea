"""What one server process shares among its sessions, besides the data and the
built-in model (ui/state.py): the line of runs waiting to train and whether a browser session is still there."""
import ctypes
import os
import time

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from engine.worker import Slots
from ui import limits

def _fewer_memory_pools():
    """glibc gives threads that allocate their own memory pools (up to 8 per core)
    and seldom hands their memory back: with a thread per training run, a class
    server grew by 20% over five classes (bench/bench_classes.py), and by 7.5% with
    two pools. The same as starting the server with MALLOC_ARENA_MAX=2."""
    if "MALLOC_ARENA_MAX" in os.environ:
        return                          # whoever runs the server chose already
    try:
        ctypes.CDLL("libc.so.6").mallopt(-8, 2)     # M_ARENA_MAX = -8 in glibc's malloc.h
    except (OSError, AttributeError):
        pass                            # not glibc (macOS, Windows): nothing to do


_fewer_memory_pools()


def give_memory_back():
    """Hand freed memory back to the system (glibc keeps it otherwise): called when
    a run ends, so a server's memory goes down again after each class."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass

GONE_SECONDS = 60     # a run whose browser has been away this long stops (a dropped
                      # connection that comes back sooner keeps its run going)


@st.cache_resource
def training_slots():
    """The server's one line of training runs (engine/worker.Slots)."""
    return Slots(limits.MAX_TRAINING_RUNS, limits.TURN_SECONDS)


def session_alive():
    """A function that says whether this browser session is still connected
    (or was, less than GONE_SECONDS ago). Asked by a run's thread, which has no
    Streamlit context of its own. Outside a real server (tests) it always says yes."""
    ctx = get_script_run_ctx()
    runtime = st.runtime.get_instance() if st.runtime.exists() else None
    if ctx is None or runtime is None or not runtime.is_active_session(ctx.session_id):
        return lambda: True
    session_id, away_since = ctx.session_id, [None]

    def alive():
        if runtime.is_active_session(session_id):
            away_since[0] = None
            return True
        away_since[0] = away_since[0] or time.monotonic()
        return time.monotonic() - away_since[0] < GONE_SECONDS

    return alive
