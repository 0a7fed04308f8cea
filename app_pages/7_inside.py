"""Inside the network: what the hidden layers do with a digit (a CNN's: its feature
maps), how they sort all digits (a PCA map, layer by layer), and how well the model
copes with noisy or turned digits."""
import numpy as np
import streamlit as st

from engine import analysis
from ui import charts, pages, pictures, state
from ui import convolution as conv
from ui.chart_cache import show
from ui.code import show_code

N_TOP = 8             # most active hidden units drawn as 28x28 pictures
N_MAPS = 32           # a CNN's feature maps drawn per conv layer
N_PCA = 2000          # test images on the PCA map
N_ROBUST = 1000       # test images for the robustness curves
MAX_MAP_WIDTH = 20_000   # a layer with more numbers per image is not mapped (2,000 of them: 160 MB)
NOISE_LEVELS = [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6]
ANGLES = [0, 10, 20, 30, 40, 50, 60]

st.title(pages.title("inside"))
st.write("The other pages show what goes in and what comes out. Here we open the box: what the hidden "
         "units respond to, how the layers gradually sort the digits, and where the network breaks.")

data = state.dataset_or_stop()
net, model_label = state.active_model()
cnn = hasattr(net, "layer_outputs")       # a convolutional network (engine/convnet.py)
own, _ = state.user_model()
about = "" if net.describe() in model_label else f" ({net.describe()})"      # (a label may name it already)
st.info(f"Looking inside **{model_label}**{about}."
        + ("" if own is not None else " Train or load your own model on the Train page to look inside it instead."),
        icon="🧠")


def model_key(net):
    """A fingerprint of the model's weights, computed once per model object (not every rerun)."""
    held = st.session_state.get("in_model_key")
    if held is None or held[0] is not net:
        held = (net, analysis.fingerprint(net))
        st.session_state["in_model_key"] = held
    return held[1]


def attempt(what, compute):
    """compute(), or None after saying on the page why `what` cannot be shown.

    A model with huge weights makes its numbers overflow, and then a PCA or an
    accuracy means nothing (or the maths fails): the page explains that in
    place of the section instead of stopping with a traceback.
    """
    try:
        return compute()
    except (ValueError, ArithmeticError) as err:     # AnalysisError, LinAlgError, FloatingPointError...
        st.error(f"Cannot show {what}: {err}.", icon="⚠️")
        return None


def subset(n, size):
    """A fixed, spread-out choice of `size` test images (the same for every model)."""
    return np.sort(np.random.default_rng(0).choice(n, size=min(size, n), replace=False))


# Cached per model (weights fingerprint) and dataset (its source text); the big
# arrays are passed with a leading _ so Streamlit does not hash them.
@st.cache_data(show_spinner="Mapping 2,000 test images, layer by layer…", max_entries=6)
def pca_maps(key, source, _net, _x, _labels):
    maps = []
    for h in analysis.layer_values(_net, _x, scores=True, max_width=MAX_MAP_WIDTH):
        if h is None:                     # too many numbers per image to map
            maps.append(None)
            continue
        coords, ratio = analysis.pca_2d(h)
        maps.append((coords.astype(np.float32), ratio, analysis.centroid_agreement(coords, _labels),
                     analysis.centroid_agreement(h, _labels)))
    return maps


@st.cache_data(show_spinner="Testing 1,000 images with noise and turned…", max_entries=6)
def robustness(key, source, _net, _x, _labels):
    return (analysis.accuracy_under_noise(_net, _x, _labels, NOISE_LEVELS, seed=0),
            analysis.accuracy_under_rotation(_net, _x, _labels, ANGLES))


key = model_key(net)
hidden = net.activation
layer_names, widths = analysis.layer_names(net), analysis.layer_widths(net)
n_hidden = len(layer_names) - 2           # an MLP's hidden layers, or a CNN's stages

