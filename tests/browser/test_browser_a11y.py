"""Accessibility in a real browser: axe-core (the axe-playwright-python package bundles
it) finds no serious or critical violation, nor headings out of order, on any page of
ui/pages.PAGES at 1280×720, 1400×900 and 1920×1080 in normal and presenter mode (see SIZES;
in presenter mode no words are cut short either), on the Train page during and after a run,
on Compare with a run, on the Draw page after drawing (and with every explanation panel open),
on Evaluate with its panels open, on Train after a CNN run and on Inside with that CNN; and a keyboard
alone can train (set a value, Start, Pause, Stop), open the explanation panels, and give the Draw page a
digit (a test image's number, or a picture file) and hear its guess.

Run just these:  python -m pytest -q tests/browser/test_browser_a11y.py
"""
import re

import pytest

pytest.importorskip("playwright.sync_api")
axe_module = pytest.importorskip("axe_playwright_python.sync_playwright")
pytestmark = pytest.mark.browser
from playwright.sync_api import expect  # noqa: E402

from browser_utils import WAIT, key, no_exception, open_page, wait_for_app, wait_for_drawing, wait_visible  # noqa: E402
from test_browser_draw import STROKES, draw_with_mouse  # noqa: E402
from test_browser_explain import PANELS  # noqa: E402
from ui.pages import PAGES  # noqa: E402

BLOCKING = ("serious", "critical")
ALSO_BLOCKING = ("heading-order",)   # only "moderate" for axe, but a screen reader's map of the page
PROGRESS = "[data-testid=stProgress]"
MAX_TABS = 150          # a page has far fewer stops than this: a control never reached fails

_axe = axe_module.Axe()


def url_of(app_url, page_entry, query=""):
    return f"{app_url}/{'' if page_entry.path == PAGES[0].path else page_entry.name}{query}"


def assert_accessible(page, where):
    """axe-core on the whole page as it is now: no serious or critical violation."""
    wait_for_drawing(page)
    violations = _axe.run(page).response["violations"]
    bad = [v for v in violations if v["impact"] in BLOCKING or v["id"] in ALSO_BLOCKING]
    lines = [f"{v['impact']} {v['id']}: {v['help']} ({len(v['nodes'])} elements), e.g. "
             f"{v['nodes'][0]['target']}: {v['nodes'][0].get('failureSummary', '').strip()[:300]}"
             for v in bad]
    assert not bad, f"axe-core on {where}: {len(bad)} violations:\n" + "\n".join(lines)


# ------------------------------------------------------------------ every page, three window sizes
# Every page at each size, in the modes where that size can break something (4 of the 6 pairs, to keep the
# suite's time on a 2-core machine): what fails with the window's size is a table or a row of controls that
# no longer fits (a scrolling region the keyboard cannot reach, words cut short), and that happens first where
# the page is narrowest and the text biggest. So 1280x720 (a small laptop, the commonest projector) in both
# modes; 1400x900 (the other browser tests' window) in normal mode, as presenter mode at 1280x720 is tighter
# still; 1920x1080 in presenter mode (a full-HD projector), the loosest page normal mode is not checked at.
# Each mode opened once at 1280x720 (the narrowest, where the most wraps and overflows), then checked again
# in the same browser tab at its second size: normal mode at 1400x900, presenter mode at 1920x1080.
SIZES = {"": [(1280, 720), (1400, 900)], "?present=1": [(1280, 720), (1920, 1080)]}

# Text shown cut short with "..." (Streamlit's ellipsis on buttons, links, switches, menu titles): words the
# back of the room never gets to read. The skip link is off screen on purpose.
CUT_SHORT = """() => [...document.querySelectorAll('[data-testid=stApp] *')].filter(e => {
    const s = getComputedStyle(e);
    return s.textOverflow === 'ellipsis' && e.scrollWidth > e.clientWidth + 1 && e.offsetParent !== null
        && e.innerText.trim() && !e.closest('[data-testid=stSkipToContent]');
}).map(e => e.innerText.trim().slice(0, 80))"""


