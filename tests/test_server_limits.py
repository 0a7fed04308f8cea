"""Issue 11: one run, one worker, bounded; a line of runs per server; limits in one place.

Engine level: a big batch is worked through in parts that give the same step, and a
stop request between parts changes nothing. The worker answers pause/stop and never
trains without a place in the server's line. App level (AppTest): the server's line
shows on the Train page, long runs say hours, odd settings never break Home, and the
biggest model the Train page allows fits the upload limit.
"""
import math
import threading
import tomllib
from pathlib import Path

import numpy as np
import pytest

from apptest_utils import open_page, texts, wait_for
from engine.cost import run_cost
from engine.modelfile import MAX_PARAMS, model_to_bytes
from engine.network import Network
from engine.trainer import Settings, new_run
from engine.worker import BackgroundRun, Slots

ROOT = Path(__file__).resolve().parent.parent
TRAIN = "app_pages/4_train.py"


pytestmark = pytest.mark.usefixtures("builtin_sample_always")


def toy_data(n=240, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, 784), dtype=np.uint8), rng.integers(0, 10, n)


def trainer(batch=60, epochs=3, **kw):
    x, y = toy_data()
    return new_run(x, y, Settings(sizes=(784, 24, 10), batch_size=batch, epochs=epochs, val_fraction=0.25, **kw))


# ------------------------------------------------------------------ engine: parts of a batch

@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
def test_a_batch_in_parts_takes_the_same_step_as_in_one_piece(optimizer):
    whole, parts = trainer(optimizer=optimizer, l2=0.01), trainer(optimizer=optimizer, l2=0.01)
    parts.part = 7                      # 60 examples in parts of 7: 8 full parts and one of 4
    whole.run(batches=5)
    parts.run(batches=5)
    assert parts.step == whole.step == 5
    for p, q in zip(parts.net.params(), whole.net.params()):
        np.testing.assert_allclose(p, q, rtol=2e-4, atol=2e-5)   # float32 sums in another order
    assert parts.history.batch_loss == pytest.approx(whole.history.batch_loss, rel=1e-5)


def test_a_stop_between_parts_drops_the_batch_and_changes_nothing():
    run, twin = trainer(), trainer()
    run.part = 10
    before = [p.copy() for p in run.net.params()]
    asked = []

    def stop():                          # say stop at the first question inside the batch
        asked.append(1)
        return len(asked) > 1
    report = run.run(batches=1, stop=stop)
    assert report.batches == 0 and run.step == 0 and run.pos == 0
    assert all(np.array_equal(p, q) for p, q in zip(before, run.net.params()))
    run.run(batches=4)                   # carries on as if never interrupted
    twin.run(batches=4)
    for p, q in zip(run.net.params(), twin.net.params()):
        np.testing.assert_allclose(p, q, rtol=1e-5, atol=1e-7)


def test_a_stop_while_checking_the_validation_set_ends_the_epoch_later_once():
    run = trainer(epochs=2)
    run.part = 10                        # the 60 validation images are checked in parts of 30
    per_epoch = run.batches_per_epoch
    run.run(batches=per_epoch - 1)
    checks = []

    def stop():                          # True only at the validation check after the last batch
        checks.append(run.pos)
        return run.pos >= run.n_train
    run.run(batches=1, stop=stop)
    assert run.epoch == 0 and run.history.epochs == [] and run.pos == run.n_train
    report = run.run(batches=1)
    assert [e["epoch"] for e in run.history.epochs] == [1] and report.epochs_finished
    assert run.epoch == 1 and run.step == per_epoch + 1


# ------------------------------------------------------------------ engine: the worker and the line

def test_the_line_gives_places_in_order_and_lets_a_waiter_give_up():
    slots = Slots(size=1, turn_seconds=0)
    a, b, c = object(), object(), object()
    assert slots.acquire(a) and slots.position(a) == 0
    got = []
    waiter = threading.Thread(target=lambda: got.append(slots.acquire(b)))
    waiter.start()
    wait_for(lambda: slots.position(b) == 1, what="b in line")
    assert slots.counts() == (1, 1)
    assert slots.should_yield(a)         # someone waits and a's turn (0 s) is over
    assert not slots.acquire(c, give_up=lambda: True) and slots.position(c) is None
    slots.release(a)
    waiter.join(10)
    assert got == [True] and slots.position(b) == 0 and not slots.should_yield(b)


def test_a_background_run_pauses_resumes_stops_and_reports():
    x, y = toy_data()
    run = new_run(x, y, Settings(sizes=(784, 24, 10), batch_size=20, epochs=200))
    job = BackgroundRun(run, Slots(1), x.astype(np.float32) / 255, y)
    wait_for(lambda: run.step >= 3, what="3 batches")
    assert job.pause() and job.phase == "paused"
    step = run.step
    job.join(0.2)
    assert run.step == step
    job.resume()
    wait_for(lambda: run.step > step, what="training after resume")
    assert job.stop() and job.done and job.error is None
    loss, accuracy = job.result
    assert np.isfinite(loss) and 0 <= accuracy <= 1


def test_a_run_waits_for_a_place_and_a_run_whose_browser_left_stops():
    x, y = toy_data()
    slots = Slots(1)
    slots.acquire("someone else")
    here = [True]
    run = new_run(x, y, Settings(sizes=(784, 24, 10), batch_size=20, epochs=200))
    job = BackgroundRun(run, slots, x, y, alive=lambda: here[0])
    wait_for(lambda: job.position() == 1, what="the run in line")
    assert job.phase == "waiting" and run.step == 0      # no place, no training
    slots.release("someone else")
    wait_for(lambda: run.step > 0, what="training once the place is free")
    here[0] = False                                      # the browser went away
    assert job.join(10) and job.result is None and job.error is None


