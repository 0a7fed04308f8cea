"""Tests that catch what they claim (issue 12 §4).

Each test here was written against a small deliberate bug ("plant") that the rest
of the suite let through, and was seen to fail with that plant in:

    momentum hard-coded to 0.9            test_momentum_*
    the learning-rate decay ignored       test_lr_decay_*
    augmentation doing nothing            test_augment*
    He initialisation for sigmoid/tanh    test_initial_weights_*
    lesson links refusing a maximum or
      accepting an open lower bound       test_link_boundaries_*
    a link opened mid-run being applied   test_link_opened_during_a_run_is_not_applied
    link values not snapped to sliders    test_link_values_snap_*

(The preprocessing's centre is pinned by tests/test_preprocess.py on the built-in
sample's real MNIST digits.)

Every expectation is worked out here, by hand or from textbook formulas and
statistics, never read from a constant of the code under test.
"""
import math

import numpy as np
import pytest

from apptest_utils import get, open_page, texts
from engine.augment import augment
from engine.data import load_sample
from engine.network import Network
from engine.optim import Momentum, make_optimizer
from engine.trainer import Settings, Trainer
from ui import lesson

TRAIN = "app_pages/4_train.py"


pytestmark = pytest.mark.usefixtures("builtin_sample_always")


@pytest.fixture(scope="module")
def digits():
    """600 real MNIST training digits (uint8 (600, 784)) and their labels, from the built-in sample."""
    data = load_sample()
    return data.x_train[:600], data.y_train[:600].astype(np.int64)


def small_trainer(digits, n=200, **settings):
    """A Trainer for a small 784-16-10 network on n real digits, with no validation split
    and no shuffling (so the k-th batch holds rows k*batch .. (k+1)*batch - 1)."""
    x, y = digits
    s = Settings(**{"sizes": (784, 16, 10), "batch_size": 50, "val_fraction": 0.0, "shuffle": False,
                    "epochs": 3, **settings})
    net = Network(s.sizes, s.activation, s.loss, seed=s.seed)
    return Trainer(net, x[:n], y[:n], s)


def spy_gradients(trainer):
    """Record what every call of trainer.net.gradients saw and returned:
    a list of dicts with x (the batch the network saw) and grads ([W0, b0, W1, b1, ...] copies)."""
    calls = []
    original = trainer.net.gradients

    def spy(x, y, l2=0.0):
        loss, grad_w, grad_b, out = original(x, y, l2)
        calls.append({"x": np.array(x, copy=True),
                      "grads": [np.array(g, dtype=np.float64) for gb in zip(grad_w, grad_b) for g in gb]})
        return loss, grad_w, grad_b, out

    trainer.net.gradients = spy
    return calls


def spy_steps(trainer):
    """Record every optimiser step: the epoch it was in, the optimiser's lr attribute,
    the parameters before and after, and the gradients."""
    steps = []
    opt = trainer.optimizer
    changes, apply = opt.changes, opt.apply          # a step is changes, then apply (engine/optim.py)

    def spy_changes(params, grads):
        steps.append({"before": [np.array(p, dtype=np.float64) for p in params],
                      "grads": [np.array(x, dtype=np.float64) for x in grads]})
        return changes(params, grads)

    def spy_apply(params, d):
        apply(params, d)
        if params[0] is trainer.net.params()[0]:     # the net's own weights (not a trial copy)
            steps[-1].update(epoch=trainer.epoch, lr_attr=getattr(opt, "lr", None),
                             after=[np.array(p, dtype=np.float64) for p in params])

    opt.changes, opt.apply = spy_changes, spy_apply
    return steps


def params64(net):
    return [np.array(p, dtype=np.float64) for p in net.params()]


def momentum_by_hand(p0, grad_steps, lr, momentum_per_step):
    """v = m*v - lr*g; w = w + v, written out for a list of steps (m may change between steps)."""
    p = [a.copy() for a in p0]
    v = [np.zeros_like(a) for a in p0]
    for grads, m in zip(grad_steps, momentum_per_step):
        for i, g in enumerate(grads):
            v[i] = m * v[i] - lr * g
            p[i] = p[i] + v[i]
    return p


