"""A network as a stack of layers (engine/layers.py): convolutional networks, and MLPs too.

    forward   - the image goes up the stack, layer by layer, to 10 scores (logits z)
    loss      - softmax + cross-entropy (or sigmoid + MSE), as in network.py
    backward  - the blame dL/dz goes down the stack: every layer's backward turns
                dL/d(its output) into dL/d(its input) and fills its dW, db

ConvNet has the interface of network.Network that the Trainer, the optimisers
and the pages use: sizes, forward(x, keep), predict_proba, predict, params,
n_params, describe, copy, loss_value, gradients. Input is a batch of image rows
x (n, 784), as for the MLP; the first layer sees it as (n, 1, 28, 28).

A model is described by its spec, a list of small dicts (one per layer, as
Layer.spec() gives), e.g. cnn_spec() =
    [{"kind": "conv2d", "filters": 8, "k": 5, "p": 0, "s": 1}, {"kind": "activation", "name": "relu"},
     {"kind": "maxpool2d", "size": 2, "stride": 2}, ..., {"kind": "flatten"}, {"kind": "dense", "units": 10}]
"""
import copy

import numpy as np

from i18n import N_, _, as_is, num

from . import fast
from .budget import ELEMENTWISE_FLOPS
from .layers import DTYPE, LAYERS, Activation, Conv2D, Dense, Flatten, MaxPool2D
from .network import LOSSES, Network, init_std, sigmoid, softmax

INPUT_SHAPE = (1, 28, 28)   # one channel (grey) of 28 x 28 pixels
# Predicting many images goes a piece at a time, so that im2col's copy stays small: at most
# CHUNK images, and at most CHUNK_VALUES numbers (64 MB of float32) alive in the busiest layer.
CHUNK = 500
CHUNK_VALUES = 16_000_000


def cnn_spec(filters=(8, 16), k=5, p=0, pool=2, hidden=(), activation="relu", n_classes=10):
    """The spec of the usual small CNN: for each f in filters, conv f@k x k (padding p) -> activation
    -> max-pool `pool`; then flatten, dense layers of `hidden` units (each with the activation),
    and a dense output layer of n_classes."""
    spec = []
    for f in filters:
        spec += [{"kind": "conv2d", "filters": int(f), "k": int(k), "p": int(p), "s": 1},
                 {"kind": "activation", "name": activation}]
        if pool > 1:
            spec.append({"kind": "maxpool2d", "size": int(pool), "stride": int(pool)})
    spec.append({"kind": "flatten"})
    for units in hidden:
        spec += [{"kind": "dense", "units": int(units)}, {"kind": "activation", "name": activation}]
    spec.append({"kind": "dense", "units": int(n_classes)})
    return spec


def _following_activation(spec, i):
    """The activation right after layer i (before the next layer with weights), for its initial weights;
    None if there is none (the output layer: softmax or sigmoid), which init_std gives the Xavier scale."""
    for d in spec[i + 1:]:
        if d.get("kind") == "activation":
            return d.get("name")
        if d.get("kind") in ("conv2d", "dense"):
            break
    return None


def _whole(d, key, low, where, default=None):
    """d[key] as an int of at least `low` (a spec may come from a file: no floats, texts or booleans)."""
    value = d.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise ValueError(_("{where}: {key} must be a whole number of at least {low} (got {value})").format(
            where=where, key=as_is(key), low=low, value=as_is(repr(value)[:40])))
    return int(value)


SIZE_WORDS = {"padding": N_("padding"), "stride": N_("stride"), "pooling": N_("pooling window")}


def _fits(where, shape, **sizes):
    """Every size of a layer makes sense for its input (c, h, w): a padding, a stride or a pooling
    window is at most the input's longer side (28 for MNIST; a kernel must fit the padded input,
    which out_shape checks). Anything bigger only adds zeros or skips the whole image: a file that
    asks for it is not a model (a stride of 10^30 is refused here, not passed on to PyTorch)."""
    side = max(shape[1:])
    for name, value in sizes.items():
        if value > side:
            raise ValueError(_("{where}: its {what} {value} is larger than its {h}×{w} input").format(
                where=where, what=_(SIZE_WORDS[name]), value=num(value), h=shape[1], w=shape[2]))


