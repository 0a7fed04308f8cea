"""Optimisers: the update step, where learning actually happens.

Each optimiser gets the network's parameters and the gradients from
backpropagation and moves every parameter a little downhill. Hyper-parameters
(lr, momentum) are plain attributes, so they may change between steps.
Parameters are updated in place, so the network sees the new values.

A step is two halves: changes(params, grads) works out how much each parameter
moves (arrays d shaped like them, nothing changed yet), apply(params, d) moves
them (p += d). step() does both; the Trainer looks at d in between, so that a
step that would blow the weights up is never made (trainer.guarded_step).
"""
import numpy as np

from . import fast

OPTIMIZERS = ("sgd", "momentum", "adam")
# Language models (engine/language) train with AdamW; the digits' pages list OPTIMIZERS only.
LM_OPTIMIZERS = OPTIMIZERS + ("adamw",)


class Optimizer:
    """What every optimiser shares: step = changes, then apply."""

    def step(self, params, grads):
        self.apply(params, self.changes(params, grads))

    def apply(self, params, changes):
        """Move every parameter by its change: p = p + d."""
        for p, d in zip(params, changes):
            p += d


class SGD(Optimizer):
    """Plain gradient descent: w = w - lr * grad."""

    def __init__(self, lr=0.1):
        self.lr = lr
        self.reset()

    def changes(self, params, grads):
        if self._d is None:
            self._d = [np.empty_like(p) for p in params]
        for g, d in zip(grads, self._d):
            np.multiply(g, -self.lr, out=d)            # d = -lr grad
        return self._d

    def reset(self):
        self._d = None


class Momentum(Optimizer):
    """SGD with momentum: a velocity that remembers past steps.

    v = momentum * v - lr * grad;  w = w + v
    Steps that keep pointing the same way add up; zig-zags cancel out.
    """

    def __init__(self, lr=0.1, momentum=0.9):
        self.lr, self.momentum = lr, momentum
        self.reset()

    def changes(self, params, grads):
        if self.velocity is None:
            self.velocity = [np.zeros_like(p) for p in params]
            self._scratch = [np.empty_like(p) for p in params]   # lr * grad, without a new array each step
        self.t += 1
        for g, v, tmp in zip(grads, self.velocity, self._scratch):
            v *= self.momentum
            np.multiply(g, self.lr, out=tmp)
            v -= tmp
        fast.flush_tiny(self.velocity, self.t)                    # no subnormal numbers: engine/fast.py trick 7
        return self.velocity                                      # w = w + v

    def reset(self):
        self.velocity = None
        self.t = 0


class Adam(Optimizer):
    """Adam: momentum plus a per-weight step size from the gradient's recent size.

    m = b1 m + (1-b1) g;  s = b2 s + (1-b2) g^2
    w = w - lr * m_hat / (sqrt(s_hat) + eps), with m_hat, s_hat corrected for
    starting at zero.
    """

    def __init__(self, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
        self.lr, self.beta1, self.beta2, self.eps = lr, beta1, beta2, eps
        self.reset()

    def reset(self):
        self.m = self.s = None
        self.t = 0

    def changes(self, params, grads):
        if self.m is None:
            self.m = [np.zeros_like(p) for p in params]
            self.s = [np.zeros_like(p) for p in params]
            self._tmp = [np.empty_like(p) for p in params]
        self.t += 1
        b1, b2 = self.beta1, self.beta2
        # m and s start at 0: m_hat = m / (1 - b1^t) and s_hat = s / (1 - b2^t) undo that bias, so
        # lr m_hat / (sqrt(s_hat) + eps) = step_size m / (sqrt(s) / root_fix + eps), as PyTorch computes it
        step_size = self.lr / (1 - b1 ** self.t)
        root_fix = np.sqrt(1 - b2 ** self.t)
        for g, m, s, tmp in zip(grads, self.m, self.s, self._tmp):
            m *= b1
            np.multiply(g, 1 - b1, out=tmp)     # (every step in place, into tmp: engine/fast.py trick 5)
            m += tmp
            s *= b2
            np.multiply(g, g, out=tmp)
            tmp *= 1 - b2
            s += tmp
            np.sqrt(s, out=tmp)
            tmp /= root_fix
            tmp += self.eps
            np.divide(m, tmp, out=tmp)
            tmp *= -step_size                   # the change: w = w - step_size m / (sqrt(s) / root_fix + eps)
        fast.flush_tiny(self.m, self.t)                                      # engine/fast.py trick 7
        fast.flush_tiny(self.s, self.t, below=fast.SMALLEST_NORMAL)
        return self._tmp


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter 2019), as torch.optim.AdamW:

    w = w - lr * wd * w        the decay, on its own: not mixed into m and s as an L2 term would be
    then Adam's step with m, s from the gradient alone.
    decays: one bool per parameter (which ones shrink: matrices yes, biases and norms no);
    None = all of them. betas (0.9, 0.99) and wd 0.1 are nanoGPT's for small models.
    """

    def __init__(self, lr=0.001, beta1=0.9, beta2=0.99, eps=1e-8, weight_decay=0.1, decays=None):
        super().__init__(lr, beta1, beta2, eps)
        self.weight_decay, self.decays = weight_decay, decays

    def apply(self, params, changes):
        decays = self.decays or [True] * len(params)
        if self.weight_decay:
            for p, decay in zip(params, decays):
                if decay:
                    p *= 1 - self.lr * self.weight_decay
        super().apply(params, changes)                        # then Adam's step, from the gradient alone


def make_optimizer(name, lr, momentum=0.9):
    """Build an optimiser by name: 'sgd', 'momentum' or 'adam'."""
    if name == "sgd":
        return SGD(lr)
    if name == "momentum":
        return Momentum(lr, momentum)
    if name == "adam":
        return Adam(lr)
    if name == "adamw":
        return AdamW(lr)
    raise ValueError(f"unknown optimizer {name!r}; choose one of {', '.join(OPTIMIZERS)}")
