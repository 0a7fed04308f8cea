"""The students' handouts in a real browser: downloaded from Home's "For teachers" box on a running
server, each prints on one page (A4 and Letter), and its links carry that server's address."""
import re
from pathlib import Path

import pytest

pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.browser
from playwright.sync_api import expect  # noqa: E402

from browser_utils import WAIT, key, open_page, wait_for_app  # noqa: E402
import i18n  # noqa: E402
from ui import handouts  # noqa: E402


def pages_printed(page, paper):
    """How many pages the browser's Print makes of the page now shown."""
    pdf = page.pdf(format=paper, print_background=False)
    return len(re.findall(rb"/Type\s*/Page[^s]", pdf))


def test_each_handout_downloads_from_home_and_prints_on_one_page(page, app_url, browser):
    open_page(page, app_url)
    page.get_by_text("For teachers: lesson plans and handouts").click()
    wait_for_app(page)
    for x in handouts.LESSONS:
        with page.expect_download(timeout=WAIT) as download:
            key(page, f"handout_{x.id}").get_by_role("button").click()
        assert download.value.suggested_filename == f"handout-{x.id}.html"
        text = Path(download.value.path()).read_text(encoding="utf-8")
        assert x.title in text
        base = app_url.rstrip("/")
        assert f"{base}/{x.steps[0].page}" in text             # links carry this server's address
        sheet = browser.new_page()
        try:
            sheet.set_content(text)
            expect(sheet.get_by_role("heading", level=1)).to_contain_text(x.title)
            for paper in ("A4", "Letter"):
                assert pages_printed(sheet, paper) == 1, (x.id, paper)
        finally:
            sheet.close()


@pytest.mark.parametrize("code", i18n.LANGUAGES)
def test_each_handout_prints_on_one_page_in_every_language(browser, code):
    """A translation is often longer than the English: each handout still prints on one sheet."""
    sheet = browser.new_page()
    token = i18n._current.set(code)
    try:
        for x in handouts.LESSONS:
            sheet.set_content(handouts.handout_html(x.id))
            for paper in ("A4", "Letter"):
                assert pages_printed(sheet, paper) == 1, (code, x.id, paper)
    finally:
        i18n._current.reset(token)
        sheet.close()