def assert_nothing_cut_short(page, where):
    cut = page.evaluate(CUT_SHORT)
    assert not cut, f"{where}: words cut short with an ellipsis: {cut}"


@pytest.mark.parametrize("query", list(SIZES), ids=["normal", "presenter"])
@pytest.mark.parametrize("page_entry", PAGES, ids=[p.name for p in PAGES])
def test_every_page_passes_axe(page, app_url, page_entry, query):
    for n, (width, height) in enumerate(SIZES[query]):
        page.set_viewport_size({"width": width, "height": height})
        if n == 0:
            open_page(page, url_of(app_url, page_entry, query))
        where = f"the {page_entry.title} page at {width}×{height}{' in presenter mode' if query else ''}"
        if query:
            expect(key(page, "presenter").locator("input")).to_be_checked()
            assert_nothing_cut_short(page, where)
        assert_accessible(page, where)


# ------------------------------------------------------------------ keyboard only
def focused_in(page, locator):
    return locator.evaluate("e => e.contains(document.activeElement)")


def tab_to(page, locator, what):
    """Press Tab (only Tab) until the keyboard focus is inside `locator`; check the
    focused control shows a visible focus ring."""
    expect(locator).to_be_visible(timeout=WAIT)
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        if focused_in(page, locator):
            break
    else:
        raise AssertionError(f"{what} is never reached with the Tab key ({MAX_TABS} presses)")
    ring = page.evaluate("""() => {
        const e = document.activeElement;
        const shown = [e, e.closest('label')].filter(Boolean).map(getComputedStyle);
        return shown.some(s => s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2);
    }""")
    assert ring, f"{what} has the keyboard focus but shows no focus ring"


def type_into(page, locator, text, what):
    """Tab to a text or number box, replace its text by typing, press Enter."""
    box = locator.locator("input")
    tab_to(page, box, what)
    page.keyboard.press("ControlOrMeta+a")
    page.keyboard.type(text)
    page.keyboard.press("Enter")
    expect(box).to_have_value(text)


def test_train_with_the_keyboard_only(page, app_url):
    """Set the network and epochs, Start, Pause, Stop: Tab, typing, Enter and Space only.
    The page also passes axe while the run goes and after it ends."""
    open_page(page, url_of(app_url, next(p for p in PAGES if p.name == "train")))
    # A big network for 200 epochs: the run is still going when Pause is pressed.
    type_into(page, key(page, "train_hidden"), "1024,1024", "the hidden layers box")
    wait_for_app(page)
    type_into(page, key(page, "train_epochs"), "200", "the Epochs box")
    wait_for_app(page)
    tab_to(page, key(page, "train_start").get_by_role("button"), "the Start button")
    page.keyboard.press("Enter")
    progress = page.locator(PROGRESS)
    wait_visible(page, progress)
    expect(progress).to_contain_text(re.compile(r"Training… epoch \d+/200"), timeout=WAIT)
    # The latest numbers are there as words too, not only in the chart.
    expect(page.get_by_text(re.compile(r"Latest: mini-batch loss \d"))).to_be_visible(timeout=WAIT)
    assert_accessible(page, "the Train page during a run")

    tab_to(page, key(page, "train_pause").get_by_role("button"), "the Pause button")
    page.keyboard.press("Space")
    expect(progress).to_contain_text("Paused", timeout=WAIT)
    wait_for_app(page)
    tab_to(page, key(page, "train_stop").get_by_role("button"), "the Stop button")
    page.keyboard.press("Enter")
    expect(progress).to_contain_text("Stopped early", timeout=WAIT)
    wait_visible(page, page.get_by_text(re.compile(r"Run stopped early: .*% of the .* test images right")))
    wait_for_app(page)
    no_exception(page)
    assert_accessible(page, "the Train page after a run")
    # With a run to show (in this session: follow the menu), the Compare page lists it side by side.
    compare = next(p for p in PAGES if p.name == "compare")
    page.locator("[data-testid=stSidebarNav]").get_by_role("link", name=re.compile(re.escape(compare.title) + "$")).click()
    expect(page.get_by_role("heading", name="Side by side")).to_be_visible(timeout=WAIT)
    wait_for_app(page)
    assert_accessible(page, "the Compare page with a run")


