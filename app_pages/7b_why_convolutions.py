"""Why convolutions? Move digits a few pixels and compare the built-in MLP with the built-in CNN
(and the session's own model): accuracy on test digits, the guesses for one digit (your drawing),
and what each network's first layer makes of a moved digit."""
import numpy as np
import pandas as pd
import streamlit as st

from engine import analysis, augment
from ui import charts, experiments, formats, linework, pages, pictures, presenter, state
from ui.chart_cache import show
from ui.code import show_code

N_SHIFT = 500                 # the first 500 test digits, moved four ways: 2,000 images per shift
SHIFTS = list(range(7))       # 0..6 pixels
DIRECTIONS = list(analysis.SHIFT_DIRECTIONS)


def px(s):
    return f"{s} pixel" + ("" if s == 1 else "s")


def pct(a):
    return f"{100 * a:.1f}%"


def trained_words(settings):
    """How a built-in model was trained, from the settings stored in its file: the augmentation's reach, the
    epochs and the optimiser."""
    strength = float(settings.get("augment") or 0)
    if not strength:
        return "no augmentation"
    shift, degrees, scale = augment.ranges(strength)
    return (f"augment {strength:g}: each training digit moved by up to {shift:g} px along each axis, turned by "
            f"up to {degrees:g}° and resized by up to {scale:.0%} ({settings.get('epochs', '?')} epochs of "
            f"{formats.OPTIMIZER_NAMES.get(settings.get('optimizer'), settings.get('optimizer'))})")


def what_to_see(m, c):
    """The lesson of the curves, in sentences built from the two built-in models' numbers m and c (accuracy at
    0, 1, ... px): every figure is one of the table's."""
    gap = c - m
    widest = int(gap.argmax())
    words = (f"**What to see:** in place (0 px) the MLP reads {pct(m[0])} of these digits and the CNN {pct(c[0])}; "
             f"moved 1 px, {pct(m[1])} and {pct(c[1])}. ")
    if gap[widest] > 0:
        words += (f"The CNN is ahead of the MLP by the most at {widest} px ({pct(c[widest])} against "
                  f"{pct(m[widest])}). ")
    else:
        words += "Here the CNN never reads more moved digits than the MLP. "
    return words + ("An MLP's weights belong to pixels: ink that moves meets other weights, which read it only as "
                    "far as they learnt similar strokes there. A CNN's filters look for the same stroke "
                    "everywhere, and its 2×2 max-pooling gives the same output when a filter's strongest response "
                    "moves within its 2×2 block (not when it crosses into the next one). Neither is immune: the "
                    "CNN's last layer is a dense one, tied to positions in the pooled maps.")


st.title(pages.title("why_convolutions"))
st.write("A network that reads a digit in the middle of its box should read it a little to the left too. "
         "Does it? Here every digit is **moved by a few pixels** and two networks read it again: the built-in "
         "**MLP** (every weight tied to one pixel) and the built-in **CNN** (small filters slid over the whole "
         "image). Both were trained on moved digits: see *Not a fair race* below.")

data = state.dataset_or_stop()
models = {"built-in MLP": state.pretrained_model()[0], "built-in CNN": state.pretrained_cnn()[0]}
own, own_info = state.user_model()
if own is not None:
    models["your model"] = own


def shift_curve(name, net, x, labels):
    """Kept per model (its weights' fingerprint) and dataset by ui/linework.py (computed on the page when
    small, else in the line with a progress line; None until then): the same on every rerun."""
    key = state.model_key(net)
    moves = 1 + 4 * (len(SHIFTS) - 1)
    return linework.result(f"why shift {key}", ("why shift", key, data.source, len(x)),
                           linework.forward_flops(net) * len(x) * moves,
                           analysis.shift_accuracy_steps(net, x, labels, SHIFTS),
                           f"Moving {len(x):,} test digits by 0 to 6 pixels, four ways, and reading them again "
                           f"with {name}")