def assert_params_close(actual, expected, what):
    for k, (a, e) in enumerate(zip(actual, expected)):
        np.testing.assert_allclose(a, e, rtol=1e-4, atol=1e-6, err_msg=f"{what}: parameter {k}")


def params_differ(actual, expected):
    return max(float(np.abs(a - e).max()) for a, e in zip(actual, expected))


# ------------------------------------------------------------------ 1. momentum

@pytest.mark.parametrize("momentum", [0.0, 0.5])
@pytest.mark.parametrize("build", ["class", "make_optimizer"])
def test_momentum_optimizer_takes_the_steps_worked_out_by_hand(momentum, build):
    # w = [1, -2], lr 0.1. Step 1, g = [1, 1]:  v = [-0.1, -0.1],                 w = [0.9, -2.1]
    #                      Step 2, g = [2, -1]: v = m*[-0.1, -0.1] - [0.2, -0.1], w = w + v
    w = np.array([1.0, -2.0])
    opt = Momentum(0.1, momentum) if build == "class" else make_optimizer("momentum", 0.1, momentum)
    opt.step([w], [np.array([1.0, 1.0])])
    assert w == pytest.approx([0.9, -2.1])
    opt.step([w], [np.array([2.0, -1.0])])
    if momentum == 0.0:
        expected = [0.9 - 0.2, -2.1 + 0.1]                       # = [0.7, -2.0]: plain SGD
    else:
        expected = [0.9 - 0.05 - 0.2, -2.1 - 0.05 + 0.1]         # = [0.65, -2.05]
    assert w == pytest.approx(expected, abs=1e-12)


def test_momentum_setting_reaches_the_trainers_steps(digits):
    lr = 0.05
    run = small_trainer(digits, optimizer="momentum", lr=lr, momentum=0.3)
    p0 = params64(run.net)
    calls = spy_gradients(run)
    run.run(batches=3)
    assert len(calls) == 3
    grads = [c["grads"] for c in calls]
    expected = momentum_by_hand(p0, grads, lr, [0.3, 0.3, 0.3])
    assert_params_close(params64(run.net), expected, "momentum 0.3, three steps")
    # The test can tell momentum 0.3 from 0.9: those would be far apart.
    wrong = momentum_by_hand(p0, grads, lr, [0.9, 0.9, 0.9])
    assert params_differ(expected, wrong) > 100 * 1e-6


def test_momentum_changed_between_steps_applies_from_the_next_step(digits):
    lr = 0.05
    run = small_trainer(digits, optimizer="momentum", lr=lr, momentum=0.9)
    p0 = params64(run.net)
    calls = spy_gradients(run)
    run.run(batches=1)
    run.set_hyperparams(momentum=0.3)
    run.run(batches=2)
    grads = [c["grads"] for c in calls]
    expected = momentum_by_hand(p0, grads, lr, [0.9, 0.3, 0.3])
    assert_params_close(params64(run.net), expected, "momentum 0.9, then 0.3")
    assert params_differ(expected, momentum_by_hand(p0, grads, lr, [0.9, 0.9, 0.9])) > 100 * 1e-6


# ------------------------------------------------------------------ 2. learning-rate decay

def effective_lr(step):
    """The lr a plain-SGD step really used: w_after = w_before - lr * g, solved for lr by least squares."""
    delta = np.concatenate([(a - b).ravel() for a, b in zip(step["after"], step["before"])])
    g = np.concatenate([x.ravel() for x in step["grads"]])
    return float(-(delta @ g) / (g @ g))


def test_lr_decay_shrinks_every_step_of_each_epoch(digits):
    # lr 0.2, halved after every epoch: epoch 0 -> 0.2, 1 -> 0.1, 2 -> 0.05, 3 -> 0.025.
    run = small_trainer(digits, optimizer="sgd", lr=0.2, lr_decay=0.5, epochs=4)   # 4 batches an epoch
    steps = spy_steps(run)
    run.run()
    assert run.finished and len(steps) == 4 * 4
    expected = {0: 0.2, 1: 0.1, 2: 0.05, 3: 0.025}
    for step in steps:
        assert effective_lr(step) == pytest.approx(expected[step["epoch"]], rel=1e-3), step["epoch"]
        assert step["lr_attr"] == pytest.approx(expected[step["epoch"]], rel=1e-9)


