"""What a training run will cost, worked out before it starts.

A class server must refuse a setting that would take all its memory or make one
mini-batch last a minute, and say what to change. The sums:

    weights      n_w = sum over layers of (n_in + 1) * n_out, float32 (4 bytes each)
    memory       the weights, their gradients, the last good copy (divergence
                 safety), the finished model's copy, plus the optimiser's memory
                 (momentum: 1 more copy, Adam: 3), plus the activations of one part
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
OPTIMIZER_COPIES = {"sgd": 0, "momentum": 1, "adam": 3, "adamw": 3}   # extra arrays per weight (Adam: m, s, scratch)


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


def lm_run_cost(settings, vocab_size, eval_tokens=None):
    """The RunCost of training a language model with `settings` (engine/language LMSettings) on a text of
    vocab_size characters, before the model is made (ValueError, in one sentence, for a spec that is not
    a model). batch_flops: one step; test_flops: one evaluation (settings.eval_tokens characters).

    Memory: the weights as above (weights, gradients, last good copy, a copy, the optimiser's), plus what
    one part of a batch keeps for backward and backward's temporaries, per character:
        transformer  per block 24 C numbers (LayerNorms, q k v, attention output, feed-forward 3 x 4C,
                     residuals, their blame) and 4 H T (scores, probabilities, their blame), plus 3 V
                     (logits, probabilities, blame) and 4 C (embeddings, final LayerNorm)
        MLP          3 k E + 3 hidden + 4 V;   bigram  4 V
    (measured with tracemalloc: tests/test_language_models.py checks the estimate bounds a real step's peak)
    """
    from .language.models import spec_params
    from .language.trainer import PART_FLOPS
    spec = settings.spec(vocab_size)
    n_params = spec_params(spec)
    V, T = vocab_size, settings.sequence
    if settings.kind == "transformer":
        C, L, H = settings.width, settings.blocks, settings.heads
        weights_flops = 2 * (L * 12 * C * C + C * V)     # the matrices (q k v, output, feed-forward, head)
        attention = 2 * 2 * L * T * C // 2                                 # scores + weighted sum, mean over t
        per_token = 3 * (weights_flops + attention)
        keep = L * (24 * C + 4 * H * T) + 3 * V + 4 * C
    elif settings.kind == "mlp":
        per_token = 3 * 2 * (settings.context * settings.embed * settings.hidden + settings.hidden * V)
        keep = 3 * settings.context * settings.embed + 3 * settings.hidden + 4 * V
    else:
        per_token = 8 * V
        keep = 4 * V
    windows = min(settings.batch_size, max(1, int(PART_FLOPS // (per_token * T))))
    copies = 4 + OPTIMIZER_COPIES.get(settings.optimizer, 3)
    tokens = settings.eval_tokens if eval_tokens is None else eval_tokens
    return RunCost(n_params=n_params, memory_bytes=copies * n_params * BYTES + windows * T * keep * BYTES,
                   batch_flops=float(per_token) * settings.batch_size * T, test_flops=float(per_token) / 3 * tokens)
