"""How it learns: forward propagation, loss, backpropagation and one gradient-descent step,
on one real image, using a private copy of the active model."""
import numpy as np
import pandas as pd
import streamlit as st

from engine.analysis import hard_example
from engine.data import to_float
from engine.metrics import accuracy
from engine.network import Network, activate, activate_prime, cross_entropy_terms, mse_terms, one_hot
from engine.optim import SGD, make_optimizer
from i18n import _, as_is, num, pct
from ui import charts, formats, pages, pictures, state
from ui import a11y
from ui.chart_cache import show
from ui.code import show_code

LEARNING_RATES = [0.0003, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0]
N_CHECK = 500         # test images used to show what one-image steps do to the rest
N_UNITS_SHOWN = 6     # hidden units whose first-layer gradient is drawn as a 28x28 picture
N_WEIGHTS_SHOWN = 6   # weights in the update table
HARD_POOL = 2000      # images searched for a "hard one"

st.title(pages.title("how_it_learns"))
st.write(_("One training step on one image, in four parts, exactly as the network does it: "
           "**forward** (predict), **loss** (how wrong?), **backward** (who is to blame?) and "
           "**update** (learn). Training repeats this step over and over on mini-batches of images; "
           "here you can watch a single step in slow motion."))

data = state.dataset_or_stop()
original, model_label = state.active_model(mlp_only=True)

# ------------------------------------------------------------ the image and the private copy
n_train = len(data.y_train)


def _random_image():
    st.session_state["hl_index"] = int(np.random.default_rng().integers(n_train))


def _hard_image(seed=None):
    st.session_state["hl_index"] = hard_example(original, data.x_train, data.y_train, HARD_POOL, seed)


def _reset_copy():
    st.session_state.pop("hl_copy", None)


if "hl_index" not in st.session_state:
    _hard_image(seed=0)   # open on an image the model finds hard: more to see
st.session_state["hl_index"] = min(int(st.session_state["hl_index"]), n_train - 1)
c1, c2, c3, c4 = st.columns([4, 1.2, 1.2, 1.2], vertical_alignment="bottom")
index = c1.slider(_("Training image"), 0, n_train - 1, key="hl_index", persist_state="session")
c2.button(_("🎲 Random image"), key="hl_random", on_click=_random_image, width="stretch")
c3.button(_("🤔 A hard one"), key="hl_hard", on_click=_hard_image, width="stretch",
          help=_("An image the model gets wrong or is unsure about: its loss is high, so there is a lot to learn."))
c4.button(_("↺ Reset copy"), key="hl_reset", on_click=_reset_copy, width="stretch",
          help=_("Throw away the steps taken and start again from a fresh copy of the model."))

x = to_float(data.x_train[index:index + 1])       # (1, 784): one row = one example, 0..1
label = int(data.y_train[index])
y = one_hot([label], original.sizes[-1])

copy_key = (index, model_label, id(original))
held = st.session_state.get("hl_copy")
if held is None or held["key"] != copy_key:
    held = {"key": copy_key, "net": original.copy(), "steps": 0, "last": None, "losses": []}
    st.session_state["hl_copy"] = held
net = held["net"]

st.info(_("Working on a **private copy** of {model} ({network}). "
          "Nothing you do on this page changes the model used by the other pages.").format(
    model=model_label, network=as_is(net.describe())), icon="🧪")

# ------------------------------------------------------------ 1. forward
st.header(_("1 · Forward propagation: predict"))
zs, acts = net.forward(x, keep=True)
n_layers = net.n_layers
hidden = net.activation
out_name = "softmax" if net.loss == "cross-entropy" else "sigmoid"

left, right = st.columns([1, 3], gap="large")
with left:
    st.image(pictures.ink_image(data.x_train[index], scale=6),
             caption=_("training image #{index}: label {label}").format(index=index, label=label),
             alt=a11y.digit_alt("training", index, label))
with right:
    st.markdown(_("**Input x: 784 numbers.** The 28×28 pixels, flattened and divided by 255 "
                  "(so between 0 and 1). {n} of them are not 0.").format(n=num(int((x > 0).sum()))))
    show(st, charts.flat_strip_chart, data.x_train[index], width="stretch")
    st.write(_("Every layer then computes **z = W·a + b** (a weighted sum of its inputs, plus a bias, "
               "for each of its units) and passes z through an activation function: "
               "**{hidden}** in the hidden layers, **{output}** at the output.").format(hidden=as_is(hidden),
                                                                                           output=as_is(out_name)))

