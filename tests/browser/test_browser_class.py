"""Two students in two browsers each draw a digit and add it to the class set; the Class page
(in either browser) shows both drawings, with their nicknames in the pictures' alt text."""
import pytest

pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.browser
from playwright.sync_api import expect  # noqa: E402

from browser_utils import WAIT, button, full_screenshot, key, open_page, wait_for_app, wait_visible  # noqa: E402
from test_browser_draw import STROKES, draw_with_mouse, guess  # noqa: E402


def add_to_class_set(page, app_url, stroke, meant, nickname):
    open_page(page, f"{app_url}/draw")
    draw_with_mouse(page, STROKES[stroke])
    guess(page)
    key(page, "class_meant").locator("input").click()             # "Which digit did you mean?"
    page.get_by_role("option", name=meant, exact=True).click()
    wait_for_app(page)
    box = key(page, "class_nickname_draw").locator("input")
    box.fill(nickname)
    box.press("Enter")
    wait_for_app(page)
    add = button(page, "class_add")
    expect(add).to_be_enabled(timeout=WAIT)
    add.click()
    wait_visible(page, page.get_by_text(f"Added your {meant} to the class set"))


def test_two_students_digits_both_appear_on_the_class_page(page, other_page, app_url, screenshot_dir):
    add_to_class_set(page, app_url, "7", "7", "Ada7")
    add_to_class_set(other_page, app_url, "small 7", "7", "Bo7")
    for browser_page in (other_page, page):
        open_page(browser_page, f"{app_url}/class")
        seven = key(browser_page, "class_gallery_digit").get_by_role("radio", name="7", exact=True)
        if seven.get_attribute("aria-checked") != "true":      # (a second click would unselect it)
            seven.click()
            expect(seven).to_have_attribute("aria-checked", "true", timeout=WAIT)
            wait_for_app(browser_page)
        for nickname in ("Ada7", "Bo7"):
            picture = browser_page.locator(f'img[alt^="A 7 drawn by {nickname} (drawing "]')
            wait_visible(browser_page, picture)
            expect(picture).to_have_count(1)
    full_screenshot(page, screenshot_dir / "class.png")
