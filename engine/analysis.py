"""Looking inside a trained network: hidden activations, PCA maps, robustness
(noise, rotation, shifts), and how a convolution's maps move with the image.

Everything here only reads the network; nothing is changed. Batches are rows,
as everywhere: x is (n, 784) float32 in [0, 1]. When the maths cannot be done
for a model (its numbers overflow to infinity, the PCA does not converge), the
functions raise AnalysisError saying why, for the page to show.
"""
import hashlib

import numpy as np

from engine.augment import SIDE, bilinear
from engine.data import to_float
from engine.layers import Activation, Conv2D, Dense, Flatten
from engine.linework import rows_per_part, run_through
from engine.metrics import accuracy
from i18n import _, num


class AnalysisError(ValueError):
    """The model cannot be analysed (its numbers overflow...); the message says why."""


def _require_finite(h, what):
    """Raise AnalysisError if h holds NaN or infinity: nothing sensible can be drawn from it."""
    if not np.isfinite(h).all():
        raise AnalysisError(f"{what} overflow to infinity or NaN, because the model's weights are too "
                            f"large for float32 arithmetic")


def fingerprint(net):
    """A short hex digest of the network's shape and every weight and bias.

    Two networks with the same fingerprint compute exactly the same function,
    so it is a safe key for caching results per model.
    """
    h = hashlib.blake2b(digest_size=16)
    h.update(f"{net.sizes}|{net.activation}|{net.loss}|{net.describe()}".encode())
    for p in net.params():
        h.update(np.ascontiguousarray(p).tobytes())
    return h.hexdigest()


# ---------------------------------------------------------------- activations

def layer_values(net, x, scores=False, max_width=None):
    """What every layer holds for the batch x: [x, a1, ..., a_hidden, output].

    The same list as net.forward(x, keep=True)[1]: the input, then each hidden
    layer's activations, then the output. scores=True gives the output layer's
    weighted sums z (its scores before softmax or sigmoid) as the last entry
    instead: they keep more detail than probabilities squeezed towards 0 and 1.
    A ConvNet's "hidden layers" are its stages (see stages), each flattened to
    (n, numbers); a stage wider than max_width numbers is None (too big to keep
    for many images). (In parts, for the line of runs: layer_values_steps.)
    """
    return run_through(layer_values_steps(net, x, scores, max_width))


def layer_values_steps(net, x, scores=False, max_width=None):
    """layer_values as steps (engine/linework.py): a part of the images at a time."""
    def steps(stop=None):
        size = rows_per_part(net)
        parts = None
        for start in range(0, len(x), size):
            got = _part_values(net, x[start:start + size], scores, max_width)
            parts = [[v] for v in got] if parts is None else [p + [v] for p, v in zip(parts, got)]
            yield min(1.0, (start + size) / len(x))
        values = [None if p[0] is None else np.concatenate(p) for p in parts] if parts else \
            _part_values(net, x, scores, max_width)
        for l, v in enumerate(values[1:], start=1):
            if v is not None:
                _require_finite(v, f"the values of layer {l}" if l < len(values) - 1 else "the network's outputs")
        return values
    return steps


def _part_values(net, x, scores, max_width):
    if hasattr(net, "layer_outputs"):
        return _stage_values(net, x, scores, max_width)
    with np.errstate(all="ignore"):       # an overflow is reported by layer_values_steps, once, in words
        zs, activations = net.forward(x, keep=True)
    return activations[:-1] + [zs[-1]] if scores else activations


# ---------------------------------------------------------------- convolutional networks

def stages(net):
    """Where a ConvNet is looked at: after each conv block (its conv, activation and pooling), after each
    dense hidden layer's activation, and the output. [(index in net.layers, shape of one example's values)]"""
    out = []
    for i, layer in enumerate(net.layers):
        last = i == len(net.layers) - 1
        if last or (not isinstance(layer, Flatten) and isinstance(net.layers[i + 1], (Conv2D, Dense, Flatten))):
            out.append((i, net.shapes[i + 1]))
    return out


