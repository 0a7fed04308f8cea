"""Why did it say 7? Explanations of one prediction from the network's own gradients.

Backpropagation already sends the loss's blame dL/dz from layer to layer; one more step
(delta @ W of the first layer) gives the blame of every input pixel, d(out)/dx. Everything
here is built on that (Network.input_gradient, ConvNet.input_gradient) or on plain forward
passes, for MLPs and CNNs alike:

    input_gradient        d(out)/dx for a class score, its probability, a score margin or the loss
    occlusion             the guess's probability as a blank patch slides over the digit
    NearestIndex          the training images nearest to a digit, in the last hidden layer or in pixels
    fool                  the smallest change (by gradient steps) that flips the answer to a target
    dream                 what the network thinks a k looks like: gradient ascent from a starting picture
                          (mean_digit: the average training digit)

Images are rows x (n, 784) (or one image (784,)) of ink in [0, 1], as everywhere. Nothing
here changes the network; a CNN keeps values on its layers during backward, so the
functions work on a private copy of it (a shared model may be used by many sessions).
"""
from dataclasses import dataclass

import numpy as np

from .convnet import CHUNK, CHUNK_VALUES, ConvNet
from .network import one_hot

SIDE = 28
OUTPUTS = ("score", "prob", "loss", "margin")


def _own(net):
    """The network itself (an MLP keeps nothing on itself) or a private copy of a CNN."""
    return net.copy() if isinstance(net, ConvNet) else net


def _rows(x):
    x = np.asarray(x)
    return x[None, :] if x.ndim == 1 else x


# ---------------------------------------------------------------- the input gradient

def blame(net, output, cls=None, other=None):
    """The function (z, a) -> d(out)/dz (n, k) of the output layer for one kind of output of class cls
    (None: the guess, argmax z; an int or one per row), e_c being the one-hot row of class c:

        score   out = z_c                      d/dz = e_c
        margin  out = z_c - z_other            d/dz = e_c - e_other          ("why c and not other?")
        prob    out = a_c = softmax(z)_c       d/dz = a_c (e_c - a)          (sigmoid outputs: a_c (1 - a_c) e_c)
        loss    out = L(a, e_c), c the label   d/dz = a - e_c for softmax + cross-entropy (output_delta, times n
                                               because output_delta averages over the batch)
    """
    if output not in OUTPUTS:
        raise ValueError(f"unknown output {output!r}; choose one of {', '.join(OUTPUTS)}")
    if output == "margin" and other is None:
        raise ValueError("a margin needs the other class")

    def d_out_dz(z, a):
        n, k = z.shape
        c = z.argmax(axis=1) if cls is None else np.broadcast_to(cls, (n,))
        e = one_hot(c, k, z.dtype)
        if output == "score":
            return e
        if output == "margin":
            return e - one_hot(np.broadcast_to(other, (n,)), k, z.dtype)
        if output == "prob":
            a_c = a[np.arange(n), c][:, None]
            return e * a_c * (1 - a_c) if net.loss == "mse" else a_c * (e - a)
        return net.output_delta(z, a, e) * n
    return d_out_dz


def input_gradient(net, x, output="prob", cls=None, other=None):
    """d(out)/dx (n, 784): how much `output` of class cls (see blame) changes per unit of ink added to each
    pixel, from the engine's own backward pass: delta_L = d(out)/dz_L, then delta_{l-1} = (delta_l W_l) * f'(z_{l-1})
    down every layer, and d(out)/dx = delta_1 W_1. Returns (gradient, output activations a (n, k))."""
    z, a, dx = _own(net).input_gradient(_rows(x), blame(net, output, cls, other))
    return dx, a


def gradient_times_input(gradient, x):
    """Gradient x input, g_i x_i: the first-order share of each pixel's ink in the output (a pixel without
    ink gets 0), since out(x) - out(0) ~ sum_i g_i x_i when the output is close to linear in x."""
    return gradient * x


# ---------------------------------------------------------------- occlusion

@dataclass
class Occlusion:
    cls: int                 # the class whose output is watched
    p: float                 # its output with nothing covered
    drops: np.ndarray        # (m, m): p minus its output with the patch at each position (row, column)
    pixel_map: np.ndarray    # (784,): the mean drop of the patches covering each pixel


