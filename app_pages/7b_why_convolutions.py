"""Why convolutions? Move digits a few pixels and compare the built-in MLP with the built-in CNN
(and the session's own model): accuracy on test digits, the guesses for one digit (your drawing),
and what each network's first layer makes of a moved digit."""
import numpy as np
import pandas as pd
import streamlit as st

import i18n
from engine import analysis, augment
from i18n import N_, _, ngettext, num
from ui import charts, experiments, formats, linework, pages, pictures, presenter, state
from ui.chart_cache import show
from ui.code import show_code

N_SHIFT = 500                 # the first 500 test digits, moved four ways: 2,000 images per shift
SHIFTS = list(range(7))       # 0..6 pixels
DIRECTIONS = list(analysis.SHIFT_DIRECTIONS)
# Each direction as the sentences say it ("moved 3 px right", "further right").
DIRECTION_WORDS = {"right": N_("right"), "left": N_("left"), "down": N_("down"), "up": N_("up")}
MLP, CNN, OWN = N_("built-in MLP"), N_("built-in CNN"), N_("your model")      # the models, by name


def px(s):
    return ngettext("{n} pixel", "{n} pixels", s).format(n=s)


def pct(a):
    return i18n.pct(a, 1)


def trained_words(settings):
    """How a built-in model was trained, from the settings stored in its file: the augmentation's reach, the
    epochs and the optimiser."""
    strength = float(settings.get("augment") or 0)
    if not strength:
        return _("no augmentation")
    shift, degrees, scale = augment.ranges(strength)
    return _("augment {strength}: each training digit moved by up to {shift} px along each axis, turned by up to "
             "{degrees}° and resized by up to {scale} ({epochs} epochs of {optimizer})").format(
        strength=num(float(f"{strength:g}")), shift=num(float(f"{shift:g}")), degrees=num(float(f"{degrees:g}")),
        scale=i18n.pct(scale, 0),
        epochs=settings.get("epochs", "?"),
        optimizer=(_(formats.OPTIMIZER_NAMES[settings["optimizer"]])
                   if settings.get("optimizer") in formats.OPTIMIZER_NAMES else i18n.as_is(settings.get("optimizer"))))


def what_to_see(m, c):
    """The lesson of the curves, in sentences built from the two built-in models' numbers m and c (accuracy at
    0, 1, ... px): every figure is one of the table's."""
    gap = c - m
    widest = int(gap.argmax())
    words = _("**What to see:** in place (0 px) the MLP reads {mlp} of these digits and the CNN {cnn}; "
              "moved 1 px, {mlp_1} and {cnn_1}.").format(mlp=pct(m[0]), cnn=pct(c[0]), mlp_1=pct(m[1]),
                                                         cnn_1=pct(c[1])) + " "
    if gap[widest] > 0:
        words += _("The CNN is ahead of the MLP by the most at {n} px ({cnn} against {mlp}).").format(
            n=widest, cnn=pct(c[widest]), mlp=pct(m[widest])) + " "
    else:
        words += _("Here the CNN never reads more moved digits than the MLP.") + " "
    return words + _("An MLP's weights belong to pixels: ink that moves meets other weights, which read it only as "
                     "far as they learnt similar strokes there. A CNN's filters look for the same stroke "
                     "everywhere, and its 2×2 max-pooling gives the same output when a filter's strongest response "
                     "moves within its 2×2 block (not when it crosses into the next one). Neither is immune: the "
                     "CNN's last layer is a dense one, tied to positions in the pooled maps.")


st.title(pages.title("why_convolutions"))
st.write(_("A network that reads a digit in the middle of its box should read it a little to the left too. "
           "Does it? Here every digit is **moved by a few pixels** and two networks read it again: the built-in "
           "**MLP** (every weight tied to one pixel) and the built-in **CNN** (small filters slid over the whole "
           "image). Both were trained on moved digits: see *Not a fair race* below."))

data = state.dataset_or_stop()
models = {MLP: state.pretrained_model()[0], CNN: state.pretrained_cnn()[0]}
own, own_info = state.user_model()
if own is not None:
    models[OWN] = own


def shift_curve(name, net, x, labels):
    """Kept per model (its weights' fingerprint) and dataset by ui/linework.py (computed on the page when
    small, else in the line with a progress line; None until then): the same on every rerun."""
    key = state.model_key(net)
    moves = 1 + 4 * (len(SHIFTS) - 1)
    return linework.result(f"why shift {key}", ("why shift", key, data.source, len(x)),
                           linework.forward_flops(net) * len(x) * moves,
                           analysis.shift_accuracy_steps(net, x, labels, SHIFTS),
                           _("Moving {n} test digits by 0 to 6 pixels, four ways, and reading them again "
                             "with {model}").format(n=num(len(x)), model=_(name)))


