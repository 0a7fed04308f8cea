"""Inside the network: what the hidden layers do with a digit (a CNN's: its feature
maps), how they sort all digits (a PCA map, layer by layer), and how well the model
copes with noisy or turned digits."""
import numpy as np
import streamlit as st

from engine import analysis
from engine.linework import within
from i18n import _, as_is, num, pct
from ui import charts, linework, pages, pictures, state
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
st.write(_("The other pages show what goes in and what comes out. Here we open the box: what the hidden "
           "units respond to, how the layers gradually sort the digits, and where the network breaks."))

data = state.dataset_or_stop()
net, model_label = state.active_model()
cnn = hasattr(net, "layer_outputs")       # a convolutional network (engine/convnet.py)
own = state.user_model()[0]
about = "" if net.describe() in model_label else f" ({as_is(net.describe())})"      # (a label may name it already)
st.info((_("Looking inside **{model}**{about}.") if own is not None else
         _("Looking inside **{model}**{about}. Train or load your own model on the Train page to look inside it "
           "instead.")).format(model=model_label, about=about),
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
        st.error(_("Cannot show {what}: {err}.").format(what=what, err=err), icon="⚠️")
        return None


def subset(n, size):
    """A fixed, spread-out choice of `size` test images (the same for every model)."""
    return np.sort(np.random.default_rng(0).choice(n, size=min(size, n), replace=False))


# Kept per model (weights fingerprint) and dataset (its source text) by ui/linework.py, which also
# decides where they are computed: on the page when small, else in the line with a progress line.
def pca_maps(key, source, net, x, labels):
    def steps(stop=None):
        values = yield from within(analysis.layer_values_steps(net, x, scores=True, max_width=MAX_MAP_WIDTH)(stop),
                                   0.0, 0.8)
        maps = []
        for i, h in enumerate(values):
            if h is None:                     # too many numbers per image to map
                maps.append(None)
            else:
                coords, ratio = analysis.pca_2d(h)
                maps.append((coords.astype(np.float32), ratio, analysis.centroid_agreement(coords, labels),
                             analysis.centroid_agreement(h, labels)))
            yield 0.8 + 0.2 * (i + 1) / len(values)
        return maps
    return linework.result("inside pca", ("inside pca", key, source, len(x)),
                           linework.forward_flops(net) * len(x), steps,
                           _("Mapping {n} test images, layer by layer").format(n=num(len(x))))


def robustness(key, source, net, x, labels):
    changes = analysis.noise_changes(x, NOISE_LEVELS, seed=0) + analysis.rotation_changes(ANGLES)

    def steps(stop=None):
        accs = yield from analysis.changed_accuracy_steps(net, x, labels, changes)(stop)
        return accs[:len(NOISE_LEVELS)], accs[len(NOISE_LEVELS):]
    return linework.result("inside robustness", ("inside robustness", key, source, len(x)),
                           linework.forward_flops(net) * len(x) * len(changes), steps,
                           _("Testing {n} images with noise and turned").format(n=num(len(x))))


key = model_key(net)
hidden = net.activation
layer_names, widths = analysis.layer_names(net), analysis.layer_widths(net)
n_hidden = len(layer_names) - 2           # an MLP's hidden layers, or a CNN's stages

def show_feature_maps(x):
    """A CNN's conv layers for the image x: each layer's filters' feature maps (and the first layer's filters)."""
    maps = attempt(_("the feature maps"), lambda: analysis.feature_maps(net, x))
    for l, (layer, fmaps) in enumerate(maps or [], start=1):
        f, h, w = fmaps.shape
        st.subheader(_("Conv layer {l}: {f} filters of {k}×{k}, {f} feature maps of {h}×{w}").format(
            l=l, f=f, k=layer.k, h=h, w=w))
        shown = min(f, N_MAPS)
        if l == 1:
            words = _("The {n} filters of layer 1, each {k}×{k} weights: orange pixels push the filter's output up "
                      "where the ink matches, blue ones push it down.").format(n=shown, k=layer.k)
            conv.filter_pictures(layer.W, shown, words)
        which = (_("All {f} feature maps of conv layer {l}") if shown == f else
                 _("The first {n} of the {f} feature maps of conv layer {l}")).format(n=shown, f=f, l=l)
        where = _("in the digit") if l == 1 else _("in the layer below's maps")
        words = (_("{which} ({hidden} of each filter's sums): one per filter, showing where {where} its "
                   "pattern was found (orange: strongly; white: not at all).") if hidden in ("relu",) else
                 _("{which} ({hidden} of each filter's sums): one per filter, showing where {where} its "
                   "pattern was found (orange: strongly; white: not at all; blue: its opposite).")).format(
            which=which, hidden=as_is(hidden), where=where)
        grid = pictures.tile_grid_image(fmaps[:shown], columns=8, scale=max(1, 80 // w), gap=4)     # about 80 px each
        st.image(grid, caption=words, alt=words, width=grid.shape[1])
    if maps:
        st.caption(_("Every filter slides over the whole input, so the same stroke is found wherever it is. "
                     "Max-pooling then keeps the strongest answer of each small square: smaller maps, and a small "
                     "shift of the digit changes little. The last maps go to the dense layers, which read the "
                     "digit."))


# ------------------------------------------------------------ 1. one digit
st.header(_("1 · One digit, through the convolutions") if cnn else _("1 · One digit, through the hidden layers"))
drawn = st.session_state.get("draw_last_x")
has_drawing = drawn is not None and np.shape(drawn) == (784,)
sources = ["A test image"] + (["My drawing from the Draw page"] if has_drawing else [])
SOURCE_WORDS = {"A test image": _("A test image"), "My drawing from the Draw page": _("My drawing from the Draw page")}
if st.session_state.get("in_source") not in sources:
    st.session_state["in_source"] = sources[0]
n_test = len(data.y_test)


def _random_image():
    st.session_state["in_index"] = int(np.random.default_rng().integers(n_test))


left, right = st.columns([1, 2.6], gap="large")
with left:
    if has_drawing:
        source = st.radio(_("Digit"), sources, key="in_source", horizontal=True, persist_state="session",
                          format_func=SOURCE_WORDS.get)
    else:
        source = sources[0]
    if source == sources[0]:
        st.session_state["in_index"] = min(int(st.session_state.get("in_index", 0)), n_test - 1)
        index = st.number_input(_("Test image number"), 0, n_test - 1, step=1, key="in_index",
                                persist_state="session")
        st.button(_("🎲 Random test image"), key="in_random", on_click=_random_image, width="stretch")
        x = data.test_float()[index]
        caption = _("test image #{i}: label {label}").format(i=index, label=data.y_test[index])
    else:
        x = np.asarray(drawn, dtype=np.float32)
        caption = _("your drawing, as the network sees it (28×28)")
    if not has_drawing:
        st.caption(_("Draw a digit on the Draw page and you can look at it here too."))
    st.image(pictures.ink01_image(x.reshape(28, 28), scale=6), caption=caption, alt=caption)

with right:
    values = attempt(_("what the layers hold for this digit"), lambda: analysis.layer_values(net, x[None, :]))
if values is not None:
    out = values[-1][0]
    guess = int(out.argmax())
    with right:
        show(st, charts.probability_chart, out, is_probability=net.loss == "cross-entropy", height=210,
             title=_("Output: the network reads a {digit}").format(digit=guess), width="stretch")

    if cnn:
        show_feature_maps(x)
    elif n_hidden == 0:
        st.info(_("This model has no hidden layer: the pixels go straight to the 10 output neurons, so there is "
                  "nothing in between to look at. Train one with a hidden layer to see more."))
    for l in range(1, n_hidden + 1 if not cnn else 1):
        a = values[l][0]
        top = analysis.top_units(a, N_TOP)
        on = int((a > 0).sum()) if hidden in ("relu", "leaky_relu") else None
        st.subheader(_("Hidden layer {l}: {n} units").format(l=l, n=num(a.size)))
        show(st, charts.activation_bars_chart, a, top=top, height=190, width="stretch")
        if on is not None:
            st.caption(_("{on} of {n} units are on for this digit ({share}); the rest output 0. The {top} most "
                         "active are orange, with their numbers.").format(on=on, n=num(a.size), share=pct(on / a.size, 0),
                                                                         top=len(top)))
        else:
            st.caption(_("{hidden} outputs for every unit; the {top} most active are orange, with their "
                         "numbers.").format(hidden=as_is(hidden), top=len(top)))
        if l == 1 and top.size:
            st.markdown(_("**What do the {top} most active units of layer 1 look for?** Each unit has one weight "
                          "per pixel, so its 784 incoming weights can be drawn as a 28×28 picture.").format(top=len(top)))
            titles = [_("unit {u}").format(u=u) for u in top]
            show(st, charts.digit_pictures_chart, net.weights[0][top], titles, size=96, diverging=True,
                 columns=N_TOP, width="content")
            st.caption(_("Orange pixels: ink there pushes the unit **up**. Blue: ink there pushes it **down**. "
                         "Most units are not 'a 3 detector'; they look for strokes and blobs in certain places "
                         "and are shared by many digits."))
            st.markdown(_("**…and what they found in this digit:** each weight times the pixel under it "
                          "(only inked pixels count). The unit adds these up, plus its bias, to get its z."))
            show(st, charts.digit_pictures_chart, analysis.unit_evidence(net, x, top), titles, size=96,
                 diverging=True, columns=N_TOP, width="content")
        elif l > 1:
            st.caption(_("Units of layer {l} take their input from layer {below}, not from the pixels, so their "
                         "weights are no longer a picture.").format(l=l, below=l - 1))

# ------------------------------------------------------------ 2. PCA map
st.header(_("2 · A map of how the network sorts digits"))
st.write(_("Each layer turns every image into a list of numbers ({widths} of them). To draw {n} test images on a "
           "flat map, **PCA** (principal component analysis) finds the two directions in which those lists differ "
           "the most and places each image by its position along them. Images that the layer treats alike end up "
           "close together.").format(widths=", ".join(num(w) for w in widths), n=num(N_PCA)))
pca_idx = subset(n_test, N_PCA)
maps = attempt(_("the PCA map"), lambda: pca_maps(key, data.source, net, data.test_float()[pca_idx],
                                                 data.y_test[pca_idx]))
if maps is not None:
    st.session_state.setdefault("in_pca_layer", min(1, n_hidden + 1))     # the first hidden layer
    if int(st.session_state["in_pca_layer"]) > n_hidden + 1:
        st.session_state["in_pca_layer"] = n_hidden + 1       # the model changed: fewer layers
    c1, c2 = st.columns([1.6, 3], vertical_alignment="bottom")
    layer = c1.selectbox(_("Layer"), list(range(n_hidden + 2)), key="in_pca_layer",
                         format_func=lambda l: layer_names[l], persist_state="session")
    if maps[layer] is None:
        c2.caption(_("This layer holds {n} numbers per image: too many to map {images} images here (at most "
                     "{most}). Pick another layer.").format(n=num(widths[layer]), images=num(N_PCA),
                                                            most=num(MAX_MAP_WIDTH)))
    else:
        coords, ratio, agree_map, agree_full = maps[layer]
        c2.caption(_("This flat map shows {spread} of the layer's spread; the rest is in directions it cannot "
                     "draw, so clusters overlap more here than they really do. In the map, {in_map} of the images "
                     "lie closest to the centre of their own digit; using all {n} numbers of the layer, {full} "
                     "do.").format(spread=pct(ratio.sum(), 0), in_map=pct(agree_map, 0), n=num(widths[layer]),
                                   full=pct(agree_full, 0)))
        show(st, charts.pca_map_chart, coords, data.y_test[pca_idx], ratio, width="stretch")
    st.write(_("**What to look for:** on the raw pixels most digits overlap in one big cloud (only the simple "
               "shapes, like 1 and 0, keep to their own side). Layer by layer the colours pull apart into "
               "cleaner clusters. That is what training built: a chain of re-descriptions of the image in which "
               "the digits become easy to tell apart. Where two colours still touch (often 4 and 9, or 3, 5 and "
               "8), the network makes most of its mistakes. Click a digit in the legend to pick it out."))
    closest, in_map, spread = (_("closest to own digit's centre (whole layer)"), _("… in the flat map"),
                               _("spread the map shows"))
    st.dataframe({_("layer"): layer_names,
                  closest: [m and 100 * m[3] for m in maps],
                  in_map: [m and 100 * m[2] for m in maps],
                  spread: [m and 100 * float(m[1].sum()) for m in maps]},
                 hide_index=True, width="content",
                 column_config={closest: st.column_config.ProgressColumn(
                                    format="%.0f%%", min_value=0, max_value=100),
                                in_map: st.column_config.NumberColumn(format="%.0f%%"),
                                spread: st.column_config.NumberColumn(format="%.0f%%")})
    st.caption(_("Every layer at a glance: for each image, is the nearest digit centre its own digit's? "
                 "The share grows layer by layer as the clusters get cleaner."))
show_code(analysis.pca_2d, intro=_("The map is `pca_2d` on the chosen layer's values for the {n} images: "
                                   "centre, covariance matrix, its two largest eigenvectors, project.").format(n=num(N_PCA)))

# ------------------------------------------------------------ 3. robustness
st.header(_("3 · Where does it break?"))
st.write(_("The test accuracy is measured on clean, upright digits. What if they are noisy or turned? "
           "Here {n} test images are changed more and more, and the same model reads them again.").format(
    n=num(N_ROBUST)))
rob_idx = subset(n_test, N_ROBUST)
x_rob, y_rob = data.test_float()[rob_idx], data.y_test[rob_idx]
curves = attempt(_("the robustness curves"), lambda: robustness(key, data.source, net, x_rob, y_rob))
if curves is not None:
    noise_acc, rot_acc = curves
    example = x_rob[:1]
    noise = np.random.default_rng(1).standard_normal(example.shape).astype(np.float32)
    c1, c2 = st.columns(2, gap="large")
    with c1:
        show(st, charts.robustness_chart, NOISE_LEVELS, noise_acc, _("noise strength σ"),
             _("Accuracy with random noise added"), width="stretch")
        st.image([pictures.ink01_image(analysis.add_noise(example, s, noise=noise).reshape(28, 28), scale=2)
                  for s in NOISE_LEVELS], caption=[f"σ {num(s)}" for s in NOISE_LEVELS], width=62,
                 alt=[_("the example digit with noise of strength {s} added").format(s=num(s)) for s in NOISE_LEVELS])
        st.caption(_("Every pixel gets a random number added (Gaussian, standard deviation σ), then is clipped "
                     "to 0-1. The network is fairly tolerant of light speckle, less of heavy snow."))
    with c2:
        show(st, charts.robustness_chart, ANGLES, rot_acc, _("turned by (degrees)"),
             _("Accuracy with the digit turned"), color="#e15759",
             x_format="d", width="stretch")
        st.image([pictures.ink01_image(analysis.rotate(example, a).reshape(28, 28), scale=2) for a in ANGLES],
                 caption=[f"{a}°" for a in ANGLES], width=62,
                 alt=[_("the example digit turned by {a} degrees").format(a=a) for a in ANGLES])
        st.caption(_("Every image is turned about its centre, counter-clockwise."))
if cnn:
    st.write(_("**Why turning still hurts a CNN:** its filters slide over the image, so a stroke is found "
               "wherever it is, and max-pooling forgives a shift of a pixel or two. But a filter that learned an "
               "upright stroke does not match the same stroke turned by 40°: sliding copes with moves, not with "
               "turns. It only copes with the small turns it saw while training."))
else:
    st.write(_("**Why turning hurts so much:** an MLP has no built-in idea that a turned 7 is still a 7. Each "
               "weight belongs to one fixed pixel position, so when the ink moves to other pixels the network "
               "sees a different pattern, not the same shape. It only copes with the small turns it saw while "
               "training (the built-in model was trained on slightly shifted and turned digits). "
               "**Convolutional networks (CNNs)** add part of the missing idea: they slide the same small "
               "detectors over the whole image, so a stroke is recognised wherever it is (choose **CNN** on the "
               "Train page to try one)."))
show_code(analysis.accuracy_under_noise, analysis.accuracy_under_rotation, analysis.rotate,
          intro=_("The curves come from these functions: all {n} images are changed at once, then the network "
                  "reads them again (`checked_predict`: `net.predict`, after checking that no number "
                  "overflowed).").format(n=num(N_ROBUST)))
