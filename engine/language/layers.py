"""The layers of a language model, each with its forward and its backward side by side.

Same contract as engine/layers.py: forward(x) keeps what backward needs;
backward(dy) returns dL/dx and fills the layer's own gradients (grads(), in the
order of params()). Dense layers are engine/layers.py's own Dense, fed 2-D rows.

Conventions
    B sequences of T positions, C numbers per position (the width), V characters,
    H heads of D = C / H numbers each. Ids are int arrays (B, T); a sequence's
    numbers are (B, T, C), float32 (float64 in the gradient tests: astype()).
    "Causal": position t may look at positions 0..t only, never at the future.

Speed (the tricks, all here, in models.py's Transformer and, for generating, in kvcache.py; nowhere else)
    1. Heads and positions are batched: attention is two matmuls over (B, H, T, T)
       stacks, never a Python loop over examples, positions or heads.
    2. Q, K and V come out of ONE Dense of C -> 3C (one big matmul, not three).
    3. Dense layers see (B T, C) rows: one GEMM for all positions of all sequences.
    4. The causal mask is an additive table of 0 and -inf made once per T and
       cached; masked scores become exactly 0 after the softmax, so backward
       needs no mask at all (their probability P is 0, so is their blame).
    5. In-place arithmetic (+=, *=, out=) where the array is ours to overwrite.
    6. The embedding's scatter-add sorts the ids and sums runs with np.add.reduceat (scatter_add),
       instead of np.add.at's one-row-at-a-time loop.
    7. Dense (below) sums its bias gradient as ones @ dy, one BLAS call.
    8. Attention scales the queries by 1/sqrt(D) before q k^T: T D numbers instead of the T T scores,
       forward and backward.
    9. The big element-by-element steps (the attention softmax and its blame, GELU and its slope)
       run on row blocks in WORKERS threads (in_blocks): NumPy lets go of Python's lock inside each
       operation, so the blocks really run at once, as BLAS already does for the matrix products.
       WORKERS is OPENBLAS_NUM_THREADS (1 when it is not set: a server runs one training per core).
   10. LayerNorm's means are np.add.reduce times 1/C (_row_sum), not x.mean's Python wrapper.
   11. Generating one character at a time with the key/value cache has a lean step of its own,
       engine/language/kvcache.py: one position as a plain vector, arrays made once and written in place.
"""
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from ..layers import DTYPE, Layer
from ..layers import Dense as _Dense
from ..network import softmax

GELU_C = float(np.sqrt(2.0 / np.pi))   # a Python float: a NumPy float64 would turn float32 arrays into float64
GELU_A = 0.044715


# ---------------------------------------------------------------- speed trick 9: threads

WORKERS = max(1, int(os.environ.get("OPENBLAS_NUM_THREADS") or 1))
MIN_BLOCK_VALUES = 50_000          # below this, starting threads costs more than it saves
_POOL = []


