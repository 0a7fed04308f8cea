"""A ladder of character-level language models, from a table to a transformer.

    Bigram       logits of the next character = a row of a V x V table, picked by this character
    MLP          the last k characters' embeddings side by side -> a hidden layer -> logits
                 (Bengio et al. 2003, makemore part 2)
    Transformer  embeddings + positions -> 1..4 blocks of causal self-attention and feed-forward
                 -> LayerNorm -> logits (GPT-2's shape, in small)

Every model reads ids (B, T) and gives logits (B, T, V): at every position t the scores of
the character after it, from the characters 0..t. They share the interface the training
loop, the optimisers and the model files use (like network.Network and convnet.ConvNet):

    forward(ids)                 logits (B, T, V), nothing kept
    gradients(ids, targets)      (loss, grads): softmax + cross-entropy at every position
                                 (nats per character), grads in params() order
    params(), n_params(), weights, decays(), spec(), describe(), copy(), astype(),
    set_params(arrays), flops_per_token(), context (the most characters it reads at once)

A model is rebuilt from its spec, a small dict, e.g.
    {"kind": "transformer", "vocab": 65, "context": 64, "width": 128, "blocks": 4, "heads": 4}
    {"kind": "mlp", "vocab": 27, "context": 3, "embed": 10, "hidden": 200}
    {"kind": "bigram", "vocab": 27}
"""

import copy

import numpy as np

from i18n import _, ngettext, num

from .layers import Block, Dense, Embedding, LayerNorm, PositionEmbedding, sequence_cross_entropy

KINDS = ("bigram", "mlp", "transformer")
MAX_VOCAB = 2_000          # characters (a text with more distinct characters is not a text for this app)
MAX_CONTEXT = 1_024        # characters read at once
MAX_WIDTH = 1_024          # transformer width C, MLP embedding and hidden sizes
MAX_BLOCKS = 4
MAX_HEADS = 4
MAX_LM_PARAMS = 20_000_000


def _whole(spec, key, low, high, default=None):
    v = spec.get(key, default)
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or not low <= v <= high:
        raise ValueError(_("the model's {key} must be a whole number from {low} to {high} (got {value!r})").format(
            key=key, low=num(low), high=num(high), value=v))
    return int(v)


def spec_params(spec):
    """How many weights a spec makes (checked BEFORE anything is allocated). ValueError if the
    spec is not a model."""
    if not isinstance(spec, dict) or spec.get("kind") not in KINDS:
        raise ValueError(_("a language model's kind is one of {kinds} (got {spec:.60})").format(
            kinds=", ".join(KINDS), spec=repr(spec)))
    V = _whole(spec, "vocab", 2, MAX_VOCAB)
    kind = spec["kind"]
    if kind == "bigram":
        return V * V
    T = _whole(spec, "context", 1, MAX_CONTEXT)
    if kind == "mlp":
        E, H = _whole(spec, "embed", 1, MAX_WIDTH), _whole(spec, "hidden", 1, MAX_WIDTH * 4)
        return (V + 1) * E + (T * E + 1) * H + (H + 1) * V
    C, L = _whole(spec, "width", 1, MAX_WIDTH), _whole(spec, "blocks", 1, MAX_BLOCKS)
    heads = _whole(spec, "heads", 1, MAX_HEADS)
    if C % heads:
        raise ValueError(_("the width {width} must be a multiple of the number of heads {heads}").format(
            width=C, heads=heads))
    block = 2 * 2 * C + (C + 1) * 3 * C + (C + 1) * C + (C + 1) * 4 * C + (4 * C + 1) * C
    return V * C + T * C + L * block + 2 * C + (C + 1) * V


