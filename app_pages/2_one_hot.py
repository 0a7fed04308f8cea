"""One-hot encoding: why the label must have the same shape as the network's output."""
import numpy as np
import pandas as pd
import streamlit as st

from engine.analysis import hard_example
from engine.network import cross_entropy, cross_entropy_terms, mse, mse_terms, one_hot
from i18n import _, as_is, num
from ui import charts, formats, pages, pictures, state
from ui import a11y
from ui.chart_cache import show
from ui.code import show_code

# Starting values of the "what-if" output sliders (one per neuron).
DEFAULT_OUTPUTS = [0.10, 0.05, 0.20, 0.60, 0.05, 0.30, 0.10, 0.20, 0.05, 0.10]
MSE_COLOR, CE_COLOR = "#4e79a7", "#e15759"
HARD_POOL = 1000      # test images searched for a "hard one"


def vector_text(v):
    """[0, 0, 0, 1, 0] for whole numbers, else two decimals."""
    return "[" + ", ".join(formats.value_text(x) for x in v) + "]"


st.title(pages.title("one_hot"))
st.write(_("The network does not answer with a single digit. Its output layer has **one neuron per class** "
           "(10 for the digits 0-9), and each neuron says how strongly it votes for its class. To measure how "
           "wrong that answer is, the label has to be written in the same shape: a vector with one entry per "
           "neuron. That is **one-hot encoding**."))

# ------------------------------------------------------------ 1. label -> vector
st.header(_("1 · From a label to a vector"))
st.session_state.setdefault("oh_classes", 5)
st.session_state.setdefault("oh_label", 3)
# Keep the label valid when the number of classes shrinks.
st.session_state["oh_label"] = min(int(st.session_state["oh_label"]), int(st.session_state["oh_classes"]) - 1)

c1, c2 = st.columns(2, gap="large")
n_classes = c1.slider(_("Number of classes"), 2, 10, key="oh_classes", persist_state="session",
                      help=_("5 classes and label 3 is the example of the original write-up."))
label = c2.slider(_("True label"), 0, n_classes - 1, key="oh_label", persist_state="session")

target = one_hot([label], n_classes)[0]
st.code(_("label {label}   →   one-hot {vector}").format(label=label, vector=vector_text(target)), language=None)
show(st, charts.neurons_chart, target, height=110, width="stretch")
st.write(_("A vector of **{n}** numbers, one per output neuron: all **0** except a **1** at "
           "position {label}. It reads: *neuron {label} should be fully on, every other neuron off*. "
           "Nothing else changes, only the shape, and that is what lets the loss compare answer and label "
           "**neuron by neuron**.").format(n=n_classes, label=label))
show_code(one_hot, intro=_("`one_hot([label], n_classes)` made the vector above: a row of zeros, then one "
                           "NumPy assignment puts the 1 at the label's position."))

# ------------------------------------------------------------ 2. compare with an output
st.header(_("2 · Comparing the label with an output"))
real = st.toggle(_("Use a real output of the model on a test image"), key="oh_real", persist_state="session")

if real:
    data = state.dataset_or_stop()
    net, model_label = state.active_model()
    n_out = net.sizes[-1]
    if n_classes != n_out:
        st.info(_("The model has **{n_out} output neurons**, one per digit, so the comparison below uses "
                  "{n_out} classes, not the {n} you picked above. A label vector must always have "
                  "exactly as many entries as the network has outputs.").format(n_out=n_out, n=n_classes))

    def _random_image():
        st.session_state["oh_img"] = int(np.random.default_rng().integers(len(data.y_test)))

    def _hard_image(seed=None):
        st.session_state["oh_img"] = hard_example(net, data.test_float(), data.y_test, HARD_POOL, seed)

    if "oh_img" not in st.session_state:
        _hard_image(seed=0)     # open on an image where the output is not a clean one-hot
    st.session_state["oh_img"] = min(int(st.session_state["oh_img"]), len(data.y_test) - 1)
    left, right = st.columns([1.2, 3], gap="large")
    with left:
        i = st.number_input(_("Test image number"), 0, len(data.y_test) - 1, step=1, key="oh_img",
                            persist_state="session")
        st.button(_("🎲 Random test image"), key="oh_random", on_click=_random_image, width="stretch")
        st.button(_("🤔 A hard one"), key="oh_hard", on_click=_hard_image, width="stretch",
                  help=_("An image the model is unsure about or gets wrong."))
        st.image(pictures.ink_image(data.x_test[i], scale=5),
                 caption=_("test image #{index}: label {label}").format(index=i, label=data.y_test[i]),
                 alt=a11y.digit_alt("test", i, data.y_test[i]))
    cmp_label = int(data.y_test[i])
    cmp_target = one_hot([cmp_label], n_out)[0]
    output = net.predict_proba(data.test_float()[i:i + 1])[0]
    with right:
        st.write(_("The output of **{model}** for this image ({network}). "
                   "The label is now the image's own: **{label}**.").format(model=model_label,
                                                                           network=as_is(net.describe()), label=cmp_label))