def occlusion(net, x, cls=None, patch=6, stride=2, fill=0.0):
    """Cover a patch x patch square of the image (pixels set to `fill`, 0 = no ink) at every position a stride
    apart, all positions in one batch of m^2 images (m = (28 - patch) // stride + 1), and watch a_cls:

        drop(r, c) = a_cls(x) - a_cls(x with the square at (r, c) covered)
        pixel_map_i = mean of drop over the squares that cover pixel i

    A big drop marks ink the answer needed; a negative one ink that argued against it."""
    x = np.asarray(x, dtype=np.float32).ravel()
    starts = np.arange(0, SIDE - patch + 1, stride)
    m, side = len(starts), np.arange(SIDE)
    along = (side >= starts[:, None]) & (side < starts[:, None] + patch)        # (m, 28): rows one square covers
    covered = (along[:, None, :, None] & along[None, :, None, :]).reshape(m * m, SIDE * SIDE)
    probs = net.predict_proba(np.vstack([x[None, :], np.where(covered, np.float32(fill), x)]))
    cls = int(probs[0].argmax()) if cls is None else int(cls)
    drops = probs[0, cls] - probs[1:, cls]
    pixel_map = (drops @ covered) / np.maximum(covered.sum(axis=0), 1)
    return Occlusion(cls, float(probs[0, cls]), drops.reshape(m, m), pixel_map.astype(np.float32))


# ---------------------------------------------------------------- nearest training images

def hidden_features(net, x, chunk=None):
    """What the last hidden layer makes of x (n, 784): the input of the output layer, (n, d), a chunk at a time
    (by default as many images as ConvNet.logits takes at once, 2,000 for an MLP).
    For an MLP a_{L-1} (x itself if it has no hidden layer); for a CNN what goes into its last dense layer."""
    x = _rows(x)
    if chunk is None:
        chunk = max(1, min(CHUNK, CHUNK_VALUES // net.peak_values())) if isinstance(net, ConvNet) else 2000
    parts = []
    for i in range(0, len(x), chunk):
        if isinstance(net, ConvNet):
            a = np.asarray(x[i:i + chunk], dtype=net.dtype).reshape((-1,) + net.input_shape)
            for layer in net.layers[:-1]:
                a = layer.forward(a, keep=False)
            parts.append(np.asarray(a.reshape(len(a), -1), dtype=np.float32))
        else:
            parts.append(np.asarray(net.forward(x[i:i + chunk], keep=True)[1][-2], dtype=np.float32))
    return np.concatenate(parts) if parts else np.zeros((0, 0), np.float32)


def search_rows(n, limit=10_000, seed=0):
    """Which of n training images to search: all of them, or `limit` picked at random with a fixed seed (sorted),
    so that a big training set's features fit in memory (10,000 x 1,024 float32 = 41 MB)."""
    if n <= limit:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, limit, replace=False))


class NearestIndex:
    """Rows F (N, d) to search by Euclidean distance, with their squared lengths kept:

        ||q - f||^2 = ||q||^2 - 2 q.f + ||f||^2

    so one matrix-vector product gives the distances to every row at once."""

    def __init__(self, features):
        self.F = np.ascontiguousarray(features, dtype=np.float32)
        self.sq = np.einsum("ij,ij->i", self.F, self.F)

    def nearest(self, q, k=8):
        """The k rows nearest to q (d,), nearest first: (indices (k,), distances (k,))."""
        q = np.asarray(q, dtype=np.float32).ravel()
        d2 = self.sq - 2 * (self.F @ q) + q @ q
        k = min(k, len(d2))
        idx = np.argpartition(d2, k - 1)[:k] if k < len(d2) else np.arange(len(d2))
        idx = idx[np.argsort(d2[idx], kind="stable")]
        return idx, np.sqrt(np.maximum(d2[idx], 0))


# ---------------------------------------------------------------- the smallest change that fools it

@dataclass
class Fooled:
    x: np.ndarray            # (n, 784) the changed images
    target: np.ndarray       # (n,) the class each was pushed towards
    flipped: np.ndarray      # (n,) bool: the answer is now the target
    steps: np.ndarray        # (n,) gradient steps taken
    before: np.ndarray       # (n, k) outputs for the original images
    after: np.ndarray        # (n, k) outputs for the changed ones

    def change(self, x):
        return self.x - _rows(x)


def changed_pixels(delta, at_least=0.1):
    """How many pixels moved by at least `at_least` (a tenth of full ink by default), per row of delta."""
    return (np.abs(delta) >= at_least).sum(axis=-1)