def test_lr_decay_applies_to_the_momentum_optimizer_and_after_a_new_lr(digits):
    run = small_trainer(digits, optimizer="momentum", lr=0.1, lr_decay=0.8, epochs=4)   # 4 batches an epoch
    steps = spy_steps(run)
    run.run(batches=2 * 4 + 2)             # two epochs and half of the third
    run.set_hyperparams(lr=0.5)            # mid-epoch: the new lr is decayed like the old one
    run.run()
    # lr * 0.8^epoch: 0.1, 0.08, 0.064 (first half of epoch 2), then 0.5 * 0.64 = 0.32 and 0.5 * 0.512 = 0.256.
    expected = [0.1] * 4 + [0.08] * 4 + [0.064] * 2 + [0.32] * 2 + [0.256] * 4
    assert [s["epoch"] for s in steps] == [0] * 4 + [1] * 4 + [2] * 4 + [3] * 4
    assert [s["lr_attr"] for s in steps] == pytest.approx(expected, rel=1e-9)


def test_lr_decay_moves_weights_less_in_later_epochs(digits):
    """Behaviour, whatever the optimiser stores: with decay 0.5 the weights move far less in epoch 3
    than with no decay (same data, same start)."""
    moved = {}
    for decay in (1.0, 0.5):
        run = small_trainer(digits, optimizer="sgd", lr=0.1, lr_decay=decay, epochs=3)
        steps = spy_steps(run)
        run.run()
        last = [s for s in steps if s["epoch"] == 2]
        moved[decay] = sum(effective_lr(s) for s in last) / len(last)
    assert moved[1.0] == pytest.approx(0.1, rel=1e-3)
    assert moved[0.5] == pytest.approx(0.1 * 0.25, rel=1e-3)


# ------------------------------------------------------------------ 3. augmentation

@pytest.mark.parametrize("strength", [0.0, 0.5])
def test_augment_setting_changes_the_batch_the_network_sees(digits, strength):
    x, _ = digits
    run = small_trainer(digits, augment=strength, batch_size=64, seed=3)
    calls = spy_gradients(run)
    run.run(batches=2)
    raw = [x[:64].astype(np.float64) / 255, x[64:128].astype(np.float64) / 255]   # no shuffle: rows in order
    for call, plain in zip(calls, raw):
        seen = call["x"].astype(np.float64)
        assert seen.shape == plain.shape
        if strength == 0:
            np.testing.assert_allclose(seen, plain, atol=1e-6)
        else:
            changed = np.abs(seen - plain).max(axis=1) > 0.05
            assert changed.mean() > 0.9, "augmentation left most images as they were"
            # ... but each is still its digit: a small variation, not noise.
            assert 0 <= seen.min() and seen.max() <= 1 + 1e-6
            corr = [np.corrcoef(a, b)[0, 1] for a, b in zip(seen, plain)]
            assert np.median(corr) > 0.6


def test_augment_changes_images_by_a_bounded_amount_that_grows_with_strength(digits):
    x = digits[0][:300].astype(np.float32) / 255
    rows = cols = np.arange(28)

    def centre(images):
        im = images.reshape(-1, 28, 28).astype(np.float64)
        total = im.sum(axis=(1, 2))
        return np.stack([im.sum(axis=2) @ rows / total, im.sum(axis=1) @ cols / total], axis=1)

    change = {}
    for strength in (0.0, 0.1, 0.25, 0.5, 1.0):
        out = augment(x.copy(), np.random.default_rng(0), strength)
        assert out.shape == x.shape
        diff = np.abs(out.astype(np.float64) - x).mean(axis=1)        # per image
        change[strength] = diff.mean()
        if strength == 0:
            assert change[0.0] == 0
            continue
        assert (diff > 0).mean() > 0.95, strength                      # (almost) every image changes
        assert 0 <= out.min() and out.max() <= 1 + 1e-6
        # Shifts of at most 2 px * strength (plus a little from turning, scaling and thickening)
        # move the centre of the ink by about that much, never across the image.
        moved = np.abs(centre(out) - centre(x))
        assert np.percentile(moved, 95) <= 2 * strength + 0.25, strength
        assert moved.max() <= 4 * strength + 0.5, strength
        # Mean pixel change: about a tenth of the strength here; bound it generously on both sides.
        assert 0.02 * strength < change[strength] < 0.3 * strength, (strength, change[strength])
    strengths = sorted(change)
    assert all(change[a] < change[b] for a, b in zip(strengths, strengths[1:])), change


