"""Helpers shared by the AppTest test modules."""
from pathlib import Path

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
