"""The built-in pretrained CNN (engine/models/pretrained_cnn.npz, made by scripts/train_pretrained_cnn.py)
and the Draw page: its first answer, with the built-in MLP's beside it.

    python -m pytest tests/test_pretrained_cnn.py -q                            # built-in sample
    MNIST_DIR=../shared/mnist python -m pytest tests/test_pretrained_cnn.py -q  # + the full test set
"""
import os
from pathlib import Path

import numpy as np
import pytest

from apptest_utils import canvas_state, open_page, texts
from engine import metrics
from engine.convnet import ConvNet
from engine.data import load_mnist, load_sample
from engine.modelfile import load_model

ROOT = Path(__file__).resolve().parent.parent
CNN_FILE = ROOT / "engine" / "models" / "pretrained_cnn.npz"
DRAW = "app_pages/6_draw.py"


@pytest.fixture(scope="module")
def cnn():
    net, settings = load_model(str(CNN_FILE))
    return net, settings


def test_the_file_is_a_small_convnet_trained_on_full_mnist(cnn):
    net, settings = cnn
    assert CNN_FILE.stat().st_size < 2_000_000
    assert isinstance(net, ConvNet)
    assert settings["dataset"] == "full MNIST"                     # where its test accuracy was measured
    assert settings["drawn_digits"] == 10_000 and settings["drawn_epochs"] == 3   # docs/drawn.md
    assert settings["test_accuracy"] >= 0.9929           # measured 0.9931: not below the CNN before (0.9929)
    assert settings["augment"] > 0 and settings["optimizer"] == "adam"


def test_reads_the_builtin_samples_test_digits(cnn):
    data = load_sample()
    acc = metrics.accuracy(cnn[0].predict(data.test_float()), data.y_test)
    assert len(data.y_test) == 2000
    assert acc >= 0.985                 # measured 0.9905 (the MLP: 0.9865)


@pytest.mark.skipif(not os.environ.get("MNIST_DIR"), reason="needs the full MNIST: set MNIST_DIR")
def test_reads_the_full_mnist_test_set(cnn):
    data = load_mnist(data_dir=os.environ["MNIST_DIR"])
    assert not data.is_sample and len(data.y_test) == 10_000
    assert metrics.accuracy(cnn[0].predict(data.test_float()), data.y_test) >= 0.9929     # measured 0.9931


def test_the_shared_copy_is_read_only():
    from ui import state
    net, _ = state.pretrained_cnn()
    assert isinstance(net, ConvNet)
    assert all(not p.flags.writeable for p in net.params())


# ------------------------------------------------------------------ the Draw page


def _drawn_seven():
    img = np.zeros((280, 280, 4), np.uint8)
    img[..., 3] = 255                                   # opaque black canvas
    img[50:72, 60:220, :3] = 255                        # the top bar of a "7"
    for r in range(72, 240):                            # its slanted stroke, down to the left
        c = 220 - (r - 72) * 0.55
        img[r, int(c) - 22:int(c), :3] = 255
    return img


def _guess(at, element_id):
    for m in at.markdown:
        if f'id="{element_id}"' in m.value:
            return int(m.value.split('data-digit="')[1][0])
    return None


def _drawn_page(own=None):
    """The Draw page with the seven drawn, and (own) a model of the session's own: (at, the 784 numbers)."""
    at = open_page(DRAW)
    assert _guess(at, "draw-prediction") is None                # nothing drawn yet: no guesses
    if own is not None:
        at.session_state["model"] = own
        at.session_state["model_info"] = {"label": "your model", "settings": {}, "origin": "set by the test"}
    at.session_state["draw_canvas_0"] = canvas_state(_drawn_seven())
    at.run()
    assert not at.exception, at.exception
    return at, at.session_state["draw_last_x"][None, :]


@pytest.mark.usefixtures("builtin_sample")
def test_the_draw_page_answers_with_the_builtin_cnn_and_the_mlp_beside_it(cnn):
    """The first answer is the built-in CNN's (docs/drawn.md: it reads drawings best), named as such; the
    built-in MLP's answer is beside it, named as the MLP's."""
    from ui.formats import PRETRAINED_LABEL
    at, x = _drawn_page()
    mlp = load_model(str(ROOT / "engine" / "models" / "pretrained.npz"))[0]
    assert _guess(at, "draw-prediction") == int(cnn[0].predict(x)[0]) == 7
    assert _guess(at, "draw-mlp-prediction") == int(mlp.predict(x)[0]) == 7
    assert _guess(at, "draw-cnn-prediction") is None                  # the CNN answered: not a second time
    assert "Guessing with **the built-in CNN** (conv 16@5x5" in texts(at.caption)
    assert PRETRAINED_LABEL not in texts(at.caption)
    assert "The built-in MLP says" in texts(at.markdown) and "The built-in CNN says" not in texts(at.markdown)
    assert "built-in multi-layer perceptron (MLP)" in texts(at.caption)
    assert at.segmented_control(key="draw_x_model").options == ["the built-in CNN", "the built-in MLP"]
    assert len(at.get("vega_lite_chart")) == 3      # the two probability charts and the 784 numbers


@pytest.mark.usefixtures("builtin_sample")
def test_with_a_model_of_its_own_it_answers_and_the_cnn_beside_it(cnn):
    from engine.network import Network
    own = Network([784, 16, 10], seed=3)
    at, x = _drawn_page(own)
    assert _guess(at, "draw-prediction") == int(own.predict(x)[0])
    assert _guess(at, "draw-cnn-prediction") == int(cnn[0].predict(x)[0]) == 7
    assert _guess(at, "draw-mlp-prediction") is None
    assert "Guessing with **your model**" in texts(at.caption)
    assert "The built-in CNN says" in texts(at.markdown)
    assert "same small strokes" in texts(at.caption)
    # Off: the built-in CNN answers first again, and the toggle says so.
    assert "Off: the built-in CNN." in at.toggle(key="draw_use_mine").help
    at.toggle(key="draw_use_mine").set_value(False).run()
    assert "Guessing with **the built-in CNN**" in texts(at.caption)
    assert _guess(at, "draw-prediction") == 7 and _guess(at, "draw-mlp-prediction") == 7


@pytest.mark.usefixtures("builtin_sample")
def test_home_says_the_builtin_models_last_epochs_had_drawings_too():
    """The built-in MLP's file keeps its first run's settings (learning rate 0.05, ...), all its epochs, and
    its last epochs' drawings and learning rate: Home says both, so neither sentence is wrong."""
    at = open_page("app_pages/0_home.py")
    at.run()
    assert not at.exception, at.exception
    assert "learning rate 0.05, momentum 0.9, mini-batches of 128, 24 epochs." in texts(at.markdown)
    assert ("The last 4 of those epochs also on 10,000 synthetic digits drawn as on the Draw page, starting at "
            "learning rate 0.005.") in texts(at.caption)
