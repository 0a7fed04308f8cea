"""Accessibility without a browser: colour contrast (WCAG 2), colour-blind-safe digit
colours, words for the pictures, and the Draw page's keyboard way in.

The browser checks (axe-core on every page, keyboard-only walks) are in
tests/browser/test_browser_a11y.py.
"""
import ast
import itertools
import re
import tomllib
from pathlib import Path

import numpy as np
import pytest

from apptest_utils import open_page, run_until_done, texts
from engine.data import load_mnist
from engine.preprocess import preprocess_canvas
from test_charts import CASES
from ui import a11y, chart_cache, charts

ROOT = Path(__file__).resolve().parent.parent


def _linear(color):
    c = np.array([int(color[i:i + 2], 16) for i in (1, 3, 5)]) / 255
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


# ------------------------------------------------------------------ contrast
def test_contrast_ratio_matches_wcag_examples():
    assert a11y.contrast("#000000", "#ffffff") == pytest.approx(21)
    assert a11y.contrast("#ffffff", "#000000") == pytest.approx(21)
    assert a11y.contrast("#777777", "#777777") == pytest.approx(1)
    # WebAIM's checker: #767676 on white is the lightest grey that passes AA (4.54:1).
    assert a11y.contrast("#767676") == pytest.approx(4.54, abs=0.01)
    assert a11y.contrast("#777777") < 4.5


@pytest.mark.parametrize("color", charts.DIGIT_COLORS)
@pytest.mark.parametrize("ratio", [3, 4.5])
def test_readable_digit_colours_pass_and_keep_their_hue(color, ratio):
    out = a11y.readable(color, ratio=ratio)
    assert a11y.contrast(out) >= ratio
    rgb, new = np.array([int(color[i:i + 2], 16) for i in (1, 3, 5)]), np.array(
        [int(out[i:i + 2], 16) for i in (1, 3, 5)])
    assert (new <= rgb).all()                      # only darker
    if a11y.contrast(color) >= ratio:
        assert out == color                        # untouched when it already passes
    else:                                          # the same hue: channels keep their proportions
        assert np.allclose(new / new.max(), rgb / rgb.max(), atol=0.05)


def test_theme_grey_text_meets_aa():
    """Streamlit draws captions and help text in the theme's text colour at 60% opacity
    (#828180 with its default #2f2d2b: 3.9:1, what axe found). With ours that grey
    passes 4.5:1 on the page (white), the sidebar (#f8f8f7) and widgets (#f1f0ee)."""
    theme = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())["theme"]
    text = theme["textColor"]
    for background in ["#ffffff", "#f8f8f7", "#f1f0ee"]:
        fg, bg = (np.array([int(c[i:i + 2], 16) for i in (1, 3, 5)]) for c in (text, background))
        grey = "#" + "".join(f"{round(v):02x}" for v in 0.6 * fg + 0.4 * bg)
        assert a11y.contrast(grey, background) >= 4.5, (grey, background)


# ------------------------------------------------------------------ colour blindness
# Machado, Oliveira & Fernandes (2009), full severity, on linear RGB.
CVD = {
    "protan": [[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216], [-0.003882, -0.048116, 1.051998]],
    "deutan": [[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413], [-0.011820, 0.042940, 0.968881]],
    "tritan": [[1.255528, -0.076749, -0.178779], [-0.078411, 0.930809, 0.147602], [0.004733, 0.691367, 0.303900]],
    "typical": np.eye(3),
}


def _lab(linear_rgb):
    xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]]) @ linear_rgb
    t = xyz / np.array([0.95047, 1.0, 1.08883])
    f = np.where(t > 0.008856, np.cbrt(t), 7.787 * t + 16 / 116)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


@pytest.mark.parametrize("vision", CVD)
def test_ten_digit_colours_stay_apart_for_colour_blind_eyes(vision):
    """Every pair of digit colours differs by ΔE*ab > 15 (clearly different, side by
    side) as seen with each kind of colour blindness, simulated."""
    seen = [_lab(np.clip(np.array(CVD[vision]) @ _linear(c), 0, 1)) for c in charts.DIGIT_COLORS]
    assert len(set(charts.DIGIT_COLORS)) == 10
    closest = min((float(np.linalg.norm(seen[i] - seen[j])), i, j) for i, j in itertools.combinations(range(10), 2))
    assert closest[0] > 15, f"digits {closest[1]} and {closest[2]} look alike ({vision}): ΔE {closest[0]:.1f}"


