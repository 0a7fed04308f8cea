"""The Convolution page's widgets and pictures (app_pages/3b_convolution.py): which digit, which
kernel, where the window is, and the maps of a CNN's first layer. The maths is engine/convolution.py's."""
import numpy as np
import pandas as pd
import streamlit as st

from engine import convolution
from engine.convnet import ConvNet
from engine.layers import Activation, Conv2D, MaxPool2D, out_size
from i18n import N_, _, as_is, num, pct
from ui import pictures, presenter, state

BUILT_IN = N_("learned: the built-in CNN's filter")
YOURS = N_("learned: your CNN's filter")
SIZES = [3, 5, 7]           # hand-made kernel sizes on offer
MAX_STRIDE = 4


def own_cnn():
    """The session's own CNN if it has one whose first layer reads the grey image, else None."""
    net, _ = state.user_model()
    if isinstance(net, ConvNet) and isinstance(net.layers[0], Conv2D) and net.layers[0].W.shape[1] == 1:
        return net
    return None


def first_conv(net):
    return net.layers[0]


# ---------------------------------------------------------------- the digit

def _random_image(n):
    st.session_state["cv_index"] = int(np.random.default_rng().integers(n))


def pick_digit(data):
    """A test image chosen by number, or the last drawing from the Draw page when there is one.
    Returns (x (28, 28) ink 0..1, words for it)."""
    drawn = st.session_state.get("draw_last_x")
    has_drawing = drawn is not None and np.shape(drawn) == (784,)
    sources = [N_("A test image")] + ([N_("My drawing from the Draw page")] if has_drawing else [])
    new_drawing = has_drawing and not np.array_equal(st.session_state.get("cv_drawing_seen"), drawn)
    if new_drawing or st.session_state.get("cv_source") not in sources:
        st.session_state["cv_source"] = sources[-1]        # a new drawing is what the user came to see
    if new_drawing:
        st.session_state["cv_drawing_seen"] = np.array(drawn)
    source = st.radio(_("Digit"), sources, key="cv_source", horizontal=True, persist_state="session",
                      format_func={s: _(s) for s in sources}.get) if has_drawing else sources[0]
    if source == sources[0]:
        n = len(data.y_test)
        st.session_state["cv_index"] = min(int(st.session_state.get("cv_index", 0)), n - 1)
        c1, c2 = st.columns([2, 1], vertical_alignment="bottom")
        index = c1.number_input(_("Test image number"), 0, n - 1, step=1, key="cv_index", persist_state="session")
        c2.button(_("🎲 Random"), key="cv_random", on_click=_random_image, args=(n,), width="stretch")
        return data.test_float()[index].reshape(28, 28), _("test image #{index} (label {label})").format(
            index=index, label=data.y_test[index])
    if not has_drawing:
        st.caption(_("Draw a digit on the Draw page and you can slide kernels over it here too."))
    return np.asarray(drawn, dtype=np.float32).reshape(28, 28), _("your drawing from the Draw page")


# ---------------------------------------------------------------- the kernel and the window

def _clamp(key, high, default=0):
    st.session_state[key] = min(max(int(st.session_state.get(key, default)), 0), high)