# ------------------------------------------------------------------ the app

def test_the_servers_line_shows_on_the_train_page(monkeypatch):
    from ui import limits, server
    monkeypatch.setattr(limits, "MAX_TRAINING_RUNS", 1)
    monkeypatch.setattr(limits, "TURN_SECONDS", 1e6)       # no turns: A keeps its place until it pauses
    server.training_slots.clear()                          # a server that trains one run at a time
    try:
        a, b = open_page(TRAIN), open_page(TRAIN)
        for at in (a, b):
            at.number_input(key="train_epochs").set_value(200).run()
        a.button(key="train_start").click().run()
        wait_for(lambda: a.session_state["train_job"].phase == "training", what="A training")
        b.button(key="train_start").click().run()
        line = " ".join(p.proto.text for p in b.get("progress"))
        assert "Waiting for a free place** (1st in line)" in line and "trains 1 runs at a time" in line
        assert b.session_state["trainer"].step == 0
        a.button(key="train_pause").click().run()          # A pauses: its place goes to B
        wait_for(lambda: b.session_state["trainer"].step > 0, what="B training")
        b.run()
        assert "Training…" in " ".join(p.proto.text for p in b.get("progress"))
    finally:
        server.training_slots.clear()


def test_a_long_run_says_hours_not_thousands_of_minutes():
    from ui.training import duration_text
    assert duration_text(116_880) == "32 h 28 min"
    assert duration_text(7200) == "2 h" and duration_text(600) == "10 min" and duration_text(42) == "42 s"


@pytest.mark.parametrize("settings", [{"lr": "fast"}, {"optimizer": ["x"]}, {"epochs": {"a": 1}, "l2": None}])
def test_a_model_with_odd_settings_never_breaks_home(settings):
    at = open_page()
    net = Network([784, 16, 10], seed=1)
    at.session_state["model"] = net
    at.session_state["model_info"] = {"label": "your uploaded model", "settings": settings, "source": "x"}
    at.run()
    assert not at.exception, at.exception
    assert "784-16-10" in texts(at.markdown)


def test_the_biggest_trainable_model_fits_every_limit():
    """Whatever the Train page lets you train and save, it lets you load back."""
    from ui import limits
    from ui.training import check_cost, parse_hidden
    hidden = parse_hidden(",".join([str(limits.MAX_UNITS)] * limits.MAX_HIDDEN_LAYERS))
    biggest = Settings(sizes=(784, *hidden, 10), optimizer="adam", batch_size=128)
    cost, _ = check_cost(biggest, 10_000)                   # allowed to train
    assert cost.n_params <= MAX_PARAMS
    net = Network(biggest.sizes, seed=0)
    assert net.n_params() == cost.n_params
    size = len(model_to_bytes(net, biggest.as_dict()))
    assert size <= limits.UPLOAD_MB * 2**20
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["maxUploadSize"] >= limits.UPLOAD_MB
    with pytest.raises(ValueError, match="at most"):
        parse_hidden(",".join([str(limits.MAX_UNITS + 1)] + [str(limits.MAX_UNITS)] * 4))


def test_settings_over_the_limits_are_refused_with_what_to_change(monkeypatch):
    from ui import limits
    from ui.training import check_cost
    big = Settings(sizes=(784, 2048, 2048, 2048, 2048, 2048, 10), batch_size=9000)
    with pytest.raises(ValueError, match=r"one mini-batch of 9,000 images .* at most [\d,]+"):
        check_cost(big, 10_000)
    fits = int(math.floor(limits.BATCH_SECONDS * limits.CORE_GFLOPS * 1e9 / run_cost(big).batch_flops * 9000))
    check_cost(Settings(sizes=big.sizes, batch_size=max(1, fits - 1)), 10_000)     # just under: allowed
    monkeypatch.setattr(limits, "RUN_MEMORY_MB", 100)
    with pytest.raises(ValueError, match=r"about [\d,]+ MB of memory .* 100 MB per run"):
        check_cost(Settings(sizes=big.sizes, batch_size=100), 10_000)


def test_a_students_cnn_file_loads_and_breaks_no_page():
    """A CNN saved by `python -m engine train --cnn` and uploaded on the Train page
    becomes the session's model; every page still answers (How it learns, MLP-only, says
    it shows the built-in MLP instead)."""
    from engine.convnet import ConvNet, cnn_spec
    from ui import pages
    net = ConvNet(cnn_spec(filters=(4,), k=5, p=0, pool=2, hidden=(), activation="relu", n_classes=10),
                  "cross-entropy", seed=0)
    at = open_page(TRAIN)
    at.file_uploader(key="train_upload").set_value(("cnn.npz", model_to_bytes(net, {}), "application/octet-stream"))
    at.run()
    assert not at.exception, at.exception
    assert "Loaded cnn.npz" in texts(at.success)
    assert isinstance(at.session_state["model"], ConvNet)
    for page in pages.PAGES[1:]:
        at.switch_page(page.path)
        at.run()
        assert not at.exception, (page.path, at.exception)
    at.switch_page("app_pages/7_inside.py")      # Inside the network looks inside the CNN itself
    at.run()
    assert "Looking inside **your uploaded model (conv 4@5x5" in texts(at.info)
    at.switch_page("app_pages/3_how_it_learns.py")     # How it learns takes an MLP apart: the built-in one
    at.run()
    assert "Your model is a convolutional network" in texts(at.info)