class LanguageModel:
    """What the three models share; each subclass builds self.layers and defines _up / _down."""
    kind = "model"

    def __init__(self, spec, seed=0, max_params=MAX_LM_PARAMS):
        n = spec_params(spec)
        if n > max_params:
            raise ValueError(_("the model would have {n} weights; at most {most} are allowed").format(
                n=num(n), most=num(max_params)))
        self._spec = {k: int(v) if k != "kind" else v for k, v in spec.items()}
        self.V = self._spec["vocab"]
        self.rng = np.random.default_rng(seed)

    # ------------------------------------------------------------ description
    def spec(self):
        return dict(self._spec)

    def params(self):
        return [p for layer in self.layers for p in layer.params()]

    def grads(self):
        return [g for layer in self.layers for g in layer.grads()]

    def replica(self):
        """A model sharing this one's weights (the very same arrays: an optimiser's step is seen by both)
        with layers of its own, for another thread to run forward and backward at the same time
        (each layer keeps what its backward needs: engine/fast.py trick 1)."""
        return copy.deepcopy(self, {id(p): p for p in self.params()})

    def n_params(self):
        return sum(p.size for p in self.params())

    @property
    def weights(self):
        """The weight matrices (2-D arrays, the ones weight decay shrinks)."""
        return [p for p in self.params() if p.ndim >= 2]

    def decays(self):
        """For each of params(): True if weight decay applies (matrices and embeddings; not biases,
        LayerNorm's gains and shifts), as in nanoGPT."""
        return [p.ndim >= 2 for p in self.params()]

    @property
    def dtype(self):
        return self.params()[0].dtype

    def astype(self, dtype):
        for layer in self.layers:
            layer.astype(dtype)
        return self

    def set_params(self, arrays):
        """Put in weights in params() order (e.g. from a model file), as copies; shapes must match."""
        arrays = list(arrays)
        mine = self.params()
        if len(arrays) != len(mine):
            raise ValueError(f"this model has {len(mine)} weight arrays, got {len(arrays)}")
        for p, a in zip(mine, arrays):
            if p.shape != a.shape:
                raise ValueError(f"a weight array of shape {p.shape} got {a.shape}")
            p[...] = a              # in place: every layer keeps its own array

    def copy(self):
        twin = build_model(self.spec())
        twin.astype(self.dtype)
        twin.set_params(self.params())
        return twin

    def __repr__(self):
        return self.describe()

    # ------------------------------------------------------------ forward and backward
    def forward(self, ids, keep=False):
        """ids (B, T) -> logits (B, T, V)."""
        ids = np.asarray(ids)
        if ids.ndim != 2 or ids.shape[1] > self.context:
            raise ValueError(f"the model reads (sequences, at most {self.context} positions) of ids, got {ids.shape}")
        return self._up(ids, keep)

    def gradients(self, ids, targets):
        """One batch's loss (mean nats per character) and the gradients of every weight, in params() order."""
        z = self.forward(ids, keep=True)
        loss, dz = sequence_cross_entropy(z, targets)
        self._down(dz)
        return loss, self.grads()

    def loss_on(self, ids, targets):
        """Mean nats per character on a batch, nothing kept."""
        return sequence_cross_entropy(self.forward(ids), targets)[0]

    def flops_per_token(self, backward=True):
        """About 2 operations per multiply-add of every weight that multiplies (x3 with backward: dW and dx),
        plus attention's scores and weighted sums (transformer)."""
        tables = (Embedding, PositionEmbedding)             # read by index: nothing multiplied
        return 2 * sum(p.size for layer in self.layers if not isinstance(layer, tables)
                       for p in layer.params() if p.ndim >= 2) * (3 if backward else 1)


class Bigram(LanguageModel):
    """The next character from this one only: logits = W[id], W a V x V table.

    A count table divided by its row sums gives P(next | this); this network, trained with
    softmax + cross-entropy, learns the same probabilities: softmax(W[a]) -> counts[a] / sum(counts[a]).
    """
    kind = "bigram"
    context = MAX_CONTEXT     # reads any length: every position on its own

    def __init__(self, spec, seed=0, max_params=MAX_LM_PARAMS):
        super().__init__(spec, seed, max_params)
        self.table = Embedding(self.V, self.V, std=0.01, rng=self.rng)
        self.layers = [self.table]

    def describe(self):
        return _("bigram: a {V} x {V} table of logits").format(V=self.V)

    def _up(self, ids, keep):
        return self.table.forward(ids, keep)

    def _down(self, dz):
        self.table.backward(dz)

    def flops_per_token(self, backward=True):
        return 4 * self.V * (2 if backward else 1)       # softmax and its blame over V scores