# ------------------------------------------------------------ 1. the test digits, moved
st.header("1 · Test digits, moved")
n = min(N_SHIFT, len(data.y_test))
x_test, y_test = data.test_float()[:n], data.y_test[:n]
curves = {}
for name, net in models.items():
    try:
        curve = shift_curve(name, net, x_test, y_test)
    except (ValueError, ArithmeticError) as err:     # a model whose numbers overflow
        st.error(f"Cannot test {name}: {err}.", icon="⚠️")
    else:
        if curve is not None:                        # (else its progress line is on the page)
            curves[name] = curve
if curves:
    df = pd.DataFrame([{"run": name, "x": s, "value": float(acc)}
                       for name, accs in curves.items() for s, acc in zip(SHIFTS, accs)])
    show(st, charts.compare_chart, df, "moved by (pixels)", "accuracy", "Accuracy as the digits move",
         percent=True, height=presenter.height(320), big=presenter.on())
    st.dataframe(pd.DataFrame({"moved by": [f"{s} px" for s in SHIFTS]}
                              | {name: 100 * accs for name, accs in curves.items()}),
                 hide_index=True, width="content",
                 column_config={name: st.column_config.NumberColumn(format="%.1f%%") for name in curves})
    st.caption(f"The first {n:,} test digits of the {'built-in sample' if data.is_sample else 'MNIST test set'}, "
               "each moved right, left, down and up (the four accuracies averaged); what leaves the 28×28 box is "
               "lost, and the strip it leaves behind stays blank. At 0 px it is the plain accuracy.")
example = analysis.shifted_series(x_test[0], SHIFTS, "right")
st.image([pictures.ink01_image(img.reshape(28, 28), scale=2) for img in example],
         caption=[f"{s} px" for s in SHIFTS], width=62,
         alt=[f"Test digit {y_test[0]} moved {px(s)} to the right" for s in SHIFTS])
mlp_settings, cnn_settings = state.pretrained_model()[1], state.pretrained_cnn()[1]
if "built-in MLP" in curves and "built-in CNN" in curves:
    st.write(what_to_see(curves["built-in MLP"], curves["built-in CNN"]))
fair = next(e for e in experiments.EXPERIMENTS if e["id"] == "mlp_vs_cnn_moved")
st.info(f"**Not a fair race.** Both built-in models were trained on the full MNIST with moved digits "
        f"(augmentation): the MLP with {trained_words(mlp_settings)}, the CNN with {trained_words(cnn_settings)}. "
        f"A network trained without moved digits loses them sooner, whatever its kind, and these two were trained "
        f"differently in other ways too. **The fair comparison** trains both the same way: on the Train page open "
        f"🧪 Guided experiments → *{fair['title']}*, train both variants (the same epochs and augmentation), and "
        f"come back after each one: your model's curve joins the chart and the table.", icon="⚖️")
show_code(analysis.accuracy_under_shift, analysis.shift, analysis.shift_grid,
          intro="The curves come from these functions: every image of the batch is moved at once "
                "(one slice copy), then each network reads them again.")

# ------------------------------------------------------------ 2. one digit, moved
st.header("2 · One digit, moved step by step")
drawn = st.session_state.get("draw_last_x")
has_drawing = drawn is not None and np.shape(drawn) == (784,)
sources = (["My drawing from the Draw page"] if has_drawing else []) + ["A test digit"]
c1, c2 = st.columns([1.4, 1], vertical_alignment="bottom")
source = c1.radio("Digit", sources, key="why_source", horizontal=True) if has_drawing else sources[0]
direction = c2.segmented_control("Move it", DIRECTIONS, default="right", key="why_direction") or "right"
if source == "A test digit":
    index = st.number_input("Test digit number", 0, len(data.y_test) - 1, 0, step=1, key="why_index")
    x, what = data.test_float()[index], f"test digit #{index} (label {data.y_test[index]})"
else:
    x, what = np.asarray(drawn, dtype=np.float32), "your last drawing"
if not has_drawing:
    st.caption("Draw a digit on the Draw page and it is moved here instead.")
series = analysis.shifted_series(x, SHIFTS, direction)
st.image([pictures.ink01_image(img.reshape(28, 28), scale=2) for img in series],
         caption=[f"{s} px" for s in SHIFTS], width=62,
         alt=[f"{what.capitalize()} moved {px(s)} {direction}" for s in SHIFTS])