# ------------------------------------------------------------------ words for pictures
def test_alt_texts_say_which_image_and_its_label():
    labels = np.array([5, 0, 4, 1, 9])
    assert a11y.digit_alt("training", 27, 9) == "training image 27, label 9"
    assert a11y.digit_alt("test", 3, 1, "predicted 7") == "test image 3, label 1, predicted 7"
    assert a11y.digits_alt("test", np.array([4, 1]), labels) == ["test image 4, label 9", "test image 1, label 0"]
    assert "first 150 hidden units" in a11y.weights_alt(150)


# ------------------------------------------------------------------ Draw page, by keyboard
def test_draw_page_reads_a_test_image_picked_by_number():
    """The keyboard way in: switch on, type a test image's number; the guess is
    shown as words in a live region, and the preprocessing steps have words too."""
    at = open_page("app_pages/6_draw.py")
    assert not any("The network reads" in str(m.value) for m in at.markdown)
    at.toggle(key="draw_keyboard").set_value(True).run()
    at.number_input(key="draw_test_index").set_value(7).run()
    assert not at.exception, at.exception
    # What the network read is test image 7, prepared like a drawing.
    picked = preprocess_canvas(load_mnist(download=False).x_test[7].reshape(28, 28), background="black").x
    np.testing.assert_array_equal(at.session_state["draw_last_x"], picked)
    guess = [m.value for m in at.markdown if 'role="status"' in str(m.value)]
    assert len(guess) == 1, [m.value for m in at.markdown]
    digit = re.search(r"The network reads a <b>(\d)</b>", guess[0])
    assert digit, guess[0]
    assert 'aria-live="polite"' in guess[0]
    assert "test image 7 (label" in texts(at.caption)


# ------------------------------------------------------------------ charts' numbers as words
def test_train_page_says_the_charts_latest_numbers_in_words():
    at = open_page("app_pages/4_train.py")
    at.number_input(key="train_epochs").set_value(1).run()
    at.button(key="train_start").click().run()
    assert run_until_done(at) == "finished"
    run = at.session_state["trainer"]
    last = run.history.epochs[-1]
    line = next(c.value for c in at.caption if str(c.value).startswith("Latest: "))
    assert f"mini-batch loss {run.history.batch_loss[-1]:.4f}" in line, line
    assert f"epoch 1: training loss {last['train_loss']:.4f}, accuracy {last['train_acc']:.1%}" in line, line
    assert f"validation loss {last['val_loss']:.4f}, accuracy {last['val_acc']:.1%}" in line, line


# ------------------------------------------------------------------ charts: a label with the numbers
@pytest.mark.parametrize("build, args, kwargs, rows", CASES, ids=[c[0].__name__ for c in CASES])
def test_every_chart_has_a_description_for_screen_readers(build, args, kwargs, rows):
    """Vega-embed makes a spec's description the chart's aria-label."""
    spec = chart_cache.chart_spec(build, *args, **kwargs)
    words = spec.get("description", "")
    assert len(words) > 12 and words != "Chart", words