# ------------------------------------------------------------------ 4. initial weights

def expected_std(activation, n_in, n_out):
    """The textbook scales, as engine/network.init_std's docstring documents them."""
    if activation in ("relu", "leaky_relu"):
        return math.sqrt(2 / n_in)                     # He et al. 2015
    return math.sqrt(2 / (n_in + n_out))               # Xavier/Glorot 2010 (normal form)


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu", "leaky_relu"])
@pytest.mark.parametrize("init_scale", [1.0, 0.5])
def test_initial_weights_have_the_textbook_spread(activation, init_scale):
    sizes = (784, 256, 256, 64)
    net = Network(sizes, activation, "cross-entropy", seed=1, init_scale=init_scale)
    for layer, (W, n_in, n_out) in enumerate(zip(net.weights, sizes[:-1], sizes[1:])):
        last = layer == len(sizes) - 2
        # Hidden layers follow their activation; the output layer (softmax or sigmoid) gets Xavier.
        want = expected_std("sigmoid" if last else activation, n_in, n_out) * init_scale
        n = W.size
        assert W.shape == (n_out, n_in)
        # The sample standard deviation of n normal draws has a relative standard error of
        # 1/sqrt(2n); allow 6 of them (0.5% for the smallest layer's 16,384 weights ... 3.7%).
        tol = 6 / math.sqrt(2 * n)
        got = float(np.std(W.astype(np.float64)))
        assert got == pytest.approx(want, rel=tol), (activation, layer, got, want)
        assert abs(float(W.mean())) < 6 * want / math.sqrt(n)            # centred on 0
        assert not net.biases[layer].any()


def test_the_two_initialisations_really_differ_for_these_layers():
    # Guard for the test above: He and Xavier differ here by far more than its tolerance.
    for n_in, n_out in ((784, 256), (256, 256), (256, 64)):
        he, xavier = expected_std("relu", n_in, n_out), expected_std("tanh", n_in, n_out)
        assert he / xavier - 1 > 3 * 6 / math.sqrt(2 * n_in * n_out)


# ------------------------------------------------------------------ 6. lesson-link boundaries
# From ui/lesson.py's docstring (the README's lesson links):
#   lr above 0, at most 100;  decay 0.01 to 1;  momentum 0 to 0.999;  l2 0 to 10;  batch 1 to 60000;
#   epochs 1 to 200;  seed 0 to 2147483647;  val 0 to 0.5;  init above 0, at most 100;  augment 0 to 1.
# name: (accepted texts with the value each gives, refused texts)
BOUNDARIES = {
    "lr": ({"100": 100.0, "0.000001": 1e-6, "1e-9": 1e-9}, ["0", "0.0", "-0", "-1e-9", "100.0001", "101"]),
    "decay": ({"0.01": 0.01, "1": 1.0}, ["0.0099", "0", "1.0001", "2"]),
    "momentum": ({"0": 0.0, "0.999": 0.999}, ["-0.001", "0.9991", "1"]),
    "l2": ({"0": 0.0, "10": 10.0}, ["-0.001", "10.001"]),
    "batch": ({"1": 1, "60000": 60000}, ["0", "60001", "-1"]),
    "epochs": ({"1": 1, "200": 200, "200.0": 200}, ["0", "201", "-1"]),
    "seed": ({"0": 0, "2147483647": 2147483647}, ["-1", "2147483648"]),
    "val": ({"0": 0.0, "0.5": 0.5}, ["-0.001", "0.5001", "0.55"]),
    "init": ({"100": 100.0, "0.000001": 1e-6}, ["0", "-0.5", "100.0001"]),
    "augment": ({"0": 0.0, "1": 1.0}, ["-0.001", "1.0001"]),
    "kernel": ({"1": 1, "9": 9}, ["0", "10", "-1", "2.5"]),
    "padding": ({"0": 0, "4": 4}, ["-1", "5"]),
    "pool": ({"1": 1, "4": 4}, ["0", "5"]),
    "dense": ({"0": 0, "2048": 2048}, ["-1", "2049"]),
}


