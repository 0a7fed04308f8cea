"""Helpers for the browser tests: waiting for Streamlit, finding widgets, screenshots."""
from pathlib import Path

try:
    from playwright.sync_api import expect
except ImportError:          # conftest skips every browser test then
    expect = None

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
SCREENSHOTS = ROOT / "docs" / "screenshots"
VIEWPORT = {"width": 1400, "height": 900}
SERVER_PIDS = {}       # URL of each app server the tests started -> its process id (conftest.serve_app)

# ---------------------------------------------------------------- helpers for the tests
# Streamlit marks its root element with the state of the script run:
# <div data-testid="stApp" data-test-script-state="initial|running|notRunning|rerunRequested|...">
APP = "[data-testid=stApp]"
WAIT = 90_000          # ms: generous, this may run on a busy 2-core machine


def key(page, widget_key):
    """The element container of the widget/element created with key=widget_key."""
    return page.locator(f".st-key-{widget_key}")


def button(page, widget_key):
    """The visible <button> of st.button(key=...) (Streamlit also renders a hidden copy)."""
    return key(page, widget_key).get_by_role("button")


def set_number(page, widget_key, value):
    """Type `value` into the number box of st.number_input(key=widget_key) and press Enter."""
    box = key(page, widget_key).locator("input")
    expect(box).to_be_enabled(timeout=WAIT)
    box.fill(str(value))
    box.press("Enter")
    expect(box).to_have_value(str(value))


def wait_for_app(page, timeout=WAIT):
    """Wait until the script run (or fragment run) has finished.

    Call it after waiting for the element an action changes: right after a
    click the state may still say notRunning for a moment. After page.goto it
    is safe on its own (the state starts as 'initial').
    """
    expect(page.locator(APP)).to_have_attribute("data-test-script-state", "notRunning", timeout=timeout)


EXCEPTION = "[data-testid=stException]"


def no_exception(page):
    exc = page.locator(EXCEPTION)
    if exc.count():
        raise AssertionError("the page shows a Python exception:\n" + exc.first.inner_text())


def app_navigation(page):
    """The page runs inside dashboard.py's st.navigation: its sidebar menu (Home first),
    not Streamlit's fallback menu built from the pages/ file names."""
    nav = page.locator("[data-testid=stSidebarNav]")
    expect(nav.get_by_role("link").first, "the app's own navigation menu is gone (Streamlit ran the page "
           "file alone, in its old pages-folder mode)").to_contain_text("Home")


def wait_visible(page, locator, timeout=WAIT):
    """Wait for `locator` to show, failing at once (not after the timeout) if the
    page shows a Python exception instead."""
    expect(locator.or_(page.locator(EXCEPTION)).first).to_be_visible(timeout=timeout)
    no_exception(page)
    expect(locator).to_be_visible()


def open_page(page, url, timeout=WAIT):
    """Go to `url`, wait for the first full run of the page's script and for the browser to draw it."""
    page.goto(url, timeout=timeout)
    wait_for_app(page, timeout)
    wait_for_drawing(page, timeout)
    no_exception(page)
    app_navigation(page)


def wait_for_drawing(page, timeout=WAIT):
    """Wait until the browser has drawn what the script sent: no loading skeletons
    (Streamlit loads the code for charts, images, metrics... on first use), every
    chart drawn by vega-embed and every image loaded."""
    page.wait_for_function(
        """() => !document.querySelector('[data-testid=stMain] [data-testid=stSkeleton]')
              && [...document.querySelectorAll('[data-testid=stVegaLiteChart]')].every(
                  c => c.querySelector('canvas, svg'))
              && [...document.querySelectorAll('[data-testid=stMain] img')].every(
                  i => i.complete && i.naturalWidth > 0)""",
        timeout=timeout)


def full_screenshot(page, path, timeout=WAIT):
    """Screenshot the whole page. Streamlit scrolls inside <main>, not the window,
    so the viewport is made as tall as the content first, then put back. The
    mouse is parked in the empty right margin (no hover tooltip or sidebar
    button) and the "Running..." indicator is hidden (a live run is always
    running)."""
    size = page.viewport_size
    page.mouse.move(size["width"] - 8, size["height"] // 2)
    height = page.evaluate("document.querySelector('[data-testid=stMain]').scrollHeight")
    page.set_viewport_size({"width": size["width"], "height": max(size["height"], height)})
    try:
        wait_for_drawing(page, timeout)     # images further down load once they are in view
        page.screenshot(path=str(path), full_page=True, animations="disabled", caret="hide",
                        style="[data-testid=stStatusWidget] { visibility: hidden !important; }")
    finally:
        page.set_viewport_size(size)


def cpu_seconds(pid):
    """CPU time (user + system, all threads) the process `pid` has used so far, from /proc/<pid>/stat."""
    import os
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()     # after the command name, which may hold spaces
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")     # utime, stime (fields 14, 15)
