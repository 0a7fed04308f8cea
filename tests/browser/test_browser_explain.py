""""Why did it say that?" in a real browser: draw a digit on /draw with the mouse, open every explanation
panel (each computes only once opened), for the built-in MLP and the built-in CNN, and keep a screenshot
of each (docs/screenshots/explain_*.png with UPDATE_SCREENSHOTS=1).
"""
import re

import pytest

pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.browser
from playwright.sync_api import expect  # noqa: E402

from browser_utils import WAIT, key, no_exception, open_page, wait_for_app, wait_for_drawing  # noqa: E402
from test_browser_draw import STROKES, draw_with_mouse, guess  # noqa: E402

# panel key -> what it shows once it has computed
PANELS = {
    "pixels": re.compile(r"gradient × input"),
    "cover": re.compile(r"the worst square brings that down to"),
    "seen": re.compile(r"In raw pixels"),
    "fool": re.compile(r"(small steps|steps were not enough)"),
    "dream": re.compile(r"sure it is an? \d"),
}


def open_panel(page, name, shows):
    panel = key(page, f"draw_xp_{name}")
    panel.locator("summary").click()
    expect(panel.get_by_text(shows).first).to_be_visible(timeout=WAIT)
    wait_for_app(page)
    no_exception(page)
    wait_for_drawing(page)
    images = panel.locator("img")
    assert images.count() >= 1
    for i in range(images.count()):          # every picture has words for a screen reader
        assert (images.nth(i).get_attribute("alt") or "").strip(), f"a picture without alt text in {name}"
    return panel


def close_panel(page, name):
    key(page, f"draw_xp_{name}").locator("summary").click()
    wait_for_app(page)


def test_draw_a_digit_and_open_every_panel(page, app_url, screenshot_dir):
    open_page(page, f"{app_url}/draw")
    draw_with_mouse(page, STROKES["3"])
    assert guess(page) == "3"
    expect(page.get_by_text("Why did it say that?")).to_be_visible(timeout=WAIT)
    for name, shows in PANELS.items():
        panel = open_panel(page, name, shows)
        panel.scroll_into_view_if_needed()
        panel.screenshot(path=str(screenshot_dir / f"explain_{name}.png"), animations="disabled", caret="hide")
        close_panel(page, name)
    # The built-in CNN's answer, explained the same way
    key(page, "draw_x_model").get_by_text("the built-in CNN", exact=True).click()
    expect(page.get_by_text(re.compile(r"It said 3\."))).to_be_visible(timeout=WAIT)
    wait_for_app(page)
    panel = open_panel(page, "fool", PANELS["fool"])
    expect(panel.get_by_text(re.compile(r"the network says \d"))).to_be_visible(timeout=WAIT)
    no_exception(page)
