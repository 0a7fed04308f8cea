"""Train page in a real browser: a live run redraws itself (the fragment ticks on
its own), Pause/Resume/Stop work, and a short run finishes and becomes your model.

Progress is read from the progress line "Training… epoch E/N · batch B/M · ...",
which the live panel redraws on every tick.
"""
import re

import pytest

pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.browser
from playwright.sync_api import expect  # noqa: E402

from browser_utils import (WAIT, app_navigation, button, full_screenshot, key, no_exception, open_page,  # noqa: E402
                           set_number, wait_for_app, wait_for_drawing, wait_visible)

PROGRESS = "[data-testid=stProgress]"
POSITION = re.compile(r"epoch (\d+)/(\d+) · batch (\d+)/(\d+)")
CHART = "[data-testid=stVegaLiteChart]"
VIEWPORT_RIGHT = 1390        # x of the empty right margin: park the mouse there for screenshots


def position(page):
    """(epoch, epochs, batch, batches) from the progress line."""
    text = page.locator(PROGRESS).inner_text()
    match = POSITION.search(text)
    assert match, f"no 'epoch E/N · batch B/M' in the progress line: {text!r}"
    return tuple(int(g) for g in match.groups())


def start(page, epochs):
    set_number(page, "train_epochs", epochs)
    button(page, "train_start").click()
    progress = page.locator(PROGRESS)
    wait_visible(page, progress)
    expect(progress).to_contain_text(re.compile(rf"epoch \d+/{epochs}\b"), timeout=WAIT)
    return progress


def test_live_run_grows_pauses_and_stops(page, app_url, screenshot_dir):
    open_page(page, f"{app_url}/train")
    expect(page.get_by_text("Press Start to train")).to_be_visible()
    # A big network for 200 epochs: minutes of work even on a fast machine, so the
    # run is still going when the test pauses and stops it.
    hidden = key(page, "train_hidden").locator("input")
    hidden.fill("1024,1024")
    hidden.press("Enter")
    expect(hidden).to_have_value("1024,1024")
    wait_for_app(page)
    progress = start(page, 200)
    expect(progress).to_contain_text("Training…")

    # After the first epoch the per-epoch loss and accuracy charts join the mini-batch loss chart.
    expect(progress).to_contain_text(re.compile(r"epoch [2-9]/200"), timeout=WAIT)
    expect(page.locator(CHART)).to_have_count(3, timeout=WAIT)
    # The run goes on without any click: the progress line moves on by itself.
    first = position(page)
    expect(progress).not_to_contain_text(POSITION.search(progress.inner_text()).group(0), timeout=WAIT)
    second = position(page)
    assert second[:1] + second[2:3] > first[:1] + first[2:3], (first, second)
    no_exception(page)
    wait_for_drawing(page)
    full_screenshot(page, screenshot_dir / "train_running.png")

    # Pause, then Resume: the run carries on from where it paused.
    button(page, "train_pause").click()
    expect(progress).to_contain_text("Paused", timeout=WAIT)
    wait_for_app(page)
    paused = position(page)
    expect(button(page, "train_resume")).to_be_enabled()
    button(page, "train_resume").click()
    expect(progress).to_contain_text("Training…", timeout=WAIT)
    expect(progress).not_to_contain_text(POSITION.search(progress.inner_text()).group(0), timeout=WAIT)
    assert position(page) > paused

    # Stop: the run ends early, is tested, and becomes the session's model.
    button(page, "train_stop").click()
    expect(progress).to_contain_text("Stopped early", timeout=WAIT)
    wait_visible(page, page.get_by_text(re.compile(r"Run stopped early: .*% of the .* test images right")))
    wait_for_app(page)
    expect(button(page, "train_start")).to_be_enabled()
    expect(key(page, "train_download")).to_be_visible()
    no_exception(page)
    app_navigation(page)


