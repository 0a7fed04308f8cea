"""Layers: a network as a stack of small blocks, each with its forward and its backward.

Every layer does two things, written next to each other:

    forward(x)   -> y    compute the output, and keep what backward will need
    backward(dy) -> dx   given dL/dy, return dL/dx (the blame for the layer below)
                         and fill the layer's own gradients dL/dW, dL/db

Backpropagation through a whole network is then just: call backward on every
layer, last to first, passing dx down as the next layer's dy (see convnet.py).

Conventions (as in network.py)
    A batch of n examples comes first: x (n, d) for dense layers, x (n, c, h, w)
    for images (c channels of h x w pixels). Float32, except in the gradient
    tests, which cast a layer to float64 with astype().
    params() lists the trainable arrays, grads() their gradients, same order.
    Speed: a convolution's output is (n, f, h', w') as a view of the matrix
    product (n h' w', f), so in memory the channels come last; every layer keeps
    that order (np.copy(order="K"), zeros_like), which is what im2col and col2im
    read fastest. Only whole arrays are touched, never one pixel at a time.
    This module imports nothing from network.py, so network.py may use its
    ACTIVATIONS table.
"""
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from . import fast

DTYPE = np.float32
LEAK = 0.01  # slope of leaky ReLU for z < 0


def sigmoid(z):
    # 0.5 * (1 + tanh(z/2)) equals 1 / (1 + exp(-z)) but never overflows.
    return 0.5 * (1.0 + np.tanh(0.5 * z))


# ---------------------------------------------------------------- activations

# Each activation and its derivative, side by side: name -> (f(z), f'(z) given z and a = f(z)).
# Adding an activation is one line here.
ACTIVATIONS = {
    "sigmoid":    (sigmoid,                                lambda z, a: a * (1 - a)),
    "tanh":       (np.tanh,                                 lambda z, a: 1 - a * a),
    "relu":       (lambda z: np.maximum(z, 0),              lambda z, a: z > 0),   # bool: 1 or 0, no float copy
    "leaky_relu": (lambda z: np.where(z > 0, z, LEAK * z),  lambda z, a: np.where(z > 0, 1, LEAK).astype(z.dtype)),
}


def _check_activation(name):
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; choose one of {', '.join(ACTIVATIONS)}")


class Layer:
    """What every layer has; layers without weights keep these defaults."""
    kind = "layer"

    def params(self):
        return []

    def grads(self):
        return []

    def astype(self, dtype):
        """Cast the parameters (for float64 gradient checks); returns self."""
        return self

    def out_shape(self, in_shape):
        """The shape of one example's output, given one example's input shape."""
        return in_shape

    def spec(self):
        """A JSON-able description, enough to build the layer again (model files)."""
        return {"kind": self.kind}


class Weighted(Layer):
    """A layer with weights W and biases b (Dense, Conv2D): backward fills dW and db."""

    def params(self):
        return [self.W, self.b]

    def grads(self):
        return [self.dW, self.db]

    def astype(self, dtype):
        self.W, self.b = self.W.astype(dtype), self.b.astype(dtype)
        return self


class Activation(Layer):
    """y = f(x) element by element, f one of ACTIVATIONS; any shape.

    Backward: dx = dy * f'(x), the chain rule through the slope of f.
    """
    kind = "activation"

    def __init__(self, name="relu"):
        _check_activation(name)
        self.name = name
        self.f, self.f_prime = ACTIVATIONS[name]

    def forward(self, x, keep=True):
        y = self.f(x)
        if keep:
            self.x, self.y = x, y
        return y

    def backward(self, dy):
        return dy * self.f_prime(self.x, self.y)

    def spec(self):
        return {"kind": self.kind, "name": self.name}

    def __repr__(self):
        return self.name


class Dense(Weighted):
    """x (n, d_in) -> y (n, d_out);  y = x W^T + b, i.e. y = W·x + b for every row.

    W (d_out, d_in), b (d_out,). Backward: dW = dy^T x, db = sum of dy over the batch, dx = dy W.
    """
    kind = "dense"

    def __init__(self, d_in, d_out, std=None, rng=None):
        rng = rng if rng is not None else np.random.default_rng(0)
        std = np.sqrt(2.0 / d_in) if std is None else std
        self.W = (rng.standard_normal((d_out, d_in)) * std).astype(DTYPE)
        self.b = np.zeros(d_out, dtype=DTYPE)
        self.need_dx = True   # False for a first layer: nobody below needs dx

    def forward(self, x, keep=True):
        if keep:
            self.x = x
        y = x @ self.W.T
        y += self.b
        return y

    def backward(self, dy):
        self.dW = dy.T @ self.x            # (d_out, d_in): each weight's blame summed over the batch
        self.db = dy.sum(axis=0)           # (d_out,)
        return dy @ self.W if self.need_dx else None

    def out_shape(self, in_shape):
        return (self.W.shape[0],)

    def spec(self):
        return {"kind": self.kind, "units": int(self.W.shape[0])}

    def __repr__(self):
        return f"dense {self.W.shape[0]}"


