"""Many users on one server: sessions never see each other, shared things never change.

Two AppTest sessions run in this one process, like two browser tabs on one
Streamlit server: they share st.cache_resource (the dataset, the pretrained
model) and nothing else. Also: Stop / Pause / Resume / Reset clicked at random
moments always leave a consistent model.

Run: `MNIST_DIR= .venv/bin/python -m pytest tests/test_isolation.py -q`
"""
import hashlib
import os
import random
from pathlib import Path
from apptest_utils import get, open_page, run_until_done, wait_for  # noqa: E402

import numpy as np
import pytest

from engine.modelfile import load_model, model_to_bytes
from engine.network import Network
from ui import pages

ROOT = Path(__file__).resolve().parent.parent
TRAIN, DRAW = "app_pages/4_train.py", "app_pages/6_draw.py"
PAGES = [p.path for p in pages.PAGES[1:]]      # every page but Home, the first one a session opens


pytestmark = pytest.mark.usefixtures("builtin_sample")


def ok(at):
    assert not at.exception, at.exception
    return at


def shared_dataset():
    """The dataset every session uses (the cached object itself)."""
    from ui import state
    return state._dataset(os.environ.get("MNIST_DIR", ""))


def fingerprint(arrays):
    h = hashlib.sha256()
    for a in arrays:
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()


def dataset_arrays(ds):
    return [ds.x_train, ds.y_train, ds.x_test, ds.y_test, ds.test_float()]


def pretrained_file():
    net, _ = load_model(str(ROOT / "engine" / "models" / "pretrained.npz"))
    return net


# ------------------------------------------------------------------ two sessions

A = {"train_hidden": "32", "train_optimizer": "sgd", "train_lr": 0.05, "train_epochs": 200,
     "train_batch_size": 64, "train_seed": 1}
B = {"train_hidden": "16,8", "train_activation": "tanh", "train_optimizer": "adam", "train_lr": 0.01,
     "train_epochs": 200, "train_batch_size": 100, "train_seed": 2}   # long: it outlasts the test


def set_widgets(at, values):
    for key, value in values.items():
        if key == "train_hidden":
            at.text_input(key=key).set_value(value)
        elif key in ("train_optimizer", "train_activation"):
            at.selectbox(key=key).set_value(value)
        else:
            at.number_input(key=key).set_value(value)
    at.run()
    return ok(at)


def assert_widgets(at, values):
    for key, value in values.items():
        assert at.session_state[key] == value, (key, at.session_state[key], value)


def test_two_sessions_train_at_once_without_seeing_each_other():
    ds = shared_dataset()
    before = fingerprint(dataset_arrays(ds))
    a, b = open_page(TRAIN), open_page(TRAIN)
    set_widgets(a, A)
    set_widgets(b, B)
    ok(a.button(key="train_start").click().run())
    ok(a.button(key="train_pause").click().run())         # held, so each can be stepped alone
    ok(b.button(key="train_start").click().run())
    ok(b.button(key="train_pause").click().run())
    ra, rb = a.session_state["trainer"], b.session_state["trainer"]
    assert ra is not rb and ra.net is not rb.net
    assert ra.net.sizes == [784, 32, 10] and rb.net.sizes == [784, 16, 8, 10]
    assert rb.net.activation == "tanh" and ra.net.activation == "relu"
    assert type(ra.optimizer).__name__ == "SGD" and type(rb.optimizer).__name__ == "Adam"
    for pa in ra.net.params():
        assert not any(np.shares_memory(pa, pb) for pb in rb.net.params())
    # Both train on the one shared, read-only copy of the data: its uint8 images
    # (no float copy of the training set per session, nor a shared one).
    assert ra.x is rb.x is ds.x_train

    # Let them train in turn: each session's clicks move only its own run.
    for i in range(4):
        at, mine, other = (a, ra, rb) if i % 2 == 0 else (b, rb, ra)
        mine_step, other_step = mine.step, other.step
        other_w = [p.copy() for p in other.net.params()]
        ok(at.button(key="train_resume").click().run())
        wait_for(lambda: mine.step >= mine_step + 3, what="3 batches")
        ok(at.button(key="train_pause").click().run())
        assert other.step == other_step
        assert all(np.array_equal(p, q) for p, q in zip(other.net.params(), other_w))
        assert at.session_state["trainer"] is mine
    assert_widgets(a, A)
    assert_widgets(b, B)
    assert ra.settings.lr == 0.05 and rb.settings.lr == 0.01

    # A stops: only A gets a model and a run record.
    ok(a.button(key="train_stop").click().run())
    assert a.session_state["train_status"] == "stopped"
    model_a = a.session_state["model"]
    assert model_a.sizes == [784, 32, 10]
    ok(b.run())
    assert b.session_state["train_status"] == "paused"      # B's run is still there, untouched
    assert get(b, "model") is None and b.session_state["runs"] == []
    assert len(a.session_state["runs"]) == 1

    # B loads a file: A's model does not change.
    upload = Network([784, 12, 10], seed=5)
    b.file_uploader(key="train_upload").set_value(("b.npz", model_to_bytes(upload), "application/octet-stream"))
    ok(b.run())
    assert b.session_state["model"].sizes == [784, 12, 10]
    assert a.session_state["model"] is model_a and model_a.sizes == [784, 32, 10]

    # B ends too: its model becomes B's run, A keeps its own.
    ok(b.button(key="train_stop").click().run())
    assert run_until_done(b) == "stopped"
    assert b.session_state["model"].sizes == [784, 16, 8, 10]
    ok(a.run())
    assert a.session_state["model"] is model_a
    assert [r["settings"]["sizes"] for r in a.session_state["runs"]] == [[784, 32, 10]]
    assert [r["settings"]["sizes"] for r in b.session_state["runs"]] == [[784, 16, 8, 10]]
    assert_widgets(a, A)
    assert_widgets(b, B)

    # The shared data was never changed by either session.
    assert shared_dataset() is ds
    assert fingerprint(dataset_arrays(ds)) == before


