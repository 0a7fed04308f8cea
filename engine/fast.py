"""The engine's speed tricks, in one place, each named and explained.

engine/layers.py, convnet.py and network.py read as the math; what only makes them faster is here,
so that a reader can skip this file and still follow every formula. Every trick computes the same
numbers as the plain math (tests/test_fast.py holds each against it, within float32 rounding).

1. Threads for the parts of a mini-batch (in_threads).
   A mini-batch's gradient is the mean of its examples' gradients, so its rows can be cut into
   slices, each slice's gradient worked out on its own, and the results added up, each times its
   share of the batch (the Trainer does the same for a big batch's parts: trainer.add_part).
   NumPy lets go of Python's lock inside each operation, so slices given to different threads
   really run at once, on different cores: the matrix products AND the element-wise work (ReLU,
   pooling, im2col, softmax), where multi-threaded BLAS only shares the products.
   Each thread needs its own memory of the forward pass (the layers keep their inputs for backward):
   net.replica() shares the weights (the same arrays) and keeps its own. How many threads:
   Trainer.threads, 1 unless whoever runs the trainer gives more. A run in the server's line of
   runs gets its place's share of the cores (worker.Slots.threads); the app runs BLAS on one
   thread (dashboard.py), so a run never uses more cores than its place. The cut into slices is the
   same on any number of threads (slices): a run ends on the same numbers with one core or two.
   The language models' trainer cuts its windows the same way (engine/language/trainer.py, with
   LanguageModel.replica); a window of characters is worth a slice on its own (slices' `smallest`).
2. im2col by kernel offset, for inputs with few channels (im2col_by_offset).
   layers.im2col copies every window into a row: for a grey image (1 channel) each row is k*k
   numbers gathered from k rows of the image, a slow copy of short pieces. Here the matrix is
   filled a kernel offset (u, v) at a time instead: for one offset, every window's pixel is one
   shifted slice of the image, copied whole. The matrix is made as (k k c, n h' w') and handed
   over transposed, (n h' w', k k c), the shape im2col promises; BLAS reads it either way.
3. Pooling before the activation (PoolFirst).
   ReLU is non-decreasing, so the largest ReLU of a window is the ReLU of its largest value:
   maxpool(relu(z)) = relu(maxpool(z)). The same winner is picked (ReLU only changes values that are
   not the largest above 0), and backward gives the same blame: 0 where the window's largest z is
   at most 0, dy at its first largest pixel otherwise. Doing the pooling first, ReLU and its slope
   work on a quarter of the values (2 x 2 pooling). Only for training's forward and backward:
   ConvNet.layer_outputs (the Inside page) still shows each layer's own output.
4. Max-pooling's backward in fewer passes, for windows that do not overlap (route_to_winners).
   Each window's blame goes to its first pixel holding the maximum (as PyTorch picks it). The plain
   loop (layers.MaxPool2D.backward) starts from dx = 0 and, for every position in the window, asks
   "equal to the maximum, and no earlier winner?". Here, when the windows tile the input exactly,
   every pixel of dx is written once, so dx needs no zeros first; the first position needs no
   "no earlier winner" test and the last no test at all (whatever has not won yet wins there).
5. Adam's step in place (optim.Adam): the same formula as PyTorch's, every intermediate written into
   one scratch array per parameter instead of a new array for each of its ten operations.
6. Slices that fit the cache (cache_rows).
   A convolution's im2col matrix is big: 64 x 8 x 8 rows of 400 numbers, 6.5 MB, for a batch of 64 in the
   second conv of conv 16 - conv 64, more than a core's caches (2 MB of L2 here, and a share of the L3):
   written, much of it has left them before the matrix product reads it. So trick 1's slices are also cut
   small enough that the busiest layer's numbers (ConvNet.peak_values) fit in CACHE_VALUES, one thread or
   more: slices of 32 for that CNN. Measured on one core, a batch of 256 in 8 slices: 13.4-13.6 ms per 64
   images, against 15.2-15.6 ms as one slice (13% less); a batch of 64 is cut in 2 by trick 1 anyway (one
   slice of 64 measured no faster or slower). An MLP's batch stays whole.
7. No subnormal numbers in an optimiser's memory (flush_tiny).
   A velocity (momentum, Adam's m and s) that gets no more gradient shrinks by its factor every step
   (0.9 v, 0.9 v, ...): for an input pixel that is almost never ink, after some hundreds of steps it
   falls under float32's smallest normal number, 1.2e-38, into the "subnormal" numbers, which the CPU
   multiplies and adds many times slower (measured: v *= 0.9 over the 784-128 layer took 65 µs instead
   of 9 µs once 4% of it was subnormal, after 3 epochs; the optimiser's step grew from 111 to 179 µs).
   So every FLUSH_EVERY steps the values under FLUSH_BELOW are set to exactly 0 before they get there.
   A value that small changes no weight (a weight of 1e-20 or more plus 1e-30 is the same float32) and
   no later velocity (0.9 * 1e-30 + a gradient of 1e-22 or more is that gradient's share), so a run
   ends on the same weights (measured: bit for bit after 3 MNIST epochs of the 784-128-10 net;
   tests/test_fast.py checks a fading memory). Adam's s is flushed below 1.2e-38 only: sqrt(s) is
   added to eps = 1e-8 and must stay too small to change it.
8. The first convolution's rows in window order (WindowOrder), when a grey image's convolution (stride 1, no
   dx needed) is followed by ReLU and a max-pooling whose m x m windows tile its output.
   The pooling's windows are made of pixels (2i + a, 2j + b), a and b in 0..1 for m = 2: in the usual row
   order (n, h, w) the four pixels of a window are 16 channels apart in memory, every pass of the pooling
   and of its blame works on runs of 16 numbers (conv 16), and NumPy pays its loop's overhead for each run.
   Here im2col writes its rows in the order (a, b, n, i, j): the matrix product then leaves the m*m pixels
   of every window in m*m contiguous blocks, and the pooling is the largest of m*m blocks, its blame goes
   to the first winning block: long runs of contiguous numbers. The rows are built from two copies: the
   image cut into its m x m phases (pixel (m i' + rho, m j' + kappa) at [rho, kappa, i', j']), then every
   kernel offset's shifted window of them. The same numbers as conv -> relu -> pool (trick 3's order),
   except dW and db summed over the rows in another order (float32 rounding: within 1e-5 of the plain sum).
   Measured (scratch, one slice of 32, conv 16@5x5 - relu - pool 2, forward and backward, 19:34 UTC):
   2.14 ms plain, 1.63-1.77 ms in window order.
9. The weight guard from a bound it carries (WeightBound, carried_bound).
   Before every step the trainer makes sure no weight will pass MAX_WEIGHT (trainer.guarded_step): with
   |w + d| <= |w| + |d|, it is enough that max |w| + max |d| stays under it. Read every time, max |w| and
   max |d| are four passes over each weight matrix (a max and a min each), as long as the optimiser's
   step itself. But no weight can grow by more than the step's largest |d|, so a bound of max |w|
   known after one step, plus max |d|, bounds max |w| after the next: the step returns that bound and
   the next one starts from it, without reading the weights. And max |d| is at most the length of d,
   sqrt(sum d^2), one pass (a BLAS dot product). The bound only grows (by the length of each step), so
   when it comes near the limit the weights are read again, exactly, as without this trick; a bound
   for other weight arrays than the net's own (a net loaded in between) is not used. Not one step made
   or refused differs: a step is made when max |w| + max |d| <= MAX_WEIGHT in both (the carried
   bound is never under it), and refused only after the exact check. Measured (784-128-10, batch 128,
   one core, AVX2 kernels): the guard took 9 µs a mini-batch instead of 28 µs (scratch timing of
   guarded_step), and the whole step 70-85 µs instead of 93-110 µs inside an epoch.
10. The cross-entropy's log p from p itself (no_tiny), when no p is tiny.
   The loss -sum y log p / n needs log p, and p = softmax(z) is already there from the forward pass. While
   every p is at least TINY_P (1e-30, far above float32's smallest normal number, 1.2e-38), p carries its
   full precision and log p is one pass over it; only when some p is smaller (it may have underflowed to
   0, and log 0 = -inf) is log p worked out from the logits: log_softmax(z) = z - max z - log sum exp(z -
   max z), exact there but six passes, two of them slow reductions along rows of 10 numbers. The same loss
   within float32 rounding (tests/test_fast.py). Measured (784-128-10, batch 128, one core, AVX2 kernels):
   Network.loss_value 4.5 µs instead of 20.5 µs.
"""
import math
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

