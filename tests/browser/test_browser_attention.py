"""The Attention and Inside a language model pages in a real browser: a typed sentence on Attention gives
its heat maps (drawn, with words for screen readers) and its table of weights; Inside shows the embedding
map and the key/value cache's measured speed. Full-page screenshots of both, normal and presenter mode, at
1280×720 (attention*.png, inside_language*.png)."""
import pytest

pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.browser
from playwright.sync_api import expect  # noqa: E402

from browser_utils import WAIT, full_screenshot, key, no_exception, open_page, wait_for_app, wait_for_drawing  # noqa: E402

SMALL = {"width": 1280, "height": 720}


def screenshots(page, url, name, screenshot_dir):
    page.set_viewport_size(SMALL)
    full_screenshot(page, screenshot_dir / f"{name}.png")
    open_page(page, url + "?present=1")
    full_screenshot(page, screenshot_dir / f"{name}_presenter.png")
    no_exception(page)


def test_attention_draws_heat_maps_for_a_typed_sentence(page, app_url, screenshot_dir):
    open_page(page, f"{app_url}/attention")
    box = key(page, "att_sentence").locator("input").first
    box.fill("ROMEO: But soft, what light?")
    box.press("Enter")
    wait_for_app(page)
    no_exception(page)
    main = page.locator("[data-testid=stMain]")
    expect(main.get_by_text("The sentence is 28 characters", exact=False)).to_be_visible(timeout=WAIT)
    wait_for_drawing(page)
    charts = main.locator("[data-testid=stVegaLiteChart]")
    # scores, weights, where one character looks, and one small map per head
    expect(charts).to_have_count(3 + 4, timeout=WAIT)
    weights = charts.nth(1)
    expect(weights.locator("canvas, svg").first).to_be_visible()
    box_ = weights.bounding_box()
    assert box_["width"] > 200 and box_["height"] > 200, box_
    assert page.locator("[data-testid=stMain] img:not([alt]), [data-testid=stMain] img[alt='']").count() == 0
    screenshots(page, f"{app_url}/attention", "attention", screenshot_dir)


def test_inside_shows_the_map_and_the_measured_cache(page, app_url, screenshot_dir):
    open_page(page, f"{app_url}/inside_language")
    main = page.locator("[data-testid=stMain]")
    expect(main.get_by_text("Faster by")).to_be_visible(timeout=WAIT)
    expect(main.get_by_text("the texts are the same", exact=False)).to_be_visible()
    wait_for_drawing(page)
    screenshots(page, f"{app_url}/inside_language", "inside_language", screenshot_dir)
