"""Train a language model in Italian in a real browser: the live panel and the sidebar's progress panel are
fragments that redraw themselves every second, without passing through dashboard.py (which sets the run's
language); they must stay Italian while the run trains. Waits for samples and steps, never a fixed time."""
import re

import pytest

pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.browser
from playwright.sync_api import expect  # noqa: E402

from browser_utils import WAIT, button, no_exception, open_page, wait_visible  # noqa: E402

PROGRESS = "[data-testid=stProgress]"


def test_the_live_panels_stay_italian_while_the_run_trains(page, app_url):
    open_page(page, f"{app_url}/train_language?lang=it&hidden=64&every=20&steps=100000")
    main = page.locator("[data-testid=stMain]")
    button(page, "lmt_start").click()
    progress = main.locator(PROGRESS)
    wait_visible(page, progress)
    samples = main.locator("[data-testid=stCode]").filter(has_text="↵")
    expect(samples.nth(1)).to_be_visible(timeout=WAIT)          # a second sample: drawn by a later fragment run
    expect(main.get_by_text(re.compile(r"^Dopo il passo \d"))).not_to_have_count(0)
    expect(main.get_by_text(re.compile(r"^After step"))).to_have_count(0)
    expect(progress).to_contain_text("passo", timeout=WAIT)
    expect(main.get_by_text(re.compile(r"^Ultimi valori: perdita dell'ultimo passo"))).to_be_visible()

    page.locator('[data-testid=stSidebarNav] a[href$="/attention"]').first.click()     # the run trains on
    sidebar = page.locator("[data-testid=stSidebar]")
    bar = sidebar.locator(PROGRESS)
    wait_visible(page, bar)
    first = bar.inner_text()
    expect(bar).not_to_have_text(first, timeout=WAIT)            # redrawn by the sidebar fragment's own run
    expect(bar).to_contain_text("Addestramento di un modello linguistico · passo")
    button(page, "lm_sidebar_pause").click()
    no_exception(page)
