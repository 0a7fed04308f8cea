"""The Home page and the three teaching pages (Dataset, One-hot, How it learns), driven with AppTest.

Run on the built-in sample: MNIST_DIR is unset and the download cache points at an
empty folder, so no full copy of MNIST is needed (or used).
"""
from pathlib import Path

import numpy as np
import pytest
from apptest_utils import open_page

from engine.data import load_sample
from engine.modelfile import load_model
from engine.network import one_hot

ROOT = Path(__file__).resolve().parent.parent
PRETRAINED = ROOT / "engine" / "models" / "pretrained.npz"


pytestmark = pytest.mark.usefixtures("sample_only")     # tests/conftest.py


@pytest.fixture(scope="module")
def sample():
    return load_sample()


def texts(at):
    """Every piece of text on the page, to search in."""
    parts = [e.value for e in at.markdown] + [e.value for e in at.caption] + [e.value for e in at.code]
    parts += [e.value for e in at.info] + [e.value for e in at.success] + [e.value for e in at.error]
    return "\n".join(str(p) for p in parts)


# ------------------------------------------------------------ every page renders

@pytest.mark.parametrize("page", [None, "app_pages/1_dataset.py", "app_pages/2_one_hot.py", "app_pages/3_how_it_learns.py"])
def test_page_renders_on_the_sample(page):
    at = open_page(page)
    assert at.title, "every page has a title"
    at.run()                       # a plain rerun works too
    assert not at.exception


# ------------------------------------------------------------ Home

def test_home_shows_the_dataset_source_and_the_model(sample):
    at = open_page()
    page = texts(at)
    assert sample.source in page            # "built-in sample: 12,000 of 70,000 digits"
    assert f"{len(sample.y_train):,} training images" in page
    net, settings = load_model(str(PRETRAINED))
    assert net.describe() in page
    assert at.metric[0].value == f"{settings['test_accuracy']:.1%}"
    assert at.text_input(key="data_dir_input") is not None
    assert at.button(key="download_mnist") is not None   # offered because only the sample is loaded


def test_home_bad_folder_shows_an_error_and_keeps_the_data(sample, tmp_path):
    at = open_page()
    at.text_input(key="data_dir_input").input(str(tmp_path / "no-such-folder")).run()
    assert not at.exception
    assert any("cannot be used" in e.value for e in at.error)
    assert not at.session_state["data_dir"]     # the previous (automatic) choice is kept
    assert sample.source in texts(at)


# ------------------------------------------------------------ Dataset

def test_dataset_digit_filter_changes_the_shown_digits(sample):
    at = open_page("app_pages/1_dataset.py")
    first = np.array(at.session_state["ds_shown"])
    assert len(set(sample.y_train[first])) > 1, "the unfiltered grid mixes digits"

    at.selectbox(key="ds_digit").select("7").run()
    assert not at.exception
    shown = np.array(at.session_state["ds_shown"])
    assert len(shown) > 0 and (sample.y_train[shown] == 7).all()
    assert at.number_input(key="ds_index").value == shown[0]    # the zoomed digit follows the grid

    at.button(key="ds_shuffle").click().run()
    again = np.array(at.session_state["ds_shown"])
    assert (sample.y_train[again] == 7).all() and not np.array_equal(again, shown)


def test_dataset_shows_the_real_matrix_shape(sample):
    at = open_page("app_pages/1_dataset.py")
    values = [m.value for m in at.metric]
    assert f"{sample.x_train.shape[0]:,} × 784" in values
    assert f"{sample.x_test.shape[0]:,} × 784" in values


# ------------------------------------------------------------ One-hot

def expected_vector(label, n):
    return "[" + ", ".join("1" if k == label else "0" for k in range(n)) + "]"


@pytest.mark.parametrize("n, label", [(5, 3), (10, 7), (2, 0)])
def test_one_hot_vector_is_right(n, label):
    at = open_page("app_pages/2_one_hot.py")
    at.slider(key="oh_classes").set_value(n).run()
    at.slider(key="oh_label").set_value(label).run()
    assert not at.exception
    code = at.code[0].value
    assert code.endswith(expected_vector(label, n)), code
    # The MSE shown equals the sum of 1/2 (a - y)^2 over the slider outputs, computed here by hand.
    outputs = np.array([at.slider(key=f"oh_out_{k}").value for k in range(n)])
    target = np.eye(n)[label]
    mse = 0.5 * ((outputs - target) ** 2).sum()
    assert at.metric[0].value == f"{mse:.4f}"      # (the default outputs are far from tiny)


def test_one_hot_label_is_kept_valid_when_classes_shrink():
    at = open_page("app_pages/2_one_hot.py")
    at.slider(key="oh_classes").set_value(10).run()
    at.slider(key="oh_label").set_value(9).run()
    at.slider(key="oh_classes").set_value(4).run()
    assert not at.exception
    assert at.code[0].value.endswith(expected_vector(3, 4))


