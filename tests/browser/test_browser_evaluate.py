"""Evaluate page in a real browser: clicking a cell of the confusion matrix picks it.

The click goes through Vega's selection in the browser and Streamlit's on_select
back to the page, which only a browser can do.
"""
import re

import pytest

pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.browser
from playwright.sync_api import expect  # noqa: E402

from browser_utils import WAIT, key, no_exception, open_page, wait_for_app  # noqa: E402


def cell_centre(page, true_d, pred_d):
    """Centre (x, y) on the page of the confusion-matrix cell (true_d, pred_d).
    Vega labels every cell it draws for screen readers, which finds it."""
    cell = key(page, "eval_cm_chart").locator(
        f'svg.marks path[aria-label^="predicted digit: {pred_d}; true digit: {true_d};"]').first
    expect(cell).to_be_attached(timeout=WAIT)
    box = cell.bounding_box()
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


@pytest.mark.parametrize("true_d, pred_d", [(7, 2), (3, 3)])
def test_clicking_a_cell_shows_those_images(page, app_url, true_d, pred_d):
    open_page(page, f"{app_url}/evaluate")
    page.mouse.click(*cell_centre(page, true_d, pred_d))
    summary = page.get_by_text(re.compile(rf"True {true_d}, predicted {pred_d}: [\d,]+ images?"))
    expect(summary).to_be_visible(timeout=WAIT)
    wait_for_app(page)
    no_exception(page)
    # The two pickers follow the click.
    expect(key(page, "eval_true").get_by_role("combobox")).to_have_value(str(true_d))
    expect(key(page, "eval_pred").get_by_role("combobox")).to_have_value(str(pred_d))
