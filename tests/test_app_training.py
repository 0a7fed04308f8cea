"""The Train, Evaluate and Draw pages, driven through Streamlit's AppTest.

Run with the built-in sample: `MNIST_DIR= .venv/bin/python -m pytest tests/test_app_training.py -q`.
A run trains in its own thread (ui/training.py): the tests wait for a number of
batches or for the run's end, never for a number of seconds.
"""
import io
import os
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from apptest_utils import canvas_state, get, open_page, run_until_done, texts, wait_for
from engine import metrics
from engine.modelfile import load_model, model_arrays, model_to_bytes
from engine.network import Network
from engine.trainer import Settings

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "dashboard.py")
TRAIN, EVALUATE, DRAW = "app_pages/4_train.py", "app_pages/5_evaluate.py", "app_pages/6_draw.py"


pytestmark = pytest.mark.usefixtures("builtin_sample")




def sample_data():
    from engine.data import load_mnist
    return load_mnist(data_dir=os.environ.get("MNIST_DIR") or None)


# ------------------------------------------------------------------ Train


def test_train_page_renders_with_the_engine_defaults():
    at = open_page(TRAIN)
    s = Settings()
    assert at.text_input(key="train_hidden").value == "256"
    assert at.selectbox(key="train_activation").value == s.activation
    assert at.selectbox(key="train_loss").value == s.loss
    assert at.selectbox(key="train_optimizer").value == s.optimizer
    assert at.number_input(key="train_lr").value == pytest.approx(s.lr)
    assert at.number_input(key="train_momentum").value == pytest.approx(s.momentum)
    assert at.number_input(key="train_l2").value == pytest.approx(s.l2)
    assert at.number_input(key="train_batch_size").value == s.batch_size
    assert at.number_input(key="train_epochs").value == s.epochs
    assert at.number_input(key="train_seed").value == s.seed
    assert at.number_input(key="train_init_scale").value == pytest.approx(s.init_scale)
    assert at.slider(key="train_val_fraction").value == pytest.approx(s.val_fraction)
    assert at.toggle(key="train_shuffle").value is s.shuffle
    for key in ("train_start", "train_pause", "train_resume", "train_stop", "train_reset"):
        assert at.button(key=key) is not None
    assert "Press **Start**" in texts(at.info)
    assert get(at, "trainer") is None and get(at, "model") is None


def test_training_to_the_end_sets_the_users_model():
    at = open_page(TRAIN)
    at.number_input(key="train_epochs").set_value(2).run()
    at.button(key="train_start").click().run()
    assert not at.exception, at.exception
    assert run_until_done(at) == "finished"

    run = at.session_state["trainer"]
    assert len(run.history.epochs) == 2 and run.history.batch_loss      # what the live charts draw
    assert len(at.get("vega_lite_chart")) == 3                     # batch loss, epoch loss, epoch accuracy
    result = at.session_state["train_result"]
    net, info = at.session_state["model"], at.session_state["model_info"]
    data = sample_data()
    # The reported test accuracy is the engine's, on the test set, for the model now in use.
    assert result["test_accuracy"] == pytest.approx(metrics.accuracy(net.predict(data.test_float()), data.y_test))
    assert result["test_accuracy"] > 0.85
    assert info["label"].startswith("your model (784-256-10, relu")
    assert info["test_accuracy"] == result["test_accuracy"]
    assert info["settings"]["epochs"] == 2 and len(info["history"]["epochs"]) == 2
    assert info["source"] == data.source
    assert net is not run.net                                            # a copy: later runs can't change it
    runs = at.session_state["runs"]
    assert len(runs) == 1 and runs[0]["status"] == "finished" and runs[0]["settings"]["epochs"] == 2
    assert "Run finished" in texts(at.success)
    # The save button's file loads back to the same weights.
    again, settings = load_model(model_to_bytes(net, info["settings"]))
    assert all(np.array_equal(a, b) for a, b in zip(again.params(), net.params()))


def test_a_diverging_run_shows_the_engines_message_and_keeps_finite_weights():
    at = open_page(TRAIN)
    at.number_input(key="train_lr").set_value(100.0).run()
    at.button(key="train_start").click().run()
    assert run_until_done(at) == "diverged"
    run = at.session_state["trainer"]
    assert run.diverged and run.message
    assert run.message in texts(at.error)
    assert all(np.isfinite(p).all() for p in run.net.params())
    assert get(at, "model") is None                  # a diverged run never becomes "your model"
    assert at.session_state["runs"][-1]["status"] == "diverged"