# ------------------------------------------------------------ 1. the test digits, moved
st.header(_("1 · Test digits, moved"))
n = min(N_SHIFT, len(data.y_test))
x_test, y_test = data.test_float()[:n], data.y_test[:n]
curves = {}
for name, net in models.items():
    try:
        curve = shift_curve(name, net, x_test, y_test)
    except (ValueError, ArithmeticError) as err:     # a model whose numbers overflow
        st.error(_("Cannot test {model}: {error}.").format(model=_(name), error=err), icon="⚠️")
    else:
        if curve is not None:                        # (else its progress line is on the page)
            curves[name] = curve
if curves:
    df = pd.DataFrame([{"run": _(name), "x": s, "value": float(acc)}
                       for name, accs in curves.items() for s, acc in zip(SHIFTS, accs)])
    show(st, charts.compare_chart, df, _("moved by (pixels)"), _("accuracy"), _("Accuracy as the digits move"),
         percent=True, height=presenter.height(320), big=presenter.on())
    st.dataframe(pd.DataFrame({_("moved by"): [_("{n} px").format(n=s) for s in SHIFTS]}
                              | {_(name): 100 * accs for name, accs in curves.items()}),
                 hide_index=True, width="content",
                 column_config={_(name): st.column_config.NumberColumn(format="%.1f%%") for name in curves})
    st.caption((_("The first {n} test digits of the built-in sample, each moved right, left, down and up (the four "
                  "accuracies averaged); what leaves the 28×28 box is lost, and the strip it leaves behind stays "
                  "blank. At 0 px it is the plain accuracy.") if data.is_sample else
                _("The first {n} test digits of the MNIST test set, each moved right, left, down and up (the four "
                  "accuracies averaged); what leaves the 28×28 box is lost, and the strip it leaves behind stays "
                  "blank. At 0 px it is the plain accuracy.")).format(n=num(n)))
example = analysis.shifted_series(x_test[0], SHIFTS, "right")
st.image([pictures.ink01_image(img.reshape(28, 28), scale=2) for img in example],
         caption=[_("{n} px").format(n=s) for s in SHIFTS], width=62,
         alt=[_("Test digit {label} moved {pixels} to the right").format(label=y_test[0], pixels=px(s))
              for s in SHIFTS])
mlp_settings, cnn_settings = state.pretrained_model()[1], state.pretrained_cnn()[1]
if MLP in curves and CNN in curves:
    st.write(what_to_see(curves[MLP], curves[CNN]))
fair = next(e for e in experiments.EXPERIMENTS if e["id"] == "mlp_vs_cnn_moved")
st.info(_("**Not a fair race.** Both built-in models were trained on the full MNIST with moved digits "
          "(augmentation): the MLP with {mlp}, the CNN with {cnn}. "
          "A network trained without moved digits loses them sooner, whatever its kind, and these two were trained "
          "differently in other ways too. **The fair comparison** trains both the same way: on the Train page open "
          "🧪 Guided experiments → *{experiment}*, train both variants (the same epochs and augmentation), and "
          "come back after each one: your model's curve joins the chart and the table.").format(
    mlp=trained_words(mlp_settings), cnn=trained_words(cnn_settings), experiment=_(fair["title"])), icon="⚖️")
show_code(analysis.accuracy_under_shift, analysis.shift, analysis.shift_grid,
          intro=_("The curves come from these functions: every image of the batch is moved at once "
                  "(one slice copy), then each network reads them again."))

# ------------------------------------------------------------ 2. one digit, moved
st.header(_("2 · One digit, moved step by step"))
drawn = st.session_state.get("draw_last_x")
has_drawing = drawn is not None and np.shape(drawn) == (784,)
sources = ([N_("My drawing from the Draw page")] if has_drawing else []) + [N_("A test digit")]
c1, c2 = st.columns([1.4, 1], vertical_alignment="bottom")
# Labels worked out in the run's language (AppTest calls format_func outside the script run).
source = c1.radio(_("Digit"), sources, key="why_source", horizontal=True,
                  format_func={s: _(s) for s in sources}.get) if has_drawing else sources[0]
direction = c2.segmented_control(_("Move it"), DIRECTIONS, default="right", key="why_direction",
                                 format_func={d: _(DIRECTION_WORDS[d]) for d in DIRECTIONS}.get) or "right"
towards = _(DIRECTION_WORDS[direction])
if source == "A test digit":
    index = st.number_input(_("Test digit number"), 0, len(data.y_test) - 1, 0, step=1, key="why_index")
    x, what = data.test_float()[index], _("test digit #{index} (label {label})").format(index=index,
                                                                                      label=data.y_test[index])
else:
    x, what = np.asarray(drawn, dtype=np.float32), _("your last drawing")
What = what[:1].upper() + what[1:]
if not has_drawing:
    st.caption(_("Draw a digit on the Draw page and it is moved here instead."))
series = analysis.shifted_series(x, SHIFTS, direction)
st.image([pictures.ink01_image(img.reshape(28, 28), scale=2) for img in series],
         caption=[_("{n} px").format(n=s) for s in SHIFTS], width=62,
         alt=[_("{digit} moved {pixels} {direction}").format(digit=What, pixels=px(s), direction=towards)
              for s in SHIFTS])
table = {_("moved by"): [_("{n} px {direction}").format(n=s, direction=towards) if s else _("{n} px").format(n=0)
                        for s in SHIFTS]}
