"""Helpers shared by the AppTest test modules."""
import base64
import io
import time
from pathlib import Path

from PIL import Image
from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parent.parent / "dashboard.py")


def open_page(page=None, query=None):
    """Run the app once, switch to `page` (a path like 'app_pages/4_train.py') with the
    address's `query` parameters (a lesson link's), check no exception."""
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    if page:
        at.switch_page(page)
        for k, v in (query or {}).items():
            at.query_params[k] = v
        at.run()
    assert not at.exception, at.exception
    return finish_line_work(at)


def finish_line_work(at, timeout=300):
    """Wait for the session's computations in the line of runs (ui/linework.py: a page's work of more
    than about a second) to end, then rerun the page, until it asks for none: the page as it is drawn
    once they are done."""
    while True:
        held = [h for h in (get(at, "line_works") or {}).values() if not h["stopped"]]
        if not held:
            return at
        for h in held:
            assert h["work"].join(timeout), f"the page's work {h['what']!r} did not end"
        at.run()
        assert not at.exception, at.exception


def get(at, key):
    """at.session_state[key], or None when the session has no such key."""
    try:
        return at.session_state[key]
    except KeyError:
        return None


def texts(elements):
    """The values of some elements (at.caption, at.markdown...) as one string."""
    return " ".join(str(e.value) for e in elements)


def wait_for(condition, timeout=120, what="the condition"):
    """Wait until condition() is true (a run trains in its own thread). Generous
    timeout: the tests count batches and epochs, never seconds."""
    end = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < end, f"timed out waiting for {what}"
        time.sleep(0.005)


def run_until_done(at, timeout=300):
    """Wait for the session's training run to end, then rerun the page; its final status."""
    job = get(at, "train_job")
    if job is not None:
        assert job.join(timeout), "the training run did not end"
    at.run()
    assert not at.exception, at.exception
    return at.session_state["train_status"]


def canvas_state(rgba):
    """What the canvas component sends back for an RGBA drawing: a PNG data URL."""
    buf = io.BytesIO()
    Image.fromarray(rgba).save(buf, format="PNG")
    url = "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()
    return {"drawing": {"raw": {"objects": []}, "data": url}}
