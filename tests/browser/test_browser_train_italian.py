"""The Train page's live run in Italian, in a real browser (issue 24): the live panel is a fragment that reruns
every second without dashboard.py, which sets the run's language, so it sets it itself. On an Italian page the
progress line and the latest numbers stay Italian, tick after tick (they were English from the first tick on).
"""
import re

import pytest

pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.browser
from playwright.sync_api import expect  # noqa: E402

from browser_utils import WAIT, button, open_page, set_number  # noqa: E402

PROGRESS = "[data-testid=stProgress]"
TICK = re.compile(r"epoca \d+/200 · batch (\d+)/\d+")


def test_the_live_run_stays_in_italian_tick_after_tick(page, app_url):
    open_page(page, f"{app_url}/train?lang=it&hidden=512-512")
    set_number(page, "train_epochs", 200)
    button(page, "train_start").click()
    progress = page.locator(PROGRESS)
    expect(progress).to_contain_text(TICK, timeout=WAIT)         # the first ticks of the fragment...
    batch = TICK.search(progress.inner_text()).group(1)
    expect(progress).not_to_contain_text(f"batch {batch}/", timeout=WAIT)     # ... and a later one
    expect(progress).to_contain_text(TICK)
    expect(progress).to_contain_text("esempi/s")
    latest = page.get_by_text(re.compile(r"^Ultimi valori: perdita del mini-batch \d+,\d{4}"))
    expect(latest).to_be_visible(timeout=WAIT)
    button(page, "train_stop").click()
