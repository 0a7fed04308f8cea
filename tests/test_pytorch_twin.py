"""The engine's networks and their PyTorch twins (bridge/twin.py) compute the same numbers.

torch is imported for real: these comparisons must run (requirements-torch.txt), never be skipped.
"""
import numpy as np
import pytest
import torch

from bridge import twin
from engine.convnet import ConvNet, cnn_spec
from engine.data import load_sample, to_float
from engine.layers import ACTIVATIONS
from engine.modelfile import load_model
from engine.network import LOSSES, Network
from engine.optim import OPTIMIZERS
from engine.trainer import Settings
from ui.state import PRETRAINED, PRETRAINED_CNN

LR = {"sgd": 0.1, "momentum": 0.05, "adam": 0.003}


@pytest.fixture(scope="module")
def data():
    return load_sample()


@pytest.fixture(scope="module")
def batch(data):
    rng = np.random.default_rng(3)
    idx = rng.choice(len(data.y_train), 48, replace=False)
    return to_float(data.x_train[idx]), data.y_train[idx]


def assert_close(comparison, rel=1e-5):
    """Every row within float32 rounding of its values' size (logits up to ~30, gradients ~1e-3)."""
    for what, diff, scale in comparison.rows:
        assert diff <= rel * max(1.0, scale), f"{what}: max |diff| {diff:.2e} (values up to {scale:.3g})"


def test_every_engine_activation_has_a_twin():
    for name in ACTIVATIONS:
        z = np.linspace(-3, 3, 13, dtype=np.float32)
        theirs = twin._activation(name)(torch.from_numpy(z)).numpy()
        np.testing.assert_allclose(ACTIVATIONS[name][0](z), theirs, atol=1e-6)


@pytest.mark.parametrize("activation", list(ACTIVATIONS))
@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("l2", [0.0, 1e-3])
def test_mlp_one_batch(batch, activation, loss, l2):
    net = Network([784, 40, 24, 10], activation, loss, seed=5)
    c = twin.compare(net, *batch, l2=l2)
    assert [r[0] for r in c.rows][:2] == ["logits", "loss"]
    assert len(c.rows) == 2 + 2 * 3                 # a weight and a bias gradient for each of the 3 layers
    assert_close(c)
    assert not c.flagged()


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
@pytest.mark.parametrize("activation,loss", [("relu", "cross-entropy"), ("sigmoid", "mse"),
                                             ("tanh", "cross-entropy"), ("leaky_relu", "mse")])
def test_mlp_training_stays_together(data, optimizer, activation, loss):
    net = Network([784, 32, 10], activation, loss, seed=2)
    s = Settings(sizes=net.sizes, activation=activation, loss=loss, optimizer=optimizer, lr=LR[optimizer],
                 l2=1e-4, batch_size=32, seed=4)
    race = twin.train_both(net, data.x_train, data.y_train, s, batches=6)
    assert len(race.engine_losses) == len(race.torch_losses) == 6
    # Adam divides each gradient by its own running size: where a gradient is nearly 0, the two sides' float
    # rounding (their matrix products sum in another order, as the CPU's BLAS kernels do it) moves that weight's
    # step by a visible part of lr. Measured after these 6 steps: 1e-05 with OpenBLAS's AVX-512 kernels, 4.4e-05
    # with OPENBLAS_CORETYPE=Haswell (momentum: 3e-08 with either); a wrong step would be off by lr itself.
    room = 0.05 * LR["adam"] if optimizer == "adam" else 1e-5
    assert race.loss_diff < 1e-5 and race.weight_diff < room, (race.loss_diff, race.weight_diff)
    assert race.engine_losses[0] != race.engine_losses[-1]       # it did learn: the weights moved


SMALL_CNN = [{"kind": "conv2d", "filters": 4, "k": 3, "p": 1, "s": 2}, {"kind": "activation", "name": "tanh"},
             {"kind": "maxpool2d", "size": 3, "stride": 2},    # overlapping windows
             {"kind": "conv2d", "filters": 6, "k": 3, "p": 0, "s": 1}, {"kind": "activation", "name": "leaky_relu"},
             {"kind": "flatten"}, {"kind": "dense", "units": 12}, {"kind": "activation", "name": "sigmoid"},
             {"kind": "dense", "units": 10}]


@pytest.mark.parametrize("spec", [cnn_spec((4, 8)), SMALL_CNN], ids=["usual", "strides-padding-overlap"])
@pytest.mark.parametrize("loss", LOSSES)
def test_cnn_one_batch(batch, spec, loss):
    net = ConvNet(spec, loss, seed=1)
    c = twin.compare(net, *batch, l2=1e-3)
    assert len(c.rows) == 2 + 2 * len(net.weighted)
    assert_close(c)


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_cnn_training_stays_together(data, optimizer):
    net = ConvNet(SMALL_CNN, "cross-entropy", seed=0)
    s = Settings(sizes=net.sizes, layers=net.spec(), optimizer=optimizer, lr=LR[optimizer], batch_size=32, seed=1)
    race = twin.train_both(net, data.x_train, data.y_train, s, batches=5)
    assert len(race.torch_losses) == 5
    assert race.loss_diff < 1e-5 and race.weight_diff < 1e-4, (race.loss_diff, race.weight_diff)


@pytest.mark.parametrize("path", [PRETRAINED, PRETRAINED_CNN], ids=["mlp", "cnn"])
def test_built_in_models(batch, path):
    net, saved = load_model(str(path))
    before = [p.copy() for p in net.params()]
    c = twin.compare(net, *batch)
    assert_close(c)
    assert all(np.array_equal(a, b) for a, b in zip(before, net.params()))   # the shared model is untouched
    s = twin.settings_for(net, saved)
    assert s.sizes == tuple(net.sizes)


def test_a_real_difference_is_flagged(batch, monkeypatch):
    """The comparison can fail: a twin whose weights are off by 1e-3 is caught."""
    copy = twin.copy_weights

    def off(net, model):
        copy(net, model)
        with torch.no_grad():
            twin.weighted(model)[0].weight.add_(1e-3)
    monkeypatch.setattr(twin, "copy_weights", off)
    c = twin.compare(Network([784, 16, 10], seed=0), *batch)
    assert c.flagged() and c.flagged()[0][0] == "logits"


def test_mse_is_the_engines_not_torch_default(batch):
    """F.mse_loss averages over all n*10 numbers; the engine sums the 10 outputs' 1/2 (a-y)^2."""
    net = Network([784, 10], loss="mse", seed=0)
    x, labels = batch
    model = twin.torch_model(net)
    z = model(torch.from_numpy(x))
    ours = net.loss_on(x, np.eye(10, dtype=np.float32)[labels])
    assert abs(twin.torch_loss(z, torch.from_numpy(labels.astype(np.int64)), "mse", model).item() - ours) < 1e-5
    default = torch.nn.functional.mse_loss(z.sigmoid(), torch.eye(10)[labels.astype(np.int64)]).item()
    assert abs(default * 5 - ours) < 1e-5 and abs(default - ours) > 0.1
