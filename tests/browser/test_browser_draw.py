"""Draw page in a real browser: real mouse strokes and real touch events on the
canvas, and the guess of each network for each digit: the built-in CNN's
first (the page's answer, named "Guessing with the built-in CNN"), and the
built-in MLP's beside it.

The canvas (streamlit-drawable-canvas 0.13, no iframe) lives in an open shadow
root, which Playwright's CSS engine pierces. Every digit is drawn in one stroke,
so a single rerun follows each drawing.
"""
import math
import re

import pytest

pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.browser
from playwright.sync_api import expect  # noqa: E402

from browser_utils import (WAIT, app_navigation, button, full_screenshot, no_exception, open_page,  # noqa: E402
                           wait_for_app, wait_visible)

CANVAS = "[class*=st-key-draw_canvas_] canvas.upper-canvas"   # st_canvas(key=f"draw_canvas_{n}")
PREDICTION = "#draw-prediction"                       # <div id="draw-prediction" data-digit="7">
MLP_PREDICTION = "#draw-mlp-prediction"               # the built-in MLP's guess beside it, the same way
EMPTY_MESSAGE = re.compile(r"Draw a digit in the black square")


def ellipse(cx, cy, rx, ry, n=36):
    return [(cx + rx * math.sin(2 * math.pi * i / n), cy - ry * math.cos(2 * math.pi * i / n))
            for i in range(n + 1)]


# Strokes as fractions of the canvas (0,0 top left .. 1,1 bottom right): one stroke per digit.
STROKES = {
    "1": [(0.5, 0.15), (0.5, 0.85)],
    "7": [(0.25, 0.2), (0.75, 0.2), (0.42, 0.85)],
    "0": ellipse(0.5, 0.5, 0.2, 0.32),
    "3": [(0.3, 0.2), (0.45, 0.14), (0.6, 0.16), (0.66, 0.27), (0.6, 0.4), (0.45, 0.47), (0.62, 0.55),
          (0.68, 0.68), (0.6, 0.8), (0.45, 0.85), (0.3, 0.8)],
    # Small and in the top-left corner: cropping and centring must still make it a 7.
    "small 7": [(0.1, 0.1), (0.35, 0.1), (0.2, 0.42)],
}


def canvas_points(page, stroke):
    canvas = page.locator(CANVAS)
    expect(canvas).to_have_count(1, timeout=WAIT)
    expect(canvas).to_be_visible(timeout=WAIT)
    box = canvas.bounding_box()
    return [(box["x"] + fx * box["width"], box["y"] + fy * box["height"]) for fx, fy in stroke]


def draw_with_mouse(page, stroke):
    points = canvas_points(page, stroke)
    page.mouse.move(*points[0])
    page.mouse.down()
    for x, y in points[1:]:
        page.mouse.move(x, y, steps=8)         # real intermediate mousemove events
    page.mouse.up()


def draw_with_touch(page, stroke):
    """One finger stroke through Chrome's touch input (touchstart, touchmove..., touchend)."""
    points = canvas_points(page, stroke)
    cdp = page.context.new_cdp_session(page)

    def touch(kind, point=None):
        cdp.send("Input.dispatchTouchEvent",
                 {"type": kind, "touchPoints": [] if point is None else [{"x": point[0], "y": point[1]}]})

    touch("touchStart", points[0])
    for (x0, y0), (x1, y1) in zip(points, points[1:]):
        for i in range(1, 9):
            touch("touchMove", (x0 + (x1 - x0) * i / 8, y0 + (y1 - y0) * i / 8))
    touch("touchEnd")
    cdp.detach()


def guess(page):
    """Wait for the prediction of the current drawing and return the digit shown."""
    prediction = page.locator(PREDICTION)
    wait_visible(page, prediction)
    wait_for_app(page)
    no_exception(page)
    app_navigation(page)
    expect(prediction).to_have_attribute("data-digit", re.compile(r"^\d$"))
    digit = prediction.get_attribute("data-digit")
    expect(prediction).to_have_text(digit)     # the big digit shown is the one in the attribute
    expect(page.get_by_text(re.compile(rf"The network reads a {digit}"))).to_be_visible()
    return digit


def mlp_guess(page):
    """The built-in MLP's guess for the drawing shown (read after guess(), which waits for the rerun)."""
    prediction = page.locator(MLP_PREDICTION)
    wait_visible(page, prediction)
    expect(prediction).to_have_attribute("data-digit", re.compile(r"^\d$"))
    digit = prediction.get_attribute("data-digit")
    expect(prediction).to_contain_text(f"The built-in MLP says {digit}")
    return digit


def expect_empty(page):
    wait_visible(page, page.get_by_text(EMPTY_MESSAGE))
    expect(page.locator(PREDICTION)).to_have_count(0)
    wait_for_app(page)
    no_exception(page)
    expect(page.locator(CANVAS)).to_be_visible(timeout=WAIT)


def clear(page):
    button(page, "draw_clear").click()
    expect_empty(page)


def test_mouse_drawn_digits_are_read(page, app_url, screenshot_dir):
    open_page(page, f"{app_url}/draw")
    expect_empty(page)                         # a fresh canvas asks for a digit
    expect(page.get_by_text(re.compile(r"Guessing with the built-in CNN \(conv 16@5x5"))).to_be_visible(timeout=WAIT)
    for digit in ["1", "0", "small 7", "3"]:       # (a big 7 is drawn by finger below)
        draw_with_mouse(page, STROKES[digit])
        assert guess(page) == digit.split()[-1], f"drew a {digit}"          # the built-in CNN ...
        assert mlp_guess(page) == digit.split()[-1], f"the MLP, on a {digit}"   # ... and the built-in MLP
        if digit == "3":
            # The preprocessing steps are shown below the guess.
            expect(page.get_by_text("From your drawing to 784 numbers")).to_be_visible()
            full_screenshot(page, screenshot_dir / "draw.png")
        clear(page)


def test_finger_drawn_digit_is_read(touch_page, app_url):
    page = touch_page
    open_page(page, f"{app_url}/draw")
    expect_empty(page)
    draw_with_touch(page, STROKES["7"])
    assert guess(page) == "7"
    clear(page)