# ---------------------------------------------------------------- convolution

def out_size(h, k, p, s):
    """Output positions along one side: h' = (h + 2p - k) // s + 1."""
    return (h + 2 * p - k) // s + 1


def windows(x, k, s):
    """Every k x k window of x (n, c, h, w), a step s apart: a view (n, c, h', w', k, k), nothing copied."""
    return sliding_window_view(x, (k, k), axis=(2, 3))[:, :, ::s, ::s]


def im2col(x, k, p, s):
    """x (n, c, h, w) -> cols (n h' w', k k c): one row per output pixel, holding the window it sees.

    With the windows laid out as rows, a convolution is a single matrix multiply.
    Columns go (row u, column v, channel c) so that for one kernel offset (u, v) the
    channels sit side by side, as they do in memory (see Conv2D.forward).
    """
    if p:
        x = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    if x.shape[1] <= fast.FEW_CHANNELS:                      # a grey image: fast.py trick 2, the same matrix
        return fast.im2col_by_offset(x, k, s)
    win = windows(x, k, s)                                   # (n, c, h', w', k, k), a view
    n, c, h2, w2 = win.shape[:4]
    return win.transpose(0, 2, 3, 4, 5, 1).reshape(n * h2 * w2, k * k * c)   # the one copy


def col2im(dcols, x_shape, k, p, s):
    """The reverse of im2col: dcols (k k, n h' w', c), the blame of every window pixel
    for each kernel offset (u, v), -> dx (n, c, h, w).

    A pixel under several windows gets the sum of their blames. The loop runs over
    the k*k offsets inside a window (25 for a 5x5 kernel), never over pixels or
    examples: for one offset every window touches a different pixel, so one
    strided slice adds all of them at once.
    """
    n, c, h, w = x_shape
    h2, w2 = out_size(h, k, p, s), out_size(w, k, p, s)
    dx = np.zeros((n, h + 2 * p, w + 2 * p, c), dtype=dcols.dtype)      # channels last, like dcols
    for u in range(k):
        for v in range(k):
            dx[:, u:u + s * (h2 - 1) + 1:s, v:v + s * (w2 - 1) + 1:s] += dcols[u * k + v].reshape(n, h2, w2, c)
    return dx[:, p:p + h, p:p + w].transpose(0, 3, 1, 2)               # (n, c, h, w), a view


class Conv2D(Weighted):
    """x (n, c, h, w) -> y (n, f, h', w'), h' = (h + 2p - k)//s + 1 (w' likewise);
    y = W * x + b: filter W[f] (c, k, k) slides over x (padded with p zeros, step s).

    As matrices (im2col): cols (n h' w', k k c), y = cols W^T + b with W as (f, k k c).
    Backward: dW = dy^T cols, db = sum of dy, dx = col2im(dy W), dy as (n h' w', f).
    """
    kind = "conv2d"

    def __init__(self, c, f, k, p=0, s=1, std=None, rng=None):
        if min(c, f, k) < 1 or p < 0 or s < 1:
            raise ValueError(f"a convolution needs channels, filters, kernel size and stride of at least 1 "
                             f"and padding of at least 0 (got c={c}, f={f}, k={k}, p={p}, s={s})")
        rng = rng if rng is not None else np.random.default_rng(0)
        std = np.sqrt(2.0 / (c * k * k)) if std is None else std
        self.k, self.p, self.s = k, p, s
        self.W = (rng.standard_normal((f, c, k, k)) * std).astype(DTYPE)
        self.b = np.zeros(f, dtype=DTYPE)
        self.need_dx = True   # False for the first layer: the image needs no gradient

    def W_matrix(self):
        """W (f, c, k, k) as the matrix (f, k k c) that multiplies im2col's rows (a small copy)."""
        return self.W.transpose(0, 2, 3, 1).reshape(len(self.W), -1)

    def forward(self, x, keep=True):
        n, c, h, w = x.shape
        f = self.W.shape[0]
        h2, w2 = out_size(h, self.k, self.p, self.s), out_size(w, self.k, self.p, self.s)
        if h2 < 1 or w2 < 1:
            raise ValueError(f"a {self.k}x{self.k} kernel does not fit a {h}x{w} input with padding {self.p}")
        cols = im2col(x, self.k, self.p, self.s)              # (n h' w', k k c)
        y = cols @ self.W_matrix().T                          # (n h' w', f): every window times every filter
        y += self.b
        if keep:
            self.x_shape, self.cols = x.shape, cols
        # (n, h', w', f) -> (n, f, h', w') as a view: the numbers stay where the multiply put them,
        # channels last in memory, which is what the next im2col and col2im read fastest.
        return y.reshape(n, h2, w2, f).transpose(0, 3, 1, 2)

    def backward(self, dy):
        f, c, k, _ = self.W.shape
        dy = dy.transpose(0, 2, 3, 1).reshape(-1, f)          # (n h' w', f), rows as in cols
        # dW = dy^T cols, worked out as (cols^T dy)^T: the same numbers, faster when cols is fast.py trick 2's
        dW_T = self.cols.T @ dy                               # (k k c, f)
        self.dW = dW_T.reshape(k, k, c, f).transpose(3, 2, 0, 1).copy()   # back to (f, c, k, k)
        # db = dy summed over all rows, as a product with a row of ones: a column sum
        # of 70,000 short rows is more than 10 times faster this way than dy.sum(axis=0).
        self.db = np.ones(len(dy), dtype=dy.dtype) @ dy       # (f,)
        if not self.need_dx:
            return None
        # dcols = dy W, computed offset by offset: (k k, n h' w', c), so each offset's
        # blame is one contiguous block for col2im to add (k k small multiplies in one call).
        W_offsets = self.W.transpose(2, 3, 0, 1).reshape(k * k, f, c)
        return col2im(np.matmul(dy, W_offsets), self.x_shape, k, self.p, self.s)

    def out_shape(self, in_shape):
        c, h, w = in_shape
        return (self.W.shape[0], out_size(h, self.k, self.p, self.s), out_size(w, self.k, self.p, self.s))

    def spec(self):
        return {"kind": self.kind, "filters": int(self.W.shape[0]), "k": self.k, "p": self.p, "s": self.s}

    def __repr__(self):
        extra = (f" p{self.p}" if self.p else "") + (f" s{self.s}" if self.s > 1 else "")
        return f"conv {self.W.shape[0]}@{self.k}x{self.k}{extra}"