for l in range(n_layers):
    n_out, n_in = net.weights[l].shape
    a_in = "x" if l == 0 else f"a{l}"
    last = l == n_layers - 1
    fn = out_name if last else hidden
    st.subheader((_("Layer {n} (output)") if last else _("Layer {n} (hidden)")).format(n=l + 1))
    st.code(f"W{l + 1}: {n_out}×{n_in}  ·  {a_in}: {n_in}  +  b{l + 1}: {n_out}  →  z{l + 1}: {n_out}\n"
            f"a{l + 1} = {fn}(z{l + 1}): {n_out}", language=None)
    c1, c2 = st.columns(2, gap="large")
    show(c1, charts.vector_bars_chart, zs[l][0], _("z{n}: weighted sums").format(n=l + 1), digits=last,
         highlight=label if last else None, fmt=".1f", width="stretch")
    show(c2, charts.vector_bars_chart, acts[l + 1][0], as_is(f"a{l + 1} = {fn}(z{l + 1})"), digits=last,
         highlight=label if last else None, fmt=".2f", width="stretch")
    if not last:
        on = int((acts[l + 1][0] > 0).sum())
        note = {"relu": _("ReLU keeps positive sums and turns negative ones into 0: {on} of {n} units are on.").format(
                    on=num(on), n=num(n_out)),
                "leaky_relu": _("Leaky ReLU keeps positive sums and shrinks negative ones to 1%."),
                "sigmoid": _("Sigmoid squeezes every sum into (0, 1)."),
                "tanh": _("tanh squeezes every sum into (−1, 1).")}[hidden]
        st.caption(note)

output = acts[-1][0]
predicted = int(output.argmax())
st.write((_("**Prediction: {predicted}**, the output neuron with the highest value ({value}), ✅ right. "
            "This step only *predicts*; nothing has been learnt yet.") if predicted == label else
          _("**Prediction: {predicted}**, the output neuron with the highest value ({value}), ❌ wrong "
            "(the label is {label}). This step only *predicts*; nothing has been learnt yet."))
         .format(predicted=predicted, value=num(output[predicted], 3), label=label))
show_code(Network.forward, Network.output, activate,
          intro=_("`net.forward(x, keep=True)` drew the charts above: one line, `z = a @ W.T + b`, per layer "
                  "(the whole batch at once; here a batch of one image), then the activation. "
                  "`keep=True` keeps every z and a for backpropagation."))

# ------------------------------------------------------------ 2. loss
st.header(_("2 · Loss: how wrong is it?"))
loss = net.loss_value(zs[-1], acts[-1], y)
if net.loss == "mse":
    terms, loss_name = mse_terms(acts[-1], y)[0], _("mean squared error, ½(a − y)² per neuron")
else:
    terms, loss_name = cross_entropy_terms(acts[-1], y)[0], _("cross-entropy, −y·log(a) per neuron")
c1, c2 = st.columns([1.4, 3], gap="large")
c1.metric(_("Loss on this image"), formats.num(loss))
c1.write(_("The output is compared with the label {label}, one-hot, neuron by neuron ({loss}). "
           "0 would be a perfect answer.").format(label=label, loss=loss_name))
c1.code(f"y = {y[0].astype(int).tolist()}", language=None, wrap_lines=True)
show(c2, charts.loss_terms_chart, pd.DataFrame({"neuron": [str(k) for k in range(len(terms))], "term": terms}),
     _("Each output neuron's share of the loss"), "#e15759", height=230,
     fmt=".3f" if terms.max() >= 1e-3 else ".1e", width="stretch")
show_code(Network.loss_value,
          intro=_("`net.loss_value(z, a, y)` gave the number above. For cross-entropy it starts from the "
                  "weighted sums z (log-softmax), which stays exact even when a probability rounds to 0."))

# ------------------------------------------------------------ 3. backward
st.header(_("3 · Backpropagation: assign the blame"))
before = [p.copy() for p in net.params()]
grad_w, grad_b = net.backward(zs, acts, y)
unchanged = all(np.array_equal(p, q) for p, q in zip(before, net.params()))
st.write(_("Backpropagation uses the chain rule to work out, for **every** weight and bias, how much the "
           "loss would change if it were nudged: the gradients ∂Loss/∂W and ∂Loss/∂b. The error flows "
           "backwards, from the output layer to the first layer."))
