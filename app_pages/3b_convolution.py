"""Convolution: a small kernel slides over a digit; feature maps, ReLU, max-pooling, padding,
stride and weight sharing, on the built-in CNN (and the session's own CNN)."""
import streamlit as st

from engine import convolution
from engine.layers import Activation, Conv2D, MaxPool2D, im2col, out_size
from ui import convolution as conv
from ui import pages, pictures, state
from ui.code import show_code

N = 28          # the digits are N x N
SHOWN = 240     # about this many screen pixels for each big picture

st.title(pages.title("convolution"))
st.write("A dense layer gives every pixel its own weight, so a stroke it learnt in one place means nothing "
         "one pixel to the left. A **convolution** looks through a small window instead, the **kernel** "
         "(5×5 weights here), and slides that one window over the whole picture, doing the same "
         "multiply-and-add everywhere. What it finds (an edge, a line end, a curve) counts wherever it is.")

data = state.dataset_or_stop()
cnn = state.pretrained_cnn()[0]
mine = conv.own_cnn()

# ------------------------------------------------------------ 1. one window
st.header("1 · A kernel slides over the digit")
left, right = st.columns([1, 1.4], gap="large")
with left:
    x, about = conv.pick_digit(data)
with right:
    K, b, kernel_name, p, s = conv.pick_kernel(cnn, mine)
k = len(K)
h, w = out_size(N, k, p, s), out_size(N, k, p, s)
fmap = convolution.convolve(x, K, b, p, s)
st.markdown(conv.size_formula(N, k, p, s) + f" — the feature map is {h}×{w}. Padding lets the window "
            "reach the border; a stride above 1 skips positions, so the map shrinks.")
st.toggle("▶ Animate: slide the window by itself", key="cv_play",
          help="Moves the window one step every second. Turn it off to stop.")