def layer_names(net):
    """Words for each entry of layer_values(net, x, scores=True): the input, each hidden layer (an MLP's)
    or stage (a ConvNet's), the output scores."""
    names = [_("input pixels ({n})").format(n=net.sizes[0])]
    if hasattr(net, "layer_outputs"):
        blocks = dense = 0
        for shape in [s for _stage, s in stages(net)[:-1]]:
            if len(shape) == 3:
                blocks += 1
                names.append(_("conv block {b}: {maps} maps of {h}×{w} ({n} numbers)").format(
                    b=blocks, maps=shape[0], h=shape[1], w=shape[2], n=num(int(np.prod(shape)))))
            else:
                dense += 1
                names.append(_("dense hidden layer {l} ({n} units)").format(l=dense, n=shape[0]))
    else:
        names += [_("hidden layer {l} ({n} units)").format(l=l, n=net.sizes[l]) for l in range(1, net.n_layers)]
    out = _("softmax") if net.loss == "cross-entropy" else _("sigmoid")
    return names + [_("output scores z ({n}, before {out})").format(n=net.sizes[-1], out=out)]


def layer_widths(net):
    """How many numbers each entry of layer_values holds for one image (as layer_names names them)."""
    if not hasattr(net, "layer_outputs"):
        return list(net.sizes)
    return [net.sizes[0]] + [int(np.prod(shape)) for _, shape in stages(net)]


CHUNK_VALUES = 4_000_000     # numbers alive at once while a ConvNet's stages are gathered (16 MB)


