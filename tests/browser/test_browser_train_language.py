"""Train a language model in a real browser: a small model trains for a few seconds and its samples appear
in the live panel (the fragment redraws itself), Pause and Stop answer; screenshots at 1280×720 in normal
and presenter mode during a run (train_language*.png); then a reload offers the run and the model back. Progress is read from the progress line
"Training… step S/N · ..."; the test waits for samples, never a fixed time."""
import re

import pytest

pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.browser
from playwright.sync_api import expect  # noqa: E402

from browser_utils import (WAIT, button, full_screenshot, key, no_exception, open_page,  # noqa: E402
                           wait_for_app, wait_visible)

SMALL = {"width": 1280, "height": 720}
PROGRESS = "[data-testid=stProgress]"


def step(page):
    match = re.search(r"step ([\d,]+)/", page.locator(PROGRESS).inner_text())
    assert match, page.locator(PROGRESS).inner_text()
    return int(match.group(1).replace(",", ""))


@pytest.mark.parametrize("present", [False, True], ids=["normal", "presenter"])
def test_a_small_model_trains_and_its_samples_appear(page, app_url, screenshot_dir, present):
    page.set_viewport_size(SMALL)
    # A lesson link: a small MLP, a sample every 20 steps, many steps (still going when stopped).
    open_page(page, f"{app_url}/train_language?hidden=64&every=20&steps=100000" + ("&present=1" if present else ""))
    main = page.locator("[data-testid=stMain]")
    expect(main.get_by_text("Press Start to train a model")).to_be_visible()
    if present:
        key(page, "lmt_slow").locator("input").uncheck(force=True)     # full speed for the test
        wait_for_app(page)
    button(page, "lmt_start").click()
    progress = page.locator(PROGRESS)
    wait_visible(page, progress)
    expect(progress).to_contain_text("Training… step", timeout=WAIT)
    samples = main.locator("[data-testid=stCode]").filter(has_text="↵")     # line breaks shown as ↵
    expect(samples.nth(1)).to_be_visible(timeout=WAIT)                       # two samples, redrawn live
    expect(main.get_by_text(re.compile(r"^After step [\d,]+"))).not_to_have_count(0)
    assert len(samples.first.inner_text().strip()) > 20
    expect(main.locator("[data-testid=stVegaLiteChart]")).to_have_count(1)
    full_screenshot(page, screenshot_dir / f"train_language{'_presenter' if present else ''}.png")

    button(page, "lmt_pause").click()
    expect(progress).to_contain_text("Paused", timeout=WAIT)
    held = step(page)
    button(page, "lmt_resume").click()
    expect(progress).to_contain_text("Training…", timeout=WAIT)
    page.wait_for_function(f"""() => {{
        const m = document.querySelector('{PROGRESS}')?.innerText.match(/step ([\\d,]+)\\//);
        return m && parseInt(m[1].replace(/,/g, '')) > {held};
    }}""", timeout=WAIT)
    button(page, "lmt_stop").click()
    expect(main.get_by_text(re.compile(r"Run stopped early after [\d,]+ steps"))).to_be_visible(timeout=WAIT)
    no_exception(page)
    if present:
        return
    # "Welcome back" (#23): a reload offers the language-model run and the model back; restored, the run is on
    # Compare runs.
    wait_for_app(page)
    page.reload()
    wait_for_app(page)
    sidebar = page.locator("[data-testid=stSidebar]")
    offer = sidebar.get_by_text("Welcome back!")
    wait_visible(page, offer)
    expect(sidebar).to_contain_text("1 language-model run and your language model")
    button(page, "keep_restore").click()
    expect(offer).to_have_count(0, timeout=WAIT)
    wait_for_app(page)
    page.locator("[data-testid=stSidebarNav]").locator('a[href$="/compare"]').click()      # the same session
    expect(main.get_by_text("Your language-model runs (1)")).to_be_visible(timeout=WAIT)
    no_exception(page)