for name, net in models.items():
    out = net.predict_proba(series)
    guess = out.argmax(axis=1)
    table[_("{model} reads").format(model=_(name))] = guess
    table[_("{model}: how sure").format(model=_(name))] = [formats.output_text(o[g], net.loss != "mse")
                                                           for o, g in zip(out, guess)]
st.dataframe(pd.DataFrame(table), hide_index=True, width="content")
st.caption(_("{digit}, as the networks see it (28×28, centred like MNIST), moved 0 to 6 pixels "
             "{direction}. Each row: what each network reads and how sure it is.").format(digit=What,
                                                                                         direction=towards))

# ------------------------------------------------------------ 3. the first layer, moved
st.header(_("3 · Experiment: what does the first layer see when the digit moves?"))
st.write(_("Move the same digit and compare what the first layer of each network makes of it, before and after."))
step = st.slider(_("Move by (pixels)"), 1, 6, 3, key="why_step")
dy, dx = (step * d for d in analysis.SHIFT_DIRECTIONS[direction])
mlp_before, mlp_after, mlp_change, _back = analysis.shift_response(models[MLP], x, dy, dx)
maps, maps_after, cnn_change, cnn_back = analysis.shift_response(models[CNN], x, dy, dx)
left, right = st.columns(2, gap="large")
with left:
    st.subheader(_("MLP: hidden layer 1"))
    show(st, charts.activation_bars_chart, mlp_before, title=_("before"), height=150, width="stretch")
    show(st, charts.activation_bars_chart, mlp_after,
         title=_("moved {n} px {direction}").format(n=step, direction=towards), height=150, width="stretch")
    st.caption(_("Its {n} units, each wired to all 784 pixels with its own weights. After the move "
                 "the pattern changed by **{change}**: the *relative change* ‖after − before‖ / ‖before‖, the "
                 "length of the difference over the length of the pattern before. Its units have no positions, so "
                 "nothing can move the pattern back: the new one is what the layers above read.").format(
        n=num(len(mlp_before)), change=i18n.pct(mlp_change, 0)))
with right:
    st.subheader(_("CNN: first convolution's feature maps"))
    top = analysis.top_units(maps.sum(axis=(1, 2)), 4)
    peak = float(max(maps[top].max(), maps_after[top].max())) or 1.0    # one shared ink scale
    for moved, shown in ((False, maps), (True, maps_after)):
        st.markdown("**{title}**".format(title=_("moved {n} px {direction}").format(n=step, direction=towards)
                                         if moved else _("before")))
        st.image([pictures.ink01_image(m / peak, size=84) for m in shown[top]],
                 caption=[_("filter {n}").format(n=f) for f in top], width=84,
                 alt=[(_("Feature map of filter {n} for the digit moved {pixels} {direction} (dark where it fires)")
                       .format(n=f, pixels=px(step), direction=towards) if moved else
                       _("Feature map of filter {n} (dark where it fires)").format(n=f)) for f in top])
    st.caption((_("The {n} most active of its {total} filters, each a 5×5 pattern slid over the whole "
                  "image (dark: where it fires). By the same measure, the relative change ‖after − before‖ / "
                  "‖before‖, the maps changed by **{change}**, more than the MLP's pattern ({mlp_change}): every "
                  "response now sits {pixels} further {direction}. That is all that happened: moved back by {step} "
                  "px they differ from the old maps by **{back}** (measured away from the border strip the move "
                  "brought in).") if cnn_change > mlp_change else
                _("The {n} most active of its {total} filters, each a 5×5 pattern slid over the whole "
                  "image (dark: where it fires). By the same measure, the relative change ‖after − before‖ / "
                  "‖before‖, the maps changed by **{change}**, less than the MLP's pattern ({mlp_change}): every "
                  "response now sits {pixels} further {direction}. That is all that happened: moved back by {step} "
                  "px they differ from the old maps by **{back}** (measured away from the border strip the move "
                  "brought in).")).format(
        n=len(top), total=len(maps), change=i18n.pct(cnn_change, 0), mlp_change=i18n.pct(mlp_change, 0),
        pixels=px(step), direction=towards, step=step, back=i18n.pct(cnn_back, 1)))
st.write(_("**Weight sharing is the idea:** a convolution uses the same few weights at every position, so a "
           "moved stroke gives the same response, moved (the {zero} above, away from the border). An MLP reads a "
           "stroke in a place only as well as its weights there learnt it, from training digits with a stroke "
           "there: moved digits in training (augmentation) are how it learns the nearby places. "
           "**Try it yourself:** train your own network on the Train page (the guided experiment above trains an "
           "MLP and a CNN the same way), or load a model file there, and come back: the curves above then show "
           "your model next to the built-in ones. The CNN's convolutions and pooling handle small moves by their "
           "design; its dense last layer, like every layer of the MLP, learns positions from the examples it is "
           "shown.").format(zero=i18n.pct(0, 1)))
pages.page_link("train", label=_("Train your own network"))
show_code(analysis.shift_response,
          intro=_("The first layer's response before and after the move, and the comparison."))