def _stage_values(net, x, scores, max_width):
    """layer_values for a ConvNet, a few images at a time (a wide stage of many images is big)."""
    picked = stages(net)
    x = np.asarray(x, dtype=np.float32)
    chunk = max(1, CHUNK_VALUES // sum(net.sizes))
    parts = [[] for _ in picked]
    with np.errstate(all="ignore"):
        for start in range(0, len(x), chunk):
            outs = net.layer_outputs(x[start:start + chunk])
            for part, (i, shape) in zip(parts, picked):
                if max_width is None or int(np.prod(shape)) <= max_width:
                    part.append(outs[i][1].reshape(len(outs[i][1]), -1))
    values = [x] + [np.concatenate(p) if p else None for p in parts]
    if not scores:
        with np.errstate(all="ignore"):
            values[-1] = net.output(values[-1])
    return values


def feature_maps(net, x):
    """A ConvNet's feature maps for one image x (784,): for every conv layer, the output of the
    activation right after it (or its own), [(conv layer, maps (filters, h, w))]."""
    with np.errstate(all="ignore"):
        outs = net.layer_outputs(np.asarray(x, dtype=np.float32)[None, :])
    maps = []
    for i, (layer, out) in enumerate(outs):
        if isinstance(layer, Conv2D):
            after = outs[i + 1][1] if i + 1 < len(outs) and isinstance(outs[i + 1][0], Activation) else out
            _require_finite(after, "the feature maps")
            maps.append((layer, after[0]))
    return maps


def top_units(activations, k):
    """Indices of the k largest values of a 1-D activation vector, largest first.

    Only units that are on (value > 0) are returned, so there may be fewer than k.
    """
    a = np.asarray(activations).ravel()
    order = np.argsort(-a, kind="stable")[:k]
    return order[a[order] > 0]


def unit_evidence(net, x, units):
    """For first-layer units, each pixel's contribution to the unit's weighted sum.

    x: (784,) one image. Returns (len(units), 784): W1[j, i] * x[i]. Summed
    over i and plus the bias b1[j], it gives the unit's z.
    """
    return net.weights[0][units] * np.asarray(x, dtype=net.weights[0].dtype)[None, :]


def hard_example(net, x, labels, pool=1000, seed=None):
    """The index of an image the network is unsure about or gets wrong.

    Among `pool` images of x picked at random (the same ones for the same seed),
    the one whose true class gets the lowest output: the most to learn from.
    x: (n, 784) uint8 or float; only the picked rows are made float.
    """
    picked = np.random.default_rng(seed).choice(len(labels), size=min(pool, len(labels)), replace=False)
    out = net.predict_proba(to_float(x[picked]))
    return int(picked[out[np.arange(len(picked)), labels[picked]].argmin()])


# ---------------------------------------------------------------- PCA

def pca_2d(h):
    """Project the rows of h (n, d) onto their two directions of largest variance.

    Principal component analysis: centre every column, then the eigenvectors of
    the covariance matrix are the directions of spread, and each eigenvalue is
    the variance along its direction. The two largest give the 2-D map.
    Returns (coords (n, 2), explained_variance_ratio (2,)): the share of the
    total variance along each of the two directions, largest first. If d < 2
    or the data has no spread the missing parts are 0.
    """
    h = np.asarray(h, dtype=np.float64)
    if h.ndim != 2 or h.shape[0] < 1:
        raise ValueError("pca_2d needs a 2-D array with at least one row")
    _require_finite(h, "the values to map")
    n, d = h.shape
    centred = h - h.mean(axis=0)
    coords, ratio = np.zeros((n, 2)), np.zeros(2)
    try:
        with np.errstate(over="raise", invalid="raise"):     # finite values can still overflow when squared
            if d <= n:
                values, vectors = np.linalg.eigh(centred.T @ centred)          # (d,), (d, d)
            else:
                # Fewer rows than columns: the small n x n Gram matrix has the same
                # non-zero eigenvalues; its eigenvectors map back through centred.T.
                values, u = np.linalg.eigh(centred @ centred.T)
                vectors = centred.T @ u
                vectors /= np.maximum(np.linalg.norm(vectors, axis=0), 1e-300)
    except (np.linalg.LinAlgError, FloatingPointError) as err:
        raise AnalysisError(f"the PCA cannot be computed for these values ({err})") from None
    values = np.clip(values, 0, None)
    total = float(values.sum())
    if total <= 0:
        return coords, ratio
    order = np.argsort(values)[::-1][:2]                # eigh sorts ascending: take the top two
    keep = order[values[order] > total * 1e-12]         # ignore directions with no spread
    directions = vectors[:, keep].T                     # (k, d)
    # A direction and its opposite explain the same: fix the sign so that the
    # largest entry is positive (the map does not flip between runs).
    flip = np.sign(directions[np.arange(len(keep)), np.abs(directions).argmax(axis=1)])
    coords[:, :len(keep)] = centred @ (directions * flip[:, None]).T
    ratio[:len(keep)] = values[keep] / total
    return coords, ratio


def centroid_agreement(h, labels):
    """Share of rows of h (n, d) whose nearest class centre is their own class.

    A simple number for "how cleanly do the classes form separate clusters":
    1.0 when every point sits closest to the centre (mean) of its own class.
    Works for a 2-D map and for a whole layer (any d).
    """
    h = np.asarray(h, dtype=np.float64)
    _require_finite(h, "the values to compare")
    labels = np.asarray(labels)
    classes = np.unique(labels)
    centres = np.stack([h[labels == c].mean(axis=0) for c in classes])     # (k, d)
    # Squared distances |h - c|^2 = |h|^2 - 2 h.c + |c|^2, without an (n, k, d) array.
    dist = (h ** 2).sum(axis=1)[:, None] - 2 * h @ centres.T + (centres ** 2).sum(axis=1)[None, :]
    return float((classes[dist.argmin(axis=1)] == labels).mean())


# ---------------------------------------------------------------- robustness

def add_noise(x, sigma, rng=None, noise=None):
    """x plus Gaussian noise of standard deviation sigma, clipped to [0, 1].

    Pass `noise` (standard normal, shaped like x) to reuse the same random
    pattern at several strengths.
    """
    if noise is None:
        noise = (rng or np.random.default_rng(0)).standard_normal(x.shape).astype(np.float32)
    return np.clip(x + np.float32(sigma) * noise, 0, 1).astype(np.float32)


def rotate(x, degrees):
    """Turn every image of the batch x (n, 784) by `degrees` counter-clockwise
    about the centre of the 28x28 box. Bilinear interpolation, zeros outside.
    All images at once (no loop over images)."""
    x = np.asarray(x, dtype=np.float32)
    n = x.shape[0]
    angle = np.deg2rad(degrees)
    # For every output pixel, where does it come from in the input? (the inverse turn)
    r, c = np.mgrid[0:SIDE, 0:SIDE].astype(np.float64) - (SIDE - 1) / 2
    cos, sin = np.cos(angle), np.sin(angle)
    src_r = cos * r + sin * c + (SIDE - 1) / 2
    src_c = -sin * r + cos * c + (SIDE - 1) / 2
    rows = np.broadcast_to(src_r, (n, SIDE, SIDE))
    cols = np.broadcast_to(src_c, (n, SIDE, SIDE))
    return bilinear(x.reshape(n, SIDE, SIDE), rows, cols).reshape(n, SIDE * SIDE)


def checked_predict(net, x):
    """net.predict(x), or AnalysisError if the outputs overflow (an argmax of NaN means nothing)."""
    with np.errstate(all="ignore"):       # an overflow is reported below, once, in words
        out = net.predict_proba(x)
    _require_finite(out, "the network's outputs")
    return out.argmax(axis=1)


def accuracy_under_noise(net, x, labels, levels, seed=0):
    """Accuracy on x after adding Gaussian noise of each standard deviation in `levels`.

    The same random pattern is used at every level (only its strength grows),
    so the curve shows the effect of the strength, not of luck.
    Returns an array of accuracies, one per level.
    """
    return run_through(changed_accuracy_steps(net, x, labels, noise_changes(x, levels, seed)))


def noise_changes(x, levels, seed=0):
    """For changed_accuracy_steps: x with noise of each strength in `levels` (one pattern for all)."""
    noise = np.random.default_rng(seed).standard_normal(np.shape(x)).astype(np.float32)
    return [lambda xp, rows, s=s: add_noise(xp, s, noise=noise[rows]) for s in levels]


def rotation_changes(angles):
    """For changed_accuracy_steps: x turned by each angle (degrees) in `angles`."""
    return [lambda xp, rows, a=a: rotate(xp, a) for a in angles]


def accuracy_under_rotation(net, x, labels, angles):
    """Accuracy on x with every image turned by each angle (degrees) in `angles`."""
    return run_through(changed_accuracy_steps(net, x, labels, rotation_changes(angles)))


def changed_accuracy_steps(net, x, labels, changes):
    """Steps (engine/linework.py) of the accuracy on x with each change made to every image: an array,
    one accuracy per change. A change is a function (rows of x, their slice) -> the changed rows; the
    images are read a part at a time (linework.rows_per_part), every change of a part after the other."""
    def steps(stop=None):
        size = rows_per_part(net)
        right = np.zeros(len(changes))
        for start in range(0, len(x), size):
            rows = slice(start, start + size)
            for i, change in enumerate(changes):
                right[i] += np.sum(checked_predict(net, change(x[rows], rows)) == labels[rows])
                yield min(1.0, (start + (i + 1) / len(changes) * size) / max(len(x), 1))
        return right / max(len(x), 1)
    return steps


# ---------------------------------------------------------------- shifts

SHIFT_DIRECTIONS = {"right": (0, 1), "left": (0, -1), "down": (1, 0), "up": (-1, 0)}   # (rows, columns)


def shift_grid(a, dy, dx):
    """Move the pictures in the last two axes of a (..., H, W) by dy rows down and dx columns
    right (negative: up, left). What leaves the box is lost; the strip left behind is 0.
    One slice copy for the whole batch: out[.., r + dy, c + dx] = a[.., r, c]."""
    h, w = a.shape[-2:]
    out = np.zeros_like(a)
    if abs(dy) < h and abs(dx) < w:
        out[..., max(dy, 0):h + min(dy, 0), max(dx, 0):w + min(dx, 0)] = \
            a[..., max(-dy, 0):h + min(-dy, 0), max(-dx, 0):w + min(-dx, 0)]
    return out


def shift(x, dy, dx):
    """Move every image of the batch x (n, 784) by dy pixels down and dx pixels right
    (negative: up, left), zeros (no ink) where nothing comes in. Returns (n, 784) float32."""
    x = np.asarray(x, dtype=np.float32)
    return shift_grid(x.reshape(-1, SIDE, SIDE), int(dy), int(dx)).reshape(x.shape)


def shifted_series(x, shifts, direction="right"):
    """One image x (784,) moved by each number of pixels in `shifts` towards `direction`
    (a key of SHIFT_DIRECTIONS): (len(shifts), 784), row i moved by shifts[i]."""
    dy, dx = SHIFT_DIRECTIONS[direction]
    x = np.asarray(x, dtype=np.float32).reshape(1, SIDE * SIDE)
    return np.concatenate([shift(x, s * dy, s * dx) for s in shifts])


def accuracy_under_shift(net, x, labels, shifts):
    """Accuracy on x with every image moved by each number of pixels in `shifts`.

    Each image is moved right, left, down and up in turn, and the four accuracies are
    averaged (a digit is rarely centred in its box: one direction alone would be luck).
    Returns an array of accuracies, one per shift; at 0 it is the plain accuracy on x.
    (In parts, for the line of runs: shift_accuracy_steps.)
    """
    return run_through(shift_accuracy_steps(net, x, labels, shifts))


def shift_accuracy_steps(net, x, labels, shifts):
    """accuracy_under_shift as steps (engine/linework.py)."""
    moves = [[(0, 0)] if s == 0 else [(s * dy, s * dx) for dy, dx in SHIFT_DIRECTIONS.values()] for s in shifts]
    changes = [lambda xp, rows, m=m: shift(xp, *m) for ways in moves for m in ways]

    def steps(stop=None):
        accs = yield from changed_accuracy_steps(net, x, labels, changes)(stop)
        ends = np.cumsum([0] + [len(ways) for ways in moves])
        return np.array([accs[a:b].mean() for a, b in zip(ends[:-1], ends[1:])])
    return steps


def _relative(d, ref):
    """|d| / |ref| (Euclidean lengths): 0 = no change, 1 = a change as big as ref itself."""
    return float(np.linalg.norm(d) / max(float(np.linalg.norm(ref)), 1e-12))


def shift_response(net, x, dy, dx):
    """What the first layer makes of one image x (784,) and of x moved by (dy, dx).

    MLP (Network): the first hidden layer's activations (units,); every unit is
    wired to fixed pixels, so moving the digit hands its ink to other weights.
    CNN (ConvNet starting with a convolution): the first convolution's feature
    maps (c, h, w), after its activation; it slides the same filters over every
    position, so moving the image moves the maps by as much (stride 1) and
    changes nothing else.
    Returns (before, after, change, change_moved_back): change is
    |after - before| / |before|; change_moved_back (CNN only, else None) the same
    with `before` moved by (dy, dx) too, away from the border strip where the
    move brought in new pixels: 0 up to float rounding.
    """
    x = np.asarray(x, dtype=np.float32).reshape(1, SIDE * SIDE)
    moved = shift(x, dy, dx)
    layers = getattr(net, "layers", None)
    if layers is None:                                   # the MLP
        before, after = (layer_values(net, v)[1][0] for v in (x, moved))
        return before, after, _relative(after - before, before), None
    if not isinstance(layers[0], Conv2D):
        raise AnalysisError("this network does not start with a convolution")
    first = layers[:2] if len(layers) > 1 and isinstance(layers[1], Activation) else layers[:1]
    before, after = x.reshape((1,) + net.input_shape), moved.reshape((1,) + net.input_shape)
    for layer in first:
        before, after = layer.forward(before, False), layer.forward(after, False)
    before, after = before[0], after[0]
    m = max(abs(dy), abs(dx)) + layers[0].p     # output pixels that saw the new strip or the padding
    inner = (slice(None), slice(m, before.shape[1] - m), slice(m, before.shape[2] - m))
    back = _relative((after - shift_grid(before, dy, dx))[inner], after[inner])
    return before, after, _relative(after - before, before), back
