"""The key/value cache, and generation's lean step: one new character at a time (speed trick 11).

    cache = KVCache(model)       room for model.context positions, made once
    logits = cache.read(ids)     several characters at once (the window's start), batched
    logits = cache.next(i)       one more character: its keys and values join the cache
    cache.clear()                the window restarts: the arrays stay, only the count goes back to 0

What the cache saves. Without it every new character runs the model over the whole window again,
computing the keys and values of the characters already read again and again. With it, each
attention layer keeps them, so a new character costs one position's work: its own query, key and
value, and one row of scores against the cached keys.

Why a lean step of its own. One position's arithmetic is small: a vector times each weight matrix
(about 0.8 million multiply-adds for the baby GPT of 4 blocks of width 128). So the time goes to the
bookkeeping around it: layers.py's code is made for training batches (B, T, C), and for one
position its reshapes, transposes, score stacks and new result arrays cost more than the
arithmetic itself, some 50 NumPy calls per block at a microsecond or two each. Here one position
is a plain vector (C,), computed with the same formulas in fewer calls:

  a. the keys and values of every block live in two arrays made once (blocks, 1, heads, context, D),
     written in place, one row per new character; a restart only sets the count back;
  b. every intermediate result (LayerNorm, q k v, scores, weighted sum, feed-forward) has an array
     made once and is written with out=, so no new arrays are made per character;
  c. LayerNorm of one vector: its mean and variance are numbers (a sum and a dot product), not columns;
  d. the heads' scores and weighted sums: two stacked products (heads, 1, D) @ (heads, D, n) and
     (heads, 1, n) @ (heads, n, D), one NumPy call each.

Same weights, same formulas as Transformer.forward (tests: the logits equal the full forward's in
float64 within 1e-10; generated text is identical with and without the cache). read() is
Transformer.step, the batched layers' code, writing into the same arrays.
"""
import numpy as np

from .layers import _gelu


def _layernorm(x, ln, out):
    """LayerNorm (layers.LayerNorm.forward) of one vector x (C,) into out: (x - mean) / sqrt(var + eps) * g + b."""
    inv_C = 1.0 / len(x)
    np.subtract(x, np.add.reduce(x) * inv_C, out=out)
    out *= 1.0 / np.sqrt(np.dot(out, out) * inv_C + ln.eps)
    out *= ln.g
    out += ln.b
    return out


def _dense(x, layer, out):
    """y = x W^T + b (layers.Dense.forward) for one vector x, into out."""
    np.matmul(x, layer.W.T, out=out)
    out += layer.b
    return out


class KVCache:
    """A Transformer's keys and values for one sequence being written, and its one-position step."""

    def __init__(self, model):
        self.model = model
        L, T, V = len(model.blocks), model.context, model.V
        attn = model.blocks[0].attn
        H, D, C = attn.H, attn.D, attn.C
        dt = model.dtype
        self.k = np.empty((L, 1, H, T, D), dtype=dt)      # (a) block l's keys: k[l, 0, head, position]
        self.v = np.empty_like(self.k)
        self.n = 0                                         # positions cached
        # what Transformer.step (CausalSelfAttention.step) reads and writes: views of the same arrays
        self.blocks = [{"k": self.k[l], "v": self.v[l], "n": 0} for l in range(L)]
        # (b) one array per intermediate result
        self.x, self.h, self.y = (np.empty(C, dtype=dt) for _ in range(3))
        self.qkv = np.empty(3 * C, dtype=dt)
        self.scores = np.empty((H, 1, T), dtype=dt)
        self.a = np.empty((H, 1, D), dtype=dt)
        self.z, self.g, self.t = (np.empty(4 * C, dtype=dt) for _ in range(3))
        self.logits = np.empty(V, dtype=dt)

    def clear(self):
        """Forget every position (the window restarts); the arrays are kept."""
        self.n = 0

    def read(self, ids):
        """Characters ids (a list) at positions n, n+1, ...: all at once through Transformer.step.
        Returns the last one's logits (V,)."""
        for block in self.blocks:
            block["n"] = self.n
        logits = self.model.step(np.asarray([ids]), self.blocks, self.n)[0, -1]
        self.n += len(ids)
        return logits

    def next(self, i):
        """One more character, id i, at position n. Returns its logits (V,): the next character's scores
        (an array of the cache's own, overwritten by the next call)."""
        m, t = self.model, self.n
        if t >= m.context:
            raise ValueError(f"the model reads at most {m.context} characters at once")
        n = t + 1
        x = np.add(m.tok.W[i], m.pos.P[t], out=self.x)        # embedding + position
        for l, block in enumerate(m.blocks):
            attn = block.attn
            qkv = _dense(_layernorm(x, block.ln1, self.h), attn.qkv, self.qkv)
            q, k, v = qkv.reshape(3, attn.H, 1, attn.D)         # views, each (H, 1, D)
            K, V = self.k[l, 0], self.v[l, 0]                   # (H, T, D)
            K[:, t:n], V[:, t:n] = k, v                         # the new key and value join the cache
            q *= attn.scale
            S = np.matmul(q, K[:, :n].transpose(0, 2, 1), out=self.scores[:, :, :n])   # (H, 1, n), no mask:
            S -= S.max(axis=-1, keepdims=True)                  # the newest query may see every cached key
            np.exp(S, out=S)
            S /= S.sum(axis=-1, keepdims=True)                  # softmax over the n positions
            a = np.matmul(S, V[:, :n], out=self.a)              # (H, 1, D): each head's weighted sum
            x += _dense(a.reshape(-1), attn.proj, self.y)       # residual
            z = _dense(_layernorm(x, block.ln2, self.h), block.ffn.fc, self.z)
            _gelu(z, self.g, self.t)                            # layers.gelu's formula, into self.g
            x += _dense(self.g, block.ffn.out, self.y)          # residual
        self.n = n
        return _dense(_layernorm(x, m.ln_f, self.h), m.head, self.logits)
