"""Tests of the NumPy engine: gradients, optimisers, trainer, metrics, model files."""
import io
import itertools
import json
import zipfile

import numpy as np
import pytest

from engine import metrics
from engine.data import to_float
from engine.modelfile import ModelFileError, load_model, model_arrays, model_to_bytes, save_model
from engine.network import (ACTIVATIONS, LOSSES, Network, cross_entropy, log_softmax, one_hot,
                            softmax)
from engine.optim import SGD, Adam, Momentum
from engine.trainer import MAX_BATCH_POINTS, History, Settings, Trainer, new_run


def float64_net(sizes, activation, loss, seed=0):
    net = Network(sizes, activation, loss, seed=seed)
    net.weights = [w.astype(np.float64) for w in net.weights]
    # Non-zero biases so the check also covers their gradient's path through the layers.
    rng = np.random.default_rng(seed + 100)
    net.biases = [rng.normal(0, 0.1, b.shape) for b in net.biases]
    return net


@pytest.mark.parametrize("activation,loss,l2", list(itertools.product(ACTIVATIONS, LOSSES, [0.0, 0.05])))
def test_gradients_match_finite_differences(activation, loss, l2):
    rng = np.random.default_rng(1)
    net = float64_net([6, 5, 4, 3], activation, loss)
    x = rng.normal(0, 1, (7, 6))
    y = one_hot(rng.integers(0, 3, 7), 3, dtype=np.float64)
    _, grad_w, grad_b, _ = net.gradients(x, y, l2)
    eps = 1e-6
    for params, grads in ((net.weights, grad_w), (net.biases, grad_b)):
        for p, g in zip(params, grads):
            numeric = np.zeros_like(p)
            for i in np.ndindex(p.shape):
                old = p[i]
                p[i] = old + eps
                up = net.loss_on(x, y, l2)
                p[i] = old - eps
                down = net.loss_on(x, y, l2)
                p[i] = old
                numeric[i] = (up - down) / (2 * eps)
            # leaky/relu have kinks at 0; the random data keeps z away from them.
            np.testing.assert_allclose(g, numeric, rtol=1e-5, atol=1e-8)


def test_backward_changes_nothing():
    net = Network([10, 8, 3], "tanh", "mse", seed=3)
    before = [p.copy() for p in net.params()]
    x = np.random.default_rng(0).random((4, 10), dtype=np.float32)
    zs, acts = net.forward(x, keep=True)
    net.backward(zs, acts, one_hot([0, 1, 2, 1], 3), l2=0.1)
    for a, b in zip(before, net.params()):
        np.testing.assert_array_equal(a, b)


def test_softmax_is_stable_for_huge_logits():
    z = np.array([[1000.0, -1000.0, 0.0], [-1000.0, -1000.0, -1000.0]], dtype=np.float32)
    p = softmax(z)
    assert np.isfinite(p).all()
    np.testing.assert_allclose(p[0], [1, 0, 0], atol=1e-7)
    np.testing.assert_allclose(p[1], [1 / 3] * 3, rtol=1e-6)
    assert np.isfinite(log_softmax(z)).all()


def test_cross_entropy_finite_when_probability_is_zero():
    p = np.array([[0.0, 1.0]])
    y = np.array([[1.0, 0.0]])
    loss = cross_entropy(p, y)
    assert np.isfinite(loss) and loss > 20
    # And in the network the loss comes from logits, so a hopeless output is finite too.
    net = Network([2, 2], "relu", "cross-entropy")
    net.weights[0][:] = [[-1000, 0], [1000, 0]]
    assert np.isfinite(net.loss_on(np.array([[1.0, 0.0]], np.float32), one_hot([0], 2)))