table = {"moved by": [f"{s} px {direction}" if s else "0 px" for s in SHIFTS]}
for name, net in models.items():
    out = net.predict_proba(series)
    guess = out.argmax(axis=1)
    table[f"{name} reads"] = guess
    table[f"{name}: how sure"] = [formats.output_text(o[g], net.loss != "mse") for o, g in zip(out, guess)]
st.dataframe(pd.DataFrame(table), hide_index=True, width="content")
st.caption(f"{what.capitalize()}, as the networks see it (28×28, centred like MNIST), moved 0 to 6 pixels "
           f"{direction}. Each row: what each network reads and how sure it is.")

# ------------------------------------------------------------ 3. the first layer, moved
st.header("3 · Experiment: what does the first layer see when the digit moves?")
st.write("Move the same digit and compare what the first layer of each network makes of it, before and after.")
step = st.slider("Move by (pixels)", 1, 6, 3, key="why_step")
dy, dx = (step * d for d in analysis.SHIFT_DIRECTIONS[direction])
mlp_before, mlp_after, mlp_change, _back = analysis.shift_response(models["built-in MLP"], x, dy, dx)
maps, maps_after, cnn_change, cnn_back = analysis.shift_response(models["built-in CNN"], x, dy, dx)
left, right = st.columns(2, gap="large")
with left:
    st.subheader("MLP: hidden layer 1")
    show(st, charts.activation_bars_chart, mlp_before, title="before", height=150, width="stretch")
    show(st, charts.activation_bars_chart, mlp_after, title=f"moved {step} px {direction}", height=150,
         width="stretch")
    st.caption(f"Its {len(mlp_before)} units, each wired to all 784 pixels with its own weights. After the move "
               f"the pattern changed by **{mlp_change:.0%}**: the *relative change* ‖after − before‖ / ‖before‖, the "
               f"length of the difference over the length of the pattern before. Its units have no positions, so "
               f"nothing can move the pattern back: the new one is what the layers above read.")
with right:
    st.subheader("CNN: first convolution's feature maps")
    top = analysis.top_units(maps.sum(axis=(1, 2)), 4)
    peak = float(max(maps[top].max(), maps_after[top].max())) or 1.0    # one shared ink scale
    for title, shown, words in (("before", maps, ""), (f"moved {step} px {direction}", maps_after,
                                                     f" for the digit moved {px(step)} {direction}")):
        st.markdown(f"**{title}**")
        st.image([pictures.ink01_image(m / peak, size=84) for m in shown[top]], caption=[f"filter {f}" for f in top],
                 width=84, alt=[f"Feature map of filter {f}{words} (dark where it fires)" for f in top])
    st.caption(f"The {len(top)} most active of its {len(maps)} filters, each a 5×5 pattern slid over the whole "
               f"image (dark: where it fires). By the same measure, the relative change ‖after − before‖ / "
               f"‖before‖, the maps changed by **{cnn_change:.0%}**, {'more' if cnn_change > mlp_change else 'less'} "
               f"than the MLP's pattern ({mlp_change:.0%}): every response now sits {px(step)} further {direction}. "
               f"That is all that happened: moved back by {step} px they differ from the old maps by "
               f"**{cnn_back:.1%}** (measured away from the border strip the move brought in).")
st.write("**Weight sharing is the idea:** a convolution uses the same few weights at every position, so a "
         "moved stroke gives the same response, moved (the 0.0% above, away from the border). An MLP reads a "
         "stroke in a place only as well as its weights there learnt it, from training digits with a stroke "
         "there: moved digits in training (augmentation) are how it learns the nearby places. "
         "**Try it yourself:** train your own network on the Train page (the guided experiment above trains an "
         "MLP and a CNN the same way), or load a model file there, and come back: the curves above then show "
         "your model next to the built-in ones. The CNN's convolutions and pooling handle small moves by their "
         "design; its dense last layer, like every layer of the MLP, learns positions from the examples it is "
         "shown.")
pages.page_link("train", label="Train your own network")
show_code(analysis.shift_response,
          intro="The first layer's response before and after the move, and the comparison.")