def test_bad_settings_are_refused_with_the_engines_message():
    at = open_page(TRAIN)
    at.number_input(key="train_lr").set_value(0.0).run()
    at.button(key="train_start").click().run()
    assert "learning rate must be above 0" in texts(at.error)
    assert at.session_state["train_status"] == "idle" and get(at, "trainer") is None
    at.number_input(key="train_lr").set_value(0.1)
    at.text_input(key="train_hidden").set_value("12a").run()
    at.button(key="train_start").click().run()
    assert "whole numbers" in texts(at.error)
    assert get(at, "trainer") is None


def test_pause_resume_stop_and_reset_leave_a_consistent_state():
    at = open_page(TRAIN)
    at.number_input(key="train_epochs").set_value(200).run()     # far longer than this test
    at.button(key="train_start").click().run()
    assert at.session_state["train_status"] == "running"
    run = at.session_state["trainer"]
    wait_for(lambda: run.step >= 3, what="3 batches")

    at.button(key="train_pause").click().run()
    assert at.session_state["train_status"] == "paused"
    assert at.session_state["train_job"].phase == "paused"      # the thread itself has stopped training
    step = run.step
    at.run()
    at.session_state["train_job"].join(0.3)
    assert run.step == step                          # paused: no training
    at.button(key="train_resume").click().run()
    assert at.session_state["train_status"] == "running"
    wait_for(lambda: run.step > step, what="training after Resume")

    at.button(key="train_stop").click().run()
    assert at.session_state["train_status"] == "stopped"
    assert at.session_state["train_result"]["status"] == "stopped"
    net = at.session_state["model"]
    assert net is not None and "Run stopped early" in texts(at.success)
    step = run.step
    at.run()
    assert run.step == step                          # stopped runs stay stopped

    at.button(key="train_reset").click().run()
    assert not at.exception, at.exception
    assert at.session_state["train_status"] == "idle"
    assert get(at, "trainer") is None and get(at, "train_result") is None
    assert at.session_state["model"] is net          # Reset keeps your model and the run record
    assert len(at.session_state["runs"]) == 1
    assert "Press **Start**" in texts(at.info)
    at.button(key="train_start").click().run()       # and a new run can start
    assert at.session_state["train_status"] == "running"


def _npz(arrays):
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def test_bad_uploads_show_an_error_and_keep_the_current_model():
    at = open_page(TRAIN)
    good = Network([784, 16, 10], seed=3)
    at.file_uploader(key="train_upload").set_value(("mine.npz", model_to_bytes(good), "application/octet-stream"))
    at.run()
    assert not at.exception, at.exception
    assert "Loaded mine.npz" in texts(at.success)
    current = at.session_state["model"]
    assert current.sizes == [784, 16, 10]
    assert np.array_equal(current.weights[0], good.weights[0])

    rng = np.random.default_rng(0)
    wrong_shape = model_arrays(good)
    wrong_shape["W0"] = np.zeros((16, 700), np.float32)
    wrong_inputs = Network([100, 8, 10], seed=0)
    for name, content, expected in [
        ("noise.npz", rng.integers(0, 256, 5000, dtype=np.uint8).tobytes(), "not a model file"),
        ("shapes.npz", _npz(wrong_shape), "'W0' has shape (16, 700)"),
        ("small.npz", model_to_bytes(wrong_inputs), "needs 784 inputs"),
    ]:
        at.file_uploader(key="train_upload").set_value((name, content, "application/octet-stream"))
        at.run()
        assert not at.exception, at.exception
        errors = texts(at.error)
        assert "Could not load that model" in errors and expected in errors, errors
        assert at.session_state["model"] is current   # still the same model


# ------------------------------------------------------------------ Evaluate


def test_evaluate_page_confusion_matrix_and_cell_pick():
    at = open_page(EVALUATE)
    data = sample_data()
    cache = at.session_state["eval_cache"]
    cm = cache["cm"]
    assert cm.sum() == len(data.y_test)
    if data.is_sample:
        assert cm.sum() == 2000
    net = cache["net"]
    acc = metrics.accuracy(net.predict(data.test_float()), data.y_test)
    assert at.metric[0].value == f"{acc:.2%}"
    assert "built-in pretrained model" in texts(at.caption)
    at.selectbox(key="eval_true").set_value(4)
    at.selectbox(key="eval_pred").set_value(9).run()
    assert not at.exception, at.exception
    n = int(cm[4, 9])
    assert f"**True 4, predicted 9**: {n:,} image" in texts(at.markdown)
    at.toggle(key="eval_normalise").set_value(True).run()
    assert not at.exception, at.exception
    assert at.session_state["eval_cache"] is cache   # not recomputed on rerun


def test_evaluate_uses_the_users_model_once_there_is_one():
    at = open_page(EVALUATE)
    mine = Network([784, 8, 10], seed=1)               # untrained: about 10% right
    at.session_state["model"] = mine
    at.session_state["model_info"] = {"label": "your model (784-8-10, test)"}
    at.run()
    assert not at.exception, at.exception
    assert at.session_state["eval_cache"]["net"] is mine
    assert "your model (784-8-10, test)" in texts(at.caption)


