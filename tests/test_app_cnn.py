"""The app's CNN paths (issue 13, part 3), driven through Streamlit's AppTest: the Train page
trains a CNN live (pause, resume, stop, save and load, lesson links, the guided experiment), and
Evaluate, Inside the network, Compare runs and Draw work with a CNN as the session's model.

Runs on the built-in sample. A run trains in its own thread: the tests wait for a number of
batches or for the run's end, never for a number of seconds.
"""
import numpy as np
import pytest

from apptest_utils import canvas_state, get, open_page, run_until_done, texts, wait_for
from engine import analysis, metrics
from engine.convnet import ConvNet, cnn_spec
from engine.data import load_mnist
from engine.modelfile import load_model, model_to_bytes
from ui import lesson, run_names, runs, training

TRAIN, EVALUATE, DRAW = "app_pages/4_train.py", "app_pages/5_evaluate.py", "app_pages/6_draw.py"
INSIDE, COMPARE = "app_pages/7_inside.py", "app_pages/8_compare.py"
HOW = "app_pages/3_how_it_learns.py"

pytestmark = pytest.mark.usefixtures("builtin_sample_always")


def choose_cnn(at, filters="4", epochs=1, **knobs):
    """Switch the Train page to a CNN with these knobs."""
    at.radio(key="train_kind").set_value("cnn").run()
    assert not at.exception, at.exception
    at.text_input(key="train_filters").set_value(filters)
    for name, value in knobs.items():
        at.number_input(key=f"train_{name}").set_value(value)
    at.number_input(key="train_epochs").set_value(epochs).run()
    assert not at.exception, at.exception


def small_cnn(seed=0):
    return ConvNet(cnn_spec((4,), k=5, p=0, pool=2), seed=seed)


# ------------------------------------------------------------------ Train


def test_the_cnn_knobs_replace_the_hidden_layers_and_say_what_the_network_is():
    at = open_page(TRAIN)
    assert at.radio(key="train_kind").value == "mlp"
    assert not [t for t in at.text_input if t.key == "train_filters"]
    choose_cnn(at, "6,12", epochs=2, kernel=3, padding=1, pool=2, dense=32)
    assert not [t for t in at.text_input if t.key == "train_hidden"]        # an MLP's knob is gone
    for key in ("train_filters", "train_kernel", "train_padding", "train_pool", "train_dense"):
        widget = at.text_input(key=key) if key == "train_filters" else at.number_input(key=key)
        assert widget.help, key                                               # every knob says what it does
    caption = texts(at.caption)
    assert ("conv 6@3x3 p1 → relu → maxpool 2 → conv 12@3x3 p1 → relu → maxpool 2 → flatten → dense 32"
            in caption)
    assert "weights and biases" in caption and "per mini-batch" in caption    # the cost check before Start
    # A padding as big as the kernel is refused with words, before Start and at Start.
    at.number_input(key="train_padding").set_value(3).run()
    assert "Can't train this: the padding (3) must be smaller than the kernel size (3)." in texts(at.warning)
    at.button(key="train_start").click().run()
    assert "Can't start: the padding (3) must be smaller" in texts(at.error)
    assert get(at, "trainer") is None
    at.number_input(key="train_padding").set_value(1)
    at.text_input(key="train_filters").set_value("4,x").run()
    at.button(key="train_start").click().run()
    assert "filters must be whole numbers" in texts(at.error) and get(at, "trainer") is None