def build_layers(spec, input_shape=INPUT_SHAPE, seed=0, init_scale=1.0, max_params=None):
    """The layers of `spec`, each sized from the shape coming out of the one before.

    Weights are drawn with np.random.default_rng(seed): He for ReLU-like units, Xavier otherwise
    (network.init_std), times init_scale. Raises ValueError for an unknown or impossible spec, and
    before making a layer that would take the weights past max_params (a file cannot ask for gigabytes).
    """
    rng = np.random.default_rng(seed)
    shape, layers, n_params = tuple(input_shape), [], 0
    for i, d in enumerate(spec):
        where = _("layer {n}").format(n=i + 1)
        kind = d.get("kind") if isinstance(d, dict) else None
        if kind not in LAYERS:
            raise ValueError(_("{where}: unknown kind {kind}; choose one of {kinds}").format(
                where=where, kind=as_is(repr(kind)[:40]), kinds=as_is(", ".join(LAYERS))))
        if kind in ("conv2d", "maxpool2d") and len(shape) != 3:
            raise ValueError(_("{where}: {kind} needs images (c, h, w), not {shape}").format(
                where=where, kind=as_is(kind), shape=shape))
        if kind == "dense" and len(shape) != 1:
            raise ValueError(_("{where}: a dense layer needs flat rows; put a flatten before it").format(where=where))
        after = _following_activation(spec, i)
        if kind == "conv2d":
            c, f, k = shape[0], _whole(d, "filters", 1, where), _whole(d, "k", 1, where)
            p, s = _whole(d, "p", 0, where, 0), _whole(d, "s", 1, where, 1)
            if p >= k:
                raise ValueError(_("{where}: padding {p} must be smaller than the kernel size {k}").format(
                    where=where, p=p, k=k))
            _fits(where, shape, padding=p, stride=s)
            n_params += f * c * k * k + f
        elif kind == "dense":
            units = _whole(d, "units", 1, where)
            n_params += units * shape[0] + units
        if max_params is not None and n_params > max_params:
            raise ValueError(_("{where}: the model would have more than {most} weights").format(
                where=where, most=num(max_params)))
        if kind == "conv2d":
            layer = Conv2D(c, f, k, p, s, init_std(after, c * k * k, f * k * k) * init_scale, rng)
        elif kind == "dense":
            layer = Dense(shape[0], units, init_std(after, shape[0], units) * init_scale, rng)
        elif kind == "maxpool2d":
            size = _whole(d, "size", 1, where, 2)
            stride = _whole(d, "stride", 1, where, size)
            _fits(where, shape, pooling=size, stride=stride)
            layer = MaxPool2D(size, stride)
        elif kind == "activation":
            layer = Activation(d.get("name"))
        else:
            layer = Flatten()
        before, shape = shape, layer.out_shape(shape)
        if min(shape) < 1:
            raise ValueError(_("{where} ({layer}) has nothing left to work on: its input is only {size} pixels "
                               "(the layers before it made the image that small)").format(
                where=where, layer=as_is(repr(layer)), size="×".join(map(str, before[1:]))))
        layers.append(layer)
    if not layers or not isinstance(layers[-1], Dense):
        raise ValueError(_("the last layer must be a dense layer with one output per class"))
    return layers


