"""The Convolution page (app_pages/3b_convolution.py), driven with AppTest on the built-in sample.

Every number the page shows is checked against a computation written here: a loop convolution,
the output-size formula, and weight counts taken from the models' own arrays."""
import re
from pathlib import Path

import numpy as np
import pytest
from apptest_utils import open_page

from engine.convnet import ConvNet, cnn_spec
from engine.convolution import hand_made
from engine.data import load_sample
from engine.modelfile import load_model
from engine.layers import Conv2D, MaxPool2D, im2col
from ui.code import source_of

ROOT = Path(__file__).resolve().parent.parent
PAGE = "app_pages/3b_convolution.py"
SUM = re.compile(r"\*\*Sum of the (\d+) products\*\* = (-?[\d.]+), \*\*\+ bias\*\* (-?[\d.]+) = \*\*(-?[\d.]+)\*\*, "
                 r"written at row (\d+), column (\d+)")
SIZE = re.compile(r"\*\*Output size\*\*.* = \*\*(\d+)\*\* — the feature map is (\d+)×(\d+)")


pytestmark = pytest.mark.usefixtures("sample_only")     # tests/conftest.py


@pytest.fixture(scope="module")
def sample():
    return load_sample()


@pytest.fixture(scope="module")
def built_in():
    return load_model(str(ROOT / "engine" / "models" / "pretrained_cnn.npz"))[0], \
        load_model(str(ROOT / "engine" / "models" / "pretrained.npz"))[0]


def markdown(at):
    return "\n".join(str(m.value) for m in at.markdown)


def shown_sum(at):
    m = SUM.search(markdown(at))
    assert m, "the page shows the sum of the products"
    n, total, bias, y, i, j = m.groups()
    return int(n), float(total), float(bias), float(y), int(i), int(j)


def shown_size(at):
    m = SIZE.search(markdown(at))
    assert m, "the page shows the output size formula"
    assert m.group(1) == m.group(2) == m.group(3)
    return int(m.group(1))


def loop_output(x, K, b, p, s, i, j):
    """One output of the convolution by the definition, with explicit loops and zero padding."""
    k, n = len(K), len(x)
    total = 0.0
    for u in range(k):
        for v in range(k):
            r, c = i * s + u - p, j * s + v - p
            if 0 <= r < n and 0 <= c < n:
                total += float(x[r, c]) * float(K[u, v])
    return total, total + b


def test_page_renders_on_the_sample():
    at = open_page(PAGE)
    assert at.title and "Convolution" in at.title[0].value
    at.run()
    assert not at.exception
    assert len(at.table) >= 6                  # window, kernel, products; the 4x4 before/after; weights


@pytest.mark.parametrize("kernel, k, p, s", [("blur", 5, 0, 1), ("blur", 3, 1, 1), ("vertical edge", 7, 3, 2),
                                             ("sharpen", 5, 2, 3), ("identity", 3, 0, 4), ("blur", 5, 4, 2)])
def test_size_follows_kernel_padding_and_stride(kernel, k, p, s):
    at = open_page(PAGE)
    at.selectbox(key="cv_kernel").select(kernel).run()
    at.select_slider(key="cv_k").set_value(k).run()
    at.slider(key="cv_p").set_value(p).run()
    at.slider(key="cv_s").set_value(s).run()
    assert not at.exception, at.exception
    expected = int(np.floor((28 + 2 * p - k) / s)) + 1
    assert shown_size(at) == expected
    assert at.slider(key="cv_row").max == at.slider(key="cv_col").max == expected - 1
    assert at.slider(key="cv_p").max == k - 1
    n, _, _, _, i, j = shown_sum(at)
    assert n == k * k and 0 <= i < expected and 0 <= j < expected


