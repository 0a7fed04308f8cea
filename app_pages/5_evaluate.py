"""Evaluate: how good is the model on test images it never trained on, and where does it go wrong?"""
import numpy as np
import pandas as pd
import streamlit as st

from engine import metrics
from ui import a11y, charts, explain, formats, linework, model_picker, pages, pictures, state
from ui.chart_cache import show

st.title(pages.title("evaluate"))
data = state.dataset()
explain.warm_up(data)      # the nearest-images panel's slow part starts now, in the background

net, name = model_picker.pick_model("eval_use_mine")
st.caption(f"Evaluating {name} on the {len(data.x_test):,} test images "
           f"of the {data.source}. The model never saw these during training.")


# ------------------------------------------------------------------ predictions (kept per model + data)
def predictions(net):
    """Outputs, predicted digits and confusion matrix of `net` on the test set. The outputs are computed once
    per model and data (ui/linework.py: on the page when small, else in the line with a progress line)."""
    probs = linework.test_outputs(net, name)
    if probs is None:
        st.stop()             # its progress line is on the page; the page is drawn when they are there
    cache = st.session_state.get("eval_cache")
    if cache is None or cache["probs"] is not probs or cache["net"] is not net:
        y = data.y_test
        predicted = probs.argmax(axis=1)
        cache = {"net": net, "probs": probs, "predicted": predicted,
                 "cm": metrics.confusion_matrix(y, predicted), "accuracy": metrics.accuracy(predicted, y)}
        st.session_state["eval_cache"] = cache
    return cache


p = predictions(net)
cm, y = p["cm"], data.y_test
is_prob = net.loss != "mse"


def sure(i, digit):
    """How sure the model was that test image i is `digit`, as text."""
    return formats.output_text(p["probs"][i, digit], is_prob)


n_wrong = int(len(y) - np.trace(cm))
c1, c2, c3 = st.columns(3)
c1.metric("Test accuracy", f"{p['accuracy']:.2%}", help="Share of test images whose predicted digit is right.")
c2.metric("Right", f"{len(y) - n_wrong:,}")
c3.metric("Wrong", f"{n_wrong:,}")


# ------------------------------------------------------------------ confusion matrix
st.header("Which digits get confused?")
st.write("Each row is the **true** digit, each column the digit the model **predicted**. "
         "The green diagonal is where it was right; every orange cell is a kind of mistake. "
         "Click a cell (or pick it below) to see those images.")


def _pick_from_chart():
    """A click on the heat map picks that cell in the two selectboxes."""
    event = st.session_state.get("eval_cm_chart")
    points = (event or {}).get("selection", {}).get("cm_cell") or []
    if points:
        st.session_state["eval_true"] = int(points[0]["true"])
        st.session_state["eval_pred"] = int(points[0]["predicted"])


if "eval_true" not in st.session_state:
    # Start on the most common mistake.
    off = cm.copy()
    np.fill_diagonal(off, -1)
    t, q = np.unravel_index(int(off.argmax()), off.shape)
    st.session_state["eval_true"], st.session_state["eval_pred"] = int(t), int(q)

left, right = st.columns([3, 2])
with right:
    normalise = st.toggle("Row-normalised (share of each true digit)", key="eval_normalise",
                          help="Off: how many images. On: what fraction of each true digit ended up in each column, "
                               "so digits with more test images don't look worse.")
    s1, s2 = st.columns(2)
    true_d = s1.selectbox("True digit", range(10), key="eval_true")
    pred_d = s2.selectbox("Predicted digit", range(10), key="eval_pred")
with left:
    show(st, charts.confusion_chart, cm, normalise, (true_d, pred_d), key="eval_cm_chart",
         on_select=_pick_from_chart, selection_mode="cm_cell")
    st.caption(f"The counts add up to {int(cm.sum()):,}, the number of test images." if not normalise else
               "Each row adds up to 100%: all the test images of that true digit.")
    cm_table = pd.DataFrame(cm, index=[f"true {d}" for d in range(10)], columns=[f"predicted {d}" for d in range(10)])
    with st.expander("The confusion matrix as a table"):      # an HTML table: what a screen reader can read
        st.table(cm_table)
    st.download_button("Confusion matrix (CSV)", icon=":material/download:", key="eval_cm_csv", on_click="ignore",
                       data=cm_table.to_csv(),
                       file_name="confusion_matrix.csv", mime="text/csv",
                       help="The counts: one row per true digit, one column per predicted digit.")
