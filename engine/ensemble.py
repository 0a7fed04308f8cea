"""Two or more networks reading the same input together: their output probabilities averaged.

A network that ends in softmax gives ten probabilities adding up to 1. The average of several such lists
adds up to 1 too, and its largest entry is the answer the networks agree on most: when one network is
unsure (a flat list) and the other sure (a peaked one), the sure one wins. bench/bench_drawn.py measures
it against each network alone on the drawn digits.
"""
import numpy as np


class Averaged:
    """The mean of `nets`' predict_proba (each (n, 10), softmax outputs): a reader like a network."""

    loss = "cross-entropy"          # its outputs are probabilities, as a softmax network's

    def __init__(self, nets):
        if not nets or any(getattr(net, "loss", "cross-entropy") == "mse" for net in nets):
            raise ValueError("averaging needs networks whose outputs are probabilities (softmax)")
        self.nets = list(nets)

    def predict_proba(self, x):
        """(n, 784) -> (n, 10): the networks' probabilities, averaged."""
        return np.mean([net.predict_proba(x) for net in self.nets], axis=0)

    def predict(self, x):
        """(n, 784) -> (n,): the digit with the highest averaged probability."""
        return self.predict_proba(x).argmax(axis=1)