# ------------------------------------------------------------------ Draw


def _drawn_one():
    img = np.zeros((280, 280, 4), np.uint8)
    img[..., 3] = 255                                   # opaque black canvas
    img[50:230, 128:150, :3] = 255                      # a thick white vertical stroke: "1"
    return img


def prediction(at):
    for m in at.markdown:
        if 'id="draw-prediction"' in m.value:
            return int(m.value.split('data-digit="')[1][0])
    return None


def test_draw_page_asks_for_a_digit_when_empty():
    at = open_page(DRAW)
    assert "Draw a digit" in texts(at.info)
    assert prediction(at) is None
    assert "the built-in CNN" in texts(at.caption)


def test_a_drawn_one_is_read_as_one_and_clear_empties_the_canvas():
    at = open_page(DRAW)
    at.session_state["draw_canvas_0"] = canvas_state(_drawn_one())
    at.run()
    assert not at.exception, at.exception
    assert prediction(at) == 1
    assert "Draw a digit" not in texts(at.info)
    assert "784 numbers" in texts(at.markdown)
    at.button(key="draw_clear").click().run()
    assert prediction(at) is None and "Draw a digit" in texts(at.info)


def test_draw_switches_to_the_users_model():
    at = open_page(DRAW)
    mine = Network([784, 8, 10], seed=1)
    mine.biases[-1][:] = 0
    mine.weights[-1][:] = 0
    mine.biases[-1][3] = 10.0                           # this model always says 3
    at.session_state["model"] = mine
    at.session_state["model_info"] = {"label": "your model (always 3)"}
    at.session_state["draw_canvas_0"] = canvas_state(_drawn_one())
    at.run()
    assert "your model (always 3)" in texts(at.caption) and prediction(at) == 3
    at.toggle(key="draw_use_mine").set_value(False).run()
    assert "the built-in CNN" in texts(at.caption) and prediction(at) == 1


def start_run(epochs=200, hidden=None, batch=None):
    """The Train page with a run started (200 epochs: it goes on for the whole test)."""
    at = open_page(TRAIN)
    at.number_input(key="train_epochs").set_value(epochs)
    if hidden is not None:
        at.text_input(key="train_hidden").set_value(hidden)
    if batch is not None:
        at.number_input(key="train_batch_size").set_value(batch)
    at.run()
    at.button(key="train_start").click().run()
    return at, at.session_state["trainer"]


def test_a_run_trains_on_while_another_page_is_open():
    """Start a run, go to Draw: the run keeps training there (shown in the sidebar),
    and once it ends, Draw uses the new model without a visit to the Train page."""
    at, run = start_run(epochs=3, hidden="16", batch=4)     # small batches: seconds of work, not a blink
    job = at.session_state["train_job"]
    job.pause()                                      # held at a known point while we look
    at.switch_page(DRAW)
    at.run()
    assert not at.exception, at.exception
    job.resume()
    steps = run.step
    wait_for(lambda: run.step > steps, what="training while Draw is shown")
    job.pause()
    at.run()
    bars = [p for p in at.sidebar.get("progress")]
    assert bars and "Training" in bars[0].proto.text and f"epoch {run.epoch + 1}/3" in bars[0].proto.text
    job.resume()
    assert "the built-in CNN" in texts(at.caption)
    assert run_until_done(at) == "finished" and run.epoch == 3
    assert at.session_state["model"].sizes == [784, 16, 10]
    assert "your model (784-16-10" in texts(at.caption)
    assert not at.sidebar.get("progress")                    # the panel is gone


def test_pause_in_the_sidebar():
    at, run = start_run()
    at.switch_page("app_pages/1_dataset.py")
    at.run()
    assert at.sidebar.get("progress")                        # the run shows in the sidebar
    at.button(key="sidebar_pause").click().run()
    assert not at.exception, at.exception
    assert at.session_state["train_status"] == "paused"
    steps = run.step
    at.session_state["train_job"].join(0.3)
    at.run()
    assert run.step == steps and not at.sidebar.get("progress")