if unchanged:
    st.success(_("Check: after backward() all {n} weights and biases are **identical** to "
                 "before (compared number by number). Backpropagation only *assigns blame*; it changes nothing.")
               .format(n=num(net.n_params())), icon="✅")
else:
    st.error(_("The weights changed during backward(): that should never happen."))

st.code("\n".join(_("∂Loss/∂W{n}: {rows}×{cols}   ∂Loss/∂b{n}: {size}   (same shapes as W{n} and b{n})").format(
                      n=l + 1, rows=g.shape[0], cols=g.shape[1], size=gb.shape[0])
                  for l, (g, gb) in enumerate(zip(grad_w, grad_b))), language=None)

st.subheader(_("Output layer: ∂Loss/∂W{n}").format(n=n_layers))
delta_out = grad_b[-1]    # for one example the bias gradient is the error signal δ of each neuron
c1, c2 = st.columns([3, 1.3], gap="large")
show(c1, charts.matrix_heat_chart, grad_w[-1], row_name=_("output neuron"),
     col_name=_("hidden unit") if n_layers > 1 else _("pixel"), height=270, width="stretch")
with c2:
    st.write((_("Row k is output neuron k's error signal δₖ = ∂Loss/∂zₖ times each of its inputs. "
                "The true digit {label} has δ = {delta}, so its weights from positive inputs get a negative "
                "gradient and the update will raise them. The other neurons get the opposite sign, "
                "more strongly the more they were (wrongly) on. Blue = negative, orange = positive.")
              if delta_out[label] < 0 else
              _("Row k is output neuron k's error signal δₖ = ∂Loss/∂zₖ times each of its inputs. "
                "The true digit {label} has δ = {delta}, so its weights from positive inputs get a positive "
                "gradient and the update will lower them. The other neurons get the opposite sign, "
                "more strongly the more they were (wrongly) on. Blue = negative, orange = positive."))
             .format(label=label, delta=formats.num(delta_out[label])))

if n_layers > 1:
    st.subheader(_("First layer: ∂Loss/∂W1, one 28×28 picture per hidden unit"))
    blame = np.abs(grad_b[0])
    units = np.argsort(-blame)[:N_UNITS_SHOWN]
    units = units[blame[units] > 0]
    n_zero = int((blame == 0).sum())
    if units.size:
        show(st, charts.digit_pictures_chart, grad_w[0][units],
             [_("unit {n}").format(n=u) for u in units],
             size=118, diverging=True, columns=N_UNITS_SHOWN, width="content")
    st.write(_("The {n} hidden units with the most blame. Each of unit j's 784 incoming weights has "
               "a gradient, so it can be drawn as a picture. For a single image it is δⱼ × x: the digit "
               "itself, scaled by the unit's blame δⱼ (its sign sets the colour). Pixels with no ink give "
               "0 gradient: their weights played no part in this answer.").format(n=units.size)
             + (" " + _("**{n_zero} of {n}** units get no blame at all here: "
                        "they were off (z ≤ 0), where ReLU's slope is 0.").format(n_zero=num(n_zero),
                                                                                 n=num(grad_b[0].size))
                if hidden == "relu" and n_zero else ""))
show_code(Network.backward, Network.output_delta, activate_prime,
          intro=_("`net.backward(zs, activations, y)` made every gradient on this page. It starts from the "
                  "output layer's error signal δ (`output_delta`), and each layer's gradient is "
                  "`delta.T @ activations[l]`. Nothing in it writes to `self.weights`: it only computes."))

# ------------------------------------------------------------ 4. update
st.header(_("4 · Gradient descent: the update is where learning happens"))
st.write(_("Only now do the weights change. Every weight and bias takes a small step against its gradient:"))
st.code("w  ←  w − learning_rate × ∂Loss/∂w", language=None)
lr = st.select_slider(_("Learning rate (lr)"), LEARNING_RATES, value=0.001, key="hl_lr",
                      persist_state="session", format_func={v: num(v) for v in LEARNING_RATES}.get,
                      help=_("How big the step is. Too small: little change. Too big: it overshoots."))