def test_a_small_cnn_trains_to_the_end_with_its_filters_drawn_and_becomes_the_model():
    at = open_page(TRAIN)
    choose_cnn(at, "4", epochs=1)
    at.button(key="train_start").click().run()
    assert not at.exception, at.exception
    run = at.session_state["trainer"]
    assert isinstance(run.net, ConvNet) and run.net.spec() == cnn_spec((4,), 5, 0, 2)
    assert run_until_done(at) == "finished"
    assert len(at.get("vega_lite_chart")) == 3                     # batch loss, epoch loss, epoch accuracy
    assert "What the first conv layer looks for** (4 of its 4 filters)" in texts(at.markdown)
    assert "4 filters of 5×5 weights" in texts(at.caption)
    filters = next(i.proto for i in at.get("image") if "filter 1" in str(i.proto))   # one picture each, numbered
    assert [img.caption for img in filters.imgs] == ["filter 1", "filter 2", "filter 3", "filter 4"]
    assert all(img.alt.startswith(f"Filter {n} of the first conv layer, 5×5 weights") for n, img in enumerate(filters.imgs, 1))
    net, info = at.session_state["model"], at.session_state["model_info"]
    data = load_mnist(data_dir=None)
    result = at.session_state["train_result"]
    assert result["test_accuracy"] == pytest.approx(metrics.accuracy(net.predict(data.test_float()), data.y_test))
    assert result["test_accuracy"] > 0.85                          # one epoch of 4 filters already reads most
    assert isinstance(net, ConvNet) and net is not run.net
    assert info["settings"]["layers"] == cnn_spec((4,), 5, 0, 2)
    record = at.session_state["runs"][-1]
    assert run_names.default_name(record) == "Run 1: CNN conv 4 @5×5, pool 2, relu, CE, lr 0.1"
    # Save: the page's file (model file version 2) loads back to the same CNN and weights ...
    content = model_to_bytes(net, info["settings"])
    again, settings = load_model(content)
    assert again.spec() == net.spec() and settings["layers"] == info["settings"]["layers"]
    assert all(np.array_equal(a, b) for a, b in zip(again.params(), net.params()))
    # ... and Load, through the page's uploader, makes it the model again.
    at.file_uploader(key="train_upload").set_value(("my_cnn.npz", content, "application/octet-stream"))
    at.run()
    assert not at.exception, at.exception
    assert "Loaded my_cnn.npz: conv 4@5x5" in texts(at.success)
    loaded = at.session_state["model"]
    assert loaded is not net and isinstance(loaded, ConvNet)
    assert all(np.array_equal(a, b) for a, b in zip(loaded.params(), net.params()))


def test_a_cnn_run_pauses_resumes_and_stops():
    at = open_page(TRAIN)
    choose_cnn(at, "16,32", epochs=200)                            # far longer than this test
    at.button(key="train_start").click().run()
    run = at.session_state["trainer"]
    wait_for(lambda: run.step >= 2, what="2 batches")
    at.button(key="train_pause").click().run()
    assert at.session_state["train_status"] == "paused"
    step = run.step
    at.session_state["train_job"].join(0.3)
    assert run.step == step
    at.button(key="train_resume").click().run()
    wait_for(lambda: run.step > step, what="training after Resume")
    at.button(key="train_stop").click().run()
    # The run stops at once; checking a CNN on the test images may take it a moment longer ("stopping").
    assert at.session_state["train_status"] in ("stopping", "stopped")
    assert run_until_done(at) == "stopped"
    assert isinstance(at.session_state["model"], ConvNet) and "Run stopped early" in texts(at.success)


def test_a_cnn_lesson_link_opens_its_settings_and_the_address_follows():
    link = {"kind": "cnn", "filters": "6-12", "kernel": "3", "padding": "1", "pool": "3", "dense": "32",
            "epochs": "2"}
    at = open_page(TRAIN, link)
    assert at.radio(key="train_kind").value == "cnn"
    assert at.text_input(key="train_filters").value == "6,12"
    assert [at.number_input(key=f"train_{k}").value for k in ("kernel", "padding", "pool", "dense")] == [3, 1, 3, 32]
    assert not at.warning
    assert dict(at.query_params) == link
    assert "kind=cnn" in texts(at.code) and "filters=6-12" in texts(at.code)
    at.button(key="train_start").click().run()
    assert at.session_state["trainer"].net.spec() == cnn_spec((6, 12), 3, 1, 3, (32,))
    at.button(key="train_stop").click().run()
    assert run_until_done(at) == "stopped"
    # Back to an MLP: the CNN's knobs leave the address.
    at.radio(key="train_kind").set_value("mlp").run()
    assert dict(at.query_params) == {"epochs": "2"}


def test_odd_cnn_link_values_are_refused_with_a_note():
    at = open_page(TRAIN, {"kind": "rnn", "filters": "0-4", "kernel": "12", "pool": "1.5", "dense": "-3"})
    note = texts(at.warning)
    for part in ("`kind=rnn`: choose one of mlp, cnn", "`filters=0-4`: every conv layer needs at least 1 filter",
                 "`kernel=12`: must be from 1 to 9", "`pool=1.5`: must be a whole number", "`dense=-3`"):
        assert part in note, note
    assert at.radio(key="train_kind").value == "mlp"
    at = open_page(TRAIN, {"kind": "cnn", "filters": "1-2-3-4", "kernel": "3", "padding": "3"})
    note = texts(at.warning)
    assert "at most 3 conv layers" in note and "`padding=3`: must be smaller than the kernel size (3)" in note
    assert at.number_input(key="train_padding").value == 0 and at.number_input(key="train_kernel").value == 3
    values, notes = lesson.from_params({"filters": "9" * 5000})
    assert values == {} and len(notes[0]) < 300                     # a huge value is quoted cut short