def test_chart_descriptions_carry_the_charts_numbers():
    counts = np.array([5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949])
    words = chart_cache.chart_spec(charts.class_bar_chart, counts, "Training set")["description"]
    assert words.startswith("Training set.") and "0: 5,923" in words and "9: 5,949" in words

    probs = np.array([0.01, 0.02, 0.0, 0.9, 0.0, 0.03, 0.01, 0.01, 0.01, 0.01])
    words = chart_cache.chart_spec(charts.probability_chart, probs)["description"]
    assert "highest for 3" in words and "3: 90%" in words, words

    cm = np.diag([50] * 10)
    cm[4, 9], cm[7, 1] = 6, 2
    words = chart_cache.chart_spec(charts.confusion_chart, cm)["description"]
    assert "500 of 508 test images right" in words and "true 4 read as 9 (6), true 7 read as 1 (2)" in words, words

    epochs = [{"epoch": 1, "train_loss": 0.5, "val_loss": 0.6, "train_acc": 0.81, "val_acc": 0.8},
              {"epoch": 2, "train_loss": 0.25, "train_acc": 0.9}]
    words = chart_cache.chart_spec(charts.epoch_chart, epochs, "acc")["description"]
    assert "epoch 1: training: 81.0%, validation: 80.0%; epoch 2: training: 90.0%" in words, words

    words = chart_cache.chart_spec(charts.batch_loss_chart, [1, 2, 3], [2.5, 1.25, 0.5])["description"]
    assert "from 2.5000 at batch 1 to 0.5000 at batch 3" in words, words


def test_evaluate_page_gives_the_confusion_matrix_as_a_table():
    at = open_page("app_pages/5_evaluate.py")
    cm = at.session_state["eval_cache"]["cm"]
    table = at.table[0].value
    assert list(table.index) == [f"true {d}" for d in range(10)]
    assert list(table.columns) == [f"predicted {d}" for d in range(10)]
    np.testing.assert_array_equal(table.to_numpy(), cm)
    assert at.table[0].value.to_numpy().sum() == len(load_mnist(download=False).y_test)


def test_robustness_chart_description_reads_its_levels_in_any_axis_format():
    # The Inside page draws the turning angles with a d3 "d" format (an integer axis).
    words = chart_cache.chart_spec(charts.robustness_chart, [0, 15, 30], [0.95, 0.7, 0.4], "turned by (degrees)",
                                   "Accuracy with the digit turned", x_format="d")["description"]
    assert "0: 95%, 15: 70%, 30: 40%" in words, words


def test_every_st_image_call_has_words():
    """Every st.image (or column.image) in the app passes alt=: axe sees only the
    pictures a page shows in the states the browser test opens; this sees them all,
    on pages added later too."""
    missing = []
    for path in sorted([*ROOT.glob("app_pages/*.py"), *ROOT.glob("ui/*.py"), ROOT / "dashboard.py"]):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "image"
                    and not any(k.arg == "alt" for k in node.keywords)):
                missing.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not missing, "st.image without alt= (words for a screen reader): " + ", ".join(missing)


# ------------------------------------------------------------------ the app's own colours on the new pages
def _hex(rgb):
    return "#" + "".join(f"{int(v):02x}" for v in rgb)


@pytest.mark.parametrize("cell", [1.0, -1.0, 0.0], ids=["orange", "blue", "white"])
def test_the_red_window_frame_stands_out_on_every_feature_map_colour(cell):
    """WCAG 1.4.11: a marker needs 3:1 against what is next to it. The Convolution page's frame round
    a feature-map cell is seen on the strongest orange and blue cells too (red alone is not, 1.3:1)."""
    from ui import pictures
    scale = 10
    img = pictures.signed_image(np.full((3, 3), cell), scale=scale, peak=1.0, mark=(1, 1))
    inside = img[scale + 4:2 * scale - 4, scale + 4:2 * scale - 4].reshape(-1, 3)       # the cell itself
    outside = img[0, 0]                                                                   # a cell next to it
    ring = {_hex(img[scale, scale + 5]), _hex(img[scale + 2, scale + 5])}                 # the frame's lines
    for around in (_hex(inside[0]), _hex(outside)):
        assert max(a11y.contrast(line, around) for line in ring) >= 3, (ring, around)
    assert a11y.contrast(_hex(pictures.FRAME)) >= 3            # and the red on white paper


def test_code_colours_pass_aa_on_the_code_background():
    """st.code's token colours (the PyTorch page) are replaced by ones that pass 4.5:1."""
    css = a11y.code_css()
    colours = re.findall(r"color: (#[0-9a-f]{6})", css)
    assert len(colours) == len(a11y.CODE_TOKENS) and "[data-testid=stCode] .token.keyword" in css
    for c in colours:
        assert a11y.contrast(c, a11y.CODE_BG) >= 4.5, c
