"""Presenter mode on a 1280×720 projector, in a real browser: the Train page's three charts full width and one
under the other during and after a CNN run, the CNN's first-layer filters big and numbered there and on Inside,
the Convolution page's pixel, weight and product grids side by side with no table scrolling, the menu in its
lesson sections with no title cut short; axe-core clean in each state.

Screenshots (docs/screenshots/ with UPDATE_SCREENSHOTS=1): presenter_train_cnn_running.png,
presenter_train_cnn.png, presenter_inside_cnn.png, presenter_convolution.png, presenter_sidebar.png.
"""
import re

import pytest

pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.browser
from playwright.sync_api import expect  # noqa: E402

from browser_utils import WAIT, button, full_screenshot, key, no_exception, open_page, wait_for_app, wait_visible  # noqa: E402
from test_browser_a11y import assert_accessible, assert_nothing_cut_short  # noqa: E402

PROJECTOR = {"width": 1280, "height": 720}
CHART = "[data-testid=stVegaLiteChart]"
MAIN = "[data-testid=stMainBlockContainer]"
FILTER = re.compile(r"^Filter \d+ of the first conv layer")
SECTIONS = ["Start", "Digits with an MLP", "Convolutions", "Our class", "PyTorch", "From digits to words"]


@pytest.fixture
def projector(page):
    page.set_viewport_size(PROJECTOR)
    return page


def boxes(locator):
    return [locator.nth(i).bounding_box() for i in range(locator.count())]


def assert_charts_stacked_full_width(page, n):
    """n charts, each nearly as wide as the page's content, each below the one before; nothing drawn wider
    than its chart (a legend or axis cut off)."""
    charts = page.locator(CHART)
    expect(charts).to_have_count(n, timeout=WAIT)
    main = page.locator(MAIN).bounding_box()
    shown = boxes(charts)
    for box in shown:
        assert box["width"] > 0.85 * main["width"], (box, main)
    for above, below in zip(shown, shown[1:]):
        assert above["y"] + above["height"] <= below["y"] + 1, (above, below)
    for i in range(n):
        drawn = charts.nth(i).locator("canvas, svg").first.bounding_box()
        assert drawn["x"] + drawn["width"] <= shown[i]["x"] + shown[i]["width"] + 1, (drawn, shown[i])


def assert_big_numbered_filters(page, n):
    """The first conv layer's n filters: one picture each, at least 150 px, numbered 1..n under them."""
    filters = page.get_by_role("img", name=FILTER)
    expect(filters).to_have_count(n, timeout=WAIT)
    for box in boxes(filters):
        assert box["width"] >= 150 and box["height"] >= 150, box
    for number in range(1, n + 1):
        expect(page.get_by_text(f"filter {number}", exact=True).first).to_be_visible()


def test_train_a_cnn_and_look_inside_on_a_projector(projector, app_url, screenshot_dir):
    page = projector
    open_page(page, f"{app_url}/train?present=1&kind=cnn&filters=8-16&epochs=2")
    expect(key(page, "train_slow").locator("input")).to_be_checked()      # slow motion, for a class
    button(page, "train_start").click()
    # During the run: after its first epoch the three charts are there, the run still going.
    expect(page.locator(CHART)).to_have_count(3, timeout=WAIT)
    wait_for_app(page)
    if "Finished" not in page.locator("[data-testid=stProgress]").inner_text():
        assert_charts_stacked_full_width(page, 3)
        assert_big_numbered_filters(page, 8)
        # The page as it stands between its redraws (Streamlit fades it for the instant of each one).
        page.add_style_tag(content="[data-stale=true] { opacity: 1 !important; transition: none !important; }")
        full_screenshot(page, screenshot_dir / "presenter_train_cnn_running.png")
    wait_visible(page, page.get_by_text(re.compile(r"Run finished: .*% of the .* test images right")))
    wait_for_app(page)
    no_exception(page)
    assert_charts_stacked_full_width(page, 3)
    assert_big_numbered_filters(page, 8)
    assert_nothing_cut_short(page, "the Train page after a CNN run, presenter mode at 1280×720")
    assert_accessible(page, "the Train page after a CNN run, presenter mode at 1280×720")
    full_screenshot(page, screenshot_dir / "presenter_train_cnn.png")

    nav = page.locator("[data-testid=stSidebarNav]")
    nav.get_by_role("link", name=re.compile(r"Inside the network$")).click()
    expect(page.get_by_text(re.compile(r"Conv layer 1: 8 filters of 5×5")).first).to_be_visible(timeout=WAIT)
    wait_for_app(page)
    no_exception(page)
    assert_big_numbered_filters(page, 8)
    assert_nothing_cut_short(page, "the Inside page with a CNN, presenter mode at 1280×720")
    assert_accessible(page, "the Inside page with a CNN, presenter mode at 1280×720")
    full_screenshot(page, screenshot_dir / "presenter_inside_cnn.png")


def test_convolution_grids_side_by_side_on_a_projector(projector, app_url, screenshot_dir):
    page = projector
    open_page(page, f"{app_url}/convolution?present=1")
    for grids, n in (("cv_grids", 3), ("cv_pool_grids", 3)):
        tables = key(page, grids).locator("[data-testid=stTable]")
        expect(tables).to_have_count(n)
        shown = boxes(tables)
        assert len({round(b["y"]) for b in shown}) == 1, f"{grids}: not on one line: {shown}"
        assert all(a["x"] + a["width"] < b["x"] for a, b in zip(shown, shown[1:])), shown
    # No table on the page scrolls sideways (a keyboard could not reach the rest of it).
    scrolling = page.evaluate("""() => [...document.querySelectorAll('[data-testid=stTable] *')]
        .filter(e => ['auto', 'scroll'].includes(getComputedStyle(e).overflowX) && e.scrollWidth > e.clientWidth + 1)
        .length""")
    assert scrolling == 0
    assert_nothing_cut_short(page, "the Convolution page, presenter mode at 1280×720")
    full_screenshot(page, screenshot_dir / "presenter_convolution.png")


def test_menu_in_lesson_sections_nothing_cut_on_a_projector(projector, app_url, screenshot_dir):
    page = projector
    open_page(page, f"{app_url}/?present=1")
    nav = page.locator("[data-testid=stSidebarNav]")
    expect(nav.locator("[data-testid=stNavSectionHeader] [data-testid=stMarkdownContainer]")).to_have_text(SECTIONS)
    titles = nav.locator("[data-testid=stSidebarNavLink]")
    for i in range(titles.count()):       # every menu title whole: nothing hidden past the sidebar's edge
        assert titles.nth(i).evaluate("e => e.scrollWidth <= e.clientWidth + 1"), titles.nth(i).inner_text()
    assert_nothing_cut_short(page, "the Home page and the menu, presenter mode at 1280×720")
    page.mouse.move(PROJECTOR["width"] - 8, PROJECTOR["height"] // 2)
    page.locator("[data-testid=stSidebar]").screenshot(path=str(screenshot_dir / "presenter_sidebar.png"),
                                                      animations="disabled")
