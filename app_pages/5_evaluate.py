"""Evaluate: how good is the model on test images it never trained on, and where does it go wrong?"""
import numpy as np
import pandas as pd
import streamlit as st

from engine import metrics
from i18n import _, ngettext, num, pct
from ui import a11y, charts, explain, formats, linework, model_picker, pages, pictures, state
from ui.chart_cache import show

st.title(pages.title("evaluate"))
data = state.dataset()
explain.warm_up(data)      # the nearest-images panel's slow part starts now, in the background

net, name = model_picker.pick_model("eval_use_mine")
st.caption(_("Evaluating {name} on the {n} test images of the {source}. The model never saw these during "
             "training.").format(name=name, n=num(len(data.x_test)), source=formats.source_text(data.source)))


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
c1.metric(_("Test accuracy"), pct(p['accuracy'], 2), help=_("Share of test images whose predicted digit is right."))
c2.metric(_("Right"), num(len(y) - n_wrong))
c3.metric(_("Wrong"), num(n_wrong))


# ------------------------------------------------------------------ confusion matrix
st.header(_("Which digits get confused?"))
st.write(_("Each row is the **true** digit, each column the digit the model **predicted**. "
           "The green diagonal is where it was right; every orange cell is a kind of mistake. "
           "Click a cell (or pick it below) to see those images."))


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
    normalise = st.toggle(_("Row-normalised (share of each true digit)"), key="eval_normalise",
                          help=_("Off: how many images. On: what fraction of each true digit ended up in each "
                                 "column, so digits with more test images don't look worse."))
    s1, s2 = st.columns(2)
    true_d = s1.selectbox(_("True digit"), range(10), key="eval_true")
    pred_d = s2.selectbox(_("Predicted digit"), range(10), key="eval_pred")
with left:
    show(st, charts.confusion_chart, cm, normalise, (true_d, pred_d), key="eval_cm_chart",
         on_select=_pick_from_chart, selection_mode="cm_cell")
    st.caption(_("The counts add up to {n}, the number of test images.").format(n=num(int(cm.sum())))
               if not normalise else _("Each row adds up to 100%: all the test images of that true digit."))
    cm_table = pd.DataFrame(cm, index=[_("true {d}").format(d=d) for d in range(10)],
                            columns=[_("predicted {d}").format(d=d) for d in range(10)])
    with st.expander(_("The confusion matrix as a table")):      # an HTML table: what a screen reader can read
        st.table(cm_table)
    st.download_button(_("Confusion matrix (CSV)"), icon=":material/download:", key="eval_cm_csv", on_click="ignore",
                       data=cm_table.to_csv(),
                       file_name="confusion_matrix.csv", mime="text/csv",
                       help=_("The counts: one row per true digit, one column per predicted digit."))
with right:
    idx = np.flatnonzero((y == true_d) & (p["predicted"] == pred_d))
    many = ngettext("{n} image", "{n} images", len(idx)).format(n=num(len(idx)))
    st.markdown((_("**True {t}, predicted {p}**: {many} the model got right.") if true_d == pred_d else
                 _("**True {t}, predicted {p}**: {many}, all mistakes.")).format(t=true_d, p=pred_d, many=many))
    if len(idx):
        # Most confident first.
        order = idx[np.argsort(-p["probs"][idx, pred_d], kind="stable")][:24]
        st.image([pictures.ink_image(data.x_test[i], scale=3) for i in order],
                 caption=[sure(i, pred_d) for i in order], width=64,
                 alt=a11y.digits_alt("test", order, y, [_("predicted {d}, {sure}").format(d=pred_d, sure=sure(i, pred_d))
                                                        for i in order]))
        st.caption((_("Under each image: how sure the model was that it is a {d} (the {n} it was surest about).")
                    if len(idx) > len(order) else
                    _("Under each image: how sure the model was that it is a {d} (most confident first)."))
                   .format(d=pred_d, n=len(order)))

# ------------------------------------------------------------------ per-class scores
st.header(_("Scores for each digit"))
scores = metrics.per_class_scores(cm)
precision, recall, f1 = _("precision"), _("recall"), _("F1")
table = pd.DataFrame({_("digit"): [str(d) for d in range(10)], precision: scores["precision"],
                      recall: scores["recall"], f1: scores["f1"], _("test images"): scores["support"]})
st.dataframe(table, hide_index=True, key="eval_scores", column_config={
    precision: st.column_config.NumberColumn(
        precision, format="percent", help=_("Of the images predicted as this digit, the share that really are.")),
    recall: st.column_config.NumberColumn(
        recall, format="percent", help=_("Of the images of this digit, the share the model found.")),
    f1: st.column_config.NumberColumn(
        f1, format="percent", help=_("Precision and recall combined (their harmonic mean).")),
})
worst = int(np.argmin(scores["f1"]))
st.caption(_("Hardest digit for this model: **{d}** (F1 {f1}).").format(d=worst, f1=pct(scores['f1'][worst], 1)))
st.caption(_("Precision: when it says 7, how often is it a 7? Recall: of all the 7s, how many did it catch?"))

# ------------------------------------------------------------------ confident mistakes
st.header(_("Its most confident mistakes"))
if n_wrong == 0:
    st.success(_("No mistakes at all on the test set!"))
else:
    wrong = metrics.confident_mistakes(p["probs"], y, n=20)
    st.write(_("Wrong answers the model was surest about. Some are sloppy handwriting, "
               "some even a person would get wrong, and some are real blind spots."))
    st.image([pictures.ink_image(data.x_test[i], scale=3) for i in wrong],
             caption=[_("true {t}, said {p} ({sure})").format(t=y[i], p=p['predicted'][i],
                                                              sure=sure(i, p['predicted'][i]))
                      for i in wrong], width=84,
             alt=a11y.digits_alt("test", wrong, y, [_("predicted {d}").format(d=p['predicted'][i]) for i in wrong]))
    # Labels worked out here, in the run's language (AppTest calls format_func outside the script run).
    mistake_words = {int(i): _("test image {i}: true {t}, predicted {p}").format(i=i, t=y[i], p=p['predicted'][i])
                     for i in wrong}
    pick = st.selectbox(_("Look closer at one mistake"), [int(i) for i in wrong], key="eval_mistake",
                        format_func=mistake_words.get)
    a, b = st.columns([1, 3])
    a.image(pictures.ink_image(data.x_test[pick], scale=5), caption=_("test image {i}").format(i=pick),
            alt=a11y.digit_alt("test", pick, y[pick], _("predicted {d}").format(d=p['predicted'][pick])))
    show(b, charts.probability_chart, p["probs"][pick], is_prob, height=220,
         title=_("What the model thought of test image {i}").format(i=pick), width="stretch")
    if not is_prob:
        st.caption(_("This model ends in sigmoids (MSE loss), so its ten outputs are scores between 0 and 1 "
                     "that need not add up to 1."))
    explain.panels(net, data.test_float()[pick], "eval", data)