def show_feature_maps(x):
    """A CNN's conv layers for the image x: each layer's filters' feature maps (and the first layer's filters)."""
    maps = attempt("the feature maps", lambda: analysis.feature_maps(net, x))
    for l, (layer, fmaps) in enumerate(maps or [], start=1):
        f, h, w = fmaps.shape
        st.subheader(f"Conv layer {l}: {f} filters of {layer.k}×{layer.k}, {f} feature maps of {h}×{w}")
        shown = min(f, N_MAPS)
        if l == 1:
            words = (f"The {shown} filters of layer 1, each {layer.k}×{layer.k} weights: orange pixels push the "
                     "filter's output up where the ink matches, blue ones push it down.")
            conv.filter_pictures(layer.W, shown, words)
        words = (f"{'All' if shown == f else f'The first {shown} of the'} {f} feature maps of conv layer {l} "
                 f"({hidden} of each filter's sums): one per filter, showing where in the "
                 + ("digit" if l == 1 else "layer below's maps") + " its pattern was found (orange: strongly; "
                 "white: not at all" + ("" if hidden in ("relu",) else "; blue: its opposite") + ").")
        grid = pictures.tile_grid_image(fmaps[:shown], columns=8, scale=max(1, 80 // w), gap=4)     # about 80 px each
        st.image(grid, caption=words, alt=words, width=grid.shape[1])
    if maps:
        st.caption("Every filter slides over the whole input, so the same stroke is found wherever it is. "
                   "Max-pooling then keeps the strongest answer of each small square: smaller maps, and a small "
                   "shift of the digit changes little. The last maps go to the dense layers, which read the digit.")


# ------------------------------------------------------------ 1. one digit
st.header("1 · One digit, through the " + ("convolutions" if cnn else "hidden layers"))
drawn = st.session_state.get("draw_last_x")
has_drawing = drawn is not None and np.shape(drawn) == (784,)
sources = ["A test image"] + (["My drawing from the Draw page"] if has_drawing else [])
if st.session_state.get("in_source") not in sources:
    st.session_state["in_source"] = sources[0]
n_test = len(data.y_test)


def _random_image():
    st.session_state["in_index"] = int(np.random.default_rng().integers(n_test))


left, right = st.columns([1, 2.6], gap="large")
with left:
    if has_drawing:
        source = st.radio("Digit", sources, key="in_source", horizontal=True, persist_state="session")
    else:
        source = sources[0]
    if source == sources[0]:
        st.session_state["in_index"] = min(int(st.session_state.get("in_index", 0)), n_test - 1)
        index = st.number_input("Test image number", 0, n_test - 1, step=1, key="in_index",
                                persist_state="session")
        st.button("🎲 Random test image", key="in_random", on_click=_random_image, width="stretch")
        x = data.test_float()[index]
        caption = f"test image #{index}: label {data.y_test[index]}"
    else:
        x = np.asarray(drawn, dtype=np.float32)
        caption = "your drawing, as the network sees it (28×28)"
    if not has_drawing:
        st.caption("Draw a digit on the Draw page and you can look at it here too.")
    st.image(pictures.ink01_image(x.reshape(28, 28), scale=6), caption=caption, alt=caption)

with right:
    values = attempt("what the layers hold for this digit", lambda: analysis.layer_values(net, x[None, :]))
if values is not None:
    out = values[-1][0]
    guess = int(out.argmax())
    with right:
        show(st, charts.probability_chart, out, is_probability=net.loss == "cross-entropy", height=210,
             title=f"Output: the network reads a {guess}", width="stretch")

    if cnn:
        show_feature_maps(x)
    elif n_hidden == 0:
        st.info("This model has no hidden layer: the pixels go straight to the 10 output neurons, so there is "
                "nothing in between to look at. Train one with a hidden layer to see more.")
    for l in range(1, n_hidden + 1 if not cnn else 1):
        a = values[l][0]
        top = analysis.top_units(a, N_TOP)
        on = int((a > 0).sum()) if hidden in ("relu", "leaky_relu") else None
        st.subheader(f"Hidden layer {l}: {a.size} units")
        show(st, charts.activation_bars_chart, a, top=top, height=190, width="stretch")
        if on is not None:
            st.caption(f"{on} of {a.size} units are on for this digit ({on / a.size:.0%}); the rest output 0. "
                       f"The {len(top)} most active are orange, with their numbers.")
        else:
            st.caption(f"{hidden} outputs for every unit; the {len(top)} most active are orange, "
                       f"with their numbers.")
        if l == 1 and top.size:
            st.markdown(f"**What do the {len(top)} most active units of layer 1 look for?** Each unit has one "
                        "weight per pixel, so its 784 incoming weights can be drawn as a 28×28 picture.")
            titles = [f"unit {u}" for u in top]
            show(st, charts.digit_pictures_chart, net.weights[0][top], titles, size=96, diverging=True,
                 columns=N_TOP, width="content")
            st.caption("Orange pixels: ink there pushes the unit **up**. Blue: ink there pushes it **down**. "
                       "Most units are not 'a 3 detector'; they look for strokes and blobs in certain places "
                       "and are shared by many digits.")
            st.markdown("**…and what they found in this digit:** each weight times the pixel under it "
                        "(only inked pixels count). The unit adds these up, plus its bias, to get its z.")
            show(st, charts.digit_pictures_chart, analysis.unit_evidence(net, x, top), titles, size=96,
                 diverging=True, columns=N_TOP, width="content")
        elif l > 1:
            st.caption(f"Units of layer {l} take their input from layer {l - 1}, not from the pixels, so their "
                       "weights are no longer a picture.")

# ------------------------------------------------------------ 2. PCA map
st.header("2 · A map of how the network sorts digits")
st.write(f"Each layer turns every image into a list of numbers ({', '.join(f'{w:,}' for w in widths)} of them). "
         "To draw 2,000 test images on a flat map, **PCA** (principal component analysis) finds the two "
         "directions in which those lists differ the most and places each image by its position along "
         "them. Images that the layer treats alike end up close together.")
pca_idx = subset(n_test, N_PCA)
maps = attempt("the PCA map", lambda: pca_maps(key, data.source, net, data.test_float()[pca_idx],
                                                 data.y_test[pca_idx]))
if maps is not None:
    st.session_state.setdefault("in_pca_layer", min(1, n_hidden + 1))     # the first hidden layer
    if int(st.session_state["in_pca_layer"]) > n_hidden + 1:
        st.session_state["in_pca_layer"] = n_hidden + 1       # the model changed: fewer layers
    c1, c2 = st.columns([1.6, 3], vertical_alignment="bottom")
    layer = c1.selectbox("Layer", list(range(n_hidden + 2)), key="in_pca_layer",
                         format_func=lambda l: layer_names[l], persist_state="session")
    if maps[layer] is None:
        c2.caption(f"This layer holds {widths[layer]:,} numbers per image: too many to map {N_PCA:,} images "
                   f"here (at most {MAX_MAP_WIDTH:,}). Pick another layer.")
    else:
        coords, ratio, agree_map, agree_full = maps[layer]
        c2.caption(f"This flat map shows {ratio.sum():.0%} of the layer's spread; the rest is in directions it "
                   f"cannot draw, so clusters overlap more here than they really do. In the map, {agree_map:.0%} "
                   f"of the images lie closest to the centre of their own digit; using all {widths[layer]:,} "
                   f"numbers of the layer, {agree_full:.0%} do.")
        show(st, charts.pca_map_chart, coords, data.y_test[pca_idx], ratio, width="stretch")
    st.write("**What to look for:** on the raw pixels most digits overlap in one big cloud (only the simple "
             "shapes, like 1 and 0, keep to their own side). Layer by layer the colours pull apart into "
             "cleaner clusters. That is what training built: a chain of re-descriptions of the image in which "
             "the digits become easy to tell apart. Where two colours still touch (often 4 and 9, or 3, 5 and "
             "8), the network makes most of its mistakes. Click a digit in the legend to pick it out.")
    st.dataframe({"layer": layer_names,
                  "closest to own digit's centre (whole layer)": [m and 100 * m[3] for m in maps],
                  "… in the flat map": [m and 100 * m[2] for m in maps],
                  "spread the map shows": [m and 100 * float(m[1].sum()) for m in maps]},
                 hide_index=True, width="content",
                 column_config={"closest to own digit's centre (whole layer)": st.column_config.ProgressColumn(
                                    format="%.0f%%", min_value=0, max_value=100),
                                "… in the flat map": st.column_config.NumberColumn(format="%.0f%%"),
                                "spread the map shows": st.column_config.NumberColumn(format="%.0f%%")})
    st.caption("Every layer at a glance: for each image, is the nearest digit centre its own digit's? "
               "The share grows layer by layer as the clusters get cleaner.")
show_code(analysis.pca_2d, intro="The map is `pca_2d` on the chosen layer's values for the 2,000 images: "
                                 "centre, covariance matrix, its two largest eigenvectors, project.")

# ------------------------------------------------------------ 3. robustness
st.header("3 · Where does it break?")
st.write(f"The test accuracy is measured on clean, upright digits. What if they are noisy or turned? "
         f"Here {N_ROBUST:,} test images are changed more and more, and the same model reads them again.")
rob_idx = subset(n_test, N_ROBUST)
x_rob, y_rob = data.test_float()[rob_idx], data.y_test[rob_idx]
curves = attempt("the robustness curves", lambda: robustness(key, data.source, net, x_rob, y_rob))
if curves is not None:
    noise_acc, rot_acc = curves
    example = x_rob[:1]
    noise = np.random.default_rng(1).standard_normal(example.shape).astype(np.float32)
    c1, c2 = st.columns(2, gap="large")
    with c1:
        show(st, charts.robustness_chart, NOISE_LEVELS, noise_acc, "noise strength σ",
             "Accuracy with random noise added", width="stretch")
        st.image([pictures.ink01_image(analysis.add_noise(example, s, noise=noise).reshape(28, 28), scale=2)
                  for s in NOISE_LEVELS], caption=[f"σ {s:g}" for s in NOISE_LEVELS], width=62,
                 alt=[f"the example digit with noise of strength {s:g} added" for s in NOISE_LEVELS])
        st.caption("Every pixel gets a random number added (Gaussian, standard deviation σ), then is clipped "
                   "to 0-1. The network is fairly tolerant of light speckle, less of heavy snow.")
    with c2:
        show(st, charts.robustness_chart, ANGLES, rot_acc, "turned by (degrees)",
             "Accuracy with the digit turned", color="#e15759",
             x_format="d", width="stretch")
        st.image([pictures.ink01_image(analysis.rotate(example, a).reshape(28, 28), scale=2) for a in ANGLES],
                 caption=[f"{a}°" for a in ANGLES], width=62,
                 alt=[f"the example digit turned by {a} degrees" for a in ANGLES])
        st.caption("Every image is turned about its centre, counter-clockwise.")
if cnn:
    st.write("**Why turning still hurts a CNN:** its filters slide over the image, so a stroke is found "
             "wherever it is, and max-pooling forgives a shift of a pixel or two. But a filter that learned an "
             "upright stroke does not match the same stroke turned by 40°: sliding copes with moves, not with "
             "turns. It only copes with the small turns it saw while training.")
else:
    st.write("**Why turning hurts so much:** an MLP has no built-in idea that a turned 7 is still a 7. Each "
             "weight belongs to one fixed pixel position, so when the ink moves to other pixels the network "
             "sees a different pattern, not the same shape. It only copes with the small turns it saw while "
             "training (the built-in model was trained on slightly shifted and turned digits). "
             "**Convolutional networks (CNNs)** add part of the missing idea: they slide the same small "
             "detectors over the whole image, so a stroke is recognised wherever it is (choose **CNN** on the "
             "Train page to try one).")
show_code(analysis.accuracy_under_noise, analysis.accuracy_under_rotation, analysis.rotate,
          intro="The curves come from these functions: all 1,000 images are changed at once, then "
                "the network reads them again (`checked_predict`: `net.predict`, after checking that "
                "no number overflowed).")