def test_draw_a_test_image_with_the_keyboard_and_hear_the_guess(page, app_url):
    """No mouse: switch to a test image with Space, type its number, step with the
    arrow keys; the guess is words in a live region a screen reader announces."""
    open_page(page, url_of(app_url, next(p for p in PAGES if p.name == "draw")))
    status = page.get_by_role("status").filter(has_text="The network reads")
    expect(status).to_have_count(0)
    switch = key(page, "draw_keyboard").locator("input")
    tab_to(page, switch, "the 'Use a test image' switch")
    page.keyboard.press("Space")
    expect(switch).to_be_checked(timeout=WAIT)
    type_into(page, key(page, "draw_test_index"), "7", "the test image number box")
    expect(status).to_have_count(1, timeout=WAIT)
    expect(status).to_contain_text(re.compile(r"The network reads a \d\s*\(.*\)"))
    expect(status).to_have_attribute("aria-live", "polite")
    expect(page.get_by_text(re.compile(r"Using test image 7 \(label \d\)"))).to_be_visible()
    # The arrow keys step to the next image; the guess follows.
    page.keyboard.press("ArrowUp")
    expect(page.get_by_text(re.compile(r"Using test image 8 \(label \d\)"))).to_be_visible(timeout=WAIT)
    expect(status).to_contain_text(re.compile(r"The network reads a \d"))
    wait_for_app(page)
    no_exception(page)
    assert_accessible(page, "the Draw page with a test image picked by keyboard")


def test_draw_page_after_drawing_passes_axe(page, app_url):
    open_page(page, url_of(app_url, next(p for p in PAGES if p.name == "draw")))
    draw_with_mouse(page, STROKES["7"])
    wait_visible(page, page.locator("#draw-prediction"))
    wait_for_app(page)
    expect(page.get_by_role("status")).to_contain_text(re.compile(r"The network reads a \d"))
    assert_accessible(page, "the Draw page after drawing")


def open_every_panel(page, where):
    """Open the five "Why did it say that?" panels with the keyboard (focus, Enter), each shown computed."""
    for name, shows in PANELS.items():
        panel = key(page, f"{where}_xp_{name}")
        panel.locator("summary").focus()
        page.keyboard.press("Enter")
        expect(panel.get_by_text(shows).first).to_be_visible(timeout=WAIT)
        wait_for_app(page)
    no_exception(page)


def test_draw_page_with_every_explanation_panel_open_passes_axe(page, app_url):
    open_page(page, url_of(app_url, next(p for p in PAGES if p.name == "draw")))
    draw_with_mouse(page, STROKES["3"])
    wait_visible(page, page.locator("#draw-prediction"))
    wait_for_app(page)
    open_every_panel(page, "draw")
    assert_accessible(page, "the Draw page with every explanation panel open")


def test_evaluate_page_with_every_explanation_panel_open_passes_axe(page, app_url):
    open_page(page, url_of(app_url, next(p for p in PAGES if p.name == "evaluate")))
    open_every_panel(page, "eval")
    assert_accessible(page, "the Evaluate page with every explanation panel open")