MIN_ROWS = 8            # trick 1: a slice of fewer rows than this costs more to hand over than it saves
MIN_SLICE_FLOPS = 2e8   # trick 1: nor one of less arithmetic (an MLP's batch of 128: 0.08 GFLOP, kept whole:
                        # its many small steps hold Python's lock, and two threads would only take turns)
SHARES = 2              # trick 1: slices come in twos (this project's machine has 2 cores), on any number of threads
CACHE_VALUES = 2 ** 20  # trick 6: numbers (4 MB) a slice may hold in its busiest layer (2 MB of L2 a core here)
FEW_CHANNELS = 4        # trick 2: inputs with at most this many channels are copied a kernel offset at a time
FLUSH_EVERY = 32        # trick 7: steps between two flushes (a velocity shrinking 0.9x a step needs ~170 steps
FLUSH_BELOW = 1e-30     #          to go from FLUSH_BELOW to a subnormal number, far more than 32)
TINY_P = 1e-30          # trick 10: a probability at least this big is a normal float32, its log as exact as can be
SMALLEST_NORMAL = float(np.finfo(np.float32).tiny)   # trick 7: 1.2e-38, float32's smallest normal number

_POOLS = {}             # trick 1: one pool of worker threads per thread count, made when first needed


def cores():
    """The machine's CPU cores (1 if Python cannot tell)."""
    return os.cpu_count() or 1


