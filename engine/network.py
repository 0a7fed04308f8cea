"""A Multi-Layer Perceptron in plain NumPy.

The three steps of learning are kept apart, as the origin write-up teaches:

    forward   - predict: every layer computes z = W·a + b, then a = f(z)
    backward  - assign blame: the gradients dL/dW and dL/db of every layer
                (changes nothing)
    update    - learn: the optimiser moves the weights (see optim.py)

Conventions
    A batch of n examples is stored as rows: x has shape (n, 784).
    weights[l] has shape (n_out, n_in), as in the maths z = W·x + b. For a batch
    in rows that is Z = A @ W.T + b, which computes W·x for every row at once.
    biases[l] has shape (n_out,).
    Labels for the loss are one-hot rows y of shape (n, n_classes).
"""
import numpy as np

from . import fast

from .layers import ACTIVATIONS as ACTIVATION_TABLE   # each activation and its derivative, in one place
from .layers import DTYPE, sigmoid

ACTIVATIONS = tuple(ACTIVATION_TABLE)   # the names: sigmoid, tanh, relu, leaky_relu
LOSSES = ("mse", "cross-entropy")


# ---------------------------------------------------------------- activations

# The formulas live in engine/layers.py's ACTIVATIONS table (f and f' side by side), so that
# adding an activation is one line there; the MLP reads them from it.


def _activation(name):
    if name not in ACTIVATION_TABLE:
        raise ValueError(f"unknown activation {name!r}; choose one of {', '.join(ACTIVATIONS)}")
    return ACTIVATION_TABLE[name]


def activate(name, z):
    """Apply the hidden activation `name` to z (any shape): f(z) from the table."""
    return _activation(name)[0](z)


def activate_prime(name, z, a):
    """Derivative f'(z), given z and a = f(z) (the cheaper one is used). ReLU's is a mask of
    booleans (z > 0): it multiplies like 1.0 and 0.0, without making a float copy."""
    return _activation(name)[1](z, a)


def softmax(z):
    """Row-wise softmax of logits z (n, k) -> probabilities (n, k).

    Subtracting the row maximum first keeps exp() from overflowing: softmax
    is unchanged by adding a constant to every logit.
    """
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    e /= e.sum(axis=-1, keepdims=True)   # in place: no second temporary array
    return e


def log_softmax(z):
    """Row-wise log of softmax, computed without ever taking log(0)."""
    shifted = z - z.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


# ---------------------------------------------------------------- losses

def one_hot(labels, n_classes=10, dtype=DTYPE):
    """Integer labels (n,) -> one-hot rows (n, n_classes): 3 -> [0,0,0,1,0,...]."""
    labels = np.asarray(labels)
    if labels.size and (labels.min() < 0 or labels.max() >= n_classes):
        raise ValueError(f"labels must be in 0..{n_classes - 1}")
    return np.eye(n_classes, dtype=dtype)[labels]            # row k of the identity is k's one-hot row


def mse_terms(a, y):
    """Each output neuron's share of the MSE loss: 1/2 (a - y)^2, shape like a."""
    return 0.5 * (a - y) ** 2


def mse(a, y):
    """Mean squared error: the per-example sum of 1/2 (a - y)^2, averaged over the batch."""
    return float(mse_terms(a, y).sum() / a.shape[0])


def cross_entropy_terms(p, y, eps=1e-12):
    """Each output neuron's share of the cross-entropy: -y log p, shape like p.

    p is clipped at eps so that a probability of exactly 0 gives a large but
    finite loss instead of infinity.
    """
    return -y * np.log(np.maximum(p, eps))


def cross_entropy(p, y):
    """Cross-entropy of probabilities p (n, k) against one-hot y, averaged over the batch."""
    return float(cross_entropy_terms(p, y).sum() / p.shape[0])


# ---------------------------------------------------------------- the network

def init_std(activation, n_in, n_out):
    """Standard deviation of the initial weights, matched to the activation.

    He (sqrt(2/n_in)) for ReLU-like units, which zero half their inputs;
    Xavier/Glorot (sqrt(2/(n_in+n_out))) for sigmoid and tanh, which keeps the
    signal in their sensitive middle range instead of saturating.
    """
    if activation in ("relu", "leaky_relu"):
        return np.sqrt(2.0 / n_in)
    return np.sqrt(2.0 / (n_in + n_out))