else:
    cmp_label, cmp_target = label, target
    st.write(_("Set a made-up output, one value between 0 and 1 per neuron, and watch the loss change."))
    cols = st.columns(5)
    output = np.array([cols[k % 5].slider(_("neuron {k}").format(k=k), 0.0, 1.0, DEFAULT_OUTPUTS[k], 0.01,
                                          key=f"oh_out_{k}",
                                         persist_state="session")
                       for k in range(n_classes)], dtype=np.float32)
    st.caption(_("These outputs add up to {total}. A softmax output layer always makes them add up "
                 "to 1 (then they are probabilities); these sliders are a free what-if.").format(
        total=num(output.sum(), 2)))

n = len(output)
names = [str(k) for k in range(n)]
c1, c2 = st.columns(2, gap="large")
show(c1, charts.neurons_chart, cmp_target, title=_("Label y (one-hot)"), height=130, width="stretch")
show(c2, charts.neurons_chart, output, title=_("Output a of the network"), height=130, width="stretch")

# ------------------------------------------------------------ 3. the loss, neuron by neuron
st.header(_("3 · The loss, neuron by neuron"))
a, y = output[None, :], cmp_target[None, :]
m_terms, c_terms = mse_terms(a, y)[0], cross_entropy_terms(a, y)[0]
table = pd.DataFrame({
    _("neuron"): names,
    _("label y"): cmp_target.astype(int),
    _("output a"): output,
    "a − y": output - cmp_target,
    _("MSE term ½(a − y)²"): m_terms,
    _("cross-entropy term −y·log(a)"): c_terms,
})
st.dataframe(table, hide_index=True, width="stretch",
             column_config={c: st.column_config.NumberColumn(format="%.4f") for c in table.columns[2:]})

c1, c2 = st.columns(2, gap="large")
with c1:
    st.metric(_("Mean squared error (sum of the terms)"), formats.num(mse(a, y)))
    show(st, charts.loss_terms_chart, pd.DataFrame({"neuron": names, "term": m_terms}),
         _("MSE: every neuron pays for its distance"), MSE_COLOR, width="stretch")
    st.write(_("MSE (the original write-up's loss) compares every neuron with its target: neurons that "
               "should be 0 pay for being on, and the true neuron pays for being below 1."))
with c2:
    st.metric(_("Cross-entropy (sum of the terms)"), formats.num(cross_entropy(a, y)))
    show(st, charts.loss_terms_chart, pd.DataFrame({"neuron": names, "term": c_terms}),
         _("Cross-entropy: only the true neuron's term is not 0"), CE_COLOR, width="stretch")
    st.write(_("Cross-entropy multiplies by y, so only the true neuron {label} counts: −log(a) is 0 when "
               "it outputs 1 and grows without limit as it nears 0. With softmax outputs (which add up to 1), "
               "raising the true neuron pushes all the others down too.").format(label=cmp_label))
show_code(mse_terms, mse, cross_entropy_terms, cross_entropy,
          intro=_("The table's last two columns are `mse_terms(a, y)` and `cross_entropy_terms(a, y)`; "
                  "the two losses above add the terms up (and average over the batch, here one image)."))

# ------------------------------------------------------------ 4. why not just "3"?
st.header(_("4 · Why not just use the number {label}?").format(label=cmp_label))
plain = np.full_like(output, cmp_label)
st.write(_("The output is {n} numbers; the plain label is one number. Neuron by neuron, the loss needs "
           "{n} targets, and the plain label does not say which neuron each of them belongs to.").format(n=n))
c1, c2 = st.columns(2, gap="large")
with c1:
    st.markdown(_("**With the plain label `{label}`**").format(label=cmp_label))
    st.code(f"a     = {vector_text(np.round(output, 2))}\n"
            f"a - {cmp_label} = {vector_text(np.round(output - plain, 2))}", language=None, wrap_lines=True)
    st.write(_("NumPy would not even complain: it silently copies the {label} to every position "
               "(*broadcasting*). The loss would then ask **every** neuron to output {label}, which a "
               "sigmoid or softmax output (always between 0 and 1) can never do. MSE against it: "
               "**{mse}**, and it does not say which neuron should win.").format(
        label=cmp_label, mse=num(mse(a, plain[None, :]), 2)))
with c2:
    st.markdown(_("**With the one-hot label**"))
    st.code(f"a     = {vector_text(np.round(output, 2))}\n"
            f"a - y = {vector_text(np.round(output - cmp_target, 2))}", language=None, wrap_lines=True)
    st.write(_("Each neuron gets its own target: 1 for neuron {label}, 0 for the others. The errors say "
               "exactly which neurons to push up and which down. MSE against it: **{mse}**.").format(
        label=cmp_label, mse=formats.num(mse(a, y))))
