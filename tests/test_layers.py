"""The layers of engine/layers.py and the ConvNet of engine/convnet.py.

Every backward is checked against finite differences of its forward (in float64, where the
central difference is accurate to about 1e-9); convolution and max-pooling against plain
loops; and a small CNN must learn the built-in sample with the project's own Trainer.
"""
import numpy as np
import pytest

from engine.convnet import ConvNet, cnn_spec
from engine.data import load_sample, to_float
from engine.layers import ACTIVATIONS, Activation, Conv2D, Dense, Flatten, MaxPool2D
from engine.network import ACTIVATIONS as MLP_ACTIVATIONS
from engine.network import Network, activate, activate_prime, one_hot
from engine.optim import make_optimizer
from engine.trainer import Settings, Trainer

EPS = 1e-6


def numeric_grad(f, arr):
    """d f() / d arr by central differences, one entry at a time (f reads arr, which is nudged in place)."""
    grad = np.zeros_like(arr)
    flat, g = arr.reshape(-1), grad.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + EPS
        up = f()
        flat[i] = old - EPS
        down = f()
        flat[i] = old
        g[i] = (up - down) / (2 * EPS)
    return grad


def check_layer(layer, x, seed=0):
    """Backward of `layer` (cast to float64) against finite differences, for dx and every parameter.

    The loss is L = sum(y * r) with a fixed random r, so dL/dy = r."""
    layer.astype(np.float64)
    x = x.astype(np.float64)
    r = np.random.default_rng(seed).standard_normal(layer.forward(x).shape)

    def loss():
        return float((layer.forward(x) * r).sum())

    layer.forward(x)
    dx = layer.backward(r)
    assert dx.shape == x.shape
    np.testing.assert_allclose(dx, numeric_grad(loss, x), rtol=1e-5, atol=1e-7)
    layer.forward(x)
    layer.backward(r)
    for p, g in zip(layer.params(), layer.grads()):
        assert g.shape == p.shape
        np.testing.assert_allclose(g, numeric_grad(loss, p), rtol=1e-5, atol=1e-7)


def rand(*shape, seed=1):
    return np.random.default_rng(seed).standard_normal(shape)


# ---------------------------------------------------------------- gradient checks, layer by layer

