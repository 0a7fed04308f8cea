"""The bigram count model: the next character's probabilities from a table of counts.

The simplest language model (makemore's first): it looks only at the current
character a and says how likely each next character b is, from how often b
followed a in the training text:

    N[a, b]   = how many times b follows a                  (V, V) counts
    P[a, b]   = (N[a, b] + k) / sum_b' (N[a, b'] + k)       each row adds up to 1
    loss      = -(1/n) * sum over the n pairs (a, b) of log P[a, b]

k ("smoothing", add-k) gives pairs never seen a small probability, so a text
with a pair the training text lacks does not get log 0 = minus infinity. The
loss is the average negative log-likelihood in nats per character (natural
log), the same number as the cross-entropy of a softmax network; a model that
knows nothing (every character equally likely) scores log V.

Everything is whole-array NumPy: the counts are one np.bincount over a key
per pair, the loss one fancy index and a mean. Sampling goes character by
character (each draw needs the one before), one vectorised draw per step.

The same probabilities from a network (the neural Bigram of models.py, trained with
softmax + cross-entropy): text_loss_and_gradients, fit, network_probabilities.
"""
import numpy as np

from ..network import cross_entropy_terms, softmax


def counts(ids, size):
    """N (size, size) int64: N[a, b] = how many times id b follows id a in ids.

    Pairs with an unknown character (id -1) are not counted."""
    ids = np.asarray(ids, dtype=np.int64)
    a, b = ids[:-1], ids[1:]
    known = (a >= 0) & (b >= 0)
    return np.bincount(a[known] * size + b[known], minlength=size * size).reshape(size, size)


def probabilities(N, smoothing=1.0):
    """P (V, V) float64, P[a] = the next character's probabilities after a: (N[a] + k) / its row's sum.

    A row of zeros (a character never followed by anything, such as the text's
    last one when it occurs once) with k = 0 gets equal probabilities."""
    N = np.asarray(N, dtype=np.float64) + smoothing
    totals = N.sum(axis=1, keepdims=True)
    return np.divide(N, totals, out=np.full_like(N, 1.0 / N.shape[1]), where=totals > 0)


def nll(P, ids):
    """Average negative log-likelihood of the pairs of ids under P, in nats per character.

    Returns (loss, pairs used, pairs left out). Pairs with an unknown character
    (id -1) are left out: the model has no probability for them. A pair P gives
    probability 0 (smoothing 0, pair never seen) makes the loss infinite."""
    ids = np.asarray(ids, dtype=np.int64)
    a, b = ids[:-1], ids[1:]
    known = (a >= 0) & (b >= 0)
    p = P[a[known], b[known]]
    n = int(known.sum())
    with np.errstate(divide="ignore"):
        loss = float(-np.log(p).mean()) if n else float("nan")
    return loss, n, int(len(known) - n)


def with_temperature(P, temperature):
    """Each row of P sharpened (temperature < 1) or flattened (> 1): P^(1/T), rows made to add up to 1.

    The same as softmax(log P / T): dividing a network's logits by T before its softmax."""
    logp = np.log(np.maximum(P, 1e-300)) / temperature
    logp -= logp.max(axis=1, keepdims=True)
    Q = np.exp(logp) * (P > 0)
    return Q / Q.sum(axis=1, keepdims=True)


def sample(P, start, length, temperature=1.0, rng=None):
    """Draw `length` ids one after another from the table, starting after id `start`:
    each next id drawn from row P[previous] (at `temperature`). Returns (length,) int32."""
    rng = np.random.default_rng(rng)
    cumulative = np.cumsum(with_temperature(P, temperature), axis=1)
    draws = rng.random(length)                                # all the uniform numbers at once
    out = np.empty(length, dtype=np.int32)
    previous = start
    for t in range(length):                                   # each draw needs the one before
        row = cumulative[previous]
        previous = min(int(np.searchsorted(row, draws[t] * row[-1], side="right")), len(row) - 1)
        out[t] = previous
    return out


# ---------------------------------------------------------------- its neural twin

def text_loss_and_gradients(model, N):
    """The neural Bigram's (engine/language/models.py) loss on every pair of a text and its
    gradients, worked out from the text's counts N (V, V) in V rows instead of n positions.

    The network gives the pair (a, b) the probability p_a[b] = softmax(W[a])[b], so the mean
    cross-entropy over the n pairs of the text groups by the first character a:

        loss = (1/n) sum_a sum_b N[a, b] (-log p_a[b]) = sum_a w_a CE(p_a, y_a)
        with y_a = N[a] / N_a (the count table's row: a soft target) and w_a = N_a / n

    and its gradient for the logits W[a] is w_a (p_a - y_a): the digits' softmax + cross-entropy
    delta p - y, with the row of counts as y. Exactly model.gradients on the whole text, which
    would take n x V numbers (1 M x 65 for Shakespeare) where this takes V x V.
    Returns (loss in nats per character, gradients in model.params() order)."""
    V = N.shape[0]
    N = np.asarray(N, dtype=np.float64)
    totals = N.sum(axis=1, keepdims=True)
    y = N / np.maximum(totals, 1)
    w = totals / totals.sum()
    rows = np.arange(V)[:, None]                               # (V, 1): each character once
    z = model.table.forward(rows, keep=True)[:, 0]             # (V, V) logits: the table itself
    p = softmax(z.astype(np.float64))
    loss = float((w * cross_entropy_terms(p, y, eps=1e-300)).sum())
    model.table.backward((w * (p - y)).astype(z.dtype)[:, None, :])
    return loss, model.grads()


def fit(model, N, steps, optimizer):
    """`steps` steps of gradient descent (full batch: every pair of the text) with `optimizer`
    (engine/optim.py) on the neural Bigram. Returns the loss before each step."""
    losses = []
    for _ in range(steps):
        loss, grads = text_loss_and_gradients(model, N)
        optimizer.step(model.params(), grads)
        losses.append(loss)
    return losses


def network_probabilities(model):
    """The neural Bigram's probabilities (V, V) float64: row a = softmax(W[a])."""
    return softmax(model.table.W.astype(np.float64))
