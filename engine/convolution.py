"""One convolution taken apart, for the Convolution page: a kernel sliding over one grey image.

    y[i, j] = sum over u, v of  x_pad[i s + u, j s + v] * K[u, v]  + b
    h' = (h + 2p - k) // s + 1      (layers.out_size; the same across)

x is one image (h, w), x_pad it with p rows and columns of zeros around it, K a k x k
kernel, s the stride. convolve() runs the engine's own Conv2D layer with K as its one
filter (im2col and a matrix multiply, exactly as in training); multiply_add() works out
the single output y[i, j] in the open, 25 products and a sum for a 5 x 5 kernel.

Also here: hand-made kernels (edge detectors, blur, sharpen) to set next to the learned
ones, ReLU and max-pooling of one map, and the number of weights a convolution needs
against a dense layer of the same input and output sizes (why weight sharing matters).
"""
import numpy as np

from i18n import N_

from .layers import DTYPE, Activation, Conv2D, Dense, MaxPool2D, out_size


# ---------------------------------------------------------------- hand-made kernels

def _vertical_edge(k):
    # -1 on the left of the centre column, +1 on the right, each side adding up to 1:
    # big where ink starts on the right of blank paper, negative where it ends.
    K = np.zeros((k, k))
    K[:, :k // 2], K[:, k // 2 + 1:] = -1, 1
    return K / (k * (k // 2))


def _diagonal_edge(k):
    u, v = np.indices((k, k))
    return np.sign(v - u) / ((k * k - k) / 2)


def _blur(k):
    return np.full((k, k), 1 / (k * k))


def _identity(k):
    K = np.zeros((k, k))
    K[k // 2, k // 2] = 1
    return K


# name -> (how K is made for a k x k kernel, what it does). Adding a kernel is one line here.
KERNELS = {
    N_("vertical edge"): (_vertical_edge, N_("positive where ink begins going right, negative where it ends")),
    N_("horizontal edge"): (lambda k: _vertical_edge(k).T,
                            N_("positive where ink begins going down, negative where it ends")),
    N_("diagonal edge"): (_diagonal_edge, N_("responds to strokes' edges running from top left to bottom right")),
    N_("blur"): (_blur, N_("the average of the window: a softer, smeared digit")),
    N_("sharpen"): (lambda k: 2 * _identity(k) - _blur(k),
                    N_("the pixel minus its blurred surroundings: crisper edges")),
    N_("identity"): (_identity, N_("copies the centre pixel: the digit itself (minus the border it cannot reach)")),
}


def hand_made(name, k=5):
    """The hand-made kernel `name` (one of KERNELS) as a (k, k) float32 array, k odd."""
    if name not in KERNELS:
        raise ValueError(f"unknown kernel {name!r}; choose one of {', '.join(KERNELS)}")
    if k < 3 or k % 2 == 0:
        raise ValueError(f"a hand-made kernel needs an odd size of at least 3 (got {k})")
    return KERNELS[name][0](k).astype(DTYPE)


# ---------------------------------------------------------------- one kernel over one image

def convolve(x, K, b=0.0, p=0, s=1):
    """x (h, w), K (k, k) -> feature map y (h', w'): y[i, j] = sum(x_pad[i s:i s + k, j s:j s + k] * K) + b.

    Runs Conv2D.forward (im2col, one matrix multiply) with K as its only filter."""
    K = np.asarray(K, dtype=DTYPE)
    layer = Conv2D(1, 1, len(K), p, s)
    layer.W, layer.b = K[None, None].copy(), np.array([b], dtype=DTYPE)
    return layer.forward(np.asarray(x, dtype=DTYPE)[None, None], keep=False)[0, 0]


def padded(x, p):
    """x (h, w) with p rows and columns of zeros added on every side: (h + 2p, w + 2p)."""
    return np.pad(np.asarray(x, dtype=DTYPE), p)


def window(x, k, p, s, i, j):
    """The k x k window of x_pad that makes output y[i, j]: rows i s .. i s + k - 1, columns j s .. j s + k - 1."""
    h2, w2 = out_size(x.shape[0], k, p, s), out_size(x.shape[1], k, p, s)
    if not (0 <= i < h2 and 0 <= j < w2):
        raise ValueError(f"output position ({i}, {j}) is outside the {h2}x{w2} feature map")
    return padded(x, p)[i * s:i * s + k, j * s:j * s + k]


def multiply_add(x, K, b=0.0, p=0, s=1, i=0, j=0):
    """One output of the convolution, in the open: (window (k, k), products window * K (k, k), y[i, j]),
    y[i, j] = sum of the products + b."""
    K = np.asarray(K, dtype=DTYPE)
    win = window(np.asarray(x, dtype=DTYPE), len(K), p, s, i, j)
    products = win * K
    return win, products, float(products.sum(dtype=np.float64) + b)


def relu_pool(y, size=2):
    """What a CNN does next to one feature map y (h, w), by the engine's own layers:
    (relu(y) = max(0, y), then the largest value of each size x size block: (h // size, w // size))."""
    a = Activation("relu").forward(np.asarray(y)[None, None], keep=False)
    return a[0, 0], MaxPool2D(size).forward(a, keep=False)[0, 0]


# ---------------------------------------------------------------- weight sharing

def conv_weights(k, c_in, c_out):
    """Weights of a convolution: c_out filters of k x k x c_in, one bias each: k k c_in c_out + c_out."""
    return k * k * c_in * c_out + c_out


def dense_weights(n_in, n_out):
    """Weights of a dense layer from n_in values to n_out: one weight per pair, one bias per output."""
    return n_in * n_out + n_out


def weight_counts(net):
    """For every layer with weights of a ConvNet: (layer, input shape, output shape, its weights, the
    weights of a dense layer joining the same input and output sizes). For an MLP both counts agree."""
    rows = []
    for layer, shape_in, shape_out in zip(net.layers, net.shapes, net.shapes[1:]):
        if isinstance(layer, Conv2D):
            f, c, k, _ = layer.W.shape
            own = conv_weights(k, c, f)
        elif isinstance(layer, Dense):
            own = dense_weights(*layer.W.shape[::-1])
        else:
            continue
        rows.append((layer, shape_in, shape_out, own, dense_weights(int(np.prod(shape_in)), int(np.prod(shape_out)))))
    return rows
