"""The PyTorch page in a real browser: the comparison runs and its table, verdict and chart are drawn;
the full page is saved as pytorch.png (docs/screenshots/ with UPDATE_SCREENSHOTS=1)."""
import re
from pathlib import Path

import nbformat
import pytest

pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.browser
from playwright.sync_api import expect  # noqa: E402

from browser_utils import WAIT, button, full_screenshot, key, no_exception, open_page, wait_for_app, wait_for_drawing  # noqa: E402,E501


def test_comparison_runs_and_is_drawn(page, app_url, screenshot_dir):
    open_page(page, f"{app_url}/pytorch")
    expect(page.locator("[data-testid=stMain] h1").first).to_contain_text("PyTorch")
    expect(page.locator("[data-testid=stCode]")).to_have_count(22)
    batches = key(page, "pytorch_batches").locator("input")
    batches.fill("20")
    batches.press("Enter")
    wait_for_app(page)
    button(page, "pytorch_run").click()
    verdict = page.get_by_text(re.compile(r"Same network: the largest difference is \d\.\de-\d\d"))
    expect(verdict).to_be_visible(timeout=WAIT)
    wait_for_app(page)
    no_exception(page)
    expect(page.get_by_text("Both trained 20 mini-batches")).to_be_visible()
    chart = page.locator("[data-testid=stVegaLiteChart]")
    expect(chart).to_have_count(1)
    wait_for_drawing(page)
    expect(chart.get_by_text(re.compile(r"PyTorch \(\d+\.\d\d s\)"))).to_be_visible()
    with page.expect_download(timeout=WAIT) as download:
        key(page, "pytorch_notebook").get_by_role("button").click()
    assert download.value.suggested_filename == "digits_run.ipynb"
    nb = nbformat.reads(Path(download.value.path()).read_text(encoding="utf-8"), as_version=4)
    nbformat.validate(nb)
    assert "settings = Settings(**{'sizes': (784, 256, 10)" in "".join(c.source for c in nb.cells)
    full_screenshot(page, screenshot_dir / "pytorch.png")
    no_exception(page)
