"""The one budget: how big a model may be, whoever makes it (the Train page, a lesson link, a file).

What the app lets you build, it lets you save, load back and use on every page: the Train page
(ui/training.check_cost), the lesson links (ui/lesson.py, through the same knob limits) and the
model loader (engine/modelfile.py) all ask `check_model` below, with the numbers of this module.
They are fixed, not server settings, so that a model file saved on one server loads on every other.
(What a server allows per run, memory and seconds of a mini-batch, is in ui/limits.py: env variables.)

The sizes, for one 28 x 28 image (784 numbers):

    weights      n_params <= MAX_PARAMS = 20 M (80 MB of float32). The biggest MLP the Train page
                 builds, 784-2048x5-10, has 18.4 M; every weight is used once per image, 2 FLOP each.
    arithmetic   one image's forward pass <= MAX_FORWARD_FLOPS = 40 MFLOP, counted by
                 flops_per_example(backward=False) (convnet.py, network.py): 2 per multiply-add of
                 every dense layer and every convolution (a conv weight works at every output pixel:
                 h' w' k k c f multiply-adds), and in a layer stack (ConvNet) ELEMENTWISE_FLOPS
                 per comparison of max-pooling (m m per output value) and per value of an activation.
                 40 MFLOP is what the biggest MLP file costs (2 x 20 M), so the biggest CNN costs
                 what the biggest MLP does.
                 At the 30 GFLOP/s a server is assumed to have (ui/limits.CORE_GFLOPS), that is
                 1.3 ms an image, so
                     a whole explanation panel: "fool" (300 steps of forward + backward ~ 3 forward)
                         900 x 40 MFLOP = 36 GFLOP ~ 1.2 s (measured: 1.6-2.3 s of CPU for the biggest
                         CNNs the Train page accepts, 3.9 s for its biggest MLP; one image at a time
                         NumPy is slower than on a batch); "cover" (145 images) 0.2 s; "dream" 0.2 s
                     the test set: 10,000 x 40 MFLOP = 400 GFLOP ~ 13 s (2,000 images of the
                         built-in sample: 2.7 s), run in the line of runs in parts (engine/worker.py)
    memory       one image's busiest layer <= MAX_PEAK_VALUES = 4 M numbers (16 MB), counted by
                 peak_values(): its input, its output and a convolution's im2col rows (h' w' k k c).
    shape        every size in a layer stack makes sense for its input (convnet.build_layers):
                 a kernel fits the padded input, padding < kernel and <= the input's side,
                 strides and pooling windows <= the input's side. A stride of 10^30 is refused.

The Train page's knobs (MAX_CONV_LAYERS...) only bound what can be typed; a combination of them can
still be over the budget above (128-128-128 filters of 9 x 9 with padding 4: 4.2 GFLOP an image),
and is then refused before Start with check_model's sentence.
"""
from i18n import _, num


MAX_PARAMS = 20_000_000
MAX_FORWARD_FLOPS = 40e6
MAX_PEAK_VALUES = 4_000_000

# A comparison of max-pooling, or an activation of one value, goes through NumPy's element-wise
# loops (1-3 G of them a second on one core), while a matrix product does 30-50 GFLOP/s (measured
# on this project's 2-core machine): one such step takes about as long as 20 FLOP of a product.
ELEMENTWISE_FLOPS = 20

# The Train page's and the lesson links' knobs (ui/limits.py re-exports them).
MAX_HIDDEN_LAYERS = 5          # an MLP: at most 5 hidden layers
MAX_UNITS = 2048               # ...of at most 2048 units (18.4 M weights, below MAX_PARAMS)
MAX_EPOCHS = 200
MAX_CONV_LAYERS = 3            # a CNN: conv layers, filters per layer, kernel, padding, pooling
MAX_FILTERS = 128
MAX_KERNEL = 9
MAX_PADDING = 4
MAX_POOL = 4


def model_problem(n_params, forward_flops, peak_values):
    """What makes a model over the budget, as the end of a sentence ("one image would take ..."),
    or "" when it fits. The numbers: n_params(), flops_per_example(backward=False), peak_values()."""
    if n_params > MAX_PARAMS:
        return _("it would have {n} weights and biases; at most {most} are allowed").format(
            n=num(n_params), most=num(MAX_PARAMS))
    if peak_values > MAX_PEAK_VALUES:
        return _("one image would need {n} numbers at once in its busiest layer; at most {most} are allowed").format(
            n=num(peak_values), most=num(MAX_PEAK_VALUES))
    if forward_flops > MAX_FORWARD_FLOPS:
        return _("one image would take {n} million operations (MFLOP); at most {most} are allowed").format(
            n=num(round(forward_flops / 1e6)), most=num(round(MAX_FORWARD_FLOPS / 1e6)))
    return ""


def check_model(net):
    """Raise ValueError saying what is over the budget for `net` (a Network or a ConvNet)."""
    peak = net.peak_values() if hasattr(net, "peak_values") else 2 * max(net.sizes)
    problem = model_problem(net.n_params(), net.flops_per_example(backward=False), peak)
    if problem:
        raise ValueError(problem)