def pick_kernel(cnn, mine):
    """Kernel, size, padding and stride widgets. Returns (K (k, k), bias, its name, p, s)."""
    choices = list(convolution.KERNELS) + [BUILT_IN] + ([YOURS] if mine is not None else [])
    if st.session_state.get("cv_kernel") not in choices:
        st.session_state["cv_kernel"] = BUILT_IN
    # Labels worked out in the run's language (AppTest calls format_func outside the script run).
    name = st.selectbox(_("Kernel"), choices, key="cv_kernel", persist_state="session",
                        format_func={c: _(c) for c in choices}.get,
                        help=_("A hand-made kernel (edges, blur...) or one the CNN learned by itself in training."))
    learned = {BUILT_IN: cnn, YOURS: mine}.get(name)
    if learned is not None:
        layer = first_conv(learned)
        f = len(layer.W)
        _clamp("cv_filter", f, 1)
        st.session_state["cv_filter"] = max(st.session_state["cv_filter"], 1)
        n = st.slider(_("Filter"), 1, f, key="cv_filter", persist_state="session",
                      help=_("The first layer has {n} filters; pick one.").format(n=f))
        K, b, k = layer.W[n - 1, 0], float(layer.b[n - 1]), layer.k
        label = (_("filter {n} of the built-in CNN") if name == BUILT_IN else _("filter {n} of your CNN")).format(n=n)
        st.caption(_("Kernel size k = {k}: a learned filter keeps the size it was trained with.").format(k=k))
    else:
        k = st.select_slider(_("Kernel size k"), SIZES, value=5, key="cv_k", persist_state="session",
                             help=_("The window is k×k pixels. The CNNs here use 5×5."))
        K, b, label = convolution.hand_made(name, k), 0.0, _("the {name} kernel").format(name=_(name))
    _clamp("cv_p", k - 1)
    p = st.slider(_("Padding p"), 0, k - 1, key="cv_p", persist_state="session",
                  help=_("Rows and columns of zeros added round the image, so the window can reach the border."))
    s = st.slider(_("Stride s"), 1, MAX_STRIDE, key="cv_s", persist_state="session", value=1,
                  help=_("How many pixels the window moves at each step."))
    return K, b, label, p, s


def size_formula(n, k, p, s):
    """The output size worked out with the actual numbers, as markdown."""
    top = n + 2 * p - k
    h = out_size(n, k, p, s)
    if top % s == 0:
        work = f"({n} + 2·{p} − {k}) / {s} + 1 = {top // s} + 1 = **{h}**"
    else:
        work = f"⌊({n} + 2·{p} − {k}) / {s}⌋ + 1 = ⌊{num(top / s)}⌋ + 1 = **{h}**"
    return _("**Output size** (n + 2p − k) / s + 1, rounded down: {work}").format(work=work)


def step(h, w):
    """Move the window to the next position: along the row, then down to the next row, then back to the top."""
    i, j = st.session_state.get("cv_row", 0), st.session_state.get("cv_col", 0) + 1
    if j >= w:
        i, j = (i + 1) % h, 0
    st.session_state["cv_row"], st.session_state["cv_col"] = i, j


