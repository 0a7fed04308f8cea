"""Every page opens in a real browser, shows its title and no exception.

Each page is opened by its own URL in a fresh session (as from a bookmark),
and a full-page screenshot is saved as <page>.png (docs/screenshots/ with
UPDATE_SCREENSHOTS=1, see conftest.py)
(the Draw page's is taken with a digit drawn, in test_browser_draw.py).
A second test checks the sidebar links and follows a few of them.
"""
import re

import pytest

pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.browser
from playwright.sync_api import expect  # noqa: E402

from browser_utils import WAIT, button, full_screenshot, key, no_exception, open_page, wait_for_app  # noqa: E402

# (URL path, words the page title must contain, screenshot name or None, sidebar label), in the menu's order
PAGES = [
    ("", r"Digits from Scratch", "home", "Home"),
    ("dataset", r"Dataset", "dataset", "Dataset: images become numbers"),
    ("one_hot", r"One-hot", "one_hot", "One-hot encoding"),
    ("how_it_learns", r"How it learns", "how_it_learns", "How it learns"),
    ("train", r"Train", "train", "Train"),
    ("evaluate", r"Evaluate", "evaluate", "Evaluate"),
    ("draw", r"Draw", None, "Draw"),
    ("inside", r"Inside", "inside", "Inside the network"),
    ("compare", r"Compare", "compare_empty", "Compare runs"),
    ("why_convolutions", r"Why convolutions", "why_convolutions", "Why convolutions?"),
    ("convolution", r"Convolution", None, "Convolution"),      # screenshot: test_browser_convolution.py
    ("class", r"Our class", None, "Our class"),     # its screenshot (with digits): test_browser_class.py
    ("pytorch", r"PyTorch", None, "Same network in PyTorch"),
    ("tokens", r"Tokens", None, "Tokens: text becomes numbers"),      # screenshots: test_browser_language.py
    ("next_character", r"Next character", None, "Next character"),
    ("train_language", r"Train a language model", None, "Train a language model"),   # test_browser_train_language
    ("attention", r"Attention", None, "Attention"),                        # test_browser_attention.py
    ("inside_language", r"Inside a language model", None, "Inside a language model"),
    ("pytorch_language", r"language model in PyTorch", None, "Language model in PyTorch"),
]


def title(page):
    return page.locator("[data-testid=stMain] h1").first


@pytest.mark.parametrize("path,words,shot,label", PAGES, ids=[p[2] or p[0] for p in PAGES])
def test_page_opens(page, app_url, screenshot_dir, path, words, shot, label):
    open_page(page, f"{app_url}/{path}")
    expect(title(page)).to_be_visible()
    expect(title(page)).to_contain_text(re.compile(words, re.I))
    no_exception(page)
    # The page names itself in the browser tab too.
    assert "Digits from Scratch" in page.title() or label in page.title(), page.title()
    if shot:
        full_screenshot(page, screenshot_dir / f"{shot}.png")
        no_exception(page)


def test_sidebar_links(page, app_url):
    """The sidebar lists every page in teaching order with its URL, under the lesson sections; clicking
    a link switches page (URL, title and highlighted link follow) without a reload."""
    open_page(page, app_url)
    nav = page.locator("[data-testid=stSidebarNav]")
    expect(nav.locator("[data-testid=stNavSectionHeader] [data-testid=stMarkdownContainer]")).to_have_text(
        ["Start", "Digits with an MLP", "Convolutions", "Our class", "PyTorch", "From digits to words"])
    # ... each section a list named by its header for a screen reader (ui/a11y.menu_lists)
    for section, names in (("Start", ["Home", "Dataset: images become numbers", "One-hot encoding"]),
                           ("Convolutions", ["Why convolutions?", "Convolution"])):
        items = nav.get_by_role("list", name=section, exact=True).get_by_role("listitem")
        expect(items).to_have_count(len(names))
        for item, name in zip(items.all(), names):
            expect(item).to_contain_text(name)
    links = nav.get_by_role("link")
    expect(links).to_have_count(len(PAGES))
    for link, (path, _, _, label) in zip(links.all(), PAGES):
        expect(link).to_contain_text(label)
        assert link.get_attribute("href").rstrip("/") == f"{app_url}/{path}".rstrip("/")
    # Every page was opened by its URL above; here a few clicks, lightest pages first.
    by_path = {p[0]: p for p in PAGES}
    for path in ["one_hot", "draw", ""]:
        _, words, _, label = by_path[path]
        nav.get_by_role("link", name=re.compile(re.escape(label) + "$")).click()
        expect(page).to_have_url(re.compile(rf"/{path}(\?.*)?$"), timeout=WAIT)
        expect(title(page)).to_contain_text(re.compile(words, re.I), timeout=WAIT)
        wait_for_app(page)
        no_exception(page)
        expect(nav.locator("a[aria-current=page]")).to_contain_text(label)


def every_chart_drawn(page):
    """Every chart on the page has been drawn by Vega (a chart Vega-Lite cannot
    compile stays empty; its error fails the test through conftest's page-error check)."""
    charts = page.locator("[data-testid=stVegaLiteChart]")
    expect(charts.first).to_be_visible(timeout=WAIT)
    for i in range(charts.count()):
        expect(charts.nth(i).locator("svg.marks, canvas").first).to_be_attached(timeout=WAIT)


def test_charts_after_interactions(page, app_url):
    """Charts that only appear after a click are drawn too: one update step on How it
    learns (before/after outputs, loss per step), a real model output on One-hot."""
    open_page(page, f"{app_url}/how_it_learns")
    n_before = page.locator("[data-testid=stVegaLiteChart]").count()
    for _ in range(2):
        button(page, "hl_step").click()
        wait_for_app(page)
    expect(page.locator("[data-testid=stVegaLiteChart]")).to_have_count(n_before + 2, timeout=WAIT)
    every_chart_drawn(page)
    no_exception(page)

    open_page(page, f"{app_url}/one_hot")
    key(page, "oh_real").locator("label").first.click()
    expect(key(page, "oh_img")).to_be_visible(timeout=WAIT)
    wait_for_app(page)
    every_chart_drawn(page)
    no_exception(page)
