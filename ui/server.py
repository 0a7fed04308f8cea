"""What one server process shares among its sessions, besides the data and the
built-in model (ui/state.py): the line of runs waiting to train and whether a browser session is still there."""
import time

import streamlit as st
from streamlit.runtime import Runtime
from streamlit.runtime.scriptrunner import get_script_run_ctx

from engine.worker import Slots
from ui import limits

GONE_SECONDS = limits.GONE_SECONDS     # a run whose browser has been away this long stops (a
                                       # dropped connection that comes back sooner keeps its run going)


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
    # AppTest puts a stand-in (a mock) where the runtime goes: not a server.
    if ctx is None or not isinstance(runtime, Runtime) or not runtime.is_active_session(ctx.session_id):
        return lambda: True
    session_id, away_since = ctx.session_id, [None]

    def alive():
        if runtime.is_active_session(session_id):
            away_since[0] = None
            return True
        away_since[0] = away_since[0] or time.monotonic()
        return time.monotonic() - away_since[0] < GONE_SECONDS

    return alive