def test_the_mlp_vs_cnn_experiment_loads_a_cnn_and_names_its_run():
    at = open_page(TRAIN)
    at.button(key="exp_mlp_vs_cnn_1").click().run()
    assert at.radio(key="train_kind").value == "cnn" and at.number_input(key="train_epochs").value == 5
    assert dict(at.query_params) == {"kind": "cnn", "epochs": "5"}
    at.number_input(key="train_epochs").set_value(1).run()         # (a shorter run for the test)
    at.button(key="train_start").click().run()
    assert run_until_done(at) == "finished"
    assert run_names.default_name(at.session_state["runs"][-1]).startswith("Run 1: CNN conv 8,16 @5×5")


def test_presenter_mode_shows_the_cnns_knobs_and_trains_it():
    at = open_page(TRAIN, {"kind": "cnn", "filters": "4", "epochs": "1", "present": "1"})
    assert at.session_state["presenter"] and at.radio(key="train_kind").value == "cnn"
    assert at.text_input(key="train_filters").value == "4"
    assert "CNN conv 4 @5×5, pool 2, relu" in texts(at.caption)      # all the settings, in words
    at.button(key="train_start").click().run()
    assert isinstance(at.session_state["trainer"].net, ConvNet)
    assert run_until_done(at) == "finished"
    assert "What the first conv layer looks for" in texts(at.markdown)


# ------------------------------------------------------------------ other pages with a CNN in session


def with_cnn(at, net=None):
    net = net or small_cnn()
    at.session_state["model"] = net
    at.session_state["model_info"] = {"label": f"your model ({net.describe()})",
                                      "settings": {"layers": net.spec()}}
    return net


def test_evaluate_uses_the_sessions_cnn():
    at = open_page(EVALUATE)
    net = with_cnn(at)
    at.run()
    assert not at.exception, at.exception
    data = load_mnist(data_dir=None)
    cache = at.session_state["eval_cache"]
    assert cache["net"] is net
    assert cache["accuracy"] == pytest.approx(metrics.accuracy(net.predict(data.test_float()), data.y_test))
    assert "conv 4@5x5" in texts(at.caption)


def test_inside_shows_a_cnns_feature_maps_pca_per_block_and_robustness():
    at = open_page(INSIDE)
    with_cnn(at, ConvNet(cnn_spec((4, 8), 5, 0, 2, (16,)), seed=1))
    at.run()
    assert not at.exception, at.exception
    assert "conv 4@5x5" in texts(at.info) and "multi-layer perceptron" not in texts(at.info)
    heads = [h.value for h in at.subheader]
    assert "Conv layer 1: 4 filters of 5×5, 4 feature maps of 24×24" in heads
    assert "Conv layer 2: 8 filters of 5×5, 8 feature maps of 8×8" in heads
    filters = next(i.proto for i in at.get("image") if "filter 1" in str(i.proto))   # big, one each, numbered
    assert [img.caption for img in filters.imgs] == ["filter 1", "filter 2", "filter 3", "filter 4"]
    layer = at.selectbox(key="in_pca_layer")
    assert layer.options == ["input pixels (784)", "conv block 1: 4 maps of 12×12 (576 numbers)",
                             "conv block 2: 8 maps of 4×4 (128 numbers)", "dense hidden layer 1 (16 units)",
                             "output scores z (10, before softmax)"]
    for choice in (3, 2):
        at.selectbox(key="in_pca_layer").set_value(choice).run()
        assert not at.exception, at.exception
    assert "all 128 numbers" in texts(at.caption)
    assert len(at.get("vega_lite_chart")) >= 4                   # output, PCA map, two robustness curves
    assert "Why turning still hurts a CNN" in texts(at.markdown)


def test_inside_leaves_a_too_wide_layer_off_the_map_and_says_so():
    at = open_page(INSIDE)
    with_cnn(at, ConvNet(cnn_spec((32,), 5, 2, 1), seed=0))       # 32 maps of 28×28: 25,088 numbers an image
    at.run()
    assert not at.exception, at.exception
    assert at.selectbox(key="in_pca_layer").value == 1
    assert "holds 25,088 numbers per image: too many to map" in texts(at.caption)
    at.selectbox(key="in_pca_layer").set_value(2).run()            # the output scores are mapped
    assert not at.exception, at.exception
    assert "using all 10 numbers" in texts(at.caption)


