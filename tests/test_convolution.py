"""engine/convolution.py: one kernel over one image, against direct loops written here."""
from pathlib import Path

import numpy as np
import pytest

from engine import convolution
from engine.modelfile import load_model

ROOT = Path(__file__).resolve().parent.parent


def loop_convolution(x, K, b, p, s):
    """The textbook definition, one output at a time: y[i, j] = sum_u sum_v x_pad[i s + u, j s + v] K[u, v] + b."""
    h, w = x.shape
    k = len(K)
    xp = np.zeros((h + 2 * p, w + 2 * p))
    xp[p:p + h, p:p + w] = x
    rows, cols = (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
    y = np.zeros((rows, cols))
    for i in range(rows):
        for j in range(cols):
            total = 0.0
            for u in range(k):
                for v in range(k):
                    total += xp[i * s + u, j * s + v] * K[u, v]
            y[i, j] = total + b
    return y


@pytest.mark.parametrize("k, p, s", [(5, 0, 1), (5, 2, 1), (5, 4, 3), (3, 1, 2), (7, 0, 2), (1, 0, 1), (5, 1, 4)])
def test_convolve_equals_the_loop(k, p, s):
    rng = np.random.default_rng(k * 100 + p * 10 + s)
    x = rng.random((28, 23)).astype(np.float32)           # not square: rows and columns kept apart
    K = rng.standard_normal((k, k)).astype(np.float32)
    b = float(rng.standard_normal())
    y = convolution.convolve(x, K, b, p, s)
    ref = loop_convolution(x, K, b, p, s)
    assert y.shape == ref.shape == ((28 + 2 * p - k) // s + 1, (23 + 2 * p - k) // s + 1)
    np.testing.assert_allclose(y, ref, rtol=1e-5, atol=1e-5)


def test_multiply_add_is_one_output_of_the_convolution():
    rng = np.random.default_rng(1)
    x, K = rng.random((28, 28)).astype(np.float32), rng.standard_normal((5, 5)).astype(np.float32)
    p, s, b = 2, 2, -0.25
    ref = loop_convolution(x, K, b, p, s)
    for i, j in [(0, 0), (3, 9), (ref.shape[0] - 1, ref.shape[1] - 1)]:
        win, products, y = convolution.multiply_add(x, K, b, p, s, i, j)
        assert win.shape == products.shape == (5, 5)
        np.testing.assert_allclose(products, win * K)
        assert y == pytest.approx(ref[i, j], abs=1e-5)
    # The corner window lies partly on the padding: those pixels are zeros.
    win, _, _ = convolution.multiply_add(x, K, b, p, s, 0, 0)
    assert not win[:2].any() and not win[:, :2].any()
    np.testing.assert_array_equal(win[2:, 2:], x[:3, :3])


def test_a_window_outside_the_map_is_refused():
    x = np.zeros((28, 28), np.float32)
    with pytest.raises(ValueError, match="outside the 24x24 feature map"):
        convolution.window(x, 5, 0, 1, 24, 0)
    with pytest.raises(ValueError, match="outside"):
        convolution.window(x, 5, 0, 1, 0, -1)


def test_hand_made_kernels():
    for name in convolution.KERNELS:
        for k in (3, 5, 7):
            K = convolution.hand_made(name, k)
            assert K.shape == (k, k) and K.dtype == np.float32
    assert convolution.hand_made("blur").sum() == pytest.approx(1)
    assert convolution.hand_made("vertical edge").sum() == pytest.approx(0, abs=1e-6)
    # A vertical edge kernel answers a light-to-dark step from left to right, and not a horizontal one.
    step = np.zeros((9, 9), np.float32)
    step[:, 5:] = 1
    assert convolution.convolve(step, convolution.hand_made("vertical edge")).max() > 0.5
    assert np.abs(convolution.convolve(step.T, convolution.hand_made("vertical edge"))).max() < 1e-6
    # identity copies the image (inside the border it can reach)
    x = np.random.default_rng(0).random((10, 10)).astype(np.float32)
    np.testing.assert_allclose(convolution.convolve(x, convolution.hand_made("identity")), x[2:-2, 2:-2])
    with pytest.raises(ValueError, match="unknown kernel"):
        convolution.hand_made("emboss")
    with pytest.raises(ValueError, match="odd size"):
        convolution.hand_made("blur", 4)


def test_weight_counts_of_the_built_in_cnn():
    net, _ = load_model(str(ROOT / "engine" / "models" / "pretrained_cnn.npz"))
    rows = convolution.weight_counts(net)
    weighted = net.params()
    # Each layer's own count is the size of its weight array plus its bias array.
    assert [r[3] for r in rows] == [W.size + b.size for W, b in zip(weighted[::2], weighted[1::2])]
    assert sum(r[3] for r in rows) == net.n_params()
    W0 = weighted[0]                                     # (16, 1, 5, 5)
    side = 28 - W0.shape[2] + 1                          # no padding, stride 1
    n_out = W0.shape[0] * side * side
    assert rows[0][4] == 784 * n_out + n_out
    assert rows[-1][3] == rows[-1][4]                    # a dense layer is its own dense equivalent
    assert convolution.conv_weights(5, 1, 16) == 416 and convolution.dense_weights(784, 256) == 200_960


def test_relu_pool_against_loops():
    y = np.random.default_rng(2).standard_normal((9, 8)).astype(np.float32)   # odd rows: the last is dropped
    relu, pooled = convolution.relu_pool(y)
    np.testing.assert_array_equal(relu, np.where(y > 0, y, 0))
    assert pooled.shape == (4, 4)
    for i in range(4):
        for j in range(4):
            assert pooled[i, j] == max(0.0, max(y[2 * i + u, 2 * j + v] for u in range(2) for v in range(2)))
