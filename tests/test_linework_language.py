"""The progress line of a page's work in the line (ui/linework.py) stays in the page's language when it redraws.

Its redraw (st.fragment with run_every) runs in a new script thread without dashboard.py, so the language the
page set with i18n.use() is not there: the line must bring it itself. Seen in a browser before the fix: an Italian
page's progress line turned to "Working · …" with "Pause" and "Stop" a second after it appeared.
"""
import threading
from types import SimpleNamespace

import i18n
from ui import linework


class _Page:
    """Records what _live draws (a stand-in for streamlit in ui.linework)."""

    def __init__(self, session_state):
        self.session_state, self.texts = session_state, []

    def progress(self, fraction, text):
        self.texts.append(text)

    def columns(self, spec):
        return [self] * len(spec)

    def button(self, label, **kwargs):
        self.texts.append(label)

    def rerun(self):
        raise AssertionError("the work is still running: no rerun")


def _redraw_in_a_new_thread(page):
    """_live as a fragment's redraw runs it: in a thread of its own (a fresh context: the default language)."""
    errors = []

    def redraw():
        try:
            linework._live("inside pca")
        except Exception as err:  # noqa: BLE001 - reported by the test
            errors.append(err)
    t = threading.Thread(target=redraw)
    t.start()
    t.join()
    assert not errors, errors


def test_the_progress_line_redraws_in_the_language_of_its_page(monkeypatch):
    work = SimpleNamespace(done=False, state="working", phase="working", parts=3, fraction=0.25, seconds=3.0,
                           position=lambda: 0, resume=None, pause=None)
    held = {"key": ("k",), "what": "⟦Mapping 2,000 test images⟧", "stopped": False, "page": "inside", "work": work}
    page = _Page({"line_works": {"inside pca": held}})
    page.fragment = lambda f, run_every: f          # the first drawing: right away, in the page's run
    monkeypatch.setattr(linework, "st", page)
    monkeypatch.setattr(linework, "kept", lambda: SimpleNamespace(get=lambda key: None))

    i18n.use(i18n.PSEUDO)          # the page's run (dashboard.py set its language): result() draws the line
    try:
        assert linework.result("inside pca", ("k",), 10**18, None, held["what"]) is None
    finally:
        i18n.use(i18n.SOURCE)
    assert page.texts and all("⟦" in t for t in page.texts), page.texts
    page.texts.clear()

    _redraw_in_a_new_thread(page)       # a second later: the fragment alone, in a thread of its own
    assert page.texts and all("⟦" in t for t in page.texts), page.texts