def test_the_sum_is_the_loop_sum_for_a_hand_made_kernel(sample):
    x = sample.x_test[5].reshape(28, 28).astype(np.float64) / 255
    K = hand_made("vertical edge", 5)
    # The window where the edge kernel answers most strongly (13 x 13 positions with p = 1, s = 2).
    outputs = np.array([[loop_output(x, K, 0.0, 1, 2, i, j)[1] for j in range(13)] for i in range(13)])
    row, col = np.unravel_index(np.abs(outputs).argmax(), outputs.shape)
    at = open_page(PAGE)
    at.number_input(key="cv_index").set_value(5).run()
    at.selectbox(key="cv_kernel").select("vertical edge").run()
    at.slider(key="cv_p").set_value(1).run()
    at.slider(key="cv_s").set_value(2).run()
    at.slider(key="cv_row").set_value(int(row)).run()
    at.slider(key="cv_col").set_value(int(col)).run()
    assert not at.exception, at.exception
    n, total, bias, y, i, j = shown_sum(at)
    assert (n, i, j, bias) == (25, row, col, 0.0)
    want_total, want_y = loop_output(x, K, 0.0, 1, 2, row, col)
    assert abs(want_total) > 0.1, "a window on an edge of the digit"
    assert total == pytest.approx(want_total, abs=1e-4) and y == pytest.approx(want_y, abs=1e-4)
    # The three tables: the window's pixels, the kernel and their products.
    window = np.zeros((5, 5))
    for u in range(5):
        for v in range(5):
            r, c = row * 2 + u - 1, col * 2 + v - 1
            window[u, v] = x[r, c] if 0 <= r < 28 and 0 <= c < 28 else 0.0
    np.testing.assert_allclose(at.table[0].value.to_numpy(), window, atol=1e-6)
    np.testing.assert_allclose(at.table[1].value.to_numpy(), K, atol=1e-6)
    np.testing.assert_allclose(at.table[2].value.to_numpy(), window * K, atol=1e-6)


def test_the_sum_is_the_loop_sum_for_a_learned_filter_with_its_bias(sample, built_in):
    cnn, _ = built_in
    W, b = cnn.params()[0], cnn.params()[1]
    at = open_page(PAGE)
    at.slider(key="cv_filter").set_value(3).run()
    at.slider(key="cv_row").set_value(10).run()
    at.slider(key="cv_col").set_value(14).run()
    index = at.number_input(key="cv_index").value
    x = sample.x_test[index].reshape(28, 28).astype(np.float64) / 255
    n, total, bias, y, i, j = shown_sum(at)
    want_total, want_y = loop_output(x, W[2, 0], float(b[2]), 0, 1, 10, 14)
    assert (n, i, j) == (25, 10, 14)
    assert bias == pytest.approx(float(b[2]), abs=1e-4)
    assert total == pytest.approx(want_total, abs=1e-4) and y == pytest.approx(want_y, abs=1e-4)


def test_the_step_button_moves_the_window_and_wraps():
    at = open_page(PAGE)
    at.slider(key="cv_s").set_value(4).run()            # (28 - 5) // 4 + 1 = 6 positions a side
    at.slider(key="cv_row").set_value(2).run()
    at.slider(key="cv_col").set_value(4).run()
    at.button(key="cv_next").click().run()
    assert shown_sum(at)[4:] == (2, 5)
    at.button(key="cv_next").click().run()              # past the end of the row: the next row's start
    assert shown_sum(at)[4:] == (3, 0)
    at.slider(key="cv_row").set_value(5).run()
    at.slider(key="cv_col").set_value(5).run()
    at.button(key="cv_next").click().run()              # past the last position: back to the top
    assert shown_sum(at)[4:] == (0, 0)


def test_weight_counts_of_the_built_in_models(built_in):
    cnn, mlp = built_in
    arrays = cnn.params()
    W0, b0 = arrays[0], arrays[1]
    f, c, k, _ = W0.shape
    side = 28 - k + 1
    conv = W0.size + b0.size
    dense = 28 * 28 * (f * side * side) + f * side * side
    text = markdown(open_page(PAGE))
    assert f"= **{conv:,} weights**" in text
    assert f"= **{dense:,} weights**" in text
    at = open_page(PAGE)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["The built-in CNN: weights in all"] == f"{sum(a.size for a in arrays):,}"
    assert metrics["The built-in MLP: weights in all"] == f"{sum(a.size for a in mlp.params()):,}"
    assert sum(a.size for a in arrays) < sum(a.size for a in mlp.params())