@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
@pytest.mark.parametrize("n", [1, 3])
def test_activation_gradient(name, n):
    check_layer(Activation(name), rand(n, 2, 7, 9))


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_same_as_the_mlp(name):
    z = rand(4, 6).astype(np.float32)
    layer = Activation(name)
    a = layer.forward(z)
    np.testing.assert_allclose(a, activate(name, z), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(layer.backward(np.ones_like(z)), activate_prime(name, z, a), rtol=1e-6, atol=1e-7)
    assert a.dtype == np.float32 and layer.backward(np.ones_like(z)).dtype == np.float32


def test_the_same_activations_as_the_mlp():
    assert set(ACTIVATIONS) == set(MLP_ACTIVATIONS)


def test_unknown_activation_is_refused():
    with pytest.raises(ValueError, match="unknown activation 'swish'"):
        Activation("swish")


@pytest.mark.parametrize("n", [1, 4])
def test_dense_gradient(n):
    check_layer(Dense(7, 5, std=0.5, rng=np.random.default_rng(2)), rand(n, 7))


CONV_CASES = [(k, p, s) for k in (3, 5) for p in (0, 1, 2) for s in (1, 2)]


@pytest.mark.parametrize("k,p,s", CONV_CASES)
@pytest.mark.parametrize("n", [1, 2])
def test_conv_gradient(k, p, s, n):
    layer = Conv2D(2, 3, k, p, s, rng=np.random.default_rng(3))
    layer.b[:] = np.random.default_rng(4).standard_normal(3)
    check_layer(layer, rand(n, 2, 7, 9))


@pytest.mark.parametrize("size,stride", [(2, 2), (3, 3), (2, 1), (3, 2)])
@pytest.mark.parametrize("n", [1, 2])
def test_maxpool_gradient(size, stride, n):
    check_layer(MaxPool2D(size, stride), rand(n, 2, 7, 9))


def test_flatten_gradient():
    check_layer(Flatten(), rand(2, 3, 7, 9))


# ---------------------------------------------------------------- forward against plain loops

def loop_conv(x, W, b, p, s):
    """The definition: y[i, f, r, q] = b[f] + sum over c, u, v of W[f, c, u, v] * xpad[i, c, r s + u, q s + v]."""
    n, c, h, w = x.shape
    f, _, k, _ = W.shape
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    h2, w2 = (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
    y = np.zeros((n, f, h2, w2))
    for i in range(n):
        for o in range(f):
            for r in range(h2):
                for q in range(w2):
                    y[i, o, r, q] = b[o] + (W[o] * xp[i, :, r * s:r * s + k, q * s:q * s + k]).sum()
    return y


@pytest.mark.parametrize("k,p,s", CONV_CASES + [(1, 0, 1), (7, 0, 1), (3, 0, 3)])
def test_conv_forward_equals_a_loop(k, p, s):
    layer = Conv2D(2, 3, k, p, s, rng=np.random.default_rng(5))
    layer.b[:] = [0.5, -1.0, 2.0]
    x = rand(2, 2, 7, 9).astype(np.float32)
    y = layer.forward(x)
    assert y.dtype == np.float32
    assert y.shape == (2, 3) + layer.out_shape((2, 7, 9))[1:]
    np.testing.assert_allclose(y, loop_conv(x.astype(np.float64), layer.W.astype(np.float64), layer.b, p, s),
                               rtol=1e-5, atol=1e-5)


def test_conv_kernel_bigger_than_the_image_is_refused():
    with pytest.raises(ValueError, match="does not fit"):
        Conv2D(1, 2, 9, 0, 1).forward(np.zeros((1, 1, 7, 7), np.float32))


@pytest.mark.parametrize("size,stride", [(2, 2), (3, 3), (2, 1), (3, 2)])
def test_maxpool_forward_equals_a_loop(size, stride):
    x = rand(2, 3, 7, 9).astype(np.float32)
    y = MaxPool2D(size, stride).forward(x)
    h2, w2 = (7 - size) // stride + 1, (9 - size) // stride + 1
    want = np.zeros((2, 3, h2, w2), np.float32)
    for i in range(2):
        for c in range(3):
            for r in range(h2):
                for q in range(w2):
                    want[i, c, r, q] = x[i, c, r * stride:r * stride + size, q * stride:q * stride + size].max()
    assert y.dtype == np.float32
    np.testing.assert_array_equal(y, want)


def test_maxpool_sends_the_blame_to_the_winner_only():
    x = np.array([[[[1, 5], [3, 2]]]], np.float32)
    pool = MaxPool2D(2)
    pool.forward(x)
    np.testing.assert_array_equal(pool.backward(np.array([[[[7]]]], np.float32)), [[[[0, 7], [0, 0]]]])


@pytest.mark.parametrize("size,stride", [(2, 2), (3, 2)])
def test_maxpool_tie_gives_the_blame_once(size, stride):
    x = np.ones((1, 1, 5, 5), np.float32)           # every pixel ties for the maximum
    pool = MaxPool2D(size, stride)
    y = pool.forward(x)
    dx = pool.backward(np.ones_like(y))
    assert dx.sum() == y.size                        # one winner per window, not size*size
    assert dx[0, 0, 0, 0] == 1                       # the first position of the first window


# ---------------------------------------------------------------- the whole model

SMALL = [{"kind": "conv2d", "filters": 3, "k": 3, "p": 1, "s": 2}, {"kind": "activation", "name": "tanh"},
         {"kind": "conv2d", "filters": 4, "k": 3, "p": 2, "s": 1}, {"kind": "activation", "name": "leaky_relu"},
         {"kind": "maxpool2d", "size": 2, "stride": 2}, {"kind": "flatten"},
         {"kind": "dense", "units": 6}, {"kind": "activation", "name": "sigmoid"},
         {"kind": "dense", "units": 5}]


@pytest.mark.parametrize("loss,l2,n", [("cross-entropy", 0.0, 3), ("cross-entropy", 0.1, 1), ("mse", 0.05, 2)])
def test_model_gradients_equal_finite_differences(loss, l2, n):
    net = ConvNet(SMALL, loss=loss, seed=1, input_shape=(1, 7, 9)).astype(np.float64)
    for b in net.biases:
        b[:] = np.random.default_rng(6).standard_normal(b.shape) * 0.1
    rng = np.random.default_rng(7)
    x = rng.random((n, 63))
    y = one_hot(rng.integers(0, 5, n), 5, dtype=np.float64)

    def loss_of():
        zs, acts = net.forward(x, keep=True)
        return net.loss_value(zs[-1], acts[-1], y, l2)

    value, grad_w, grad_b, out = net.gradients(x, y, l2)
    assert value == pytest.approx(loss_of(), rel=1e-12)
    np.testing.assert_allclose(out, net.forward(x))
    grads = [g for gb in zip(grad_w, grad_b) for g in gb]        # the order the Trainer builds
    assert len(grads) == len(net.params()) == 8
    for p, g in zip(net.params(), grads):
        assert g.shape == p.shape
        np.testing.assert_allclose(g, numeric_grad(loss_of, p), rtol=1e-5, atol=1e-8)


def test_a_stack_of_dense_layers_is_the_mlp():
    mlp = Network([784, 32, 10], activation="tanh", seed=3)
    stack = ConvNet([{"kind": "dense", "units": 32}, {"kind": "activation", "name": "tanh"},
                     {"kind": "dense", "units": 10}], input_shape=(784,))
    stack.set_params(mlp.params())
    data = load_sample()
    x, y = to_float(data.x_train[:20]), one_hot(data.y_train[:20])
    np.testing.assert_allclose(stack.forward(x), mlp.forward(x), rtol=1e-5, atol=1e-6)
    mine, theirs = stack.gradients(x, y, 0.01), mlp.gradients(x, y, 0.01)
    assert mine[0] == pytest.approx(theirs[0], rel=1e-5)
    for a, b in zip(mine[1] + mine[2], theirs[1] + theirs[2]):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)


def test_model_is_float32_and_has_the_network_interface():
    net = ConvNet(seed=0)
    x = to_float(load_sample().x_test[:7])
    assert net.sizes[0] == 784 and net.sizes[-1] == 10
    assert net.params()[0] is net.weights[0] and net.params()[1] is net.biases[0]
    assert all(p.dtype == np.float32 for p in net.params())
    p = net.predict_proba(x)
    assert p.shape == (7, 10) and p.dtype == np.float32
    np.testing.assert_allclose(p.sum(axis=1), 1, rtol=1e-5)
    np.testing.assert_array_equal(net.predict(x), p.argmax(axis=1))
    zs, acts = net.forward(x, keep=True)
    np.testing.assert_allclose(acts[-1], p)
    loss, grad_w, grad_b, out = net.gradients(x, one_hot(np.arange(7)))
    assert all(g.dtype == np.float32 for g in grad_w + grad_b) and out.dtype == np.float32
    assert net.n_params() == 8 * 25 + 8 + 16 * 8 * 25 + 16 + 256 * 10 + 10
    assert net.describe() == ("conv 8@5x5 - relu - maxpool 2 - conv 16@5x5 - relu - maxpool 2 - flatten - dense 10, "
                              "softmax + cross-entropy")
    assert [layer.spec() for layer in net.layers] == cnn_spec()
    outs = net.layer_outputs(x[:2])
    assert [o.shape[1:] for _, o in outs] == net.shapes[1:]


def test_many_images_are_predicted_in_pieces_with_the_same_answer():
    net = ConvNet(cnn_spec(filters=(4,)), seed=3)
    # conv 4@5x5: 784 in, 4 x 24 x 24 out, im2col 24 x 24 x 25: 500 images take 19 MB at once
    assert net.peak_values() == 784 + 2304 + 576 * 25
    x = to_float(load_sample().x_test[:1200])
    np.testing.assert_allclose(net.forward(x), np.concatenate([net.forward(x[:600]), net.forward(x[600:])]),
                               rtol=1e-5, atol=1e-7)


def test_copy_is_independent():
    net = ConvNet(seed=0)
    twin = net.copy()
    assert twin.describe() == net.describe()
    for a, b in zip(net.params(), twin.params()):
        np.testing.assert_array_equal(a, b)
        assert a is not b
    twin.weights[0] += 1
    assert not np.array_equal(net.weights[0], twin.weights[0])


def test_same_seed_same_weights_and_init_scale():
    a, b, c = ConvNet(seed=4), ConvNet(seed=4), ConvNet(seed=5)
    assert all(np.array_equal(p, q) for p, q in zip(a.params(), b.params()))
    assert not np.array_equal(a.weights[0], c.weights[0])
    # He for the relu convolution (fan-in 25), Xavier for the output layer (256 in, 10 out)
    assert a.weights[0].std() == pytest.approx(np.sqrt(2 / 25), rel=0.3)
    assert a.weights[-1].std() == pytest.approx(np.sqrt(2 / 266), rel=0.1)


@pytest.mark.parametrize("spec,message", [
    ([{"kind": "conv3d"}], "unknown kind 'conv3d'"),
    ([{"kind": "conv2d", "filters": 2, "k": 5}], "last layer must be a dense"),
    ([{"kind": "dense", "units": 10}], "put a flatten before it"),
    ([{"kind": "conv2d", "filters": 2, "k": 29}, {"kind": "flatten"}, {"kind": "dense", "units": 10}],
     "nothing left"),
])
def test_impossible_specs_are_refused(spec, message):
    with pytest.raises(ValueError, match=message):
        ConvNet(spec)


TAIL = [{"kind": "flatten"}, {"kind": "dense", "units": 10}]


@pytest.mark.parametrize("layer,message", [
    ({"kind": "conv2d", "filters": 2.5, "k": 3}, "filters must be a whole number"),
    ({"kind": "conv2d", "filters": "8", "k": 3}, "filters must be a whole number"),
    ({"kind": "conv2d", "filters": True, "k": 3}, "filters must be a whole number"),
    ({"kind": "conv2d", "filters": 0, "k": 3}, "filters must be a whole number of at least 1"),
    ({"kind": "conv2d", "filters": 2, "k": 3, "s": 0}, "s must be a whole number of at least 1"),
    ({"kind": "conv2d", "filters": 2, "k": 3, "p": 10 ** 6}, "padding 1000000 must be smaller"),
    ({"kind": "conv2d", "filters": 10 ** 9, "k": 5}, "more than 1,000,000 weights"),
    ({"kind": "maxpool2d", "size": -1}, "size must be a whole number"),
    ({"kind": "activation", "name": "swish"}, "unknown activation"),
    ("conv", "unknown kind None"),
])
def test_a_spec_from_a_file_is_checked_before_weights_are_made(layer, message):
    # (a model file's spec is only numbers and texts: every one is checked, and the weight count
    # before the weights are allocated, so a hostile file cannot ask for gigabytes)
    with pytest.raises(ValueError, match=message):
        ConvNet([layer] + TAIL, max_params=1_000_000)


def test_spec_and_set_params_rebuild_the_same_model():
    net = ConvNet(SMALL, input_shape=(1, 7, 9), seed=8)
    again = ConvNet(net.spec(), input_shape=(1, 7, 9), seed=99)
    again.set_params(net.params())
    x = rand(3, 63).astype(np.float32)
    np.testing.assert_array_equal(again.forward(x), net.forward(x))
    with pytest.raises(ValueError, match="needs weights"):
        again.set_params([p.T for p in net.params()])
    with pytest.raises(ValueError, match="8 weight arrays, got 2"):
        again.set_params(net.params()[:2])


def test_flops_count_every_product_once():
    net = ConvNet(cnn_spec(filters=(8,), k=5, pool=2))     # conv 8@5x5 on 28x28 -> 24x24, dense 1152 -> 10
    conv, dense = 24 * 24 * 8 * 25, 1152 * 10
    relu, pool = 24 * 24 * 8, 12 * 12 * 8 * 2 * 2      # values; comparisons (4 per output value)
    from engine.budget import ELEMENTWISE_FLOPS as E
    # the first layer makes no dx; element-wise steps: relu 1 + 2 back, pooling 1 + 4 back
    assert net.flops_per_example() == 2 * conv * 2 + 2 * dense * 3 + E * (relu * 3 + pool * 5)
    assert net.flops_per_example(backward=False) == 2 * conv + 2 * dense + E * (relu + pool)


def test_forward_flops_count_pooling():
    """Issue 21: a 29x29 max-pool after a big conv was not counted (0.997 GFLOP 'an image' said the
    loader, against a limit of 1 GFLOP, while the pooling alone took longer than the conv)."""
    from engine.budget import ELEMENTWISE_FLOPS
    conv = [{"kind": "conv2d", "filters": 4, "k": 3, "p": 1, "s": 1}]
    flat = [{"kind": "flatten"}, {"kind": "dense", "units": 10}]
    plain = ConvNet(conv + flat)
    pooled = ConvNet(conv + [{"kind": "maxpool2d", "size": 9, "stride": 1}] + flat)
    dense_saved = 2 * 10 * 4 * (28 * 28 - 20 * 20)          # the pooled maps are 20x20, smaller
    assert pooled.flops_per_example(backward=False) - plain.flops_per_example(backward=False) \
        == ELEMENTWISE_FLOPS * 4 * 20 * 20 * 81 - dense_saved


# ---------------------------------------------------------------- learning, with the project's Trainer

def small_cnn_trainer(seed=0):
    data = load_sample()
    x, labels = data.x_train[:4000], data.y_train[:4000]
    net = ConvNet(cnn_spec(filters=(8,), k=5, pool=2), seed=seed)
    settings = Settings(optimizer="adam", lr=0.003, lr_decay=1.0, batch_size=32, epochs=1, val_fraction=0.0,
                        seed=seed)
    return Trainer(net, x, labels, settings), data


def test_a_small_cnn_learns_the_sample_with_the_trainer():
    trainer, data = small_cnn_trainer()
    report = trainer.run()
    assert report.finished and not report.diverged
    acc = float((trainer.net.predict(data.test_float()) == data.y_test).mean())
    assert acc > 0.85, acc           # chance is 0.10; one pass over 4,000 images reaches about 0.9
    loss, acc_eval = trainer.evaluate(data.x_test, data.y_test)
    assert acc_eval == pytest.approx(acc) and loss < 0.6


def test_resume_equals_uninterrupted():
    one, _ = small_cnn_trainer(seed=1)
    two, _ = small_cnn_trainer(seed=1)
    one.run(batches=20)
    for _ in range(4):
        two.run(batches=5)
    for a, b in zip(one.net.params(), two.net.params()):
        np.testing.assert_array_equal(a, b)


def test_a_tiny_loop_with_make_optimizer_learns_too():
    data = load_sample()
    net = ConvNet(cnn_spec(filters=(4,), k=3, pool=2), seed=2)
    opt = make_optimizer("momentum", 0.05, 0.9)
    rng = np.random.default_rng(0)
    for _ in range(60):
        idx = rng.integers(0, len(data.x_train), 64)
        _, grad_w, grad_b, _ = net.gradients(to_float(data.x_train[idx]), one_hot(data.y_train[idx]))
        opt.step(net.params(), [g for gb in zip(grad_w, grad_b) for g in gb])
    assert float((net.predict(data.test_float()) == data.y_test).mean()) > 0.6