def test_one_hot_real_output_explains_ten_outputs(sample):
    at = open_page("app_pages/2_one_hot.py")          # starts at 5 classes
    at.toggle(key="oh_real").set_value(True).run()
    assert not at.exception
    assert any("10 output neurons" in e.value for e in at.info)
    at.number_input(key="oh_img").set_value(5).run()
    label = int(sample.y_test[5])
    table = at.dataframe[0].value
    assert list(table["label y"]) == list(one_hot([label], 10)[0].astype(int))
    # The output column is the pretrained model's real output for that image.
    net, _ = load_model(str(PRETRAINED))
    probs = net.predict_proba(sample.x_test[5:6].astype(np.float32) / 255)[0]
    assert np.allclose(table["output a"].to_numpy(), probs, atol=1e-5)


# ------------------------------------------------------------ How it learns

def test_one_step_changes_the_copy_lowers_the_loss_and_spares_the_model(sample):
    from ui import state
    at = open_page("app_pages/3_how_it_learns.py")
    held = at.session_state["hl_copy"]
    index = at.slider(key="hl_index").value
    pretrained, _ = state.pretrained_model()
    assert held["key"][2] == id(pretrained), "the page copies the shared pretrained model"
    assert held["net"] is not pretrained
    assert any("identical" in e.value for e in at.success)      # backward changed nothing

    x = sample.x_train[index:index + 1].astype(np.float32) / 255
    y = one_hot([sample.y_train[index]], 10)
    before = [p.copy() for p in held["net"].params()]
    loss_before = held["net"].loss_on(x, y)

    at.select_slider(key="hl_lr").set_value(0.01).run()
    at.button(key="hl_step").click().run()
    assert not at.exception
    held = at.session_state["hl_copy"]
    assert held["steps"] == 1
    after = held["net"].params()
    assert any(not np.array_equal(p, q) for p, q in zip(before, after)), "the step changed the copy"
    loss_after = held["net"].loss_on(x, y)
    assert loss_after < loss_before
    assert held["last"]["loss_before"] == pytest.approx(loss_before, rel=1e-5)
    assert held["last"]["loss_after"] == pytest.approx(loss_after, rel=1e-5)

    # The shared pretrained model is exactly what is on disk.
    on_disk, _ = load_model(str(PRETRAINED))
    for p, q in zip(pretrained.params(), on_disk.params()):
        assert np.array_equal(p, q)

    # Reset gives a fresh copy equal to the pretrained model again.
    at.button(key="hl_reset").click().run()
    held = at.session_state["hl_copy"]
    assert held["steps"] == 0
    for p, q in zip(held["net"].params(), on_disk.params()):
        assert np.array_equal(p, q)


def test_the_step_uses_plain_sgd_with_the_gradients_shown(sample):
    """One step with lr equals w - lr * grad, computed independently here."""
    at = open_page("app_pages/3_how_it_learns.py")
    at.slider(key="hl_index").set_value(11).run()
    at.select_slider(key="hl_lr").set_value(0.3).run()
    net0 = at.session_state["hl_copy"]["net"].copy()
    x = sample.x_train[11:12].astype(np.float32) / 255
    y = one_hot([sample.y_train[11]], 10)
    _, grad_w, grad_b, _ = net0.gradients(x, y)
    at.button(key="hl_step").click().run()
    stepped = at.session_state["hl_copy"]["net"]
    for W0, g, W1 in zip(net0.weights, grad_w, stepped.weights):
        assert np.allclose(W1, W0 - 0.3 * g, atol=1e-6)
    for b0, g, b1 in zip(net0.biases, grad_b, stepped.biases):
        assert np.allclose(b1, b0 - 0.3 * g, atol=1e-6)


def test_a_new_image_gets_a_fresh_copy():
    at = open_page("app_pages/3_how_it_learns.py")
    at.button(key="hl_step").click().run()
    assert at.session_state["hl_copy"]["steps"] == 1
    at.slider(key="hl_index").set_value(3).run()
    assert at.session_state["hl_copy"]["steps"] == 0
    assert not at.exception


def test_choices_and_the_copy_survive_a_page_switch():
    at = open_page("app_pages/3_how_it_learns.py")
    at.slider(key="hl_index").set_value(42).run()
    at.button(key="hl_step").click().run()
    at.switch_page("app_pages/2_one_hot.py")
    at.run()
    at.slider(key="oh_classes").set_value(7).run()
    at.switch_page("app_pages/3_how_it_learns.py")
    at.run()
    assert not at.exception
    assert at.slider(key="hl_index").value == 42
    assert at.session_state["hl_copy"]["steps"] == 1
    at.switch_page("app_pages/2_one_hot.py")
    at.run()
    assert at.slider(key="oh_classes").value == 7