def test_works_with_the_users_drawing():
    drawing = np.zeros(784, np.float32)
    drawing.reshape(28, 28)[4:24, 12:16] = 1.0               # a plain "1", 4 pixels wide
    at = open_page(PAGE)
    at.session_state["draw_last_x"] = drawing
    at.run()
    assert not at.exception, at.exception
    radio = at.radio(key="cv_source")
    assert radio.value == radio.options[1]                   # the drawing comes first when there is one
    assert "cv_index" not in [n.key for n in at.number_input]
    at.selectbox(key="cv_kernel").select("blur").run()
    at.slider(key="cv_row").set_value(10).run()
    at.slider(key="cv_col").set_value(10).run()
    n, total, bias, y, i, j = shown_sum(at)
    want = loop_output(drawing.reshape(28, 28), hand_made("blur", 5), 0.0, 0, 1, 10, 10)[1]
    assert want == pytest.approx(15 / 25)                   # columns 12-14 of the ink under the 5x5 window
    assert y == pytest.approx(want, abs=1e-4)
    radio.set_value(radio.options[0]).run()                   # back to the test images
    assert not at.exception and "cv_index" in [n.key for n in at.number_input]


def test_the_sessions_own_cnn_is_offered():
    net = ConvNet(cnn_spec(filters=(6,), k=3, p=1, pool=2), "cross-entropy", seed=3)
    at = open_page(PAGE)
    at.session_state["model"] = net
    at.session_state["model_info"] = {"label": "your test CNN"}
    at.run()
    kernel = at.selectbox(key="cv_kernel")
    assert kernel.options[-1] == "learned: your CNN's filter"
    kernel.select(kernel.options[-1]).run()
    assert not at.exception, at.exception
    assert at.slider(key="cv_filter").max == 6
    assert shown_size(at) == 28 - 3 + 1                  # its filters are 3x3; padding is the page's own (0)
    assert "The 6 filters your CNN learned" in markdown(at)
    assert f"= **{3 * 3 * 6 + 6:,} weights**" in markdown(at)


def test_the_code_expanders_show_the_engine_source():
    at = open_page(PAGE)
    shown = "\n".join(c.value for e in at.expander for c in e.code)
    from engine import convolution
    for f in (convolution.multiply_add, convolution.convolve, Conv2D.forward, im2col, convolution.relu_pool,
              MaxPool2D.forward, convolution.conv_weights):
        assert source_of(f)[0] in shown, f.__qualname__


def test_relu_and_pooling_numbers(sample, built_in):
    cnn, _ = built_in
    W, b = cnn.params()[0], cnn.params()[1]
    at = open_page(PAGE)
    at.selectbox(key="cv_kernel").select("learned: the built-in CNN's filter").run()
    x = sample.x_test[at.number_input(key="cv_index").value].reshape(28, 28).astype(np.float64) / 255
    m = re.search(r"In numbers, rows (\d+)–(\d+) and columns (\d+)–(\d+) of the map", markdown(at))
    assert m, "the page names the 4x4 patch it shows"
    top, left = int(m.group(1)), int(m.group(3))
    before, after, pooled = (at.table[n].value.to_numpy() for n in (3, 4, 5))
    f = at.slider(key="cv_filter").value - 1
    want = np.array([[loop_output(x, W[f, 0], float(b[f]), 0, 1, top + r, left + c)[1] for c in range(4)]
                     for r in range(4)])
    np.testing.assert_allclose(before, want, atol=1e-4)
    assert before.max() == pytest.approx(max(loop_output(x, W[f, 0], float(b[f]), 0, 1, i, j)[1]
                                              for i in range(24) for j in range(24)), abs=1e-4)
    np.testing.assert_array_equal(after, np.maximum(before, 0))
    assert pooled.shape == (2, 2)
    for r in range(2):
        for c in range(2):
            assert pooled[r, c] == after[2 * r:2 * r + 2, 2 * c:2 * c + 2].max()


def test_a_cnn_without_pooling_works_too():
    """A student's CNN may have no pooling (conv, tanh, flatten, dense): only what it has is shown."""
    net = ConvNet(cnn_spec(filters=(3,), k=5, p=0, pool=1, activation="tanh"), "cross-entropy", seed=1)
    at = open_page(PAGE)
    at.session_state["model"] = net
    at.session_state["model_info"] = {"label": "your test CNN"}
    at.run()
    assert not at.exception, at.exception
    text = markdown(at)
    assert "**In your CNN**, every filter's map after `tanh`:" in text
    assert "The 3 filters your CNN learned" in text
