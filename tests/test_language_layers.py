"""Float64 finite-difference checks of every language-model layer and model (engine/language).

Each check compares backward's gradient with (L(w + h) - L(w - h)) / 2h for a random linear
loss L = sum(y * R), on every weight of the layer and on its input."""
import numpy as np
import pytest

from engine.language.layers import (Block, CausalSelfAttention, Embedding, FeedForward, LayerNorm,
                                    PositionEmbedding, causal_mask, sequence_cross_entropy)
from engine.language.models import build_model

H = 1e-6


def numeric(f, arr, n=12, rng=None):
    """Central differences of f() for n random entries of arr (changed in place and put back)."""
    rng = rng or np.random.default_rng(1)
    idx = [tuple(rng.integers(0, s) for s in arr.shape) for _ in range(n)]
    out = []
    for i in idx:
        old = arr[i]
        arr[i] = old + H
        up = f()
        arr[i] = old - H
        down = f()
        arr[i] = old
        out.append((up - down) / (2 * H))
    return idx, np.array(out)


def check_layer(layer, x, fwd=None):
    """Gradient check of a layer: its weights and (if float) its input."""
    layer.astype(np.float64)
    fwd = fwd or (lambda inp, keep: layer.forward(inp, keep))
    R = np.random.default_rng(2).standard_normal(fwd(x, False).shape)
    loss = lambda: float((fwd(x, False) * R).sum())
    fwd(x, True)
    dx = layer.backward(R)
    for p, g in zip(layer.params(), layer.grads()):
        idx, num = numeric(loss, p)
        ana = np.array([g[i] for i in idx])
        np.testing.assert_allclose(ana, num, rtol=1e-5, atol=1e-7)
    if x.dtype.kind == "f":
        idx, num = numeric(loss, x)
        np.testing.assert_allclose([dx[i] for i in idx], num, rtol=1e-5, atol=1e-7)


def x_of(B=2, T=5, C=8, seed=0):
    return np.random.default_rng(seed).standard_normal((B, T, C))


def test_embedding_is_a_row_lookup_and_its_backward_adds_repeated_ids():
    layer = Embedding(6, 4, std=1.0)
    ids = np.array([[1, 1, 3], [5, 1, 0]])      # id 1 three times: its gradient is the sum of three rows
    np.testing.assert_array_equal(layer.forward(ids), layer.W[ids])
    one_hot = np.eye(6, dtype=np.float32)[ids]
    np.testing.assert_allclose(layer.forward(ids), one_hot @ layer.W, rtol=1e-6)
    check_layer(layer, ids)


def test_position_embedding_gradient():
    check_layer(PositionEmbedding(7, 8), x_of(T=5))


def test_layernorm_gradient():
    layer = LayerNorm(8)
    rng = np.random.default_rng(3)
    layer.g, layer.b = rng.standard_normal(8).astype(np.float32), rng.standard_normal(8).astype(np.float32)
    check_layer(layer, x_of())


@pytest.mark.parametrize("heads", [1, 2, 4])
def test_causal_attention_gradient(heads):
    layer = CausalSelfAttention(8, heads, std=0.5, rng=np.random.default_rng(4))
    check_layer(layer, x_of())


def test_attention_is_causal_no_position_sees_the_future():
    layer = CausalSelfAttention(8, 2, std=0.5).astype(np.float64)
    x = x_of(B=1, T=6)
    y = layer.forward(x, keep=False)
    x2 = x.copy()
    x2[:, 4:] += 10.0                        # change positions 4 and 5
    y2 = layer.forward(x2, keep=False)
    np.testing.assert_allclose(y[:, :4], y2[:, :4], rtol=1e-12)
    assert not np.allclose(y[:, 4:], y2[:, 4:])
    assert np.isinf(causal_mask(3)).sum() == 3