def pick_position(h, w):
    """Row and column sliders for the output position and a step button. Returns (i, j)."""
    _clamp("cv_row", h - 1, h // 2)
    _clamp("cv_col", w - 1, w // 2)
    c1, c2, c3 = st.columns([2, 2, 1], vertical_alignment="bottom")
    i = c1.slider(_("Window row"), 0, h - 1, key="cv_row", persist_state="session",
                  help=_("Which row of the feature map this window fills."))
    j = c2.slider(_("Window column"), 0, w - 1, key="cv_col", persist_state="session",
                  help=_("Which column of the feature map it fills."))
    c3.button(_("▶ Next position"), key="cv_next", on_click=step, args=(h, w), width="stretch",
              help=_("Slide the window one step (s pixels) to the right, or to the start of the next row."))
    return i, j


def _cell_colour(v, peak):
    """A pale orange (positive) or blue (negative) background for a table cell, light enough
    that black numbers on it keep a contrast above 7:1."""
    r, g, b = pictures.diverging_rgb(0.6 * v / peak if peak > 0 else 0.0)
    return f"background-color: rgb({r}, {g}, {b}); color: #000"


def number_table(values, fmt="{:.2f}"):
    """A small grid of numbers for st.table, each cell tinted by its sign and size."""
    df = pd.DataFrame(np.asarray(values, dtype=np.float64) + 0.0)      # + 0.0: no "-0.000" for 0 × a negative weight
    peak = float(np.abs(df.values).max())
    return df.style.format(fmt).map(lambda v: _cell_colour(v, peak))


def number_grids(grids, key):
    """Small grids of numbers side by side, each as wide as its numbers, each under its title:
    they wrap to the next line where the page is too narrow, so no table ever scrolls sideways
    (a keyboard cannot reach a scrolling table: axe's scrollable-region-focusable). grids: (values, title, fmt)."""
    with st.container(horizontal=True, gap="medium", key=key):
        for values, what, fmt in grids:
            with st.container(width="content"):
                st.markdown(f"**{what}**")
                rows, cols = np.shape(values)
                st.table(number_table(values, fmt), border=False, width="content", hide_index=True, hide_header=True,
                         alt=_("{what}: {rows} rows of {cols} numbers").format(what=what, rows=rows, cols=cols))


def show_window(x, about, K, b, kernel_name, p, s, i, j, fmap, shown=240):
    """The window at output (i, j): the padded digit with the window framed, the kernel, the feature
    map with the cell it fills; the window's pixels, the weights and their products as numbers; the sum."""
    k, (h, w), n = len(K), fmap.shape, len(x)
    win, products, y = convolution.multiply_add(x, K, b, p, s, i, j)
    where = (_("row {row}, column {col} of the padded picture") if p else _("row {row}, column {col}")).format(
        row=i * s, col=j * s)
    c1, c2, c3 = st.columns(3, gap="medium")
    c1.image(pictures.window_image(convolution.padded(x, p), p, i * s, j * s, k, scale=shown // (n + 2 * p)),
             caption=_("{digit}, padded with {p}: the window's top-left pixel is {where}").format(digit=about, p=p,
                                                                                                  where=where),
             alt=(_("The digit in dark ink with a red {k}×{k} square at {where} and a pale blue band of {p} padding "
                    "pixels round it") if p else
                  _("The digit in dark ink with a red {k}×{k} square at {where}")).format(k=k, where=where, p=p))
    c2.image(pictures.signed_image(K, scale=shown // k // 2), caption=f"{kernel_name} ({k}×{k})",
             alt=_("The {k}×{k} kernel weights as coloured squares: orange positive, blue negative").format(k=k))
    c3.image(pictures.signed_image(fmap, scale=max(1, shown // h), mark=(i, j)),
             caption=_("the feature map ({h}×{w}); the red square is where this window's sum lands").format(h=h, w=w),
             alt=_("The {h}×{w} feature map, orange where the kernel matched, blue where it found the opposite; "
                   "a red square marks row {row}, column {col}").format(h=h, w=w, row=i, col=j))
    number_grids([(win, _("{n} pixel values in the window").format(n=k * k), "{:.2f}"),
                  (K, _("× {n} kernel weights").format(n=k * k), "{:.3f}"),
                  (products, _("= {n} products").format(n=k * k), "{:.3f}")], key="cv_grids")
    st.container(key="cv_sum").markdown(
        _("**Sum of the {n} products** = {total}, **+ bias** {b} = **{y}**, written at row {row}, column {col} of "
          "the feature map. The engine's convolution (all {windows} windows in one matrix multiply) put {engine} "
          "there.").format(n=k * k, total=num(products.sum(dtype="float64"), 4), b=num(b, 4), y=num(y, 4), row=i,
                           col=j, windows=num(h * w), engine=num(fmap[i, j], 4)))


def show_relu_pool(fmap, kernel_name, shown=240):
    """A feature map, after ReLU and after 2x2 max-pooling: as pictures on one colour scale, and a
    4x4 patch of it (round its largest value) in numbers at each step."""
    relu, pooled = convolution.relu_pool(fmap)
    steps = [(fmap, _("the feature map of {kernel} ({h}×{w})").format(kernel=kernel_name, h=fmap.shape[0],
                                                                       w=fmap.shape[1])),
             (relu, _("after ReLU: the blue (negative) parts are 0")),
             (pooled, _("after 2×2 max-pooling ({h}×{w})").format(h=pooled.shape[0], w=pooled.shape[1]))]
    for col, (m, what) in zip(st.columns(3, gap="medium"), steps):
        col.image(pictures.signed_image(m, scale=max(1, shown // max(m.shape)), peak=abs(fmap).max()),
                  caption=what, alt=_("{what}: orange positive, blue negative, white zero").format(what=what))
    top, left = strongest_patch(fmap)
    st.markdown(_("In numbers, rows {top}–{bottom} and columns {left}–{right} of the map, round its largest "
                  "value: ReLU makes the negatives 0, max-pooling keeps the largest of each 2×2 block.").format(
        top=top, bottom=top + 3, left=left, right=left + 3))
    number_grids([(fmap[top:top + 4, left:left + 4], _("4×4 of the map"), "{:.2f}"),
                  (relu[top:top + 4, left:left + 4], _("after ReLU"), "{:.2f}"),
                  (pooled[top // 2:top // 2 + 2, left // 2:left // 2 + 2], _("after max-pooling"), "{:.2f}")],
                 key="cv_pool_grids")


def strongest_patch(y, size=4):
    """(top, left) of the size x size patch of map y holding its largest value, on the pooling grid."""
    i, j = np.unravel_index(np.argmax(y), y.shape)
    top = min(i // 2 * 2, max(y.shape[0] - size, 0) // 2 * 2)
    left = min(j // 2 * 2, max(y.shape[1] - size, 0) // 2 * 2)
    return int(top), int(left)


# ---------------------------------------------------------------- a CNN's first layer

@st.cache_data(max_entries=32, show_spinner=False)
def _first_block(_net, key, x):
    outs = _net.layer_outputs(x[None, :])
    block = [outs[0]]                          # the first convolution, then its activation and pooling
    for layer, a in outs[1:3]:
        if not isinstance(layer, (Activation, MaxPool2D)):
            break
        block.append((layer, a))
    return [a[0] for _, a in block], [repr(layer) for layer, _ in block]


def first_block(net, x):
    """(maps, names) for one image x (28, 28): the first conv layer's maps (f, h', w'), then what
    the activation and max-pooling right after it (when there are) make of them. Cached per model and image."""
    return _first_block(net, (id(net), net.describe(), float(net.layers[0].W.sum())), x.reshape(-1))


def picture_row(maps, what, names=None, size=None, peak=None, alt=None):
    """Every map (or kernel) as a picture of about size x size screen pixels (bigger in presenter mode),
    apart, named by its number (or by `names`), in a row that wraps. alt: words for each (default: `what`)."""
    size = size or (140 if presenter.on() else 100)
    names = names or [str(n) for n in range(1, len(maps) + 1)]
    apart = ((0, 0), (size // 10, size // 10), (0, 0))          # white on either side: a gap between pictures
    st.image([np.pad(pictures.signed_image(m, peak=peak, size=size), apart, constant_values=255) for m in maps],
             caption=names, output_format="PNG",                 # PNG: crisp squares
             alt=alt or [_("{what} {name}: orange where it is positive, blue where negative, white at 0").format(
                 what=what, name=name) for name in names])


def filter_pictures(W, n_show, words):
    """The first n_show filters (W: (f, 1, k, k), a CNN's first conv layer) each as its own picture,
    big, apart and numbered (1, 2, ... as the Convolution page's Filter slider counts them), bigger
    in presenter mode; `words` (what the colours mean) under them."""
    k = W.shape[-1]
    picture_row(W[:n_show, 0], _("filter"), names=[_("filter {n}").format(n=n) for n in range(1, n_show + 1)],
                size=160 if presenter.on() else 110,
                alt=[_("Filter {n} of the first conv layer, {k}×{k} weights: orange ones push its output up, "
                       "blue ones push it down").format(n=n, k=k) for n in range(1, n_show + 1)])
    st.caption(words)


def show_hand_made(x):
    """Each hand-made 5x5 kernel, named, and the feature map it makes of x (padding 2: 28x28)."""
    names = list(convolution.KERNELS)
    hand = [convolution.hand_made(name) for name in names]
    st.markdown(_("**Hand-made kernels:** {kernels}").format(kernels="; ".join(
        f"{n}. {_(name)} ({_(what)})" for n, (name, (_fn, what)) in enumerate(convolution.KERNELS.items(), 1))))
    shown = [_(name) for name in names]
    picture_row(hand, _("hand-made kernel"), shown)
    picture_row([convolution.convolve(x, kernel, p=2) for kernel in hand], _("feature map of the"), shown)
    st.caption(_("Their feature maps (padding 2, so they keep the 28×28 size)."))


def show_learned(net, who, x, about):
    """A CNN's first-layer filters and every filter's feature map of x; returns first_block's (maps, names)."""
    maps, names = first_block(net, x)
    st.markdown(_("**The {n} filters {who} learned** ({network}):").format(n=len(net.layers[0].W), who=who,
                                                                           network=as_is(net.describe())))
    picture_row(net.layers[0].W[:, 0], _("{who}'s learned filter").format(who=who))
    picture_row(maps[0], _("the feature map of {who}'s filter").format(who=who))
    st.caption(_("Every filter's feature map for {digit}: {h}×{w} each, {n} in all, the first layer's whole "
                 "output.").format(digit=about, h=maps[0].shape[1], w=maps[0].shape[2], n=len(maps[0])))
    return maps, names


def _shape(shape):
    return "×".join(map(str, shape))


def weight_sharing(net, who, built_in=False):
    """The weights of `net`'s layers against dense layers of the same sizes, worked out for its first
    layer with the actual numbers; for the built-in CNN (built_in), its total next to the built-in MLP's."""
    rows = convolution.weight_counts(net)
    layer, shape_in, shape_out, own, dense = rows[0]
    f, c, k, _k = layer.W.shape
    n_in, n_out = int(np.prod(shape_in)), int(np.prod(shape_out))
    st.markdown(_("**{Who}'s first layer** (`{layer}`) turns the {shape_in} image into {shape_out} = {n_out} values "
                  "with k·k·c_in·c_out + c_out = {k}·{k}·{c}·{f} + {f} = **{own} weights**: the same {f} small filters "
                  "at every position. A dense layer joining the same {n_in} inputs to the same {n_out} outputs needs "
                  "n_in·n_out + n_out = {n_in}·{n_out} + {n_out} = **{dense} weights**, {times} times as many.").format(
        Who=who[0].upper() + who[1:], layer=as_is(repr(layer)), shape_in=_shape(shape_in), shape_out=_shape(shape_out),
        n_out=num(n_out), k=k, c=c, f=f, own=num(own), n_in=num(n_in), dense=num(dense), times=num(dense / own, 0)))
    st.table(pd.DataFrame({
        _("layer"): [repr(r[0]) for r in rows],
        _("input"): [_shape(r[1]) for r in rows],
        _("output"): [_shape(r[2]) for r in rows],
        _("its weights"): [num(r[3]) for r in rows],
        _("a dense layer between the same sizes"): [num(r[4]) for r in rows]}).style.hide(axis="index"))
    if not built_in:
        st.caption(_("{Who}: {n} weights in all.").format(Who=who[0].upper() + who[1:], n=num(net.n_params())))
        return
    (mlp, mlp_about), cnn_about = state.pretrained_model(), state.pretrained_cnn()[1]
    c1, c2 = st.columns(2)
    c1.metric(_("The built-in CNN: weights in all"), num(net.n_params()), help=as_is(net.describe()))
    c2.metric(_("The built-in MLP: weights in all"), num(mlp.n_params()), help=as_is(mlp.describe()))
    st.write(_("The CNN has {times} times fewer weights than the MLP, yet reads {cnn} of the MNIST test digits right, "
               "against the MLP's {mlp}: each of its weights is used at every position, so it learns from the whole "
               "picture, and a stroke is recognised wherever it is.").format(
        times=num(mlp.n_params() / net.n_params(), 1), cnn=pct(cnn_about["test_accuracy"], 2),
        mlp=pct(mlp_about["test_accuracy"], 2)))
