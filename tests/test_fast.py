"""engine/fast.py: every speed trick computes what the plain math computes (within float32 rounding),
and a run's threads stay within what its place in the line of runs gives it."""
import threading

import numpy as np
import pytest

from engine import fast
from engine.convnet import ConvNet, cnn_spec
from engine.data import load_sample, to_float
from engine.layers import Activation, Conv2D, MaxPool2D, im2col, windows
from engine.network import Network, one_hot
from engine.optim import SGD, Adam, Momentum
from engine.trainer import Settings, Trainer, guarded_step
from engine.worker import BackgroundRun, Slots


@pytest.fixture(scope="module")
def sample():
    return load_sample()


@pytest.fixture(autouse=True)
def small_slices(monkeypatch):
    """Slices of any arithmetic (fast.MIN_SLICE_FLOPS keeps the small test networks' batches whole)."""
    monkeypatch.setattr(fast, "MIN_SLICE_FLOPS", 0)


def digits(sample, n=16):
    """n real digits (n, 784) float32: big blank areas, so pooling windows with ties are everywhere."""
    return to_float(sample.x_train[:n]), sample.y_train[:n]


# ---------------------------------------------------------------- 2. im2col by kernel offset

def plain_im2col(x, k, p, s):
    """Every window copied into a row, (u, v, c) order: the formula of layers.im2col."""
    x = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    win = windows(x, k, s)
    n, c, h2, w2 = win.shape[:4]
    return win.transpose(0, 2, 3, 4, 5, 1).reshape(n * h2 * w2, k * k * c)


@pytest.mark.parametrize("c,k,p,s", [(1, 5, 0, 1), (1, 3, 1, 2), (3, 4, 2, 3), (4, 5, 0, 1)])
def test_im2col_by_offset_is_the_same_matrix(c, k, p, s):
    x = np.random.default_rng(0).standard_normal((5, c, 13, 11)).astype(np.float32)
    assert c <= fast.FEW_CHANNELS                       # im2col takes the fast path for these
    np.testing.assert_array_equal(im2col(x, k, p, s), plain_im2col(x, k, p, s))


# ---------------------------------------------------------------- 3. pooling before the activation

def through(layers, x, dy):
    out = x
    for layer in layers:
        out = layer.forward(out)
    for layer in reversed(layers):
        dy = layer.backward(dy)
    return out, dy


@pytest.mark.parametrize("size,stride", [(2, 2), (3, 2), (3, 3)])
def test_pooling_first_gives_the_same_output_and_blame(sample, size, stride):
    x = digits(sample)[0].reshape(-1, 1, 28, 28) - 0.3       # negative blank areas: all-negative windows too
    conv = Conv2D(1, 4, 3, rng=np.random.default_rng(1))
    z = conv.forward(x)
    dy = np.random.default_rng(2).standard_normal(MaxPool2D(size, stride).forward(z).shape).astype(np.float32)
    plain = through([Activation("relu"), MaxPool2D(size, stride)], z, dy)
    swapped = fast.pool_first([Activation("relu"), MaxPool2D(size, stride)])
    assert len(swapped) == 1 and isinstance(swapped[0], fast.PoolFirst)
    fused = through(swapped, z, dy)
    np.testing.assert_array_equal(plain[0], fused[0])
    np.testing.assert_array_equal(plain[1], fused[1])


def test_only_relu_is_pooled_first():
    for name in ("sigmoid", "tanh", "leaky_relu"):
        layers = [Activation(name), MaxPool2D(2)]
        assert fast.pool_first(layers) == layers


# ---------------------------------------------------------------- 4. max-pooling's backward