def in_blocks(work, *arrays):
    """work(*pieces) on row blocks of arrays (all with the same first axis), in WORKERS threads at once.
    work writes its results into its pieces (views), so nothing needs putting back together."""
    n = len(arrays[0])
    if WORKERS == 1 or n < 2 or arrays[0].size < MIN_BLOCK_VALUES:
        work(*arrays)
        return
    if not _POOL:
        _POOL.append(ThreadPoolExecutor(WORKERS, thread_name_prefix="lm-elementwise"))
    k = min(WORKERS, n)
    cuts = [n * i // k for i in range(k + 1)]
    for f in [_POOL[0].submit(work, *(a[cuts[i]:cuts[i + 1]] for a in arrays)) for i in range(k)]:
        f.result()


def softmax_rows(S):
    """S <- softmax(S) along the last axis, in place (as network.softmax, without new arrays)."""
    S -= S.max(axis=-1, keepdims=True)
    np.exp(S, out=S)
    S /= S.sum(axis=-1, keepdims=True)


def softmax_blame(dP, P):
    """dP <- dS = P * (dP - sum_j(dP * P)), in place: the blame through a softmax along the last axis."""
    dP -= np.einsum("...j,...j->...", dP, P)[..., None]
    dP *= P


# ---------------------------------------------------------------- dense rows

class Dense(_Dense):
    """engine/layers.py's Dense (y = x W^T + b on rows (n, d_in)), with db as a matrix product
    (speed trick 7): ones (n,) @ dy (n, d_out) sums the columns in one BLAS call, several times faster
    than dy.sum(axis=0) for the thousands of short rows a batch of positions makes."""

    def backward(self, dy):
        self.dW = dy.T @ self.x
        self.db = np.ones(len(dy), dtype=dy.dtype) @ dy
        return dy @ self.W if self.need_dx else None


# ---------------------------------------------------------------- embeddings

def scatter_add(ids, rows, V):
    """dW (V, C) with dW[v] = the sum of rows[i] (N, C) over every i where ids[i] = v.

    The same as np.add.at(dW, ids, rows), 10 to 20 times faster (speed trick 6): sort the ids once,
    then np.add.reduceat sums each run of equal ids in one pass over contiguous rows.
    """
    order = np.argsort(ids, kind="stable")
    sorted_ids = ids[order]
    starts = np.flatnonzero(np.r_[True, sorted_ids[1:] != sorted_ids[:-1]])
    dW = np.zeros((V, rows.shape[1]), dtype=rows.dtype)
    dW[sorted_ids[starts]] = np.add.reduceat(rows[order], starts, axis=0)
    return dW


class Embedding(Layer):
    """ids (B, T) ints in 0..V-1 -> x (B, T, C);  x[b, t] = W[ids[b, t]], a row lookup.

    The same as one-hot(ids) (B, T, V) times W (V, C), without making the one-hots.
    Backward: dW[v] = the sum of dy[b, t] over every position where ids[b, t] = v
    (a scatter-add: repeated ids add up, where dW[ids] += dy would keep only one; see scatter_add).
    The ids need no gradient: backward returns None.
    """
    kind = "embedding"

    def __init__(self, V, C, std=0.02, rng=None):
        rng = rng if rng is not None else np.random.default_rng(0)
        self.W = (rng.standard_normal((V, C)) * std).astype(DTYPE)

    def forward(self, ids, keep=True):
        if keep:
            self.ids = ids
        return self.W[ids]

    def backward(self, dy):
        self.dW = scatter_add(self.ids.reshape(-1), dy.reshape(-1, self.W.shape[1]), len(self.W))
        return None

    def params(self):
        return [self.W]

    def grads(self):
        return [self.dW]

    def astype(self, dtype):
        self.W = self.W.astype(dtype)
        return self


class PositionEmbedding(Layer):
    """x (B, T, C) -> y = x + P[:T] (P: T_max x C, one learned vector per position 0..T_max-1).

    Attention alone does not know where a character stands; this adds "I am at position t".
    Backward: dx = dy, dP[t] = sum of dy[:, t] over the batch (rows t >= T get 0).
    forward(x, start=s) adds P[s:s+T] instead: generation with a key/value cache adds one
    position at a time.
    """
    kind = "position"

    def __init__(self, T_max, C, std=0.02, rng=None):
        rng = rng if rng is not None else np.random.default_rng(0)
        self.P = (rng.standard_normal((T_max, C)) * std).astype(DTYPE)

    def forward(self, x, keep=True, start=0):
        T = x.shape[1]
        if start + T > len(self.P):
            raise ValueError(f"the model reads at most {len(self.P)} characters at once, got {start + T}")
        return x + self.P[start:start + T]

    def backward(self, dy):
        self.dP = np.zeros_like(self.P)
        self.dP[:dy.shape[1]] = dy.sum(axis=0)
        return dy

    def params(self):
        return [self.P]

    def grads(self):
        return [self.dP]

    def astype(self, dtype):
        self.P = self.P.astype(dtype)
        return self


# ---------------------------------------------------------------- normalisation

def _row_sum(x):
    """Sum over the last axis, kept as a column: np.add.reduce itself, without the Python wrapper of
    x.mean (speed trick 10: generation with the cache runs LayerNorm on one position at a time, where
    the wrapper's few microseconds are much of the work)."""
    return np.add.reduce(x, axis=-1, keepdims=True)


class LayerNorm(Layer):
    """x (..., C) -> y = g * (x - mean) / sqrt(var + eps) + b, mean and var over the last axis.

    Every position's C numbers get mean 0 and variance 1, then a learned scale g and shift b (C,).
    Backward, with xhat = (x - mean) / s, s = sqrt(var + eps), dxhat = dy * g:
        dx = (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)) / s
        dg = sum of dy * xhat over all positions, db = sum of dy.
    """
    kind = "layernorm"

    def __init__(self, C, eps=1e-5):
        self.g, self.b, self.eps = np.ones(C, dtype=DTYPE), np.zeros(C, dtype=DTYPE), eps

    def forward(self, x, keep=True):
        inv_C = 1.0 / x.shape[-1]
        xc = x - _row_sum(x) * inv_C
        var = _row_sum(xc * xc)
        var *= inv_C
        inv_s = 1.0 / np.sqrt(var + self.eps)
        xhat = xc
        xhat *= inv_s                                  # in place: xc is ours
        if keep:
            self.xhat, self.inv_s = xhat, inv_s
        y = xhat * self.g
        y += self.b
        return y

    def backward(self, dy):
        C = dy.shape[-1]
        rows = dy.reshape(-1, C)
        self.dg = np.einsum("nc,nc->c", rows, self.xhat.reshape(-1, C))
        self.db = rows.sum(axis=0)
        dxhat = dy * self.g
        inv_C = 1.0 / C
        dx = dxhat - _row_sum(dxhat) * inv_C
        dx -= self.xhat * (_row_sum(dxhat * self.xhat) * inv_C)
        dx *= self.inv_s
        return dx

    def params(self):
        return [self.g, self.b]

    def grads(self):
        return [self.dg, self.db]

    def astype(self, dtype):
        self.g, self.b = self.g.astype(dtype), self.b.astype(dtype)
        return self


# ---------------------------------------------------------------- attention

_MASKS = {}


def causal_mask(T, dtype=DTYPE):
    """(T, T) table to add to the scores: 0 where key j <= query i, -inf where j > i (the future)."""
    key = (T, np.dtype(dtype).str)
    if key not in _MASKS:
        _MASKS[key] = np.triu(np.full((T, T), -np.inf, dtype=dtype), k=1)
    return _MASKS[key]


class CausalSelfAttention(Layer):
    """x (B, T, C) -> y (B, T, C): every position gathers information from the positions before it.

    With H heads of D = C/H numbers:
        q, k, v = split(x Wqkv^T + bqkv)       three (B, H, T, D) stacks: queries, keys, values
        S = q k^T / sqrt(D)                    (B, H, T, T) scores: how well query i matches key j
        S[i, j] = -inf for j > i               the causal mask: no looking ahead
        P = softmax(S) along j                 each row: weights over the earlier positions, sum 1
        a = P v                                (B, H, T, D) weighted sum of values
        y = concat_heads(a) Wo^T + bo          (B, T, C)
    Backward, one line per line above, bottom to top:
        da = dy Wo (Dense backward), dP = da v^T, dv = P^T da,
        dS = P * (dP - sum_j(dP * P))          (softmax's Jacobian; masked entries have P = 0, so dS = 0)
        dq = dS k / sqrt(D), dk = dS^T q / sqrt(D), then dx = d(qkv) Wqkv (Dense backward).
    forward(x, cache=...) is generation's step with a key/value cache (see step()).
    """
    kind = "attention"

    def __init__(self, C, n_head, std=0.02, out_std=None, rng=None):
        if C % n_head:
            raise ValueError(f"the width {C} must be a multiple of the number of heads {n_head}")
        rng = rng if rng is not None else np.random.default_rng(0)
        self.C, self.H, self.D = C, n_head, C // n_head
        self.scale = 1.0 / float(np.sqrt(self.D))
        self.qkv = Dense(C, 3 * C, std=std, rng=rng)          # trick 2: one matmul for q, k, v
        self.proj = Dense(C, C, std=std if out_std is None else out_std, rng=rng)

    def _heads(self, x):
        """x (B, T, C) -> q, k, v, each (B, H, T, D) (views of one array)."""
        B, T, C = x.shape
        qkv = self.qkv.forward(x.reshape(B * T, C), keep=self._keep)     # (B T, 3C)
        qkv = qkv.reshape(B, T, 3, self.H, self.D).transpose(2, 0, 3, 1, 4)
        return qkv[0], qkv[1], qkv[2]

    def _merge(self, a):
        """a (B, H, T, D) -> the output y (B, T, C) through the projection Wo."""
        B, H, T, D = a.shape
        a = a.transpose(0, 2, 1, 3).reshape(B * T, self.C)
        return self.proj.forward(a, keep=self._keep).reshape(B, T, self.C)

    def forward(self, x, keep=True):
        self._keep = keep
        B, T, C = x.shape
        q, k, v = self._heads(x)
        q = q * self.scale                                     # trick 8: scale q (T D numbers), not S (T T)
        S = q @ k.transpose(0, 1, 3, 2)                        # (B, H, T, T), trick 1
        S += causal_mask(T, S.dtype)                           # trick 4
        in_blocks(softmax_rows, S)                             # trick 9; rows sum to 1 over j <= i
        P = S
        a = P @ v                                              # (B, H, T, D)
        if keep:
            self.q, self.k, self.v, self.P, self.shape = q, k, v, P, x.shape
        return self._merge(a)

    def backward(self, dy):
        B, T, C = self.shape
        da = self.proj.backward(dy.reshape(B * T, C))          # (B T, C)
        da = da.reshape(B, T, self.H, self.D).transpose(0, 2, 1, 3)      # (B, H, T, D)
        P = self.P
        dv = P.transpose(0, 1, 3, 2) @ da                      # (B, H, T, D)
        dP = da @ self.v.transpose(0, 1, 3, 2)                 # (B, H, T, T)
        in_blocks(softmax_blame, dP, P)                        # masked entries: P = 0, so dS = 0
        dS = dP
        dq = dS @ self.k                                       # (B, H, T, D)
        dq *= self.scale
        dk = dS.transpose(0, 1, 3, 2) @ self.q                 # self.q is already q / sqrt(D)
        dqkv = np.stack([dq, dk, dv])                          # (3, B, H, T, D)
        dqkv = dqkv.transpose(1, 3, 0, 2, 4).reshape(B * T, 3 * C)
        return self.qkv.backward(dqkv).reshape(B, T, C)

    def step(self, x, cache, size=None):
        """Generation with a key/value cache: x (B, t, C) are the NEW positions only; cache is a dict
        holding the keys and values (B, H, n, D) of the n positions before them (empty at first: then
        room for `size` positions is made, default t). Each new query looks at the n old keys and at
        the new ones up to itself; old keys and values are never computed again. Returns y (B, t, C)
        and updates the cache. Nothing is kept for backward.
        """
        self._keep = False
        q, k, v = self._heads(x)
        B, H, t, D = q.shape
        if "k" not in cache:                                   # room for every position, made once
            cache["k"] = np.empty((B, H, max(size or t, t), D), dtype=q.dtype)
            cache["v"] = np.empty_like(cache["k"])
            cache["n"] = 0
        n = cache["n"] + t
        if n > cache["k"].shape[2]:
            raise ValueError(f"the cache has room for {cache['k'].shape[2]} positions, not {n}")
        cache["k"][:, :, n - t:n], cache["v"][:, :, n - t:n] = k, v
        cache["n"] = n
        S = (q * self.scale) @ cache["k"][:, :, :n].transpose(0, 1, 3, 2)     # (B, H, t, n)
        if t > 1:                                              # one new query may see every key: no mask
            S += causal_mask(n, S.dtype)[n - t:]               # the last t rows of the n x n mask
        return self._merge(softmax(S) @ cache["v"][:, :, :n])

    def params(self):
        return self.qkv.params() + self.proj.params()

    def grads(self):
        return self.qkv.grads() + self.proj.grads()

    def astype(self, dtype):
        self.qkv.astype(dtype)
        self.proj.astype(dtype)
        return self


# ---------------------------------------------------------------- feed-forward

def gelu(z):
    """GELU, tanh form (GPT-2's): gelu(z) = 0.5 z (1 + t), t = tanh(sqrt(2/pi) (z + 0.044715 z^3)).
    Returns (gelu(z), t): t is kept for the derivative. Computed in row blocks (speed trick 9)."""
    y, t = np.empty_like(z), np.empty_like(z)
    in_blocks(_gelu, z, y, t)
    return y, t


def _gelu(z, y, t):
    np.multiply(z, z, out=t)
    t *= GELU_A * GELU_C
    t += GELU_C
    t *= z
    np.tanh(t, out=t)
    np.add(t, 1.0, out=y)
    y *= z
    y *= 0.5


def gelu_prime(z, t):
    """d gelu / dz = 0.5 (1 + t) + 0.5 z (1 - t^2) sqrt(2/pi) (1 + 3 * 0.044715 z^2), given t from gelu()."""
    out = np.empty_like(z)
    in_blocks(_gelu_prime, z, t, out)
    return out


def _gelu_prime(z, t, inner):
    np.multiply(z, z, out=inner)
    inner *= 3 * GELU_A * GELU_C
    inner += GELU_C                       # sqrt(2/pi) (1 + 3 a z^2)
    inner *= z
    one_minus = t * t
    np.subtract(1.0, one_minus, out=one_minus)
    inner *= one_minus
    inner += t
    inner += 1.0
    inner *= 0.5


class FeedForward(Layer):
    """x (B, T, C) -> y (B, T, C);  y = gelu(x W1^T + b1) W2^T + b2, W1 (4C, C), W2 (C, 4C).

    Each position on its own (no mixing across positions: that is attention's job).
    Backward: dh = dy W2 (Dense), dz = dh * gelu'(z), dx = dz W1 (Dense).
    """
    kind = "feedforward"

    def __init__(self, C, hidden=None, std=0.02, out_std=None, rng=None):
        rng = rng if rng is not None else np.random.default_rng(0)
        hidden = 4 * C if hidden is None else hidden
        self.fc = Dense(C, hidden, std=std, rng=rng)
        self.out = Dense(hidden, C, std=std if out_std is None else out_std, rng=rng)

    def forward(self, x, keep=True):
        B, T, C = x.shape
        z = self.fc.forward(x.reshape(B * T, C), keep)
        h, t = gelu(z)
        if keep:
            self.z, self.t = z, t
        return self.out.forward(h, keep).reshape(B, T, C)

    def backward(self, dy):
        B, T, C = dy.shape
        dh = self.out.backward(dy.reshape(B * T, C))
        dh *= gelu_prime(self.z, self.t)
        return self.fc.backward(dh).reshape(B, T, C)

    def params(self):
        return self.fc.params() + self.out.params()

    def grads(self):
        return self.fc.grads() + self.out.grads()

    def astype(self, dtype):
        self.fc.astype(dtype)
        self.out.astype(dtype)
        return self


# ---------------------------------------------------------------- a transformer block

class Block(Layer):
    """x (B, T, C) -> y (B, T, C): attention then feed-forward, each on a residual connection.

        h = x + attention(LayerNorm1(x))      (pre-norm, as GPT-2)
        y = h + feedforward(LayerNorm2(h))
    Backward of a residual y = x + f(x): dx = dy + f's backward of dy (the blame takes both roads).
    """
    kind = "block"

    def __init__(self, C, n_head, n_layer=1, rng=None):
        rng = rng if rng is not None else np.random.default_rng(0)
        out_std = 0.02 / np.sqrt(2 * n_layer)         # GPT-2: the residual projections start smaller
        self.ln1, self.ln2 = LayerNorm(C), LayerNorm(C)
        self.attn = CausalSelfAttention(C, n_head, out_std=out_std, rng=rng)
        self.ffn = FeedForward(C, out_std=out_std, rng=rng)

    def forward(self, x, keep=True, cache=None, size=None):
        if cache is None:
            h = x + self.attn.forward(self.ln1.forward(x, keep), keep)
        else:
            h = x + self.attn.step(self.ln1.forward(x, False), cache, size)
        h += self.ffn.forward(self.ln2.forward(h, keep), keep)
        return h

    def backward(self, dy):
        dh = dy + self.ln2.backward(self.ffn.backward(dy))
        return dh + self.ln1.backward(self.attn.backward(dh))

    def parts(self):
        return [self.ln1, self.attn, self.ln2, self.ffn]

    def params(self):
        return [p for part in self.parts() for p in part.params()]

    def grads(self):
        return [g for part in self.parts() for g in part.grads()]

    def astype(self, dtype):
        for part in self.parts():
            part.astype(dtype)
        return self


# ---------------------------------------------------------------- the loss at every position

def sequence_cross_entropy(z, targets):
    """Softmax + cross-entropy at every position: the digits' own loss, one "class" per character.

    z (B, T, V) logits, targets (B, T) ids. Returns (loss, dz): loss = the mean over all B T
    positions of -log softmax(z)[target] (nats per character), and dz = (p - y) / (B T),
    network.Network.output_delta's p - y with y the one-hot of each target.
    """
    V = z.shape[-1]
    rows, t = z.reshape(-1, V), targets.reshape(-1)
    n = len(t)
    shifted = rows - rows.max(axis=-1, keepdims=True)       # as network.softmax: exp never overflows
    p = np.exp(shifted)
    total = p.sum(axis=-1, keepdims=True)
    # -log p[target] = log(sum exp) - shifted[target], exact even where p underflows to 0
    loss = float(np.mean(np.log(total[:, 0], dtype=np.float64) - shifted[np.arange(n), t]))
    p /= total                                                 # softmax(z)
    p[np.arange(n), t] -= 1                                    # p - y, without making y
    p /= n
    return loss, p.reshape(z.shape)
