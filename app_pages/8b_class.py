"""Our class: the digits the class drew (a shared set in the class store), how the models read
them next to MNIST, and the class leaderboard."""
import numpy as np
import pandas as pd
import streamlit as st

from classroom.store import StoreUnavailable
from engine import metrics
from i18n import _, as_is, num
from ui import charts, class_set, model_picker, pages, pictures, state
from ui.chart_cache import show
from ui.formats import PRETRAINED_LABEL

st.title(pages.title("class"))
st.write(_("Every digit the class added on the Draw page, shared by everyone on this server. MNIST's digits were "
           "written in the 1990s by American students and office workers: does a network trained on them read "
           "*our* handwriting as well? Add yours on the Draw page (**Add to our class set**)."))

s, why = class_set.store()
if s is None:
    st.info(why, icon="ℹ️")
    st.stop()
try:
    x, y, ids = s.class_set()
    by_student = s.counts_by_nickname()
except StoreUnavailable as e:
    st.error(str(e))
    st.stop()

# ------------------------------------------------------------------ counts
c = st.columns(3)
c[0].metric(_("Digits drawn"), num(len(y)))
c[1].metric(_("Nicknames"), num(sum(1 for row in by_student if row[0])))
c[2].metric(_("Added by you"), num(s.session_count(class_set.session_id())))
if not len(y):
    st.info(_("No digits yet. Draw one on the Draw page and press **Add to our class set**."))
    pages.page_link("draw", label=_("Go to Draw"))
else:
    left, right = st.columns([2, 1])
    show(left, charts.class_bar_chart, np.bincount(y, minlength=10), _("Digits of each kind in our class set"))
    right.dataframe(pd.DataFrame(by_student, columns=[_("nickname"), _("digits")]).replace(
                        {_("nickname"): {"": _("(none)")}}),
                    hide_index=True, width="stretch", height=min(260, 35 * len(by_student) + 38))

    # -------------------------------------------------------------- gallery
    st.header(_("Gallery"))
    digit = st.segmented_control(_("Digit"), list(range(10)), default=int(np.bincount(y, minlength=10).argmax()),
                                 key="class_gallery_digit", help=_("Show the drawings of one digit, newest first."))
    if digit is not None:
        shown = s.drawings(label=digit, limit=40)
        if shown:
            st.image([bytes(d["png"]) for d in shown], width=72, caption=[f"#{d['id']}" for d in shown],
                     alt=[(_("A {digit} drawn by {nickname} (drawing {id})").format(
                               digit=digit, nickname=as_is(d['nickname']), id=d['id']) if d['nickname'] else
                           _("A {digit} drawn by a student (drawing {id})").format(digit=digit, id=d['id']))
                          for d in shown])
            st.caption(_("The {n} newest {digit}s as they were drawn; the number under each is the drawing's "
                         "number.").format(n=len(shown), digit=digit))
        else:
            st.caption(_("No {digit}s yet.").format(digit=digit))

    # -------------------------------------------------------------- models on our digits
    st.header(_("How well do the models read our digits?"))
    data = state.dataset()
    models = [(_(PRETRAINED_LABEL), state.pretrained_model()[0]), (_("the built-in CNN"), state.pretrained_cnn()[0])]
    own = state.user_model()[0]
    if own is not None:
        models.append((_("your model"), own))
    ours = class_set.accuracies(models, x, y)
    mnist = class_set.mnist_accuracies(models, data)
    mnist_col = _("MNIST test ({n} digits)").format(n=num(len(data.y_test)))
    ours_col = _("our class set ({n} digits)").format(n=num(len(y)))
    st.dataframe(pd.DataFrame({
        _("model"): [m[0] for m in models],
        mnist_col: [None if a is None else 100 * a for a in mnist],
        ours_col: [None if a[1] is None else 100 * a[1] for a in ours],
    }), hide_index=True, column_config={c: st.column_config.NumberColumn(format="%.1f%%")
                                        for c in (mnist_col, ours_col)})
    st.caption(_("A test set only tells the truth about digits like its own. If the class set's accuracy is lower, "
                 "our handwriting differs from MNIST's: train with more varied digits (augmentation) and compare. "
                 "An empty cell is still being measured (its progress line is above).")
               if None in mnist or any(a[1] is None for a in ours) else
               _("A test set only tells the truth about digits like its own. If the class set's accuracy is lower, "
                 "our handwriting differs from MNIST's: train with more varied digits (augmentation) and compare."))

    net, name = model_picker.pick_model("class_use_mine")
    shown = next((a for (m, n), a in zip(models, ours) if n is net), None)
    predicted = (shown or class_set.accuracies([(name, net)], x, y)[0])[2]
    if predicted is not None:          # (else still being read: the progress lines above)
        st.markdown(_("Where {model} goes wrong on our digits:").format(model=name))
        a, b = st.columns([1, 1])
        show(a, charts.confusion_chart, metrics.confusion_matrix(y, predicted), size=360, name="class_cm")
        wrong = np.flatnonzero(predicted != y)[:30]
        with b:
            if len(wrong):
                st.image([pictures.ink_image(x[i], scale=2) for i in wrong], width=64,
                         caption=[f"{y[i]} → {predicted[i]}" for i in wrong],
                         alt=[_("A {digit} (drawing {id}) that the model read as {read}").format(
                             digit=y[i], id=ids[i], read=predicted[i]) for i in wrong])
                st.caption(_("Our digits it reads wrong, as the network sees them (28×28): meant → read."))
            else:
                st.success(_("It reads every one of our digits right."))

# ------------------------------------------------------------------ leaderboard
st.header(_("🏆 Leaderboard"))
st.write(_("Runs submitted from the Train and Compare pages, best first. The server measures each accuracy itself "
           "on its test set; the link opens Train with the settings its run started with, so anyone can try to "
           "beat it."))
try:
    class_set.leaderboard(s)
    class_set.teacher_controls(s)
except StoreUnavailable as e:
    st.error(str(e))