# ---------------------------------------------------------------- 1. threads for the parts of a batch

def slices(n, most_rows=None, fewest=MIN_ROWS, shares=SHARES, smallest=MIN_ROWS):
    """Row ranges cutting n rows into slices of nearly equal size, [slice(0, n1), slice(n1, n2), ...]:
    one slice, or `shares` of them if each would still hold `fewest` rows, or more (a multiple of
    shares) if that many would hold more than most_rows rows each; never a slice under `smallest` rows
    (MIN_ROWS images; a language model's row is a whole window of characters, worth a slice alone).
    The cut never depends on how many threads work on it: the slices' gradients are added in the
    same order on one thread or two, so a run's numbers are the same whatever share of the cores it
    gets (float32 addition is not associative: another cut would end a run on other numbers)."""
    k = -(-n // max(1, int(most_rows))) if most_rows else 1
    if n >= shares * fewest:
        k = max(k, shares)
    if k > 1:
        k = -(-k // shares) * shares                      # two threads: the same number of slices each
    k = max(1, min(k, n // smallest))
    cuts = [n * i // k for i in range(k + 1)]
    return [slice(a, b) for a, b in zip(cuts, cuts[1:])]


def fewest_rows(net):
    """Trick 1: the fewest examples worth a thread of their own (MIN_ROWS, and MIN_SLICE_FLOPS of arithmetic)."""
    return max(MIN_ROWS, int(MIN_SLICE_FLOPS // max(1, net.flops_per_example())))


def cache_rows(net):
    """Trick 6: how many examples a slice may hold so that the busiest layer's numbers fit in the cache."""
    return max(MIN_ROWS, CACHE_VALUES // max(1, net.peak_values()))


def in_threads(work, nets, *arrays, most_rows=None, fewest=MIN_ROWS, smallest=MIN_ROWS):
    """work(net, *row slices of arrays) for every slice of the rows (fast.slices: at most most_rows
    rows each), the slices shared out among len(nets) threads, each thread with a net of its own (the
    calling thread works too: it takes the first share, a pool of threads the others).
    Returns [(row range, what work returned)] in the order of the rows; an exception in any slice is
    raised here."""
    cuts = slices(len(arrays[0]), most_rows, fewest, smallest=smallest)
    threads = min(len(nets), len(cuts))

    def share(net, mine):
        return [(r, work(net, *(a[r] for a in arrays))) for r in mine]
    if threads == 1:
        return share(nets[0], cuts)
    pool = _POOLS.get(threads)
    if pool is None:
        pool = _POOLS[threads] = ThreadPoolExecutor(threads - 1, thread_name_prefix="engine-part")
    later = [pool.submit(share, net, cuts[i::threads]) for i, net in enumerate(nets[1:threads], 1)]
    done = share(nets[0], cuts[0::threads]) + [pair for f in later for pair in f.result()]
    return sorted(done, key=lambda pair: pair[0].start)


# ---------------------------------------------------------------- 2. im2col by kernel offset

def im2col_by_offset(x, k, s):
    """layers.im2col of an already padded x (n, c, h, w), filled a kernel offset at a time:
    cols (n h' w', k k c), columns in the order (u, v, c), a transposed view of a (k k c, n h' w') array."""
    n, c, h, w = x.shape
    h2, w2 = (h - k) // s + 1, (w - k) // s + 1
    cols = np.empty((k, k, c, n, h2, w2), dtype=x.dtype)
    by_channel = x.transpose(1, 0, 2, 3)                      # (c, n, h, w), a view
    for u in range(k):
        for v in range(k):
            cols[u, v] = by_channel[:, :, u:u + s * (h2 - 1) + 1:s, v:v + s * (w2 - 1) + 1:s]
    return cols.reshape(k * k * c, n * h2 * w2).T


# ---------------------------------------------------------------- 3. pooling before the activation

class PoolFirst:
    """An activation layer then a max-pooling layer, run as the pooling then the activation
    (trick 3; only for a non-decreasing activation: relu). Same output, same blame."""

    def __init__(self, activation, pool):
        self.activation, self.pool = activation, pool

    def forward(self, x, keep=True):
        return self.activation.forward(self.pool.forward(x, keep), keep)

    def backward(self, dy):
        return self.pool.backward(self.activation.backward(dy))


def pool_first(layers):
    """The layers with every relu directly followed by a max-pooling replaced by a PoolFirst of the two,
    and a first convolution followed by such a pair by a WindowOrder of the three (trick 8)."""
    out, i = [], 0
    while i < len(layers):
        if (getattr(layers[i], "name", None) == "relu" and i + 1 < len(layers)
                and getattr(layers[i + 1], "kind", None) == "maxpool2d"):
            out.append(PoolFirst(layers[i], layers[i + 1]))
            i += 2
        else:
            out.append(layers[i])
            i += 1
    if len(out) > 1 and getattr(out[0], "kind", None) == "conv2d" and isinstance(out[1], PoolFirst):
        out[:2] = [WindowOrder(out[0], out[1])]
    return out


# ---------------------------------------------------------------- 8. the first convolution's rows in window order

class WindowOrder:
    """A first convolution, then a PoolFirst (relu and max-pooling), run with im2col's rows in window order
    (trick 8) when it can be: a convolution of stride 1 that needs no dx, on an image of at most FEW_CHANNELS
    channels, and m x m pooling windows that tile its output and the padded image. Otherwise the three
    layers as they are. Same output; same dW and db up to the order of the sums."""

    def __init__(self, conv, pool_first_pair):
        self.conv, self.pair = conv, pool_first_pair

    def _fits(self, x_shape):
        conv, pool = self.conv, self.pair.pool
        m = pool.size
        H, W = x_shape[2] + 2 * conv.p, x_shape[3] + 2 * conv.p
        h2, w2 = H - conv.k + 1, W - conv.k + 1
        return (conv.s == 1 and not conv.need_dx and x_shape[1] <= FEW_CHANNELS and pool.stride == m
                and H % m == 0 and W % m == 0 and h2 % m == 0 and w2 % m == 0 and h2 > 0 and w2 > 0)

    def forward(self, x, keep=True):
        self.plain = not self._fits(x.shape)
        if self.plain:
            return self.pair.forward(self.conv.forward(x, keep), keep)
        conv, m, k = self.conv, self.pair.pool.size, self.conv.k
        if conv.p:
            x = np.pad(x, ((0, 0), (0, 0), (conv.p, conv.p), (conv.p, conv.p)))
        n, c, H, W = x.shape
        hp, wp = (H - k + 1) // m, (W - k + 1) // m                  # the pooled output's height and width
        phases = x.reshape(n, c, H // m, m, W // m, m).transpose(3, 5, 0, 1, 2, 4)   # [rho, kappa, n, c, i', j']
        shifted = sliding_window_view(phases, (hp, wp), axis=(4, 5))  # [rho, kappa, n, c, r', q', i, j]
        R, Q = shifted.shape[4], shifted.shape[5]
        # S[r, q, n, c, i, j] = x[n, c, r + m i, q + m j]   (r = m r' + rho, q = m q' + kappa)
        S = np.ascontiguousarray(shifted.transpose(4, 0, 5, 1, 2, 3, 6, 7)).reshape(R * m, Q * m, n, c, hp, wp)
        # window pixel (a, b) seen by kernel offset (u, v): S[a + u, b + v]; rows (a, b, n, i, j), columns (u, v, c)
        win = sliding_window_view(S, (k, k), axis=(0, 1))[:m, :m]     # [a, b, n, c, i, j, u, v]
        colsT = np.ascontiguousarray(win.transpose(6, 7, 3, 0, 1, 2, 4, 5)).reshape(k * k * c, -1)
        f = conv.W.shape[0]
        y = colsT.T @ conv.W_matrix().T                              # (m m n hp wp, f): the conv's output
        y += conv.b
        blocks = y.reshape(m * m, n * hp * wp, f)                    # block a m + b: pixel (a, b) of every window
        top = np.maximum(blocks[0], blocks[1]) if m * m > 1 else blocks[0].copy()
        for block in blocks[2:]:
            np.maximum(top, block, out=top)
        out = self.pair.activation.forward(top, keep)                # relu of the largest: trick 3
        if keep:
            self.colsT, self.blocks, self.top, self.n_hw = colsT, blocks, top, (n, hp, wp, f)
        return out.reshape(n, hp, wp, f).transpose(0, 3, 1, 2)       # (n, f, hp, wp), channels last in memory

    def backward(self, dy):
        if self.plain:
            return self.conv.backward(self.pair.backward(dy))
        n, hp, wp, f = self.n_hw
        rows = np.ascontiguousarray(dy.transpose(0, 2, 3, 1)).reshape(n * hp * wp, f)   # (a view after col2im)
        dtop = self.pair.activation.backward(rows)
        blame = route_to_winners(self.blocks, self.top, dtop, range(len(self.blocks)))   # each window's first max
        dy_rows = blame.reshape(-1, f)
        conv, k, c = self.conv, self.conv.k, self.conv.W.shape[1]
        dW_T = self.colsT @ dy_rows                                  # (k k c, f), as Conv2D.backward
        conv.dW = dW_T.reshape(k, k, c, f).transpose(3, 2, 0, 1).copy()
        conv.db = np.ones(len(dy_rows), dtype=dy_rows.dtype) @ dy_rows
        return None                                                  # the first layer: no dx


# ---------------------------------------------------------------- 4. max-pooling's backward

def route_to_winners(x, y, dy, where):
    """dx (shaped like x, with x's memory layout) for windows that tile x exactly: at the slices
    `where` (one per position inside a window, in reading order), dy where that position is the
    window's first maximum y, else 0."""
    dx = np.empty_like(x)
    left = None                                    # windows whose winner is not found yet
    for i, sl in enumerate(where):
        if i == len(where) - 1 and left is not None:
            won = left                             # the last position: whatever is left wins
        else:
            won = np.equal(x[sl], y)
            if left is None:
                left = ~won
            else:
                won &= left
                left ^= won
        np.multiply(dy, won, out=dx[sl])
    return dx


# ---------------------------------------------------------------- 7. no subnormal numbers in an optimiser's memory

def flush_tiny(arrays, step, below=FLUSH_BELOW):
    """Every FLUSH_EVERY-th step (step = 1, 2, ...): the values of each array with |value| < below set to 0,
    in place (trick 7)."""
    if step % FLUSH_EVERY:
        return
    for a in arrays:
        np.copyto(a, 0, where=np.abs(a) < below)


# ---------------------------------------------------------------- 9. the weight guard from a bound it carries

class WeightBound:
    """What a guarded step leaves for the next one (trick 9): `value` >= every |w| of `weights`."""

    def __init__(self, weights, value):
        self.weights, self.value = weights, value


def length(d):
    """sqrt(sum of d^2) >= max |d|, from one pass over d (a BLAS dot product); inf or nan when d holds one,
    or when the sum passes float32's range."""
    flat = d.reshape(-1)
    return math.sqrt(float(np.dot(flat, flat)))


def carried_bound(known, weights, steps, limit):
    """Trick 9: a bound of max |w + d| over the weights and their steps d, from the bound `known` that the
    last step left (a WeightBound), without reading the weights; None when there is none for these
    weights, or when it would pass `limit` (then the caller reads the weights)."""
    if known is None or len(known.weights) != len(weights) or any(a is not b for a, b in zip(known.weights, weights)):
        return None
    # (1 + 1e-6: room for the rounding of the dot product and of w + d, at most 6e-8 of a weight)
    bound = (known.value + max((length(d) for d in steps), default=0.0)) * (1 + 1e-6)
    return bound if bound <= limit else None


# ---------------------------------------------------------------- 10. the cross-entropy's log p from p itself

def no_tiny(p, tiny=TINY_P):
    """Trick 10: True when every probability in p is at least `tiny` (False for a nan): log p may then be
    taken of p itself."""
    return bool(p.min() >= tiny)
