"""Classroom tools in a real browser: presenter mode from a lesson link, and two runs compared."""
import re

import pytest

pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.browser
from playwright.sync_api import expect  # noqa: E402

from browser_utils import (WAIT, button, full_screenshot, key, no_exception, open_page,  # noqa: E402
                           wait_for_app, wait_for_drawing, wait_visible)
from test_browser_train import CHART  # noqa: E402

FINISHED = re.compile(r"Run finished: .*% of the .* test images right")


def test_lesson_link_opens_presenter_mode(page, app_url, screenshot_dir):
    open_page(page, f"{app_url}/train?present=1&hidden=32&epochs=3")
    expect(key(page, "train_epochs").locator("input")).to_have_value("3", timeout=WAIT)
    expect(key(page, "train_hidden").locator("input")).to_have_value("32", timeout=WAIT)
    expect(key(page, "train_momentum")).to_have_count(0)          # an advanced control, hidden
    no_exception(page)
    wait_for_drawing(page)
    full_screenshot(page, screenshot_dir / "presenter.png")


def run_to_the_end(page):
    button(page, "train_start").click()
    wait_visible(page, page.get_by_text(FINISHED).last)
    wait_for_app(page)


def test_two_runs_side_by_side(page, app_url, screenshot_dir):
    open_page(page, f"{app_url}/train?epochs=2&lr=0.5&optimizer=sgd")
    run_to_the_end(page)
    box = key(page, "train_lr").locator("input")
    expect(box).to_be_enabled(timeout=WAIT)
    box.fill("0.02")
    box.press("Enter")
    expect(box).to_have_value(re.compile(r"^0\.020*$"), timeout=WAIT)   # shown as 0.0200
    wait_for_app(page)
    first = page.get_by_text(FINISHED).last.inner_text()
    expect(button(page, "train_start")).to_be_enabled(timeout=WAIT)
    button(page, "train_start").click()
    # The second run's result replaces the first one's (another accuracy, another text).
    expect(page.get_by_text(FINISHED).last).not_to_have_text(first, timeout=WAIT)
    wait_visible(page, page.get_by_text(FINISHED).last)
    wait_for_app(page)
    expect(page.get_by_text(FINISHED).last).to_contain_text("Run finished")
    page.locator("[data-testid=stSidebarNav]").get_by_role("link", name=re.compile(r"Compare runs$")).click()
    wait_visible(page, page.locator(CHART).first)
    wait_for_app(page)
    # Both runs are in the table under the chart.
    expect(page.get_by_text("Your runs (2)")).to_be_visible(timeout=WAIT)
    expect(page.get_by_text(re.compile(r"lr 0\.5")).first).to_be_visible(timeout=WAIT)
    expect(page.get_by_text(re.compile(r"0\.02")).first).to_be_visible(timeout=WAIT)
    no_exception(page)
    wait_for_drawing(page)
    full_screenshot(page, screenshot_dir / "compare.png")
