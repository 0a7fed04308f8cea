"""The Convolution page in a real browser: the window moves (step button and keyboard on a slider),
the multiply-add line follows it, and a full-page screenshot (convolution.png) is saved."""
import re

import pytest

pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.browser
from playwright.sync_api import expect  # noqa: E402

from browser_utils import WAIT, button, full_screenshot, key, no_exception, open_page, wait_for_app  # noqa: E402

WHERE = re.compile(r"written at row (\d+), column (\d+)")


def position(page):
    text = key(page, "cv_sum").inner_text()
    m = WHERE.search(text)
    assert m, text
    return int(m.group(1)), int(m.group(2))


def test_the_window_moves(page, app_url, screenshot_dir):
    open_page(page, f"{app_url}/convolution")
    sum_line = key(page, "cv_sum")
    expect(sum_line).to_contain_text("Sum of the 25 products", timeout=WAIT)
    i, j = position(page)

    button(page, "cv_next").click()                    # one step to the right
    expect(sum_line).to_contain_text(f"written at row {i}, column {j + 1}", timeout=WAIT)
    wait_for_app(page)

    thumb = key(page, "cv_row").get_by_role("slider")  # the keyboard moves a slider too
    thumb.focus()
    thumb.press("ArrowDown")
    expect(sum_line).to_contain_text(f"written at row {i - 1}, column {j + 1}", timeout=WAIT)
    wait_for_app(page)
    no_exception(page)
    images = page.locator("[data-testid=stMain] img")
    assert images.count() > 50                          # the window, kernels, every filter's maps...
    assert page.locator("[data-testid=stMain] img:not([alt]), [data-testid=stMain] img[alt='']").count() == 0, \
        "every picture has words for it"
    full_screenshot(page, screenshot_dir / "convolution.png")
    no_exception(page)


def test_the_window_slides_by_itself(page, app_url):
    """The Animate toggle moves the window step by step (a fragment that reruns every second),
    until it is turned off."""
    open_page(page, f"{app_url}/convolution")
    sum_line = key(page, "cv_sum")
    i, j = position(page)
    toggle = key(page, "cv_play").locator("label").first
    toggle.click()
    for step in (1, 2):                                 # two steps in a row, each waited for
        expect(sum_line).to_contain_text(f"written at row {i}, column {j + step}", timeout=WAIT)
    toggle.click()
    expect(key(page, "cv_play").locator("input")).not_to_be_checked(timeout=WAIT)
    wait_for_app(page)
    no_exception(page)