def blobs(n=300, seed=0):
    """Three well-separated clusters in 8 dimensions: a tiny problem every setup can learn."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 3, n)
    centres = rng.normal(0, 1, (3, 8)) * 1.5
    x = (centres[labels] + rng.normal(0, 0.5, (n, 8))).astype(np.float32)
    return x, labels


@pytest.mark.parametrize("activation,loss,optimizer",
                         list(itertools.product(ACTIVATIONS, LOSSES, ["sgd", "momentum", "adam"])))
def test_every_configuration_learns(activation, loss, optimizer):
    x, labels = blobs()
    lr = {"sgd": 0.5, "momentum": 0.05, "adam": 0.01}[optimizer] * (4 if loss == "mse" else 1)
    s = Settings(sizes=(8, 16, 3), activation=activation, loss=loss, optimizer=optimizer, lr=lr,
                 batch_size=20, epochs=20, val_fraction=0)
    trainer = new_run(x, labels, s)
    y = one_hot(labels, 3)
    first = trainer.net.loss_on(x, y)
    report = trainer.run()
    assert report.finished and not report.diverged
    assert trainer.net.loss_on(x, y) <= first / 2


def tiny():
    net = Network([2, 2], "relu", "mse")
    net.weights[0][:] = [[0.5, -1.0], [2.0, 0.0]]
    net.biases[0][:] = [0.1, -0.2]
    grads = [np.array([[1.0, 2.0], [-3.0, 0.5]], np.float32), np.array([0.5, -1.0], np.float32)]
    return net, grads


def test_sgd_step_by_hand():
    net, grads = tiny()
    SGD(lr=0.1).step(net.params(), grads)
    np.testing.assert_allclose(net.weights[0], [[0.4, -1.2], [2.3, -0.05]], rtol=1e-6)
    np.testing.assert_allclose(net.biases[0], [0.05, -0.1], rtol=1e-6)


def test_momentum_steps_by_hand():
    net, grads = tiny()
    opt = Momentum(lr=0.1, momentum=0.9)
    opt.step(net.params(), grads)   # v = -0.1 g
    opt.step(net.params(), grads)   # v = 0.9 (-0.1 g) - 0.1 g = -0.19 g; total -0.29 g
    np.testing.assert_allclose(net.weights[0], [[0.5 - 0.29, -1.0 - 0.58], [2.0 + 0.87, -0.145]], rtol=1e-5)
    np.testing.assert_allclose(net.biases[0], [0.1 - 0.145, -0.2 + 0.29], rtol=1e-5)


def test_adam_steps_by_hand():
    net, grads = tiny()
    opt = Adam(lr=0.01)
    opt.step(net.params(), grads)
    # Step 1: m_hat = g and s_hat = g^2, so every weight moves by lr * sign(g).
    np.testing.assert_allclose(net.weights[0], [[0.49, -1.01], [2.01, -0.01]], rtol=1e-5)
    g2 = [g * 2 for g in grads]
    opt.step(net.params(), g2)
    # Step 2 by hand for the first weight: g1 = 1, g2 = 2.
    m = 0.9 * 0.1 * 1 + 0.1 * 2
    s = 0.999 * 0.001 * 1 + 0.001 * 4
    m_hat, s_hat = m / (1 - 0.9 ** 2), s / (1 - 0.999 ** 2)
    expected = 0.49 - 0.01 * m_hat / (np.sqrt(s_hat) + 1e-8)
    assert net.weights[0][0, 0] == pytest.approx(expected, rel=1e-5)


def test_stop_and_resume_equals_uninterrupted():
    x, labels = blobs(203)
    s = Settings(sizes=(8, 12, 3), optimizer="adam", lr=0.01, batch_size=16, epochs=3, seed=5, augment=0.0)
    a, b = new_run(x, labels, s), new_run(x, labels, s)
    a.run()
    for k in (1, 5, 2, 7, 100):
        b.run(batches=k)
    assert b.finished and a.step == b.step
    for p, q in zip(a.net.params(), b.net.params()):
        np.testing.assert_array_equal(p, q)
    assert a.history.batch_loss == b.history.batch_loss


def test_a_batch_stopped_between_its_parts_is_carried_on_not_done_again(monkeypatch):
    # A Pause, or the end of a turn in the line of runs, comes between two parts of a big mini-batch:
    # the parts done are kept (the weights have not changed yet) and the next call does the rest.
    x, labels = blobs(203)
    s = Settings(sizes=(8, 12, 3), optimizer="adam", lr=0.01, batch_size=40, epochs=1, seed=5, augment=0.0)
    a, b = new_run(x, labels, s), new_run(x, labels, s)
    a.part = b.part = 10                                     # 4 parts a mini-batch
    calls, gradients = [], Network.gradients
    monkeypatch.setattr(Network, "gradients", lambda self, *args, **kw: calls.append(len(args[0])) or
                        gradients(self, *args, **kw))
    a.run(batches=2)
    assert calls == [10] * 8
    calls.clear()
    start = [p.copy() for p in b.net.params()]
    asked = []
    report = b.run(batches=2, stop=lambda: asked.append(1) or len(asked) == 3)   # before the batch, after 2 parts
    assert (report.batches, report.parts, b.step, len(calls)) == (0, 2, 0, 2)
    for p, q in zip(start, b.net.params()):
        np.testing.assert_array_equal(p, q)                  # half a batch changes nothing
    report = b.run(batches=2)
    assert (report.batches, b.step) == (2, 2)
    assert calls == [10] * 8                                 # each part once: 2 before the stop, 6 after
    for p, q in zip(a.net.params(), b.net.params()):
        np.testing.assert_array_equal(p, q)
    assert a.history.batch_loss == b.history.batch_loss


def test_uint8_images_train_exactly_like_their_float_copy():
    # The trainer turns each mini-batch of uint8 pixels into floats itself, so
    # the app never keeps a float32 copy of the whole training set.
    rng = np.random.default_rng(3)
    pixels = rng.integers(0, 256, size=(150, 784), dtype=np.uint8)
    labels = rng.integers(0, 10, size=150)
    s = Settings(sizes=(784, 16, 10), batch_size=32, epochs=2, seed=4, val_fraction=0.2, augment=0.5)
    a, b = new_run(pixels, labels, s), new_run(to_float(pixels), labels, s)
    a.run(), b.run()
    for p, q in zip(a.net.params(), b.net.params()):
        np.testing.assert_array_equal(p, q)
    assert a.history.epochs[-1]["val_loss"] == b.history.epochs[-1]["val_loss"]
    assert a.evaluate(pixels, labels) == b.evaluate(to_float(pixels), labels)
    assert a.x is pixels and a.x.dtype == np.uint8


def test_same_seed_same_model_different_seed_different():
    x, labels = blobs()
    s = Settings(sizes=(8, 12, 3), batch_size=32, epochs=1, seed=1)
    a, b = new_run(x, labels, s), new_run(x, labels, s)
    a.run(), b.run()
    np.testing.assert_array_equal(a.net.weights[0], b.net.weights[0])
    c = new_run(x, labels, Settings(sizes=(8, 12, 3), batch_size=32, epochs=1, seed=2))
    assert not np.array_equal(c.net.weights[0], a.net.weights[0])


def test_divergence_stops_and_keeps_last_good_weights():
    x, labels = blobs()
    s = Settings(sizes=(8, 16, 3), activation="relu", optimizer="sgd", lr=100.0, batch_size=10, epochs=5)
    trainer = new_run(x, labels, s)
    report = trainer.run()
    assert report.diverged and trainer.diverged and not report.finished
    assert "diverged" in report.message and "learning rate" in report.message
    assert all(np.isfinite(p).all() for p in trainer.net.params())
    assert max(np.abs(w).max() for w in trainer.net.weights) < 1e4
    assert trainer.run().batches == 0   # a diverged run does nothing more


def test_hyperparameters_change_between_steps():
    x, labels = blobs()
    trainer = new_run(x, labels, Settings(sizes=(8, 8, 3), batch_size=10, epochs=2))
    trainer.run(batches=3)
    trainer.set_hyperparams(lr=0.01, batch_size=25, momentum=0.5, l2=0.001)
    assert trainer.optimizer.lr == 0.01 and trainer.optimizer.momentum == 0.5
    pos = trainer.pos
    trainer.run(batches=1)
    assert trainer.pos == pos + 25
    with pytest.raises(ValueError, match="learning rate"):
        trainer.set_hyperparams(lr=0)
    assert trainer.settings.lr == 0.01


@pytest.mark.parametrize("change,message", [
    (dict(lr=0), "learning rate"), (dict(lr=1e6), "learning rate"), (dict(epochs=0), "epochs"),
    (dict(sizes=(784, 0, 10)), "at least 1 unit"), (dict(batch_size=0), "batch size"),
    (dict(batch_size=10_000), "bigger than"), (dict(momentum=1.5), "momentum")])
def test_settings_out_of_range_are_refused(change, message):
    x, labels = blobs(100)
    with pytest.raises(ValueError, match=message):
        new_run(x, labels, Settings(**{**Settings().as_dict(), "sizes": (8, 4, 3), **change}))


def test_history_stays_bounded_on_long_runs():
    h = History(max_batch_points=100)
    for step in range(1, 10_001):
        h.add_batch(step, float(step))
    assert len(h.batch_loss) < 100 and len(h.batch_step) == len(h.batch_loss)
    assert h.batch_step == sorted(h.batch_step)
    # Downsampling averages neighbours: every stored value lies near its step.
    assert all(abs(loss - step) < 200 for step, loss in zip(h.batch_step, h.batch_loss))
    assert MAX_BATCH_POINTS <= 5000


def test_epoch_history_and_validation_split():
    x, labels = blobs(200)
    trainer = new_run(x, labels, Settings(sizes=(8, 8, 3), batch_size=16, epochs=2, val_fraction=0.25))
    assert len(trainer.val_idx) == 50 and len(trainer.train_idx) == 150
    assert not set(trainer.val_idx) & set(trainer.train_idx)
    trainer.run()
    assert [e["epoch"] for e in trainer.history.epochs] == [1, 2]
    for e in trainer.history.epochs:
        assert 0 <= e["val_acc"] <= 1 and e["train_loss"] > 0


# ------------------------------------------------------------------ metrics

def test_confusion_matrix_and_scores():
    labels = np.array([0, 0, 1, 1, 1, 2])
    predicted = np.array([0, 1, 1, 1, 0, 1])
    cm = metrics.confusion_matrix(labels, predicted, 3)
    assert cm.tolist() == [[1, 1, 0], [1, 2, 0], [0, 1, 0]]
    scores = metrics.per_class_scores(cm)
    np.testing.assert_allclose(scores["precision"], [1 / 2, 2 / 4, 0])
    np.testing.assert_allclose(scores["recall"], [1 / 2, 2 / 3, 0])
    np.testing.assert_allclose(scores["f1"], [0.5, 2 * 0.5 * (2 / 3) / (0.5 + 2 / 3), 0])
    assert metrics.accuracy(predicted, labels) == pytest.approx(3 / 6)


def test_confident_mistakes_most_sure_first():
    probs = np.array([[0.9, 0.1], [0.2, 0.8], [0.4, 0.6], [0.7, 0.3]])
    labels = np.array([0, 0, 0, 1])
    assert metrics.confident_mistakes(probs, labels).tolist() == [1, 3, 2]


# ------------------------------------------------------------------ model files

def test_save_load_gives_identical_predictions(tmp_path):
    net = Network([784, 32, 16, 10], "tanh", "mse", seed=4)
    path = tmp_path / "m.npz"
    save_model(path, net, {"lr": 0.5})
    loaded, settings = load_model(str(path))
    x = np.random.default_rng(0).random((50, 784), dtype=np.float32)
    np.testing.assert_array_equal(net.predict_proba(x), loaded.predict_proba(x))
    assert settings == {"lr": 0.5} and loaded.describe() == net.describe()
    assert [p.name for p in tmp_path.iterdir()] == ["m.npz"]   # no temporary file left behind
    again, _ = load_model(model_to_bytes(net))
    np.testing.assert_array_equal(again.weights[1], net.weights[1])


def npz_bytes(**arrays):
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def good_arrays():
    return model_arrays(Network([784, 8, 10], seed=0), {"lr": 0.1})


def changed(**kw):
    arrays = good_arrays()
    for k, v in kw.items():
        if v is None:
            del arrays[k]
        else:
            arrays[k] = v
    return npz_bytes(**arrays)


@pytest.mark.parametrize("content,message", [
    (b"", "empty"),
    (b"hello, I am not a model", "not a model file"),
    (model_to_bytes(Network([784, 8, 10]))[:3000], "truncated or damaged"),
    (npz_bytes(**{**good_arrays(), "W0": np.array([object()], dtype=object)}), "pickled"),
    (changed(W0=np.zeros((8, 700), np.float32)), "shape"),
    (changed(b1=np.zeros(3, np.float32)), "shape"),
    (changed(W1=np.full((10, 8), np.nan, np.float32)), "NaN"),
    (changed(W0=np.zeros((8, 784), np.int32)), "dtype"),
    (changed(W1=None), "'W1' is missing"),
    (changed(sizes=None), "'sizes' is missing"),
    (changed(activation=np.array("swish")), "unknown activation"),
    (changed(format_version=np.array(99)), "format version"),
    (changed(settings=np.array("{not json")), "JSON"),
    (changed(W7=np.zeros(3, np.float32)), "unexpected"),
    (npz_bytes(x_train=np.zeros((2, 2))), "'format_version' is missing"),
])
def test_malformed_model_files_are_rejected(content, message):
    with pytest.raises(ModelFileError, match=message):
        load_model(content, name="upload.npz")


def test_a_single_npy_is_not_a_model(tmp_path):
    path = tmp_path / "w.npy"
    np.save(path, np.zeros(3))
    with pytest.raises(ModelFileError, match="not a model file"):
        load_model(str(path))


def test_missing_model_file():
    with pytest.raises(ModelFileError, match="does not exist"):
        load_model("/no/such/model.npz")


def test_model_file_is_plain_arrays_only(tmp_path):
    path = save_model(tmp_path / "m.npz", Network([784, 4, 10]), {"epochs": 3})
    with zipfile.ZipFile(path) as z:
        names = set(z.namelist())
    assert {"sizes.npy", "W0.npy", "b1.npy", "settings.npy"} <= names
    with np.load(path, allow_pickle=False) as f:
        assert json.loads(str(f["settings"])) == {"epochs": 3}


# ---------------------------------------------------------------- layer stacks in the Trainer (issue 13)

def test_parts_come_from_the_networks_own_cost():
    from engine.convnet import ConvNet, cnn_spec
    from engine.trainer import PART_FLOPS, part_size
    mlp = Network([784, 256, 10])
    assert mlp.flops_per_example() == 6 * (784 * 256 + 256 * 10)
    x, y = np.zeros((200, 784), np.uint8), np.arange(200) % 10
    assert Trainer(mlp, x, y, Settings(batch_size=10)).part == part_size(mlp.sizes)     # the MLP as before
    cnn = ConvNet(cnn_spec((16, 64), 5))
    assert Trainer(cnn, x, y, Settings(batch_size=10)).part == max(1, int(PART_FLOPS // cnn.flops_per_example()))


def test_settings_with_layers_make_a_convnet_and_check_its_stack():
    from engine.convnet import ConvNet, cnn_spec
    from engine.cost import run_cost
    spec = cnn_spec((2,), 3)
    s = Settings(layers=spec, batch_size=20, epochs=1, optimizer="adam", lr=0.003)
    x, y = np.zeros((100, 784), np.uint8), np.arange(100) % 10
    trainer = new_run(x, y, s)
    assert isinstance(trainer.net, ConvNet) and trainer.net.spec() == spec
    assert s.as_dict()["layers"] == spec and "layers" not in Settings().as_dict()
    trainer.set_hyperparams(lr=0.001, batch_size=10)
    assert trainer.settings.layers == spec and trainer.settings.lr == 0.001
    trainer.run(batches=2)
    cost = run_cost(s)
    assert cost.n_params == trainer.net.n_params()
    assert cost.batch_flops == trainer.net.flops_per_example() * 20
    with pytest.raises(ValueError, match="padding 3 must be smaller"):
        Settings(layers=[{"kind": "conv2d", "filters": 2, "k": 3, "p": 3}] + spec[-2:]).check()
    with pytest.raises(ValueError, match="more than 20,000,000 weights"):
        Settings(layers=[{"kind": "conv2d", "filters": 10 ** 9, "k": 5}] + spec[-2:]).check()
    with pytest.raises(ValueError, match="must be a list"):
        Settings(layers="conv").check()