def first_winner_blame(x, dy, m):
    """Each m x m window's dy at its first largest pixel (np.argmax picks the first), by window reshapes."""
    n, c, h, w = x.shape
    win = x.reshape(n, c, h // m, m, w // m, m).transpose(0, 1, 2, 4, 3, 5).reshape(n, c, h // m, w // m, m * m)
    first = win.argmax(axis=-1)
    dx = np.zeros_like(win)
    np.put_along_axis(dx, first[..., None], dy[..., None], axis=-1)
    return dx.reshape(n, c, h // m, w // m, m, m).transpose(0, 1, 2, 4, 3, 5).reshape(n, c, h, w)


@pytest.mark.parametrize("m", [1, 2, 3])
def test_route_to_winners_gives_each_window_blame_once(m):
    rng = np.random.default_rng(0)
    x = rng.integers(0, 3, size=(4, 3, 6 * m // m * m, 6)).astype(np.float32)     # few values: ties everywhere
    x = x[:, :, :6 // m * m, :6 // m * m]
    pool = MaxPool2D(m)
    y = pool.forward(x)
    dy = rng.standard_normal(y.shape).astype(np.float32)
    np.testing.assert_array_equal(pool.backward(dy), first_winner_blame(x, dy, m))


def test_route_to_winners_keeps_a_channels_last_layout():
    x = np.random.default_rng(1).standard_normal((2, 8, 8, 5)).astype(np.float32).transpose(0, 3, 1, 2)
    pool = MaxPool2D(2)
    dx = pool.backward(np.ones_like(pool.forward(x)))
    assert dx.strides == x.strides
    np.testing.assert_array_equal(dx, first_winner_blame(np.ascontiguousarray(x), np.ones((2, 5, 4, 4), np.float32), 2))


# ---------------------------------------------------------------- 5. Adam in place

def test_adam_in_place_is_the_textbook_formula():
    rng = np.random.default_rng(0)
    p = rng.standard_normal((30, 7)).astype(np.float32)
    ours, theirs = p.copy(), p.astype(np.float64)
    m = s = np.zeros_like(theirs)
    opt = Adam(lr=0.01)
    for t in range(1, 8):
        g = rng.standard_normal(p.shape).astype(np.float32)
        opt.step([ours], [g])
        m = 0.9 * m + 0.1 * g
        s = 0.999 * s + 0.001 * g.astype(np.float64) ** 2
        theirs -= 0.01 * (m / (1 - 0.9 ** t)) / (np.sqrt(s / (1 - 0.999 ** t)) + 1e-8)
    np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------- 1. threads for the parts of a batch

def test_slices_cover_the_rows_once():
    assert fast.slices(64) == [slice(0, 32), slice(32, 64)]                  # two shares
    assert fast.slices(65, shares=3) == [slice(0, 21), slice(21, 43), slice(43, 65)]
    assert fast.slices(10) == [slice(0, 10)]                                 # too few rows for two: one slice
    assert fast.slices(5) == [slice(0, 5)]
    assert fast.slices(128, fewest=100) == [slice(0, 128)]                   # too little work for two
    assert fast.slices(128, most_rows=100, fewest=100) == [slice(0, 64), slice(64, 128)]    # the cache's cut
    assert fast.slices(64, most_rows=32) == [slice(0, 32), slice(32, 64)]
    assert fast.slices(64, most_rows=20) == [slice(16 * i, 16 * i + 16) for i in range(4)]    # 2 each
    assert fast.slices(64, most_rows=1) == [slice(8 * i, 8 * i + 8) for i in range(8)]       # MIN_ROWS


def test_slices_that_fit_the_cache(sample, monkeypatch):
    assert fast.cache_rows(Network([784, 128, 10])) >= 1000            # an MLP's batch stays whole
    assert fast.cache_rows(ConvNet(cnn_spec((16, 64)))) == 32          # conv 16 - conv 64: 2 slices of 32
    whole = trained(sample, ConvNet(cnn_spec((4, 8)), seed=1), 1, optimizer="adam", lr=0.003)
    monkeypatch.setattr(fast, "CACHE_VALUES", 1)                        # slices of MIN_ROWS rows
    cut = trained(sample, ConvNet(cnn_spec((4, 8)), seed=1), 1, optimizer="adam", lr=0.003)
    for p, q in zip(whole.net.params(), cut.net.params()):
        np.testing.assert_allclose(p, q, rtol=1e-4, atol=1e-5)


def trained(sample, net, threads, batches=5, **settings):
    s = Settings(sizes=tuple(net.sizes), layers=net.spec() if isinstance(net, ConvNet) else None, batch_size=64,
                 val_fraction=0.0, **settings)
    run = Trainer(net, sample.x_train, sample.y_train, s)
    run.threads = threads
    run.run(batches=batches)
    return run


@pytest.mark.parametrize("make", [lambda: Network([784, 32, 10], seed=1),
                                  lambda: ConvNet(cnn_spec((4, 8)), seed=1)], ids=["mlp", "cnn"])
@pytest.mark.parametrize("threads", [2, 3])
def test_a_batch_in_threads_learns_what_one_thread_learns(sample, make, threads):
    """The very same numbers, not close ones: the cut into slices does not depend on the threads
    (fast.slices), so a run's result does not depend on the share of the cores it was given."""
    one = trained(sample, make(), 1, optimizer="adam", lr=0.003, l2=1e-3)
    many = trained(sample, make(), threads, optimizer="adam", lr=0.003, l2=1e-3)
    for p, q in zip(one.net.params(), many.net.params()):
        np.testing.assert_array_equal(p, q)
    assert one.history.batch_loss == many.history.batch_loss
    assert one._sum_correct == many._sum_correct


def test_threads_really_work_at_once_on_their_own_layers(sample, monkeypatch):
    seen, lock, both = set(), threading.Lock(), threading.Barrier(2, timeout=10)
    plain = ConvNet.gradients

    def spy(net, x, y, l2=0.0):
        with lock:
            seen.add((threading.get_ident(), id(net.layers[0])))
        both.wait()                              # both slices are in gradients() at the same moment
        return plain(net, x, y, l2)

    monkeypatch.setattr(ConvNet, "gradients", spy)
    trained(sample, ConvNet(cnn_spec((4, 8)), seed=1), 2, batches=1)
    assert len({t for t, _ in seen}) == 2 and len({layer for _, layer in seen}) == 2


def test_a_replica_shares_the_weights_not_the_memory():
    net = ConvNet(cnn_spec((4, 8)), seed=0)
    twin = net.replica()
    assert all(p is q for p, q in zip(net.params(), twin.params()))
    assert all(a is not b for a, b in zip(net.layers, twin.layers))
    x = np.random.default_rng(0).random((3, 784), dtype=np.float32)
    twin.gradients(x, one_hot([1, 2, 3]))
    assert not hasattr(net.layers[0], "cols")            # the original's layers kept nothing of it


@pytest.mark.parametrize("cores,places,threads", [(2, 2, 1), (2, 1, 2), (4, 2, 2), (8, 3, 2), (1, 4, 1)])
def test_a_place_in_the_line_gives_its_share_of_the_cores(monkeypatch, cores, places, threads):
    monkeypatch.setattr(fast, "cores", lambda: cores)
    assert Slots(size=places).threads == threads


@pytest.mark.parametrize("places,threads", [(2, 1), (1, 2)])
def test_a_run_works_in_at_most_the_threads_of_its_place(sample, monkeypatch, places, threads):
    monkeypatch.setattr(fast, "cores", lambda: 2)
    busy, most, lock = [0], [0], threading.Lock()
    plain = Network.gradients

    def spy(net, x, y, l2=0.0):
        with lock:
            busy[0] += 1
            most[0] = max(most[0], busy[0])
        try:
            return plain(net, x, y, l2)
        finally:
            with lock:
                busy[0] -= 1

    monkeypatch.setattr(Network, "gradients", spy)
    s = Settings(sizes=(784, 32, 10), batch_size=256, epochs=1, val_fraction=0.0)
    run = Trainer(Network([784, 32, 10]), sample.x_train, sample.y_train, s)
    run.threads = 8                                      # asked for more: the place decides
    x_test, y_test = to_float(sample.x_test[:100]), sample.y_test[:100]
    background = BackgroundRun(run, Slots(size=places), x_test, y_test)
    assert background.join(60)
    assert background.error is None and run.finished
    assert run.threads == threads
    assert most[0] <= threads


def test_a_small_batch_is_not_worth_two_threads(monkeypatch):
    monkeypatch.setattr(fast, "MIN_SLICE_FLOPS", 2e8)
    assert fast.fewest_rows(Network([784, 128, 10])) > 64               # the MLP's batch of 128: one slice
    assert fast.fewest_rows(ConvNet(cnn_spec((16, 64)))) <= 32          # the CNN's: two of 32


# ---------------------------------------------------------------- 7. no subnormal numbers in an optimiser's memory

def _subnormals(arrays):
    return sum(int(((a != 0) & (np.abs(a) < fast.SMALLEST_NORMAL)).sum()) for a in arrays)


def _fading_steps(optimizer, steps=1200):
    """A gradient once, then none for `steps` steps (a pixel that was ink in one batch only): the
    optimiser's memory of it fades, 0.9x a step. Returns the weights at the end."""
    rng = np.random.default_rng(0)
    w = [rng.standard_normal((40, 30)).astype(np.float32), rng.standard_normal(30).astype(np.float32)]
    g = [rng.standard_normal(p.shape).astype(np.float32) * 1e-3 for p in w]
    zero = [np.zeros_like(p) for p in w]
    optimizer.step(w, g)
    for _ in range(steps):
        optimizer.step(w, zero)
    return w


@pytest.mark.parametrize("make, memory", [(lambda: Momentum(0.1, 0.9), lambda o: o.velocity),
                                          (lambda: Adam(0.01), lambda o: o.m)])
def test_a_fading_memory_never_becomes_subnormal_and_moves_no_weight(monkeypatch, make, memory):
    flushed = make()
    w_flushed = _fading_steps(flushed)
    assert _subnormals(memory(flushed)) == 0
    monkeypatch.setattr(fast, "FLUSH_EVERY", 10 ** 9)           # the same steps without trick 7
    plain = make()
    w_plain = _fading_steps(plain)
    assert _subnormals(memory(plain)) > 0                       # (so the case is really met)
    for a, b in zip(w_flushed, w_plain):
        np.testing.assert_array_equal(a, b)                     # bit for bit: the flushed values moved nothing


def test_a_step_that_would_blow_a_weight_up_is_not_made():
    net = Network([4, 3, 2], seed=0)
    before = [p.copy() for p in net.params()]
    grads = [np.zeros_like(p) for p in net.params()]
    grads[0][0, 0] = -1e6                                       # lr 0.1: the weight would move by 1e5
    with pytest.raises(FloatingPointError):
        guarded_step(SGD(0.1), net, grads)
    for p, b in zip(net.params(), before):
        np.testing.assert_array_equal(p, b)                     # the last good weights, untouched
    grads[0][0, 0] = np.nan
    with pytest.raises(FloatingPointError):
        guarded_step(SGD(0.1), net, grads)
    for p, b in zip(net.params(), before):
        np.testing.assert_array_equal(p, b)
    grads[0][0, 0] = -1.0                                       # a normal step is made, as SGD makes it
    guarded_step(SGD(0.1), net, grads)
    assert net.weights[0][0, 0] == before[0][0, 0] - np.float32(0.1) * np.float32(-1.0)


def test_a_carried_bound_refuses_the_same_step_as_reading_the_weights():
    """Trick 9: weights walking up to MAX_WEIGHT by 1 a step are stopped at the same step with the bound
    carried from step to step as when every step reads the weights."""
    from engine.trainer import MAX_WEIGHT

    def walk(carry):
        net = Network([4, 3, 2], seed=0)
        net.weights[0][0, 0] = MAX_WEIGHT - 10.5
        grads = [np.zeros_like(p) for p in net.params()]
        grads[0][0, 0] = -10.0                                  # lr 0.1: +1 a step
        known = None
        for step in range(1, 30):
            try:
                known = guarded_step(SGD(0.1), net, grads, known if carry else None)
            except FloatingPointError:
                return step, float(net.weights[0][0, 0])
            assert known.value >= np.abs(net.weights[0]).max()   # the bound it leaves bounds every weight
        return None, float(net.weights[0][0, 0])

    assert walk(carry=True) == walk(carry=False) == (11, MAX_WEIGHT - 0.5)


def test_a_bound_carried_from_other_weights_is_not_used():
    """Trick 9: a bound left by another net's step (or before the net's weights were swapped) says
    nothing of these weights: the step that would blow them up is still refused."""
    from engine.trainer import MAX_WEIGHT
    small, big = Network([4, 3, 2], seed=0), Network([4, 3, 2], seed=1)
    grads = [np.zeros_like(p) for p in small.params()]
    known = guarded_step(SGD(0.1), small, grads)                 # small weights: a bound under 10
    big.weights[0][0, 0] = MAX_WEIGHT - 0.1
    grads[0][0, 0] = -10.0                                      # +1: past the limit
    with pytest.raises(FloatingPointError):
        guarded_step(SGD(0.1), big, grads, known)
    grads[0][0, 0] = np.nan                                     # and a nan step, with a bound of its own weights
    known = guarded_step(SGD(0.1), small, [np.zeros_like(p) for p in small.params()])
    with pytest.raises(FloatingPointError):
        guarded_step(SGD(0.1), small, grads, known)


def test_the_loss_from_p_is_the_loss_from_the_logits():
    """Trick 10: the cross-entropy read from p itself is log_softmax's within float32 rounding, and where
    a p underflows to 0 it is still the finite loss of the logits."""
    net = Network([4, 3, 10], seed=0)
    rng = np.random.default_rng(0)
    z = (rng.standard_normal((64, 10)) * 4).astype(np.float32)
    y = one_hot(rng.integers(0, 10, 64))
    p = net.output(z)
    exact = float(-(y * np.log(np.exp(z.astype(np.float64)) / np.exp(z.astype(np.float64)).sum(1, keepdims=True))).sum()) / 64
    assert fast.no_tiny(p)
    assert net.loss_value(z, p, y) == pytest.approx(exact, rel=1e-6)
    z[0] = 0.0
    z[0, 3] = 200.0                                             # p of every other class: exp(-200), 0 in float32
    y[0] = one_hot(np.array([5]))[0]
    p = net.output(z)
    assert not fast.no_tiny(p)
    exact = float(-(y * (z.astype(np.float64) - np.log(np.exp(z.astype(np.float64)).sum(1, keepdims=True)))).sum()) / 64
    loss = net.loss_value(z, p, y)
    assert np.isfinite(loss) and loss == pytest.approx(exact, rel=1e-6) and loss > 200 / 64


# ---------------------------------------------------------------- 8. the first convolution's rows in window order

def plain_twin(net):
    """A replica of net that trains its first conv, relu and pooling as separate layers (no trick 8)."""
    twin = net.replica()
    assert isinstance(twin.stack[0], fast.WindowOrder)
    twin.stack[:1] = [twin.stack[0].conv, twin.stack[0].pair]
    return twin


@pytest.mark.parametrize("spec, used", [(cnn_spec((16, 64), k=5), True), (cnn_spec((8, 16), k=5, p=2), True),
                                        (cnn_spec((6, 8), k=3, p=1), True), (cnn_spec((4,), k=3, pool=3), False)],
                         ids=["conv16-conv64", "padding 2", "3x3 padding 1", "pool 3 (26 = 3 x 8 + 2): not used"])
def test_window_order_gives_the_same_output_and_gradients(sample, spec, used):
    net = ConvNet(spec, seed=1)
    x, y = sample.x_train[:20].astype(np.float32) / 255, one_hot(sample.y_train[:20])
    loss, gw, gb, out = net.gradients(x, y)
    assert net.stack[0].plain is (not used)
    loss2, gw2, gb2, out2 = plain_twin(net).gradients(x, y)
    # The same forward pass: bit for bit with OpenBLAS's AVX-512 kernels; its AVX2 ones (OPENBLAS_CORETYPE=Haswell)
    # may round a row of the product by where it sits in the matrix, and the rows are in another order here.
    np.testing.assert_allclose(out, out2, rtol=1e-6, atol=1e-7)
    assert loss == pytest.approx(loss2, rel=1e-6)
    for a, b in zip(gw + gb, gw2 + gb2):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)   # the same sums, in another order


def test_window_order_leaves_the_image_gradient_to_the_plain_layers(sample):
    """input_gradient needs the first layer's dx (explanations): trick 8 steps aside for it."""
    net = ConvNet(cnn_spec((8, 16), k=5), seed=1)
    x = sample.x_train[:3].astype(np.float32) / 255
    blame = lambda z, a: np.eye(10, dtype=np.float32)[[1, 2, 3]]    # noqa: E731
    _, _, dx = net.input_gradient(x, blame)
    _, _, dx2 = plain_twin(net).input_gradient(x, blame)
    np.testing.assert_array_equal(dx, dx2)
    assert net.layers[0].need_dx is False                        # put back for training
