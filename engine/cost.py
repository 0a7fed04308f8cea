"""What a training run will cost, worked out before it starts.

A class server must refuse a setting that would take all its memory or make one
mini-batch last a minute, and say what to change. The sums:

    weights      n_w = sum over layers of (n_in + 1) * n_out, float32 (4 bytes each)
    memory       the weights, their gradients, the last good copy (divergence
                 safety), the finished model's copy, plus the optimiser's memory
                 (momentum: 1 more copy, Adam: 2), plus the activations of one part
                 of a batch (z, a and delta for every layer: trainer.part_size)
    arithmetic   forward 2 and backward 4 operations per weight and example

    passes       the validation pass after every epoch and the test pass at the end:
                 forward only, 2 operations per weight and example, times n_val or n_test

A CNN (settings.layers) is counted by its own ConvNet: n_params(), flops_per_example()
(a convolution's weight works at every pixel, so far more than 6 per weight; max-pooling
and activations count their element-wise steps, budget.ELEMENTWISE_FLOPS each) and, for
the activations of one part, z, a and delta of every layer (pooling layers' outputs
included) as above plus each convolution's im2col rows (kept for backward) and their
blame in backward. The passes: flops_per_example(backward=False) per image.

Every pass runs in the line of runs, in parts (engine/worker.py); how long one image may
take at most is the budget's (engine/budget.py, MAX_FORWARD_FLOPS).
"""
from dataclasses import dataclass

from .budget import model_problem
from .trainer import part_size, parts_of

BYTES = 4                                                 # float32
OPTIMIZER_COPIES = {"sgd": 0, "momentum": 1, "adam": 2}   # extra arrays per weight


@dataclass
class RunCost:
    n_params: int           # weights and biases
    memory_bytes: int       # memory the run needs while it trains
    batch_flops: float      # arithmetic of one mini-batch (forward + backward)
    test_flops: float       # arithmetic of one pass over the test set (at the end)
    val_flops: float = 0.0  # arithmetic of one pass over the validation set (after every epoch)
    over_budget: str = ""   # what makes the network bigger than any model may be (budget.py), or ""


def run_cost(settings, n_test=10_000, n_val=0):
    """The RunCost of training a network with `settings` (a trainer.Settings), tested on
    n_test images at the end and checked on n_val validation images after every epoch.

    Raises ValueError for an impossible layer stack (ConvNet says what is wrong)."""
    if settings.layers is not None:
        return _cnn_cost(settings, n_test, n_val)
    sizes = list(settings.sizes)
    n_w = sum(n_in * n_out for n_in, n_out in zip(sizes[:-1], sizes[1:]))
    n_params = n_w + sum(sizes[1:])
    copies = 4 + OPTIMIZER_COPIES.get(settings.optimizer, 2)
    part = min(settings.batch_size, part_size(sizes))
    activations = 3 * part * sum(sizes) * BYTES + (2 * part * sizes[0] * BYTES if settings.augment else 0)
    return RunCost(n_params=n_params, memory_bytes=copies * n_params * BYTES + activations,
                   batch_flops=6.0 * n_w * settings.batch_size, test_flops=2.0 * n_w * n_test,
                   val_flops=2.0 * n_w * n_val,
                   over_budget=model_problem(n_params, 2.0 * n_w, max(a + b for a, b in zip(sizes, sizes[1:]))))


def _cnn_cost(settings, n_test, n_val):
    # The ConvNet itself (its weights: at most trainer.MAX_PARAMS, refused before they are made)
    # knows its shapes; its cost is then not a second copy of the layer arithmetic.
    net = settings.new_net()
    n_params = net.n_params()
    copies = 4 + OPTIMIZER_COPIES.get(settings.optimizer, 2)
    part = min(settings.batch_size, parts_of(net))
    per_example = 3 * sum(net.sizes) + 2 * net.im2col_values()
    activations = part * per_example * BYTES + (2 * part * net.sizes[0] * BYTES if settings.augment else 0)
    return RunCost(n_params=n_params, memory_bytes=copies * n_params * BYTES + activations,
                   batch_flops=float(net.flops_per_example()) * settings.batch_size,
                   test_flops=float(net.flops_per_example(backward=False)) * n_test,
                   val_flops=float(net.flops_per_example(backward=False)) * n_val,
                   over_budget=model_problem(n_params, net.flops_per_example(backward=False), net.peak_values()))
