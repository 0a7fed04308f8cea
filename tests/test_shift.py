"""engine/analysis.py: moving digits (shift, accuracy_under_shift, shift_response), checked against
np.roll with the wrapped-round pixels blanked, and against the networks' own layer outputs."""
from pathlib import Path

import numpy as np
import pytest

from engine import analysis
from engine.data import load_sample
from engine.modelfile import load_model

MODELS = Path(__file__).resolve().parent.parent / "engine" / "models"


def rolled(images, dy, dx):
    """The reference: np.roll the (n, 28, 28) images, then blank what came round the other edge."""
    out = np.roll(images, (dy, dx), axis=(1, 2)).copy()
    if abs(dy) >= 28 or abs(dx) >= 28:
        return np.zeros_like(images)
    if dy > 0:
        out[:, :dy] = 0
    elif dy < 0:
        out[:, dy:] = 0
    if dx > 0:
        out[:, :, :dx] = 0
    elif dx < 0:
        out[:, :, dx:] = 0
    return out


@pytest.fixture(scope="module")
def sample():
    return load_sample()


@pytest.fixture(scope="module")
def mlp():
    return load_model(str(MODELS / "pretrained.npz"))[0]


@pytest.fixture(scope="module")
def cnn():
    return load_model(str(MODELS / "pretrained_cnn.npz"))[0]


@pytest.mark.parametrize("dy, dx", [(0, 1), (0, -3), (2, 0), (-6, 0), (3, -4), (-1, 5), (27, 0), (0, -28), (40, 2)])
def test_shift_equals_roll_with_zero_fill(dy, dx):
    x = np.random.default_rng(abs(dy) * 31 + abs(dx)).random((5, 784), dtype=np.float32)
    got = analysis.shift(x, dy, dx)
    assert got.shape == (5, 784) and got.dtype == np.float32
    assert np.array_equal(got, rolled(x.reshape(5, 28, 28), dy, dx).reshape(5, 784))


def test_shift_by_zero_is_identity_and_leaves_its_input_alone():
    x = np.random.default_rng(0).random((3, 784), dtype=np.float32)
    keep = x.copy()
    assert np.array_equal(analysis.shift(x, 0, 0), x)
    analysis.shift(x, 2, -2)
    assert np.array_equal(x, keep)


def test_shift_grid_moves_feature_maps_on_their_last_two_axes():
    maps = np.random.default_rng(1).random((2, 3, 9, 7), dtype=np.float32)
    got = analysis.shift_grid(maps, -2, 3)
    for i in range(2):
        assert np.array_equal(got[i], rolled(maps[i], -2, 3))


def test_shifted_series_moves_one_image_further_each_row(sample):
    x = sample.test_float()[4]
    rows = analysis.shifted_series(x, [0, 1, 4], "up")
    assert rows.shape == (3, 784)
    for row, s in zip(rows, [0, 1, 4]):
        assert np.array_equal(row, rolled(x.reshape(1, 28, 28), -s, 0).ravel())
    with pytest.raises(KeyError):
        analysis.shifted_series(x, [1], "sideways")


def test_accuracy_under_shift_is_the_four_directions_averaged(sample, mlp):
    x, y = sample.test_float()[:300], sample.y_test[:300]
    got = analysis.accuracy_under_shift(mlp, x, y, [0, 2, 5])
    assert got[0] == pytest.approx((mlp.predict(x) == y).mean())
    for s, acc in zip([2, 5], got[1:]):
        each = [(mlp.predict(rolled(x.reshape(-1, 28, 28), dy, dx).reshape(-1, 784)) == y).mean()
                for dy, dx in ((s, 0), (-s, 0), (0, s), (0, -s))]
        assert acc == pytest.approx(np.mean(each))
    assert got[0] > 0.9 and got[2] < got[0] - 0.2          # moving 5 px really hurts the MLP


def test_the_cnn_keeps_more_of_its_accuracy_when_digits_move(sample, mlp, cnn):
    x, y = sample.test_float()[:300], sample.y_test[:300]
    m = analysis.accuracy_under_shift(mlp, x, y, [3, 4])
    c = analysis.accuracy_under_shift(cnn, x, y, [3, 4])
    assert (c > m + 0.05).all(), (m, c)


def test_shift_response_of_the_cnn_moves_with_the_image(sample, cnn):
    x = sample.test_float()[7]
    before, after, change, back = analysis.shift_response(cnn, x, 2, -3)
    # The first convolution and its ReLU, as the network itself computes them (layer_outputs).
    (_, conv), (_, relu) = cnn.layer_outputs(np.stack([x, analysis.shift(x[None], 2, -3)[0]]))[:2]
    assert np.allclose(before, relu[0]) and np.allclose(after, relu[1])
    assert change > 0.3 and back < 1e-5
    # Away from the edges, the maps of the moved digit are the old maps moved (np.roll reference).
    assert np.allclose(after[:, 3:-3, 3:-3], rolled(before, 2, -3)[:, 3:-3, 3:-3], atol=1e-5)


def test_shift_response_of_the_mlp_is_its_first_hidden_layer(sample, mlp):
    x = sample.test_float()[7]
    before, after, change, back = analysis.shift_response(mlp, x, 0, 3)
    assert back is None and before.shape == (mlp.sizes[1],)
    z = x @ mlp.weights[0].T + mlp.biases[0]
    assert np.allclose(before, np.maximum(z, 0), atol=1e-5)
    assert change == pytest.approx(np.linalg.norm(after - before) / np.linalg.norm(before), rel=1e-5)
    assert change > 0.2
