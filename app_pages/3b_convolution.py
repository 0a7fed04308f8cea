"""Convolution: a small kernel slides over a digit; feature maps, ReLU, max-pooling, padding,
stride and weight sharing, on the built-in CNN (and the session's own CNN)."""
import streamlit as st

from engine import convolution
from engine.layers import Activation, Conv2D, MaxPool2D, im2col
from i18n import _, as_is
from ui import convolution as conv
from ui import pages, state, translation
from ui.code import show_code

N = 28          # the digits are N x N

st.title(pages.title("convolution"))
st.write(_("A dense layer gives every pixel its own weight, so a stroke it learnt in one place is read in "
           "another only as far as the weights there learnt it too (next to where it learnt it, often still "
           "well; a few pixels away, much less: see *Why convolutions?*). A **convolution** looks through a small "
           "window instead, the **kernel** (5×5 weights here), and slides that one window over the whole picture, "
           "doing the same multiply-and-add everywhere. What it finds (an edge, a line end, a curve) counts "
           "wherever it is."))

data = state.dataset_or_stop()
cnn = state.pretrained_cnn()[0]
mine = conv.own_cnn()

# ------------------------------------------------------------ 1. one window
st.header(_("1 · A kernel slides over the digit"))
left, right = st.columns([1, 1.4], gap="large")
with left:
    x, about = conv.pick_digit(data)
with right:
    K, b, kernel_name, p, s = conv.pick_kernel(cnn, mine)
k = len(K)
fmap = convolution.convolve(x, K, b, p, s)
h, w = fmap.shape
st.markdown(_("{formula} — the feature map is {h}×{w}. Padding lets the window reach the border; a stride above 1 "
              "skips positions, so the map shrinks.").format(formula=conv.size_formula(N, k, p, s), h=h, w=w))
st.toggle(_("▶ Animate: slide the window by itself"), key="cv_play",
          help=_("Moves the window one step every second. Turn it off to stop."))


@st.fragment(run_every=1.0 if st.session_state.get("cv_play") else None)
def one_window():
    """The window and its numbers: a fragment, so moving the window redraws only this part."""
    translation.choose()     # a fragment's rerun does not run dashboard.py, which sets the run's language
    if st.session_state.get("cv_play"):
        conv.step(h, w)
    i, j = conv.pick_position(h, w)
    conv.show_window(x, about, K, b, kernel_name, p, s, i, j, fmap)


one_window()
show_code(convolution.multiply_add, convolution.convolve, Conv2D.forward, im2col,
          intro=_("`multiply_add` made the tables: one window, its products and their sum. `convolve` made the "
                  "whole feature map with the engine's `Conv2D` layer, the one the CNNs train with: `im2col` lays "
                  "every window out as a row, and one matrix multiply does all the multiply-adds at once."))

# ------------------------------------------------------------ 2. hand-made and learned kernels
st.header(_("2 · Hand-made kernels, and the ones a CNN learned"))
st.write(_("People used to design kernels by hand: one for vertical edges, one for horizontal ones, a blur... "
           "Below, each hand-made 5×5 kernel and the feature map it makes of the digit. A CNN starts from "
           "random kernels and *learns* its own in training: its first layer's filters, and their maps, follow. "
           "Orange is positive, blue negative, each picture on its own scale."))
conv.show_hand_made(x)
models = [(_("the built-in CNN"), cnn)] + ([(_("your CNN"), mine)] if mine is not None else [])
blocks = {who: conv.show_learned(net, who, x, about) for who, net in models}

# ------------------------------------------------------------ 3. ReLU and max-pooling
st.header(_("3 · ReLU and max-pooling"))
st.write(_("After the convolution the CNN applies **ReLU**, max(0, value): negative values, where the kernel "
           "found the opposite of its pattern, become 0. Then **max-pooling** keeps only the largest value of "
           "each 2×2 block: the map halves in each direction, and a feature found one pixel further along "
           "gives the same pooled value as long as it stays inside the same 2×2 block (crossing into the next "
           "block, it counts in that block's cell instead)."))
conv.show_relu_pool(fmap, kernel_name)
for who, (maps, names) in blocks.items():
    if len(maps) > 1:
        st.markdown(_("**In {who}**, every filter's map after {layers}:").format(
            who=who, layers=_(" and after ").join(f"`{n}`" for n in names[1:])))
    for m, name in zip(maps[1:], names[1:]):
        conv.picture_row(m, _("after {layer}, {who}'s map of filter").format(layer=as_is(name), who=who))
show_code(convolution.relu_pool, Activation.forward, MaxPool2D.forward,
          intro=_("The pictures above come from the engine's own layers, the ones the CNNs train with."))

# ------------------------------------------------------------ 4. weight sharing
st.header(_("4 · Why sharing the weights matters"))
conv.weight_sharing(cnn, _("the built-in CNN"), built_in=True)
if mine is not None:
    conv.weight_sharing(mine, _("your CNN"))
show_code(convolution.conv_weights, convolution.dense_weights, convolution.weight_counts)

st.write(_("Next: train a CNN of your own (its filters and maps then show here too), or draw a digit "
           "and come back to slide kernels over it."))
c1, c2 = st.columns(2)
pages.page_link("train", label=_("Train a CNN"), where=c1, query={"kind": "cnn"})    # the Train page set for one
pages.page_link("draw", where=c2)