def test_a_pause_is_answered_within_a_second_even_mid_batch():
    """Issue 11: a huge mini-batch is worked through in parts, so Pause and Stop
    do not wait for it. 5 hidden layers of 1024 and a batch of 8,000: one batch is
    many seconds of work; the run must answer within a second and never move on."""
    at = open_page(TRAIN)
    at.text_input(key="train_hidden").set_value("1024,1024,1024,1024,1024")
    at.number_input(key="train_batch_size").set_value(8000).run()
    at.button(key="train_start").click().run()
    assert not at.error, texts(at.error)
    run = at.session_state["trainer"]
    assert run.part < 8000                           # the batch really is split
    job = at.session_state["train_job"]
    wait_for(lambda: job.phase == "training" and run.step >= 1, what="the run to be training")
    started = time.monotonic()
    assert job.pause(wait=30)                        # the thread itself stops training ...
    answered = time.monotonic() - started
    at.button(key="train_pause").click().run()       # (what the page's button calls)
    assert at.session_state["train_status"] == "paused" and job.phase == "paused"
    step = run.step
    job.join(0.5)
    assert run.step == step
    # ... within a part of a batch: 1 s here (0.1 s on a quiet machine), while one
    # batch of 8,000 is 60 parts. Generous for a busy 2-core machine, far below a batch.
    assert answered < 3, answered
    at.button(key="train_stop").click().run()
    assert at.session_state["train_status"] in ("stopped", "stopping")
    assert run_until_done(at) == "stopped"


def test_two_clicks_never_train_one_session_in_two_threads():
    """Issue 11: Resume/Pause clicked again and again start no second thread."""
    at, run = start_run()
    threads = lambda: [t for t in threading.enumerate() if t.name.startswith("training ")]  # noqa: E731
    for _ in range(4):
        at.button(key="train_pause").click().run()
        at.button(key="train_resume").click().run()
        assert len(threads()) == 1
    assert at.button(key="train_start").disabled       # no second run while one goes
    at.button(key="train_stop").click().run()
    assert run_until_done(at) == "stopped" and not threads()


def test_settings_and_the_run_survive_a_page_switch():
    at, run = start_run(epochs=3, hidden="64,32", batch=4)   # small batches: seconds of work, not a blink
    at.session_state["train_job"].pause()          # held, so it is still going after the switch
    assert run.net.sizes == [784, 64, 32, 10]
    at.switch_page(DRAW)
    at.run()
    assert not at.exception, at.exception
    at.switch_page(TRAIN)
    at.run()
    assert not at.exception, at.exception
    assert at.number_input(key="train_epochs").value == 3
    assert at.text_input(key="train_hidden").value == "64,32"
    assert at.session_state["trainer"] is run and at.session_state["train_status"] == "running"
    at.session_state["train_job"].resume()
    assert run_until_done(at) == "finished" and len(run.history.epochs) == 3


def test_a_run_is_steered_while_it_trains_and_the_change_is_marked():
    """Issue 12: learning rate, momentum, L2 and batch size change during a run,
    from the next batch on, and the change is marked on the mini-batch chart."""
    at, run = start_run()
    wait_for(lambda: run.step >= 2, what="2 batches")
    assert not at.number_input(key="train_lr").disabled and at.number_input(key="train_epochs").disabled
    at.number_input(key="train_lr").set_value(0.02).run()
    assert run.settings.lr == pytest.approx(0.02) and run.optimizer.lr == pytest.approx(0.02)
    at.number_input(key="train_batch_size").set_value(32).run()
    at.number_input(key="train_momentum").set_value(0.5).run()
    assert run.settings.batch_size == 32 and run.optimizer.momentum == pytest.approx(0.5)
    assert [m[1] for m in run.history.marks] == ["lr 0.1 → 0.02", "batch 64 → 32", "momentum 0.9 → 0.5"]
    assert [m[2] for m in run.history.marks] == [{"lr": (0.1, 0.02)}, {"batch_size": (64, 32)},
                                                 {"momentum": (0.9, 0.5)}]
    assert all(m[0] >= 3 for m in run.history.marks)
    chart = at.get("vega_lite_chart")[0].proto.spec
    assert '"type": "rule"' in chart and '"field": "change"' in chart  # drawn on the loss chart
    at.number_input(key="train_batch_size").set_value(60000).run()   # more than the training set
    assert "Can't change that now" in texts(at.error) and run.settings.batch_size == 32
    at.button(key="train_stop").click().run()
    assert run_until_done(at) == "stopped"
    assert at.session_state["runs"][-1]["history"]["marks"] == run.history.marks


def test_slow_motion_spreads_a_run_and_is_on_in_presenter_mode():
    at = open_page(TRAIN)
    assert at.toggle(key="train_slow").value is False                  # full speed by default
    at.sidebar.toggle(key="presenter").set_value(True).run()
    assert at.toggle(key="train_slow").value is True                   # ... but slow for a class
    at.button(key="train_start").click().run()
    job, run = at.session_state["train_job"], at.session_state["trainer"]
    batches = run.settings.epochs * run.batches_per_epoch
    assert job.batch_seconds == pytest.approx(30 / batches)
    assert "slow motion" in " ".join(p.proto.text for p in at.get("progress"))
    at.toggle(key="train_slow").set_value(False).run()                 # switched off mid-run
    assert job.batch_seconds == 0
    at.sidebar.toggle(key="presenter").set_value(False).run()
    assert at.toggle(key="train_slow").value is False                  # a choice made stays made
    assert run_until_done(at) == "finished"