class MaxPool2D(Layer):
    """x (n, c, h, w) -> y (n, c, h', w'), h' = (h - m)//s + 1 for windows m x m a stride s apart;
    y = the largest value of each window.

    Backward: each window's dy goes to the one pixel that won (its argmax); the others get 0.
    """
    kind = "maxpool2d"

    def __init__(self, size=2, stride=None):
        self.size = int(size)
        self.stride = int(stride or size)
        if self.size < 1 or self.stride < 1:
            raise ValueError(f"pooling size and stride must be at least 1 (got {size}, {stride})")

    def offsets(self, x_shape):
        """For each position (u, v) inside a window, the strided slice of x it covers in every window."""
        m, s = self.size, self.stride
        h2, w2 = out_size(x_shape[2], m, 0, s), out_size(x_shape[3], m, 0, s)
        return [(np.s_[:, :, u:u + s * (h2 - 1) + 1:s, v:v + s * (w2 - 1) + 1:s]) for u in range(m) for v in range(m)]

    def forward(self, x, keep=True):
        # A running maximum over the m*m positions of the window (4 for 2x2): whole-array
        # operations, never a loop over pixels.
        where = self.offsets(x.shape)
        y = np.copy(x[where[0]], order="K")      # K: keep x's memory layout (channels last after a conv)
        for sl in where[1:]:
            np.maximum(y, x[sl], out=y)
        if keep:
            self.x, self.y = x, y
        return y

    def backward(self, dy):
        # dy in the memory layout of y (one small copy if it differs, e.g. after Flatten),
        # so the whole-array operations below read all their operands in the same order.
        if dy.strides != self.y.strides:
            dy_same = np.empty_like(self.y)
            dy_same[...] = dy
            dy = dy_same
        if self.stride == self.size and all(side % self.size == 0 for side in self.x.shape[2:]):
            return fast.route_to_winners(self.x, self.y, dy, self.offsets(self.x.shape))   # the same, faster
        dx = np.zeros_like(self.x)
        left = np.ones_like(self.y, dtype=bool)       # windows whose winner is not found yet
        overlap = self.stride < self.size
        for sl in self.offsets(self.x.shape):
            won = np.equal(self.x[sl], self.y) & left   # the first position holding the maximum (the argmax)
            left ^= won
            if overlap:
                dx[sl] += dy * won                    # a pixel in two windows can win twice
            else:
                np.multiply(dy, won, out=dx[sl])
        return dx

    def out_shape(self, in_shape):
        c, h, w = in_shape
        return (c, out_size(h, self.size, 0, self.stride), out_size(w, self.size, 0, self.stride))

    def spec(self):
        return {"kind": self.kind, "size": self.size, "stride": self.stride}

    def __repr__(self):
        return f"maxpool {self.size}" + (f" s{self.stride}" if self.stride != self.size else "")


class Flatten(Layer):
    """x (n, c, h, w) -> y (n, c h w): the feature maps side by side, for a dense layer.

    Backward: dx = dy reshaped back; nothing is computed.
    """
    kind = "flatten"

    def forward(self, x, keep=True):
        if keep:
            self.x_shape = x.shape
        return x.reshape(len(x), -1)

    def backward(self, dy):
        return dy.reshape(self.x_shape)

    def out_shape(self, in_shape):
        return (int(np.prod(in_shape)),)

    def __repr__(self):
        return "flatten"


LAYERS = {cls.kind: cls for cls in (Dense, Conv2D, MaxPool2D, Flatten, Activation)}