def test_attention_equals_a_loop_over_examples_heads_and_positions():
    layer = CausalSelfAttention(8, 2, std=0.5).astype(np.float64)
    x = x_of(B=2, T=4)
    y = layer.forward(x, keep=False)
    Wq, Wk, Wv = np.split(layer.qkv.W, 3)
    bq, bk, bv = np.split(layer.qkv.b, 3)
    for b in range(2):
        heads = []
        for h in range(2):
            sl = slice(4 * h, 4 * h + 4)
            rows = []
            for i in range(4):
                q = x[b, i] @ Wq[sl].T + bq[sl]
                s = np.array([q @ (x[b, j] @ Wk[sl].T + bk[sl]) / 2.0 for j in range(i + 1)])
                w = np.exp(s - s.max()) / np.exp(s - s.max()).sum()
                rows.append(sum(w[j] * (x[b, j] @ Wv[sl].T + bv[sl]) for j in range(i + 1)))
            heads.append(np.array(rows))
        want = np.concatenate(heads, axis=1) @ layer.proj.W.T + layer.proj.b
        np.testing.assert_allclose(y[b], want, rtol=1e-10)


def test_feedforward_gradient():
    check_layer(FeedForward(8, std=0.5, rng=np.random.default_rng(5)), x_of())


def test_block_with_residuals_gradient():
    block = Block(8, 2, rng=np.random.default_rng(6))
    for part in (block.attn, block.ffn):
        for p in part.params():
            p[...] = np.random.default_rng(7).standard_normal(p.shape) * 0.3
    check_layer(block, x_of())


def test_sequence_cross_entropy_is_the_mean_of_minus_log_p_and_its_gradient():
    rng = np.random.default_rng(8)
    z, t = rng.standard_normal((2, 3, 5)), rng.integers(0, 5, (2, 3))
    p = np.exp(z) / np.exp(z).sum(-1, keepdims=True)
    loss, dz = sequence_cross_entropy(z.copy(), t)
    assert loss == pytest.approx(-np.mean(np.log(np.take_along_axis(p, t[..., None], -1))), rel=1e-12)
    idx, num = numeric(lambda: sequence_cross_entropy(z, t)[0], z)
    np.testing.assert_allclose([dz[i] for i in idx], num, rtol=1e-5, atol=1e-8)


SPECS = [{"kind": "bigram", "vocab": 7},
         {"kind": "mlp", "vocab": 7, "context": 3, "embed": 4, "hidden": 6},
         {"kind": "transformer", "vocab": 7, "context": 6, "width": 8, "blocks": 2, "heads": 2}]


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s["kind"])
def test_whole_model_gradient(spec):
    model = build_model(spec, seed=1).astype(np.float64)
    rng = np.random.default_rng(9)
    for p in model.params():
        p += rng.standard_normal(p.shape) * 0.1
    ids, targets = rng.integers(0, 7, (2, 6)), rng.integers(0, 7, (2, 6))
    loss, grads = model.gradients(ids, targets)
    assert loss == pytest.approx(model.loss_on(ids, targets), rel=1e-12)
    for p, g in zip(model.params(), grads):
        idx, num = numeric(lambda: model.loss_on(ids, targets), p, n=6)
        np.testing.assert_allclose([g[i] for i in idx], num, rtol=1e-4, atol=1e-8)


def test_threaded_row_blocks_compute_the_same_numbers(monkeypatch):
    """Speed trick 9 (in_blocks): with 3 threads and no minimum size, the same outputs and gradients."""
    import engine.language.layers as L
    x = x_of(B=5, T=6)
    block = Block(8, 2, rng=np.random.default_rng(6)).astype(np.float64)
    R = np.random.default_rng(1).standard_normal(x.shape)
    y1 = block.forward(x)
    dx1 = block.backward(R)
    g1 = [g.copy() for g in block.grads()]
    monkeypatch.setattr(L, "WORKERS", 3)
    monkeypatch.setattr(L, "MIN_BLOCK_VALUES", 0)
    y2 = block.forward(x)
    dx2 = block.backward(R)
    np.testing.assert_array_equal(y1, y2)
    np.testing.assert_array_equal(dx1, dx2)
    for a, b in zip(g1, block.grads()):
        np.testing.assert_array_equal(a, b)
    check_layer(Block(8, 2, rng=np.random.default_rng(6)), x_of())
