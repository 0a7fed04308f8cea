"""Our class: the digits the class drew (a shared set in the class store), how the models read
them next to MNIST, and the class leaderboard."""
import numpy as np
import pandas as pd
import streamlit as st

from classroom.store import StoreUnavailable
from engine import metrics
from ui import charts, class_set, model_picker, pages, pictures, state
from ui.chart_cache import show
from ui.formats import PRETRAINED_LABEL

st.title(pages.title("class"))
st.write("Every digit the class added on the Draw page, shared by everyone on this server. MNIST's digits were "
         "written in the 1990s by American students and office workers: does a network trained on them read "
         "*our* handwriting as well? Add yours on the Draw page (**Add to our class set**).")

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
c[0].metric("Digits drawn", f"{len(y):,}")
c[1].metric("Nicknames", f"{sum(1 for n, _ in by_student if n):,}")
c[2].metric("Added by you", f"{s.session_count(class_set.session_id()):,}")
if not len(y):
    st.info("No digits yet. Draw one on the Draw page and press **Add to our class set**.")
    pages.page_link("draw", label="Go to Draw")
else:
    left, right = st.columns([2, 1])
    show(left, charts.class_bar_chart, np.bincount(y, minlength=10), "Digits of each kind in our class set")
    right.dataframe(pd.DataFrame(by_student, columns=["nickname", "digits"]).replace({"nickname": {"": "(none)"}}),
                    hide_index=True, width="stretch", height=min(260, 35 * len(by_student) + 38))

    # -------------------------------------------------------------- gallery
    st.header("Gallery")
    digit = st.segmented_control("Digit", list(range(10)), default=int(np.bincount(y, minlength=10).argmax()),
                                 key="class_gallery_digit", help="Show the drawings of one digit, newest first.")
    if digit is not None:
        shown = s.drawings(label=digit, limit=40)
        if shown:
            st.image([bytes(d["png"]) for d in shown], width=72, caption=[f"#{d['id']}" for d in shown],
                     alt=[f"A {digit} drawn by {d['nickname'] or 'a student'} (drawing {d['id']})" for d in shown])
            st.caption(f"The {len(shown)} newest {digit}s as they were drawn; the number under each is the drawing's "
                       f"number.")
        else:
            st.caption(f"No {digit}s yet.")

    # -------------------------------------------------------------- models on our digits
    st.header("How well do the models read our digits?")
    data = state.dataset()
    models = [(PRETRAINED_LABEL, state.pretrained_model()[0]), ("the built-in CNN", state.pretrained_cnn()[0])]
    own = state.user_model()[0]
    if own is not None:
        models.append(("your model", own))
    ours = class_set.accuracies(models, x, y)
    mnist = class_set.mnist_accuracies(models, data)
    st.dataframe(pd.DataFrame({
        "model": [m[0] for m in models],
        f"MNIST test ({len(data.y_test):,} digits)": [100 * a for a in mnist],
        f"our class set ({len(y):,} digits)": [100 * a[1] for a in ours],
    }), hide_index=True, column_config={c: st.column_config.NumberColumn(format="%.1f%%")
                                        for c in (f"MNIST test ({len(data.y_test):,} digits)",
                                                  f"our class set ({len(y):,} digits)")})
    st.caption("A test set only tells the truth about digits like its own. If the class set's accuracy is lower, "
               "our handwriting differs from MNIST's: train with more varied digits (augmentation) and compare.")

    net, name = model_picker.pick_model("class_use_mine")
    predicted = next((a[2] for (m, n), a in zip(models, ours) if n is net), None)
    if predicted is None:
        predicted = class_set.accuracies([(name, net)], x, y)[0][2]
    st.markdown(f"Where {name} goes wrong on our digits:")
    a, b = st.columns([1, 1])
    show(a, charts.confusion_chart, metrics.confusion_matrix(y, predicted), size=360, name="class_cm")
    wrong = np.flatnonzero(predicted != y)[:30]
    with b:
        if len(wrong):
            st.image([pictures.ink_image(x[i], scale=2) for i in wrong], width=64,
                     caption=[f"{y[i]} → {predicted[i]}" for i in wrong],
                     alt=[f"A {y[i]} (drawing {ids[i]}) that the model read as {predicted[i]}" for i in wrong])
            st.caption("Our digits it reads wrong, as the network sees them (28×28): meant → read.")
        else:
            st.success("It reads every one of our digits right.")

# ------------------------------------------------------------------ leaderboard
st.header("🏆 Leaderboard")
st.write("Runs submitted from the Train and Compare pages, best first. The server measures each accuracy itself "
         "on its test set; the link opens Train with the settings its run started with, so anyone can try to beat it.")
try:
    class_set.leaderboard(s)
    class_set.teacher_controls(s)
except StoreUnavailable as e:
    st.error(str(e))