class Network:
    """An MLP with layer sizes like [784, 128, 10].

    activation: hidden-layer activation, one of ACTIVATIONS.
    loss: "mse" (sigmoid outputs, the origin write-up's setup) or
          "cross-entropy" (softmax outputs, its "next step").
    seed: makes the initial weights reproducible.
    init_scale: multiplies the initial weights (1.0 = the matched initialisation).
    """

    def __init__(self, sizes, activation="relu", loss="cross-entropy", seed=0, init_scale=1.0):
        sizes = [int(s) for s in sizes]
        if len(sizes) < 2 or min(sizes) < 1:
            raise ValueError("layer sizes need at least an input and an output layer, each with 1 or more units")
        if activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation {activation!r}; choose one of {', '.join(ACTIVATIONS)}")
        if loss not in LOSSES:
            raise ValueError(f"unknown loss {loss!r}; choose one of {', '.join(LOSSES)}")
        self.sizes, self.activation, self.loss = sizes, activation, loss
        rng = np.random.default_rng(seed)
        self.weights, self.biases = [], []
        for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            last = i == len(sizes) - 2
            # The output layer is sigmoid or softmax, so it gets the Xavier scale.
            std = init_std("sigmoid" if last else activation, n_in, n_out) * init_scale
            self.weights.append((rng.standard_normal((n_out, n_in)) * std).astype(DTYPE))
            self.biases.append(np.zeros(n_out, dtype=DTYPE))

    @property
    def n_layers(self):
        return len(self.weights)

    def params(self):
        """All trainable arrays, in a fixed order: [W0, b0, W1, b1, ...]."""
        return [p for wb in zip(self.weights, self.biases) for p in wb]

    def n_params(self):
        return sum(p.size for p in self.params())

    def flops_per_example(self, backward=True):
        """Arithmetic of one example's forward and backward pass: about 6 operations per weight
        (2 for the multiply-add of W·a, 4 for dW and the blame sent down); forward only: 2.
        For the Trainer's part size, cost estimates and the budget (convnet.ConvNet has its own)."""
        return (6 if backward else 2) * sum(W.size for W in self.weights)

    def peak_values(self):
        """Numbers alive at once for one example in the busiest layer: its input and its output."""
        return max(n_in + n_out for n_in, n_out in zip(self.sizes, self.sizes[1:]))

    def describe(self):
        """Short text like '784-128-10, relu, softmax + cross-entropy'."""
        out = "sigmoid + MSE" if self.loss == "mse" else "softmax + cross-entropy"
        return f"{'-'.join(map(str, self.sizes))}, {self.activation}, {out}"

    def replica(self):
        """The network itself: gradients() keeps nothing on it, so threads may share it (fast.py trick 1)."""
        return self

    def copy(self):
        """An independent copy (new arrays), for experiments that must not touch the original."""
        twin = object.__new__(Network)
        twin.sizes, twin.activation, twin.loss = list(self.sizes), self.activation, self.loss
        twin.weights = [w.copy() for w in self.weights]
        twin.biases = [b.copy() for b in self.biases]
        return twin

    # ------------------------------------------------------------ forward

    def output(self, z):
        """The output layer's activation: sigmoid for MSE, softmax for cross-entropy."""
        return sigmoid(z) if self.loss == "mse" else softmax(z)

    def forward(self, x, keep=False):
        """Propagate a batch x (n, n_in) through the network.

        Returns the output activations (n, n_out). With keep=True returns
        (zs, activations): zs[l] is layer l's weighted sum z (n, sizes[l+1]) and
        activations[l] is its input a (activations[0] is x itself, the last one
        is the output).
        """
        a = np.asarray(x, dtype=self.weights[0].dtype)
        zs, activations = [], [a]
        for l, (W, b) in enumerate(zip(self.weights, self.biases)):
            z = a @ W.T                      # (n, n_out): W·a + b for every row
            z += b                           # (the bias added in place: no temporary)
            last = l == self.n_layers - 1
            a = self.output(z) if last else activate(self.activation, z)
            if keep:
                zs.append(z)
                activations.append(a)
        return (zs, activations) if keep else a

    def predict_proba(self, x):
        """Output activations (n, n_out); for softmax they are probabilities."""
        return self.forward(x)

    def predict(self, x):
        """Predicted class of each row of x: the output neuron with the highest value."""
        return self.forward(x).argmax(axis=1)

    # ------------------------------------------------------------ loss

    def loss_value(self, z_out, a_out, y, l2=0.0):
        """The loss of a batch from its output z and a, plus the L2 penalty l2/2 * sum(W^2)."""
        if self.loss == "mse":
            data_loss = mse(a_out, y)
        else:
            # log p from the logits (log_softmax is exact even where p underflows to 0), or from p itself
            # when no p is that small (the same numbers within rounding, in a fifth of the time: fast.py trick 10).
            log_p = np.log(a_out) if fast.no_tiny(a_out) else log_softmax(z_out)
            data_loss = float(-(y * log_p).sum() / y.shape[0])
        if l2:
            data_loss += 0.5 * l2 * sum(float((W.astype(np.float64) ** 2).sum()) for W in self.weights)
        return data_loss

    def loss_on(self, x, y, l2=0.0):
        """Forward x and return the loss against one-hot y."""
        zs, acts = self.forward(x, keep=True)
        return self.loss_value(zs[-1], acts[-1], y, l2)

    # ------------------------------------------------------------ backward

    def output_delta(self, z_out, a_out, y):
        """dL/dz of the output layer (n, n_out), already divided by the batch size."""
        n = y.shape[0]
        if self.loss == "mse":
            # L = 1/n sum 1/2 (a - y)^2 and a = sigmoid(z): chain rule gives (a - y) * a(1-a).
            return (a_out - y) * a_out * (1 - a_out) / n
        # Softmax + cross-entropy: the Jacobians cancel to the famous p - y.
        delta = a_out - y
        delta /= n
        return delta

    def backward(self, zs, activations, y, l2=0.0):
        """Backpropagation: the gradient of the loss for every weight and bias.

        zs, activations: from forward(x, keep=True); y: one-hot (n, n_out).
        Returns (grad_w, grad_b), lists shaped like weights and biases.
        Only computes; the network is not changed.
        """
        grad_w = [None] * self.n_layers
        grad_b = [None] * self.n_layers
        delta = self.output_delta(zs[-1], activations[-1], y)      # (n, n_out)
        for l in range(self.n_layers - 1, -1, -1):
            grad_w[l] = delta.T @ activations[l]                   # (n_out, n_in)
            grad_b[l] = delta.sum(axis=0)                          # (n_out,)
            if l2:
                grad_w[l] += l2 * self.weights[l]
            if l > 0:
                # Blame flows back through W, then through the activation's slope.
                delta = delta @ self.weights[l]
                delta *= activate_prime(self.activation, zs[l - 1], activations[l])
        return grad_w, grad_b

    def input_gradient(self, x, blame):
        """d(out)/dx for a batch x (n, n_in), out any function of the output layer: blame(z, a)
        gives d(out)/dz (n, n_out), sent down through every W^T and f' to the pixels. Returns (z, a, dx).

        The loop of backward(), one step further (delta @ W of the first layer) and without dW, db."""
        zs, activations = self.forward(x, keep=True)
        delta = blame(zs[-1], activations[-1])
        for l in range(self.n_layers - 1, -1, -1):
            delta = delta @ self.weights[l]                        # (n, n_in of layer l)
            if l > 0:
                delta *= activate_prime(self.activation, zs[l - 1], activations[l])
        return zs[-1], activations[-1], delta

    def gradients(self, x, y, l2=0.0):
        """forward + backward for one batch. Returns (loss, grad_w, grad_b, output)."""
        zs, acts = self.forward(x, keep=True)
        loss = self.loss_value(zs[-1], acts[-1], y, l2)
        grad_w, grad_b = self.backward(zs, acts, y, l2)
        return loss, grad_w, grad_b, acts[-1]
