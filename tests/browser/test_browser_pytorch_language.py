"""The language model's PyTorch page in a real browser at 1280×720, normal and presenter mode: the comparison
runs, its table (one row per gradient) and chart are drawn, the notebook downloads, axe-core finds nothing
serious. Saves pytorch_language_1280[_presenter].png (docs/screenshots/ with UPDATE_SCREENSHOTS=1)."""
import re
from pathlib import Path

import nbformat
import pytest

pytest.importorskip("playwright.sync_api")
pytest.importorskip("torch")
pytestmark = pytest.mark.browser
from playwright.sync_api import expect  # noqa: E402

from browser_utils import WAIT, button, full_screenshot, key, no_exception, open_page, wait_for_app, wait_for_drawing  # noqa: E402,E501


@pytest.mark.parametrize("query", ["", "?present=1"], ids=["normal", "presenter"])
def test_comparison_runs_and_its_table_is_drawn(page, app_url, screenshot_dir, query):
    from test_browser_a11y import assert_accessible
    page.set_viewport_size({"width": 1280, "height": 720})
    open_page(page, f"{app_url}/pytorch_language{query}")
    expect(page.locator("[data-testid=stMain] h1").first).to_contain_text("language model in PyTorch")
    expect(page.locator("[data-testid=stCode]")).to_have_count(14)
    steps = key(page, "lmpt_steps").locator("input")
    steps.fill("10")
    steps.press("Enter")
    wait_for_app(page)
    button(page, "lmpt_run").click()
    verdict = page.get_by_text(re.compile(r"Same model: the largest difference .* is \d\.\de-\d\d"))
    expect(verdict).to_be_visible(timeout=WAIT)
    wait_for_app(page)
    no_exception(page)
    table = page.locator("[data-testid=stDataFrame]")
    expect(table).to_have_count(1)
    expect(table).to_contain_text("gradient of the block 1 attention q,k,v weight")
    expect(page.get_by_text(re.compile(r"Both trained \d+ steps"))).to_be_visible()
    chart = page.locator("[data-testid=stVegaLiteChart]")
    expect(chart).to_have_count(1)
    wait_for_drawing(page)
    expect(chart.get_by_text(re.compile(r"PyTorch \(\d+\.\d\d s\)"))).to_be_visible()
    with page.expect_download(timeout=WAIT) as download:
        key(page, "lmpt_notebook").get_by_role("button").click()
    assert download.value.suggested_filename == "language_model_run.ipynb"
    nb = nbformat.reads(Path(download.value.path()).read_text(encoding="utf-8"), as_version=4)
    nbformat.validate(nb)
    assert "'steps': 10" in "".join(c.source for c in nb.cells)
    table.scroll_into_view_if_needed()
    full_screenshot(page, screenshot_dir / f"pytorch_language_1280{'_presenter' if query else ''}.png")
    no_exception(page)
    assert_accessible(page, f"the language model's PyTorch page after a comparison{' in presenter mode' if query else ''}")