def test_the_feature_maps_are_the_conv_layers_activations():
    net = ConvNet(cnn_spec((3,), 5, 2, 2), seed=2)
    x = np.random.default_rng(0).random(784, dtype=np.float32)
    (layer, maps), = analysis.feature_maps(net, x)
    # By hand: the 5x5 window of the zero-padded image under each output pixel, times the filter, plus bias.
    img = np.pad(x.reshape(28, 28), 2)
    by_hand = np.array([[[np.sum(img[r:r + 5, c:c + 5] * layer.W[f, 0]) + layer.b[f] for c in range(28)]
                         for r in range(28)] for f in range(3)])
    assert maps.shape == (3, 28, 28)
    np.testing.assert_allclose(maps, np.maximum(by_hand, 0), rtol=1e-4, atol=1e-5)
    # The PCA's values of the conv block are the pooled maps, flattened; a wide block is left out.
    values = analysis.layer_values(net, x[None, :], scores=True)
    pooled = np.maximum(by_hand, 0).reshape(3, 14, 2, 14, 2).max(axis=(2, 4))
    np.testing.assert_allclose(values[1][0], pooled.ravel(), rtol=1e-4, atol=1e-5)
    assert analysis.layer_values(net, x[None, :], scores=True, max_width=100)[1] is None


def test_compare_overlays_mlp_and_cnn_runs_with_a_kind_row():
    at = open_page(TRAIN)
    at.number_input(key="train_epochs").set_value(1).run()
    at.button(key="train_start").click().run()
    assert run_until_done(at) == "finished"
    choose_cnn(at, "4", epochs=1)
    at.button(key="train_start").click().run()
    assert run_until_done(at) == "finished"
    at.switch_page(COMPARE)
    at.run()
    assert not at.exception, at.exception
    table = at.dataframe[0].value                                   # (the rows that differ)
    names = [r["name"] for r in at.session_state["runs"]]
    assert list(table.loc["kind"]) == ["MLP", "CNN"]
    assert list(table.loc["layers"]) == ["784-256-10", "conv 4 @5×5, pool 2"]
    frame, _ = runs.curve_frame(at.session_state["runs"], "val_acc")
    assert set(frame["run"]) == set(names)                          # both curves in the one chart
    assert len(at.get("vega_lite_chart")) == 1


def test_draw_reads_with_the_sessions_cnn():
    at = open_page(DRAW)
    net = with_cnn(at, training.settings_from_values({"train_kind": "cnn"}).new_net())
    at.run()
    img = np.zeros((280, 280, 4), np.uint8)
    img[..., 3] = 255
    img[50:230, 128:150, :3] = 255                                  # a thick vertical stroke
    at.session_state[f"draw_canvas_{at.session_state['draw_canvas_n']}"] = canvas_state(img)
    at.run()
    assert not at.exception, at.exception
    assert "Guessing with **your model (conv 8@5x5" in texts(at.caption)
    x = at.session_state["draw_last_x"]
    guess = int(net.predict(x[None, :])[0])
    assert f'data-digit="{guess}"' in texts(at.markdown)


def test_how_it_learns_keeps_to_an_mlp_and_says_so():
    at = open_page(HOW)
    with_cnn(at)
    at.run()
    assert not at.exception, at.exception
    assert "Your model is a convolutional network (CNN)" in texts(at.info)
    assert "784-256-10" in texts(at.markdown) + texts(at.caption) + texts(at.info)    # the built-in MLP


@pytest.mark.parametrize("kind", ["cnn", "mlp", "built-in"])
def test_home_introduces_mlp_and_cnn_and_names_the_model_once(kind):
    """Issue 22: Home introduced only an MLP, and printed the current model's architecture twice
    ("your model (784-...)": 784-...)."""
    from engine.network import Network
    from ui.training import settings_from_values
    at = open_page()
    intro = at.markdown[0].value
    assert "multi-layer perceptron (MLP)" in intro and "convolutional network (CNN)" in intro and "PyTorch" in intro
    if kind != "built-in":
        settings = settings_from_values({"train_kind": kind}).as_dict()
        net = ConvNet(settings["layers"], seed=0) if kind == "cnn" else Network(settings["sizes"], seed=0)
        at.session_state["model"] = net
        at.session_state["model_info"] = {"label": f"your model ({net.describe()})", "settings": settings}
        at.run()
        assert not at.exception, at.exception
    else:
        from ui import state
        net = state.pretrained_model()[0]
    shown = texts(at.markdown)
    assert shown.count(net.describe()) == 1, shown
    assert ("a CNN (convolutional network)" if kind == "cnn" else "an MLP (multi-layer perceptron)") in shown