@st.fragment(run_every=1.0 if st.session_state.get("cv_play") else None)
def one_window():
    if st.session_state.get("cv_play"):
        conv.step(h, w)
    i, j = conv.pick_position(h, w)
    win, products, y = convolution.multiply_add(x, K, b, p, s, i, j)
    c1, c2, c3 = st.columns(3, gap="medium")
    c1.image(pictures.window_image(convolution.padded(x, p), p, i * s, j * s, k, scale=SHOWN // (N + 2 * p)),
             caption=f"{about}, padded with {p}: the window's top-left pixel is row {i * s}, column {j * s}",
             alt=f"The digit in dark ink with a red {k}×{k} square at row {i * s}, column {j * s}"
                 + (f" and a pale blue band of {p} padding pixels round it" if p else ""))
    c2.image(pictures.signed_image(K, scale=SHOWN // k // 2), caption=f"{kernel_name} ({k}×{k})",
             alt=f"The {k}×{k} kernel weights as coloured squares: orange positive, blue negative")
    c3.image(pictures.signed_image(fmap, scale=max(1, SHOWN // h), mark=(i, j)),
             caption=f"the feature map ({h}×{w}); the red square is where this window's sum lands",
             alt=f"The {h}×{w} feature map, orange where the kernel matched, blue where it found the opposite; "
                 f"a red square marks row {i}, column {j}")
    t1, t2, t3 = st.columns(3, gap="medium")
    t1.markdown(f"**The {k * k} pixel values in the window**")
    t1.table(conv.number_table(win), border=False)
    t2.markdown(f"**× the {k * k} kernel weights**")
    t2.table(conv.number_table(K, "{:.3f}"), border=False)
    t3.markdown(f"**= {k * k} products**")
    t3.table(conv.number_table(products, "{:.3f}"), border=False)
    st.container(key="cv_sum").markdown(f"**Sum of the {k * k} products** = {products.sum(dtype='float64'):.4f}, **+ bias** {b:.4f} "
                f"= **{y:.4f}**, written at row {i}, column {j} of the feature map. The engine's convolution "
                f"(all {h * w} windows in one matrix multiply) put {fmap[i, j]:.4f} there.")


one_window()
show_code(convolution.multiply_add, convolution.convolve, Conv2D.forward, im2col,
          intro="`multiply_add` made the tables: one window, its products and their sum. `convolve` made the "
                "whole feature map with the engine's `Conv2D` layer, the one the CNNs train with: `im2col` lays "
                "every window out as a row, and one matrix multiply does all the multiply-adds at once.")

# ------------------------------------------------------------ 2. hand-made and learned kernels
st.header("2 · Hand-made kernels, and the ones a CNN learned")
st.write("People used to design kernels by hand: one for vertical edges, one for horizontal ones, a blur... "
         "Below, each hand-made 5×5 kernel and the feature map it makes of the digit. A CNN starts from "
         "random kernels and *learns* its own in training: its first layer's filters, and their maps, follow. "
         "Orange is positive, blue negative, each picture on its own scale.")
hand = [convolution.hand_made(name) for name in convolution.KERNELS]
st.markdown("**Hand-made kernels:** " + "; ".join(f"{n}. {name} ({what})" for n, (name, (_, what))
                                                  in enumerate(convolution.KERNELS.items(), 1)))
hand_names = list(convolution.KERNELS)
conv.picture_row(hand, "hand-made kernel", hand_names)
conv.picture_row([convolution.convolve(x, kernel, p=2) for kernel in hand], "feature map of the", hand_names)
st.caption("Their feature maps (padding 2, so they keep the 28×28 size).")

models = [("the built-in CNN", cnn)] + ([("your CNN", mine)] if mine is not None else [])
blocks = {}
for who, net in models:
    maps, names = conv.first_block(net, x)
    blocks[who] = (maps, names)
    first = net.layers[0]
    st.markdown(f"**The {len(first.W)} filters {who} learned** ({net.describe()}):")
    conv.picture_row(first.W[:, 0], f"{who}'s learned filter")
    conv.picture_row(maps[0], f"the feature map of {who}'s filter")
    st.caption(f"Every filter's feature map for {about}: {maps[0].shape[1]}×{maps[0].shape[2]} each, "
               f"{len(maps[0])} in all, the first layer's whole output.")

# ------------------------------------------------------------ 3. ReLU and max-pooling
st.header("3 · ReLU and max-pooling")
st.write("After the convolution the CNN applies **ReLU**, max(0, value): negative values, where the kernel "
         "found the opposite of its pattern, become 0. Then **max-pooling** keeps only the largest value of "
         "each 2×2 block: the map halves in each direction, and a feature found one pixel further along "
         "still gives the same answer.")
relu, pooled = convolution.relu_pool(fmap)
c1, c2, c3 = st.columns(3, gap="medium")
for col, m, what in [(c1, fmap, f"the feature map of {kernel_name} ({fmap.shape[0]}×{fmap.shape[1]})"),
                     (c2, relu, "after ReLU: the blue (negative) parts are 0"),
                     (c3, pooled, f"after 2×2 max-pooling ({pooled.shape[0]}×{pooled.shape[1]})")]:
    col.image(pictures.signed_image(m, scale=max(1, SHOWN // max(m.shape)), peak=abs(fmap).max()),
              caption=what, alt=f"{what}: orange positive, blue negative, white zero")
top, lft = conv.strongest_patch(fmap)
c1, c2, c3 = st.columns(3, gap="medium")
c1.markdown(f"**4×4 of the map** (rows {top}–{top + 3}, columns {lft}–{lft + 3}, holding its largest value)")
c1.table(conv.number_table(fmap[top:top + 4, lft:lft + 4]), border=False)
c2.markdown("**after ReLU**: negatives become 0")
c2.table(conv.number_table(relu[top:top + 4, lft:lft + 4]), border=False)
c3.markdown("**after max-pooling**: the largest of each 2×2")
c3.table(conv.number_table(pooled[top // 2:top // 2 + 2, lft // 2:lft // 2 + 2]), border=False)
for who, (maps, names) in blocks.items():
    st.markdown(f"**In {who}**, every filter's map after `{names[1]}` and after `{names[2]}`:")
    conv.picture_row(maps[1], f"after {names[1]}, {who}'s map of filter")
    conv.picture_row(maps[2], f"after {names[2]}, {who}'s map of filter")
show_code(convolution.relu_pool, Activation.forward, MaxPool2D.forward,
          intro="The pictures above come from the engine's own layers, the ones the CNNs train with.")

# ------------------------------------------------------------ 4. weight sharing
st.header("4 · Why sharing the weights matters")
conv.weight_sharing(cnn, "the built-in CNN", built_in=True)
if mine is not None:
    conv.weight_sharing(mine, "your CNN")
show_code(convolution.conv_weights, convolution.dense_weights, convolution.weight_counts)

st.write("Next: train a network of your own (a CNN's filters and maps then show here too), or draw a digit "
         "and come back to slide kernels over it.")
c1, c2 = st.columns(2)
pages.page_link("train", where=c1)
pages.page_link("draw", where=c2)