def test_short_run_finishes_and_becomes_my_model(page, app_url):
    open_page(page, f"{app_url}/train")
    progress = start(page, 1)
    wait_visible(page, page.get_by_text(re.compile(r"Run finished: .*% of the .* test images right")))
    expect(progress).to_contain_text("Finished")
    wait_for_app(page)
    no_exception(page)
    expect(page.locator(CHART)).to_have_count(3)     # mini-batch loss, loss per epoch, accuracy per epoch
    expect(key(page, "train_download")).to_be_visible()

    # The app's own navigation is still there after the run ended by itself (the live
    # panel then asks for a full rerun from inside its fragment).
    app_navigation(page)
    nav = page.locator("[data-testid=stSidebarNav]")
    # The Draw page now offers "Use my model" (on by default) and names it.
    nav.get_by_role("link", name=re.compile(r"Draw$")).click()
    wait_visible(page, key(page, "draw_use_mine"))
    expect(page.get_by_text(re.compile(r"Guessing with your model"))).to_be_visible(timeout=WAIT)
    wait_for_app(page)
    no_exception(page)


def test_a_run_trains_on_while_you_look_at_another_page(page, app_url, screenshot_dir):
    """Start a run, go to the Dataset page: the run carries on there, its progress
    in the sidebar (the sidebar's fragment ticks on its own), and when it ends the
    Draw page uses the new model."""
    open_page(page, f"{app_url}/train")
    # A big network, so the run is still going when we leave the page (several seconds an epoch).
    hidden = key(page, "train_hidden").locator("input")
    hidden.fill("1024,1024")
    hidden.press("Enter")
    expect(hidden).to_have_value("1024,1024")
    start(page, 5)
    nav = page.locator("[data-testid=stSidebarNav]")
    nav.get_by_role("link", name=re.compile(r"Dataset: images become numbers$")).click()
    sidebar = page.locator("[data-testid=stSidebar]")
    bar = sidebar.locator(PROGRESS)
    wait_visible(page, bar)
    expect(bar).to_contain_text(re.compile(r"Training · epoch \d/5"))
    page.mouse.move(VIEWPORT_RIGHT, 450)
    page.screenshot(path=str(screenshot_dir / "sidebar_training.png"), animations="disabled")
    # Nobody clicks, yet the run gets to its end: the sidebar's fragment trains on its own
    # (the page's own run trains only one half-second slice). Then the panel goes ...
    expect(bar).to_have_count(0, timeout=3 * WAIT)
    wait_for_app(page)
    no_exception(page)
    nav.get_by_role("link", name=re.compile(r"Draw$")).click()
    expect(page.get_by_text(re.compile(r"Guessing with your model"))).to_be_visible(timeout=WAIT)
    no_exception(page)


def test_a_cnn_trains_to_the_end_with_its_filters_and_charts(page, app_url, screenshot_dir):
    """A lesson link chooses a small CNN; it trains live to the end, its first conv layer's filters
    are drawn, and it becomes the model that Draw guesses with."""
    open_page(page, f"{app_url}/train?kind=cnn&filters=8-16&epochs=2")
    expect(page.get_by_text(re.compile(r"Network: conv 8@5x5 → relu → maxpool 2 → conv 16@5x5"))).to_be_visible()
    button(page, "train_start").click()
    progress = page.locator(PROGRESS)
    wait_visible(page, progress)
    wait_visible(page, page.get_by_text(re.compile(r"Run finished: .*% of the .* test images right")))
    expect(progress).to_contain_text("Finished")
    wait_for_app(page)
    no_exception(page)
    expect(page.locator(CHART)).to_have_count(3)     # mini-batch loss, loss per epoch, accuracy per epoch
    expect(page.get_by_text("What the first conv layer looks for (8 of its 8 filters)")).to_be_visible()
    filters = page.get_by_role("img", name=re.compile(r"^Filter \d+ of the first conv layer, 5×5 weights"))
    wait_visible(page, filters.first)
    expect(filters).to_have_count(8)
    for i in range(8):                                              # one picture each, drawn big
        box = filters.nth(i).bounding_box()
        assert box["width"] >= 100 and box["height"] >= 100, box
    wait_for_drawing(page)
    full_screenshot(page, screenshot_dir / "train_cnn.png")
    nav = page.locator("[data-testid=stSidebarNav]")
    nav.get_by_role("link", name=re.compile(r"Draw$")).click()
    expect(page.get_by_text(re.compile(r"Guessing with your model \(conv 8@5x5"))).to_be_visible(timeout=WAIT)
    no_exception(page)