# Preview on the output layer's weights with the largest gradients, using the real optimiser.
W, G = net.weights[-1], grad_w[-1]
flat = np.argsort(-np.abs(G).ravel())[:N_WEIGHTS_SHOWN]
rows, cols = np.unravel_index(flat, G.shape)
w_now, g_now = W[rows, cols].copy(), G[rows, cols].copy()
w_new = w_now.copy()
make_optimizer("sgd", lr).step([w_new], [g_now])
table = pd.DataFrame({
    _("weight"): [f"W{n_layers}[{r}, {c}]" for r, c in zip(rows, cols)],
    _("w now"): w_now, _("gradient"): g_now, _("lr × gradient"): lr * g_now, _("w after the step"): w_new,
})
st.table(table.style.format("{:+.4g}", subset=list(table.columns[1:])).hide(axis="index"))
st.caption(_("The {n} output-layer weights with the largest gradients. The step changes all "
             "{total} weights and biases the same way.").format(n=N_WEIGHTS_SHOWN, total=num(net.n_params())))


def _take_step(lr):
    """One plain SGD step on the copy, from the gradients of this image: the trainer's
    step (net.gradients, then the optimiser's step) on a batch of one."""
    held = st.session_state["hl_copy"]
    copy = held["net"]
    loss_before, gw, gb, out_before = copy.gradients(x, y)
    make_optimizer("sgd", lr).step(copy.params(), [g for pair in zip(gw, gb) for g in pair])
    loss_after = copy.loss_on(x, y)
    held["steps"] += 1
    held["last"] = {"lr": lr, "loss_before": loss_before, "loss_after": loss_after,
                    "out_before": out_before[0], "out_after": copy.predict_proba(x)[0]}
    held["losses"] = (held["losses"] or [loss_before]) + [loss_after]


st.button(_("👣 Take one step"), key="hl_step", type="primary", on_click=_take_step, args=(lr,))
show_code(Network.gradients, SGD.step,
          intro=_("The button takes the trainer's step, on a batch of one image and with plain SGD: "
                  "`net.gradients(x, y)` (forward, loss, backward), then `make_optimizer(\"sgd\", lr).step("
                  "net.params(), gradients)`, the only place where weights change. `p -= lr * g` updates each "
                  "weight array in place."))

last = held["last"]
if last is not None:
    c1, c2 = st.columns([1, 2.5], gap="large")
    with c1:
        st.metric(_("Loss after step {step} (lr {lr})").format(step=held["steps"], lr=num(last["lr"])),
                  formats.num(last["loss_after"]),
                  delta=formats.num(last["loss_after"] - last["loss_before"]), delta_color="inverse")
        st.write(_("Before the step: {loss}. Output for {label}: {before} → **{after}**.").format(
            loss=formats.num(last["loss_before"]), label=label, before=num(last["out_before"][label], 3),
            after=num(last["out_after"][label], 3)))
        if last["loss_after"] > last["loss_before"]:
            st.warning(_("The loss went up: the step was too big and overshot. Try a smaller learning rate."))
    show(c2, charts.before_after_chart, last["out_before"], last["out_after"], label, width="stretch")
    st.caption(_("The charts above (forward, loss, gradients) now show the copy after the step."))

    x_check, y_check = data.test_float()[:N_CHECK], data.y_test[:N_CHECK]
    acc_copy = accuracy(net.predict(x_check), y_check)
    acc_original = accuracy(original.predict(x_check), y_check)
    c1, c2 = st.columns([1, 2.5], gap="large")
    with c1:
        st.metric(_("Accuracy on {n} test images").format(n=num(N_CHECK)), pct(acc_copy, 1),
                  delta=_("{change} points").format(change=("+" if acc_copy > acc_original else "")
                                                    + num((acc_copy - acc_original) * 100, 1))
                  if acc_copy != acc_original else None)
        st.write(_("Without the steps ({model}): {accuracy}.").format(model=model_label, accuracy=pct(acc_original, 1)))
    with c2:
        show(st, charts.step_loss_chart, held["losses"], width="stretch")
    st.write(_("Steps on a single image teach the network *this* image. With a large learning rate it fits "
               "this one image at once and can forget much of the rest: watch the test accuracy. Real "
               "training averages the gradients over a mini-batch of many images and takes many small "
               "steps, so each update helps most images a little."))
else:
    st.write(_("Press **Take one step** to apply the update to the copy and see the loss and the 10 outputs "
               "before and after."))

changed = max(float(np.abs(p - q).max()) for p, q in zip(net.params(), original.params()))
st.write(_("Steps taken on this copy: **{steps}**. Largest change of any weight compared with "
           "{model}: {change}. {Model} itself is untouched: "
           "its loss on this image is still {loss}.").format(steps=held["steps"], model=model_label,
                                                             Model=model_label[0].upper() + model_label[1:],
                                                             change=f"{changed:.2e}",
                                                             loss=formats.num(original.loss_on(x, y))))
