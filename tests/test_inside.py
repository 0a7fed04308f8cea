"""The Inside page and the "Show the code that just ran" expanders, driven with AppTest.

Run on the built-in sample (MNIST_DIR unset, an empty download cache).
"""
import inspect
import textwrap
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from engine import analysis
from engine import data as engine_data
from engine.network import Network, cross_entropy_terms, mse_terms, one_hot
from engine.optim import SGD

ROOT = Path(__file__).resolve().parent.parent
INSIDE = "app_pages/7_inside.py"


pytestmark = pytest.mark.usefixtures("sample_only")     # tests/conftest.py


def open_page(page, setup=None):
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=120)
    at.run()
    if setup:
        setup(at)
    at.switch_page(page)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def source(f):
    return textwrap.dedent(inspect.getsource(getattr(f, "__func__", f))).rstrip()


def code_in_expanders(at):
    """Every code block inside a 'Show the code' expander of the page."""
    return [c.value for e in at.expander if "Show the code" in e.label for c in e.code]


# ------------------------------------------------------------ Inside the network

def test_inside_renders_and_switches_the_pca_layer():
    at = open_page(INSIDE)
    assert at.title[0].value.startswith("🔬")
    assert any("the built-in pretrained model" in i.value for i in at.info)
    layer = at.selectbox(key="in_pca_layer")
    assert layer.value == 1                                 # opens on hidden layer 1
    assert layer.options == ["input pixels (784)", "hidden layer 1 (256 units)",
                             "output scores z (10, before softmax)"]
    for choice in (0, 2, 1):
        at.selectbox(key="in_pca_layer").set_value(choice).run()
        assert not at.exception, [e.value for e in at.exception]
        assert at.selectbox(key="in_pca_layer").value == choice
    # Another test image, and the page still works.
    at.number_input(key="in_index").set_value(7).run()
    assert not at.exception


def test_inside_offers_the_last_drawing():
    at = open_page(INSIDE)
    assert not at.radio                                    # no drawing yet: only test images
    drawing = np.zeros(784, np.float32)
    drawing.reshape(28, 28)[4:24, 13:16] = 1.0             # a plain "1"
    at.session_state["draw_last_x"] = drawing
    at.run()
    radio = at.radio(key="in_source")
    assert len(radio.options) == 2
    radio.set_value(radio.options[1]).run()
    assert not at.exception, [e.value for e in at.exception]
    keys = [n.key for n in at.number_input]
    assert "in_index" not in keys                          # the test-image picker is gone


def test_inside_caches_per_model():
    """The fingerprint is computed once per model object and reused on reruns."""
    at = open_page(INSIDE)
    net, key = at.session_state["in_model_key"]
    assert key == analysis.fingerprint(net)
    at.run()
    again, key_again = at.session_state["in_model_key"]
    assert again is net and key_again == key


# ------------------------------------------------------------ the code expanders

@pytest.mark.parametrize("page, functions", [
    ("app_pages/1_dataset.py", [engine_data._dataset, engine_data.to_float]),
    ("app_pages/2_one_hot.py", [one_hot, mse_terms, cross_entropy_terms]),
    ("app_pages/3_how_it_learns.py", [Network.forward, Network.backward, Network.output_delta, SGD.step]),
    (INSIDE, [analysis.pca_2d, analysis.accuracy_under_rotation]),
])
def test_code_expanders_show_the_real_source(page, functions):
    at = open_page(page)
    shown = code_in_expanders(at)
    assert shown, "the page has a 'Show the code that just ran' expander"
    for f in functions:
        assert source(f) in shown, f.__qualname__
    assert all(c.startswith(("def ", "class ", "@")) for c in shown)


def test_the_code_names_the_functions():
    at = open_page("app_pages/3_how_it_learns.py")
    shown = "\n".join(code_in_expanders(at))
    assert "def backward" in shown and "def forward" in shown and "def step" in shown
    captions = "\n".join(c.value for e in at.expander for c in e.caption)
    assert "engine/network.py" in captions and "engine/optim.py" in captions


def test_inside_choices_survive_a_page_switch():
    at = open_page(INSIDE)
    at.selectbox(key="in_pca_layer").set_value(0).run()
    at.number_input(key="in_index").set_value(12).run()
    at.switch_page("app_pages/2_one_hot.py")
    at.run()
    at.switch_page(INSIDE)
    at.run()
    assert not at.exception
    assert at.selectbox(key="in_pca_layer").value == 0
    assert at.number_input(key="in_index").value == 12


@pytest.mark.parametrize("sizes, activation, loss", [([784, 24, 12, 10], "sigmoid", "mse"), ([784, 10], "relu", "cross-entropy")])
def test_inside_works_for_any_user_model(sizes, activation, loss):
    def use_model(at):
        at.session_state["model"] = Network(sizes, activation=activation, loss=loss, seed=1)
        at.session_state["model_info"] = {"label": "your model"}
    at = open_page(INSIDE, setup=use_model)
    assert any("Looking inside **your model**" in i.value for i in at.info)
    layer = at.selectbox(key="in_pca_layer")
    assert len(layer.options) == len(sizes)
    at.selectbox(key="in_pca_layer").set_value(len(sizes) - 1).run()
    assert not at.exception, [e.value for e in at.exception]