with right:
    idx = np.flatnonzero((y == true_d) & (p["predicted"] == pred_d))
    many = f"{len(idx):,} image" + ("" if len(idx) == 1 else "s")
    st.markdown(f"**True {true_d}, predicted {pred_d}**: {many}"
                + (" the model got right." if true_d == pred_d else ", all mistakes."))
    if len(idx):
        # Most confident first.
        order = idx[np.argsort(-p["probs"][idx, pred_d], kind="stable")][:24]
        st.image([pictures.ink_image(data.x_test[i], scale=3) for i in order],
                 caption=[sure(i, pred_d) for i in order], width=64,
                 alt=a11y.digits_alt("test", order, y, [f"predicted {pred_d}, {sure(i, pred_d)}" for i in order]))
        shown = f"the {len(order)} it was surest about" if len(idx) > len(order) else "most confident first"
        st.caption(f"Under each image: how sure the model was that it is a {pred_d} ({shown}).")

# ------------------------------------------------------------------ per-class scores
st.header("Scores for each digit")
scores = metrics.per_class_scores(cm)
table = pd.DataFrame({"digit": [str(d) for d in range(10)], "precision": scores["precision"],
                      "recall": scores["recall"], "F1": scores["f1"], "test images": scores["support"]})
st.dataframe(table, hide_index=True, key="eval_scores", column_config={
    "precision": st.column_config.NumberColumn(
        "precision", format="percent", help="Of the images predicted as this digit, the share that really are."),
    "recall": st.column_config.NumberColumn(
        "recall", format="percent", help="Of the images of this digit, the share the model found."),
    "F1": st.column_config.NumberColumn(
        "F1", format="percent", help="Precision and recall combined (their harmonic mean)."),
})
worst = int(np.argmin(scores["f1"]))
st.caption(f"Hardest digit for this model: **{worst}** (F1 {scores['f1'][worst]:.1%}).")
st.caption("Precision: when it says 7, how often is it a 7? Recall: of all the 7s, how many did it catch?")

# ------------------------------------------------------------------ confident mistakes
st.header("Its most confident mistakes")
if n_wrong == 0:
    st.success("No mistakes at all on the test set!")
else:
    wrong = metrics.confident_mistakes(p["probs"], y, n=20)
    st.write("Wrong answers the model was surest about. Some are sloppy handwriting, "
             "some even a person would get wrong, and some are real blind spots.")
    st.image([pictures.ink_image(data.x_test[i], scale=3) for i in wrong],
             caption=[f"true {y[i]}, said {p['predicted'][i]} ({sure(i, p['predicted'][i])})"
                      for i in wrong], width=84,
             alt=a11y.digits_alt("test", wrong, y, [f"predicted {p['predicted'][i]}" for i in wrong]))
    pick = st.selectbox("Look closer at one mistake", [int(i) for i in wrong], key="eval_mistake",
                        format_func=lambda i: f"test image {i}: true {y[i]}, predicted {p['predicted'][i]}")
    a, b = st.columns([1, 3])
    a.image(pictures.ink_image(data.x_test[pick], scale=5), caption=f"test image {pick}",
            alt=a11y.digit_alt("test", pick, y[pick], f"predicted {p['predicted'][pick]}"))
    show(b, charts.probability_chart, p["probs"][pick], is_prob, height=220,
         title=f"What the model thought of test image {pick}", width="stretch")
    if not is_prob:
        st.caption("This model ends in sigmoids (MSE loss), so its ten outputs are scores between 0 and 1 "
                   "that need not add up to 1.")
    explain.panels(net, data.test_float()[pick], "eval", data)