def test_shared_dataset_is_read_only():
    open_page(TRAIN)           # loads it the way the app does
    ds = shared_dataset()
    for arr in dataset_arrays(ds):
        assert not arr.flags.writeable
        with pytest.raises(ValueError, match="read-only"):
            arr[0] = 0
        with pytest.raises(ValueError, match="read-only"):
            arr += 0


def test_shared_pretrained_model_is_read_only_and_unchanged_after_every_page():
    original = pretrained_file()
    a, b = open_page(), open_page()
    for page in PAGES:                       # one session visits every page of the app ...
        a.switch_page(page)
        ok(a.run())
    for page in (DRAW, "app_pages/5_evaluate.py"):   # ... the other uses the model at the same time
        b.switch_page(page)
        ok(b.run())
    from ui import state
    net, _ = state.pretrained_model()
    for p, q in zip(net.params(), original.params()):
        assert np.array_equal(p, q)
        assert not p.flags.writeable
        with pytest.raises(ValueError, match="read-only"):
            p[0] = 0
    assert get(a, "model") is None and get(b, "model") is None   # nobody's model is the shared one


# ------------------------------------------------------------------ stop / resume / reset at any moment

BUTTONS = ("train_start", "train_pause", "train_resume", "train_stop", "train_reset")


def params_of(net):
    return [p.copy() for p in net.params()]


def same(params, net):
    return len(params) == len(net.params()) and all(np.array_equal(p, q) for p, q in zip(params, net.params()))


def check_consistent(at, expected_model):
    """The invariants that must hold after any click."""
    status = at.session_state["train_status"]
    assert status in ("idle", "running", "paused", "stopping", "stopped", "finished", "diverged")
    run = get(at, "trainer")
    assert (run is None) == (status == "idle")
    if run is not None:
        sizes = run.settings.sizes
        assert run.net.sizes == list(sizes)
        for l, (W, bias) in enumerate(zip(run.net.weights, run.net.biases)):
            assert W.shape == (sizes[l + 1], sizes[l]) and bias.shape == (sizes[l + 1],)
            assert np.isfinite(W).all() and np.isfinite(bias).all()
        assert 0 <= run.pos <= run.n_train and 0 <= run.epoch <= run.settings.epochs
        if status == "finished":
            assert run.finished
        elif run.finished:      # its thread got to the end after this page run recorded the status: it is in
            # (or has just ended) its closing test pass, which runs in the line in parts and answers Pause too
            assert status in ("running", "stopping", "paused")
            assert at.session_state["train_job"].phase in ("testing", "waiting", "paused", "done")
    model = get(at, "model")
    if expected_model is None:
        assert model is None
    else:
        assert same(expected_model, model), "the session's model changed when no run ended"
        assert all(np.isfinite(p).all() for p in model.params())
    # The buttons offer exactly what makes sense now.
    enabled = {k for k in BUTTONS if not at.button(key=k).disabled}
    expected = {"idle": {"train_start"}, "running": {"train_pause", "train_stop", "train_reset"},
                "paused": {"train_resume", "train_stop", "train_reset"}, "stopping": {"train_reset"}}.get(
        status, {"train_start", "train_reset"})
    assert enabled == expected, (status, enabled)
    return enabled


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_stop_resume_reset_at_random_moments_leave_a_consistent_model(seed):
    rnd = random.Random(seed)
    at = open_page(TRAIN)
    at.text_input(key="train_hidden").set_value(rnd.choice(["16", "24,12"]))
    at.number_input(key="train_epochs").set_value(rnd.choice([1, 2]))
    at.number_input(key="train_batch_size").set_value(rnd.choice([32, 100, 500])).run()
    expected_model, enabled = None, check_consistent(at, None)
    for _ in range(20):
        # The run trains in its own thread: a random wait, so clicks land at random points.
        action = rnd.choice(sorted(enabled) * 2 + ["rerun"])
        before, n_runs = at.session_state["train_status"], len(at.session_state["runs"])
        old = get(at, "trainer")
        step = old.step if old is not None else None
        if get(at, "train_job") is not None:
            at.session_state["train_job"].join(rnd.choice([0.001, 0.005, 0.02, 0.05]))
        if action == "rerun":
            ok(at.run())
        else:
            ok(at.button(key=action).click().run())
        status = at.session_state["train_status"]
        if len(at.session_state["runs"]) > n_runs:
            # A run just ended (perhaps in the very rerun that started it: small runs are quick).
            # The session's model is now a copy of the trainer's network, as it was at the end.
            assert len(at.session_state["runs"]) == n_runs + 1 and status in ("stopped", "finished")
            run, model = at.session_state["trainer"], at.session_state["model"]
            assert model is not run.net and same(params_of(run.net), model)
            assert at.session_state["model_info"]["status"] == status
            expected_model = params_of(model)
        if before == "paused" and action in ("rerun", "train_reset"):
            assert old.step == step                  # nothing trains while paused
        if action == "train_stop":
            assert status == "stopped" or (status == "finished" and old.finished)
        enabled = check_consistent(at, expected_model)
    # Finally let a run go to its end: the session's model is then exactly the finished network.
    for key in ("train_resume", "train_start"):
        if key in enabled:
            ok(at.button(key=key).click().run())
    assert run_until_done(at) == "finished"
    run, model = at.session_state["trainer"], at.session_state["model"]
    assert run.finished and model is not run.net and same(params_of(run.net), model)
    check_consistent(at, params_of(model))