def fool(net, x, target, step=0.1, max_steps=300, norm="l2", margin=1e-3):
    """Push images x (n, 784) towards `target` (an int or one per row) by small gradient steps on the loss
    L(x, e_target) until the network's answer is the target (its score ahead of every other by `margin`):

        x <- clip(x - step * g / ||g||_2, 0, 1)      norm "l2": each step has length `step` in pixel space
        x <- clip(x - step * sign(g), 0, 1)          norm "sign": every pixel moves by `step`
        g = dL/dx, the input gradient of the loss with the target as label

    All images go in one batch; an image leaves it when it flips. At most max_steps steps."""
    x = np.array(_rows(x), dtype=np.float32)
    mine = _own(net)
    n = len(x)
    target = np.broadcast_to(np.asarray(target), (n,)).astype(int)
    before = mine.predict_proba(x)
    if (before.argmax(axis=1) == target).any():
        raise ValueError("the network already gives that answer: pick another target class")
    flipped, steps = np.zeros(n, bool), np.zeros(n, int)
    active = np.arange(n)
    for t in range(max_steps + 1):
        z, _, g = mine.input_gradient(x[active], blame(net, "loss", target[active]))
        rows = np.arange(len(active))
        ahead = z[rows, target[active]] - np.where(np.eye(z.shape[1], dtype=bool)[target[active]], -np.inf, z).max(1)
        hit = ahead > margin
        flipped[active[hit]], steps[active[hit]] = True, t
        active, g = active[~hit], g[~hit]
        if not len(active) or t == max_steps:
            break
        if norm == "sign":
            move = np.sign(g)
        else:
            move = g / np.maximum(np.linalg.norm(g, axis=1, keepdims=True), 1e-12)
        x[active] = np.clip(x[active] - step * move, 0, 1)
    steps[active] = max_steps
    return Fooled(x, target, flipped, steps, before, mine.predict_proba(x))


# ---------------------------------------------------------------- what it thinks a k looks like

def smoothness(img):
    """S = sum of (x_i - x_j)^2 over neighbouring pixels i, j (left-right and up-down) of img (28, 28), and its
    gradient dS/dx_i = 2 sum over the neighbours j of i of (x_i - x_j). Small S: a smooth picture, no speckle."""
    dh, dv = np.diff(img, axis=1), np.diff(img, axis=0)
    grad = np.zeros_like(img)
    grad[:, :-1] -= 2 * dh
    grad[:, 1:] += 2 * dh
    grad[:-1, :] -= 2 * dv
    grad[1:, :] += 2 * dv
    return float((dh ** 2).sum() + (dv ** 2).sum()), grad


def mean_digit(x):
    """The average of training images x (n, 784) as ink in [0, 1] (784,): the picture the class pictures start
    from. A blank page would not do: when every first-layer unit of a ReLU network has a negative bias (a
    freshly trained CNN's often have), none fires on a blank page, and the gradient there is exactly zero."""
    x = _rows(x)
    return np.asarray(x.mean(axis=0, dtype=np.float64) / (255.0 if x.dtype == np.uint8 else 1.0), np.float32)


def dream(net, cls, steps=60, step=0.1, smooth=1.0, every=5, start=None):
    """Gradient ascent on the input for class cls, starting from `start` (784,) (default: a blank page), on

        J(x) = log a_cls(x) - smooth/16 * S(x)               S: smoothness() of the 28 x 28 picture
        x <- clip(x + step * h / max|h| - smooth/16 * dS/dx, 0, 1)

    h = d log a_cls / dx = -dL(x, e_cls)/dx, the loss's input gradient with cls as the label, taken in steps of
    `step` (at most) per pixel; the penalty's own step is stable for smooth <= 1 (S's curvature is at most 16).
    Yields (t, x (784,), a_cls) after every `every` steps and after the last: the picture as it forms."""
    mine = _own(net)
    x = np.zeros(SIDE * SIDE, np.float32) if start is None else np.array(start, dtype=np.float32).ravel()
    for t in range(1, steps + 1):
        _, _, g = mine.input_gradient(x[None, :], blame(net, "loss", cls))
        _, ds = smoothness(x.reshape(SIDE, SIDE))
        x = x - step * g[0] / max(float(np.abs(g).max()), 1e-12) - smooth / 16 * ds.ravel()
        x = np.clip(x, 0, 1).astype(np.float32)
        if t % every == 0 or t == steps:
            yield t, x.copy(), float(mine.predict_proba(x[None, :])[0, cls])