class ConvNet:
    """A stack of layers with softmax + cross-entropy (or sigmoid + MSE) on top.

    spec: list of layer dicts (see cnn_spec); loss: one of network.LOSSES;
    seed, init_scale: the initial weights, as for network.Network;
    max_params: refuse a spec with more weights than this (for specs read from files).
    """

    def __init__(self, spec=None, loss="cross-entropy", seed=0, init_scale=1.0, input_shape=INPUT_SHAPE,
                 max_params=None):
        if loss not in LOSSES:
            raise ValueError(f"unknown loss {loss!r}; choose one of {', '.join(LOSSES)}")
        spec = cnn_spec() if spec is None else spec
        self.input_shape, self.loss = tuple(input_shape), loss
        self.layers = build_layers(spec, self.input_shape, seed, init_scale, max_params)
        self.stack = fast.pool_first(self.layers)   # what training runs: relu + pooling swapped (fast.py 3, 8)
        # The image needs no gradient: the first layer skips computing dx (a whole matrix multiply).
        if hasattr(self.layers[0], "need_dx"):
            self.layers[0].need_dx = False
        shapes = [self.input_shape]
        for layer in self.layers:
            shapes.append(layer.out_shape(shapes[-1]))
        self.shapes = shapes                                   # one example's shape at the input and after each layer
        self.sizes = [int(np.prod(s)) for s in shapes]         # the same as numbers of values: [784, ..., 10]
        names = [layer.name for layer in self.layers if isinstance(layer, Activation)]
        self.activation = names[0] if names else "none"

    # ------------------------------------------------------------ description

    @property
    def weighted(self):
        """The layers with weights (convolutions and dense layers), bottom to top."""
        return [layer for layer in self.layers if layer.params()]

    @property
    def weights(self):
        return [layer.W for layer in self.weighted]

    @property
    def biases(self):
        return [layer.b for layer in self.weighted]

    @property
    def n_layers(self):
        return len(self.weighted)

    @property
    def dtype(self):
        return self.layers[-1].W.dtype

    def spec(self):
        return [layer.spec() for layer in self.layers]

    def params(self):
        """All trainable arrays, in a fixed order: [W0, b0, W1, b1, ...] (as network.Network)."""
        return [p for layer in self.layers for p in layer.params()]

    def n_params(self):
        return sum(p.size for p in self.params())

    def describe(self):
        """Short text like 'conv 8@5x5 - relu - maxpool 2 - flatten - dense 10, softmax + cross-entropy'."""
        out = "sigmoid + MSE" if self.loss == "mse" else "softmax + cross-entropy"
        return " - ".join(map(repr, self.layers)) + f", {out}"

    def flops_per_example(self, backward=True, elementwise=True):
        """Arithmetic of one example's forward and backward pass: 2 operations per multiply-add, in
        3 products per layer (forward, dW, dx; the first layer makes no dx); forward only: 1 product.
        The element-wise layers count ELEMENTWISE_FLOPS (budget.py: one such step takes as long as
        about 20 FLOP of a matrix product) per step:
            max-pooling m x m: m^2 comparisons per output value; backward 4 m^2 (equal, and, xor, multiply)
            activation: 1 per value; backward 2 (the slope f'(z), then dy times it)
        For the Trainer's part size, the cost estimates and the budget (MAX_FORWARD_FLOPS);
        elementwise=False: the matrix products' arithmetic alone (benchmarks' GFLOP/s)."""
        flops = 0
        for layer, shape in zip(self.layers, self.shapes[1:]):
            values = int(np.prod(shape))
            if isinstance(layer, Conv2D):
                macs = shape[1] * shape[2] * layer.W.size      # every output pixel: one filter's weights
            elif isinstance(layer, Dense):
                macs = layer.W.size
            elif not elementwise:
                continue
            elif isinstance(layer, MaxPool2D):
                flops += ELEMENTWISE_FLOPS * values * layer.size ** 2 * (5 if backward else 1)
                continue
            elif isinstance(layer, Activation):
                flops += ELEMENTWISE_FLOPS * values * (3 if backward else 1)
                continue
            else:
                continue
            flops += 2 * macs * ((3 if layer.need_dx else 2) if backward else 1)
        return flops

    def im2col_values(self):
        """Numbers in all the convolutions' im2col rows (h' w' k k c each) for one example: what
        training keeps for backward besides the layers' outputs. For memory estimates."""
        return sum(after // layer.W.shape[0] * layer.W[0].size
                   for layer, after in zip(self.layers, self.sizes[1:]) if isinstance(layer, Conv2D))

    def set_params(self, arrays):
        """Put in weights [W0, b0, W1, b1, ...] (e.g. from a model file), as float32 copies; each must have
        the shape of the array it replaces, else ValueError."""
        arrays = list(arrays)
        if len(arrays) != len(self.params()):
            raise ValueError(f"this model has {len(self.params())} weight arrays, got {len(arrays)}")
        for layer in self.weighted:
            W, b = arrays.pop(0), arrays.pop(0)
            if W.shape != layer.W.shape or b.shape != layer.b.shape:
                raise ValueError(f"{layer!r} needs weights {layer.W.shape} and biases {layer.b.shape}, "
                                 f"got {W.shape} and {b.shape}")
            layer.W, layer.b = np.array(W, dtype=DTYPE), np.array(b, dtype=DTYPE)

    def replica(self):
        """A ConvNet sharing this one's weights (the very same arrays: an optimiser's step is seen by both)
        with layers of its own, for another thread to run forward and backward at the same time
        (each layer keeps what its backward needs: fast.py trick 1)."""
        twin = copy.copy(self)
        twin.layers = [copy.copy(layer) for layer in self.layers]
        twin.stack = fast.pool_first(twin.layers)
        return twin

    def copy(self):
        """An independent copy (new arrays), for experiments that must not touch the original."""
        twin = ConvNet(self.spec(), self.loss, input_shape=self.input_shape)
        for layer, mine in zip(twin.weighted, self.weighted):
            layer.W, layer.b = mine.W.copy(), mine.b.copy()      # (keeps the dtype, float64 in tests too)
        return twin

    def astype(self, dtype):
        """Cast every parameter (float64 for gradient checks); returns self."""
        for layer in self.layers:
            layer.astype(dtype)
        return self

    # ------------------------------------------------------------ forward

    def output(self, z):
        """The output layer's activation: sigmoid for MSE, softmax for cross-entropy."""
        return sigmoid(z) if self.loss == "mse" else softmax(z)

    def _up(self, x, keep):
        """x rows (n, 784) -> logits (n, n_classes), through every layer (keep: for backward)."""
        a = np.asarray(x, dtype=self.dtype).reshape((len(x),) + self.input_shape)
        for layer in self.stack:
            a = layer.forward(a, keep)
        return a

    def peak_values(self):
        """Numbers alive at once for one example in the busiest layer: its input, its output and,
        for a convolution, im2col's rows (h' w' k k c). For memory estimates."""
        peak = 0
        for layer, before, after in zip(self.layers, self.sizes, self.sizes[1:]):
            cols = after // layer.W.shape[0] * layer.W[0].size if isinstance(layer, Conv2D) else 0
            peak = max(peak, before + after + cols)
        return peak

    def logits(self, x):
        """The scores z (n, n_classes) of many images, a piece at a time (little memory, nothing kept)."""
        chunk = max(1, min(CHUNK, CHUNK_VALUES // self.peak_values()))
        if len(x) <= chunk:
            return self._up(x, keep=False)
        return np.concatenate([self._up(x[i:i + chunk], keep=False) for i in range(0, len(x), chunk)])

    def forward(self, x, keep=False):
        """Propagate image rows x (n, 784) through the stack.

        Returns the output activations (n, n_classes). With keep=True returns
        (zs, activations) shaped like network.Network's ends: zs[-1] is the output
        layer's z (the logits) and activations[-1] the output, activations[0] is x
        (every layer's own output: layer_outputs).
        """
        z = self.logits(x)
        a = self.output(z)
        return ([z], [x, a]) if keep else a

    def layer_outputs(self, x):
        """[(layer, its output)] for every layer, for a few images x (n, 784): what each layer made of them."""
        a = np.asarray(x, dtype=self.dtype).reshape((len(x),) + self.input_shape)
        outs = []
        for layer in self.layers:
            a = layer.forward(a, keep=False)
            outs.append((layer, a))
        return outs

    def predict_proba(self, x):
        """Output activations (n, n_classes); for softmax they are probabilities."""
        return self.forward(x)

    def predict(self, x):
        """Predicted class of each row of x: the output neuron with the highest value."""
        return self.logits(x).argmax(axis=1)   # softmax and sigmoid keep the order: no need to apply them

    # ------------------------------------------------------------ loss

    # The loss and the output's blame are the MLP's own (engine/network.py): they
    # only read self.loss and self.weights, which a ConvNet has too.
    loss_value = Network.loss_value

    # ------------------------------------------------------------ backward

    output_delta = Network.output_delta

    def backward(self, delta, l2=0.0):
        """Send the output's blame delta down the stack. Returns (grad_w, grad_b), one per weighted
        layer, bottom to top. Changes no weight (each layer only fills its dW, db)."""
        for layer in reversed(self.stack):
            delta = layer.backward(delta)
            if delta is None:          # the first layer computes no dx
                break
        grad_w = [layer.dW + l2 * layer.W if l2 else layer.dW for layer in self.weighted]
        grad_b = [layer.db for layer in self.weighted]
        return grad_w, grad_b

    def input_gradient(self, x, blame):
        """d(out)/dx for image rows x (n, 784), as network.Network.input_gradient: blame(z, a) gives
        d(out)/dz (n, n_classes), sent down the whole stack, the first layer's dx too. Returns (z, a, dx).
        Like gradients(), it keeps values on the layers: one call at a time per model (copy a shared one)."""
        first = self.layers[0]
        skipped = getattr(first, "need_dx", True) is False     # training skips the image's dx: here it is the answer
        if skipped:
            first.need_dx = True                               # (before the forward pass: fast.py trick 8 reads it)
        try:
            z = self._up(x, keep=True)
            a = self.output(z)
            delta = blame(z, a)
            for layer in reversed(self.stack):
                delta = layer.backward(delta)
        finally:
            if skipped:
                first.need_dx = False
        return z, a, delta.reshape(len(x), -1)

    def gradients(self, x, y, l2=0.0):
        """forward + backward for one batch x (n, 784), y one-hot (n, n_classes).
        Returns (loss, grad_w, grad_b, output), as network.Network.gradients."""
        z = self._up(x, keep=True)
        a = self.output(z)
        loss = self.loss_value(z, a, y, l2)
        grad_w, grad_b = self.backward(self.output_delta(z, a, y), l2)
        return loss, grad_w, grad_b, a
