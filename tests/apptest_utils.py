"""Helpers shared by the AppTest test modules."""
import base64
import io
from pathlib import Path

from PIL import Image
from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parent.parent / "dashboard.py")


def open_page(page=None):
    """Run the app once, switch to `page` (a path like 'app_pages/4_train.py'), check no exception."""
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    if page:
        at.switch_page(page)
        at.run()
    assert not at.exception, at.exception
    return at


def get(at, key):
    """at.session_state[key], or None when the session has no such key."""
    try:
        return at.session_state[key]
    except KeyError:
        return None


def texts(elements):
    """The values of some elements (at.caption, at.markdown...) as one string."""
    return " ".join(str(e.value) for e in elements)


def run_until_done(at, max_runs=40):
    """Rerun while a training run is going (each run trains a slice); its final status."""
    for _ in range(max_runs):
        if at.session_state["train_status"] != "running":
            break
        at.run()
        assert not at.exception, at.exception
    return at.session_state["train_status"]


def canvas_state(rgba):
    """What the canvas component sends back for an RGBA drawing: a PNG data URL."""
    buf = io.BytesIO()
    Image.fromarray(rgba).save(buf, format="PNG")
    url = "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()
    return {"drawing": {"raw": {"objects": []}, "data": url}}