class MLP(LanguageModel):
    """The next character from the last k characters (Bengio et al. 2003):

        e = E[c_{t-k+1}], ..., E[c_t]       k embeddings (k, E), concatenated: (k E,)
        h = tanh(e W1^T + b1)               hidden layer (H,)
        z = h W2^T + b2                     logits (V,)
    Positions before the text's start read a "nothing yet" character, id V (row V of E).
    Backward: Dense, tanh' = 1 - h^2, Dense, then the embedding's scatter-add.
    """
    kind = "mlp"

    def __init__(self, spec, seed=0, max_params=MAX_LM_PARAMS):
        super().__init__(spec, seed, max_params)
        s = self._spec
        self.k, E, H = s["context"], s["embed"], s["hidden"]
        self.context = MAX_CONTEXT          # reads any length; looks back k characters from each position
        self.embed = Embedding(self.V + 1, E, std=1.0, rng=self.rng)
        self.hidden = Dense(self.k * E, H, std=5 / 3 / np.sqrt(self.k * E), rng=self.rng)   # tanh gain 5/3
        self.out = Dense(H, self.V, std=0.01, rng=self.rng)
        self.layers = [self.embed, self.hidden, self.out]

    def describe(self):
        s = self._spec
        return _("MLP: last {k} characters, embeddings of {embed}, hidden layer of {hidden} (tanh)").format(
            k=self.k, embed=s['embed'], hidden=num(s['hidden']))

    def windows(self, ids):
        """ids (B, T) -> (B, T, k): at each position the k ids ending there (id V before the start)."""
        B, T = ids.shape
        padded = np.concatenate([np.full((B, self.k - 1), self.V, dtype=ids.dtype), ids], axis=1)
        return np.lib.stride_tricks.sliding_window_view(padded, self.k, axis=1)

    def _up(self, ids, keep):
        B, T = ids.shape
        e = self.embed.forward(self.windows(ids), keep)                    # (B, T, k, E)
        h = np.tanh(self.hidden.forward(e.reshape(B * T, -1), keep))       # (B T, H)
        if keep:
            self.h = h
        return self.out.forward(h, keep).reshape(B, T, self.V)

    def _down(self, dz):
        B, T, V = dz.shape
        dh = self.out.backward(dz.reshape(B * T, V))
        dh *= 1 - self.h * self.h
        de = self.hidden.backward(dh)
        self.embed.backward(de.reshape(B, T, self.k, -1))


class Transformer(LanguageModel):
    """GPT in small: x = E[ids] + P[positions], then blocks of causal self-attention and feed-forward
    (layers.Block), then LayerNorm and logits = x W^T + b. Reads at most `context` characters."""
    kind = "transformer"

    def __init__(self, spec, seed=0, max_params=MAX_LM_PARAMS):
        super().__init__(spec, seed, max_params)
        s = self._spec
        self.context, C, L = s["context"], s["width"], s["blocks"]
        self.tok = Embedding(self.V, C, rng=self.rng)
        self.pos = PositionEmbedding(self.context, C, rng=self.rng)
        self.blocks = [Block(C, s["heads"], L, rng=self.rng) for _ in range(L)]
        self.ln_f = LayerNorm(C)
        self.head = Dense(C, self.V, std=0.02, rng=self.rng)
        self.layers = [self.tok, self.pos] + self.blocks + [self.ln_f, self.head]

    def describe(self):
        s = self._spec
        return ", ".join([ngettext("transformer: {n} block", "transformer: {n} blocks", s['blocks']).format(n=s['blocks']),
                          ngettext("{n} head", "{n} heads", s['heads']).format(n=s['heads']),
                          _("width {n}").format(n=s['width']), _("context {n}").format(n=s['context'])])

    def _up(self, ids, keep, caches=None, start=0):
        B, T = ids.shape
        x = self.pos.forward(self.tok.forward(ids, keep), keep, start=start)
        for i, block in enumerate(self.blocks):
            x = block.forward(x, keep, None if caches is None else caches[i], self.context)
        x = self.ln_f.forward(x, keep)
        C = x.shape[-1]
        return self.head.forward(x.reshape(B * T, C), keep).reshape(B, T, self.V)

    def _down(self, dz):
        B, T, V = dz.shape
        dx = self.head.backward(dz.reshape(B * T, V)).reshape(B, T, -1)
        dx = self.ln_f.backward(dx)
        for block in reversed(self.blocks):
            dx = block.backward(dx)
        self.tok.backward(self.pos.backward(dx))

    def step(self, ids, caches, start):
        """Generation with a key/value cache: ids (B, t) are new characters at positions start..start+t-1;
        caches (one dict per block, empty at first) hold the keys and values of positions 0..start-1.
        Returns the logits (B, t, V) of the new positions; each costs one position's work."""
        if start + ids.shape[1] > self.context:
            raise ValueError(f"the model reads at most {self.context} characters at once")
        return self._up(ids, False, caches, start)

    def flops_per_token(self, backward=True):
        s = self._spec
        attention = 2 * 2 * s["blocks"] * s["context"] * s["width"] // 2    # scores + weighted sum, mean over t
        return super().flops_per_token(backward) + attention * (3 if backward else 1)


MODELS = {cls.kind: cls for cls in (Bigram, MLP, Transformer)}


def build_model(spec, seed=0, max_params=MAX_LM_PARAMS):
    """The model of a spec (see the module doc); ValueError for a spec that is not one."""
    spec_params(spec)
    return MODELS[spec["kind"]](spec, seed, max_params)