def test_link_boundaries_cover_every_numeric_setting():
    numeric = {name for name, (_, kind, _) in lesson.PARAMS.items() if kind in ("int", "float")}
    assert numeric == set(BOUNDARIES)


@pytest.mark.parametrize("name", sorted(BOUNDARIES))
def test_link_boundaries_accept_the_limits_and_refuse_just_outside(name):
    accepted, refused = BOUNDARIES[name]
    for text, want in accepted.items():
        key, value = lesson.parse_value(name, text)
        assert value == pytest.approx(want, rel=1e-12, abs=0), (name, text)
        assert type(value) is type(want), (name, text)
        values, notes = lesson.from_params({name: text})
        assert notes == [] and values == {key: value}, (name, text)
    for text in refused:
        with pytest.raises(ValueError):
            lesson.parse_value(name, text)
        values, notes = lesson.from_params({name: text})
        assert values == {} and len(notes) == 1 and name in notes[0], (name, text)


# ------------------------------------------------------------------ 8. slider snapping

@pytest.mark.parametrize("name, text, want", [
    ("val", "0.07", 0.05), ("val", "0.08", 0.1), ("val", "0.5", 0.5), ("val", "0.024", 0.0),
    ("augment", "0.46", 0.5), ("augment", "0.44", 0.4), ("augment", "0.04", 0.0), ("augment", "1", 1.0),
])
def test_link_values_snap_to_the_slider_steps(name, text, want):
    # The sliders move in steps of 0.05 (validation share) and 0.1 (augment).
    _, value = lesson.parse_value(name, text)
    assert value == pytest.approx(want, abs=1e-9)


# ------------------------------------------------------------------ 7 and 8 on the Train page

def open_train(query=None):
    return open_page(TRAIN, query)


def test_link_values_snap_from_the_link_to_the_sliders():
    at = open_train({"val": "0.07", "augment": "0.46"})
    assert at.slider(key="train_val_fraction").value == pytest.approx(0.05, abs=1e-9)
    assert at.slider(key="train_augment").value == pytest.approx(0.5, abs=1e-9)
    assert not at.warning
    # The run uses the snapped values.
    at.button(key="train_start").click().run()
    run = at.session_state["trainer"]
    at.button(key="train_stop").click().run()
    assert run.settings.val_fraction == pytest.approx(0.05, abs=1e-9)
    assert run.settings.augment == pytest.approx(0.5, abs=1e-9)


def test_link_opened_during_a_run_is_not_applied():
    at = open_train()
    at.session_state["train_epochs"] = 200                  # a long run: it can't end during the test
    at.run()
    at.button(key="train_start").click().run()
    assert not at.exception, at.exception
    assert at.session_state["train_status"] == "running"
    run = at.session_state["trainer"]
    before = (run.settings.as_dict(), list(run.net.sizes))
    # The page is opened again with a lesson link while the run goes.
    for k, v in {"hidden": "5", "lr": "3", "epochs": "7", "activation": "sigmoid", "val": "0.2"}.items():
        at.query_params[k] = v
    at.run()
    assert not at.exception, at.exception
    try:
        assert at.session_state["train_status"] in ("running", "paused", "stopping")
        assert at.session_state["trainer"] is run
        assert (run.settings.as_dict(), list(run.net.sizes)) == before
        assert run.settings.epochs == 200 and run.settings.lr == pytest.approx(0.1)
        # The widgets keep the run's settings ...
        assert at.number_input(key="train_epochs").value == 200
        assert at.number_input(key="train_lr").value == pytest.approx(0.1)
        assert at.text_input(key="train_hidden").value == "256"            # the default, as the run has
        assert at.selectbox(key="train_activation").value == "relu"
        assert at.slider(key="train_val_fraction").value == pytest.approx(0.1)
        assert get(at, "train_saved")["train_epochs"] == 200
        # ... and the page says why the link changed nothing.
        warning = texts(at.warning)
        assert "not loaded" in warning and "run is going" in warning, warning
    finally:
        at.button(key="train_stop").click().run()