def test_train_after_a_cnn_run_and_inside_with_that_cnn_pass_axe(page, app_url):
    open_page(page, url_of(app_url, next(p for p in PAGES if p.name == "train"), "?kind=cnn&filters=4-8&epochs=1"))
    key(page, "train_start").get_by_role("button").click()
    wait_visible(page, page.get_by_text(re.compile(r"Run finished: .*% of the .* test images right")))
    wait_for_app(page)
    no_exception(page)
    expect(page.get_by_text(re.compile(r"What the first conv layer looks for"))).to_be_visible(timeout=WAIT)
    assert_accessible(page, "the Train page after a CNN run")
    inside = next(p for p in PAGES if p.name == "inside")
    page.locator("[data-testid=stSidebarNav]").get_by_role("link", name=re.compile(re.escape(inside.title) + "$")).click()
    expect(page.get_by_role("heading", name=re.compile(re.escape(inside.heading)))).to_be_visible(timeout=WAIT)
    wait_for_app(page)
    no_exception(page)
    expect(page.get_by_text(re.compile(r"conv 4@5x5")).first).to_be_visible(timeout=WAIT)
    assert_accessible(page, "the Inside page with a CNN")


def test_draw_a_picture_file_with_the_keyboard_and_hear_the_guess(page, app_url, tmp_path):
    """The file box is reached with Tab (and shows a focus ring); a PNG of a digit is read and its
    guess announced; a file that is no picture gets one sentence and no guess."""
    import numpy as np
    from PIL import Image

    from engine.data import load_mnist
    digit = tmp_path / "digit.png"
    Image.fromarray(255 - load_mnist(download=False).x_test[0].reshape(28, 28)).resize((200, 200)).save(digit)
    bad = tmp_path / "notes.png"
    bad.write_bytes(np.arange(256, dtype=np.uint8).tobytes())
    open_page(page, url_of(app_url, next(p for p in PAGES if p.name == "draw")))
    switch = key(page, "draw_keyboard").locator("input")
    tab_to(page, switch, "the 'Use a test image or a picture file' switch")
    page.keyboard.press("Space")
    expect(switch).to_be_checked(timeout=WAIT)
    wait_for_app(page)
    source = key(page, "draw_source")
    tab_to(page, source, "the source choice")
    page.keyboard.press("ArrowRight")                 # radio buttons: the arrow keys pick the next one
    expect(source.get_by_role("radio", name="A picture file (PNG or JPEG)")).to_be_checked(timeout=WAIT)
    wait_for_app(page)
    uploader = key(page, "draw_upload")
    tab_to(page, uploader.locator("button[data-testid=stBaseButton-secondary]"), "the file box's Browse button")
    status = page.get_by_role("status").filter(has_text="The network reads")
    uploader.locator("input[type=file]").set_input_files(str(bad))
    expect(page.get_by_text(re.compile(r"notes\.png is not a PNG or JPEG picture"))).to_be_visible(timeout=WAIT)
    expect(status).to_have_count(0)
    uploader.locator("input[type=file]").set_input_files(str(digit))
    expect(status).to_contain_text(re.compile(r"The network reads a \d"), timeout=WAIT)
    expect(page.get_by_text("Using the picture digit.png")).to_be_visible()
    wait_for_app(page)
    no_exception(page)
    assert_accessible(page, "the Draw page with an uploaded picture")


# ------------------------------------------------------------------ the Class page with a class set
def test_class_page_with_drawings_passes_axe(page, tmp_path):
    """The Our class page once the class has drawn (30 test digits by three students, all read right:
    an empty 'mistakes' layer of the confusion matrix was an unnamed graphic, axe's svg-img-alt)."""
    from classroom.store import Store, drawing_png
    from conftest import serve_app
    from engine.data import load_mnist
    db = tmp_path / "class.sqlite"
    store = Store(f"sqlite:///{db}", min_interval=0, max_per_session=10**6)
    data = load_mnist(None)
    for i in range(30):
        ink = data.x_test[i].reshape(28, 28)
        store.add_drawing(f"session-{i % 3}", int(data.y_test[i]), ink, drawing_png(ink), nickname=f"kid{i % 3}",
                          now=1000 + 2 * i)
    store.close()
    with serve_app(log_name="server-a11y-class.log", DIGITS_DB=f"sqlite:///{db}") as url:
        open_page(page, f"{url}/class")
        expect(page.get_by_text("Gallery")).to_be_visible(timeout=WAIT)
        assert_accessible(page, "the Our class page with 30 drawings")
