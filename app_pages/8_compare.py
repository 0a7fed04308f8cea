"""Compare runs: every training run of this session, their curves in one chart, side by side."""
import streamlit as st

from i18n import _, as_is, num, pct
from ui import charts, class_set, pages, presenter, run_names, runs, training
from ui.chart_cache import show
from ui.language import compare as lm_compare
from ui.language import runs as lm_runs

st.title(pages.title("compare"))
st.write(_("Every run you trained in this session, finished or not. Pick a few to lay their curves over each "
           "other: the fairest way to see what one setting changes is two runs that differ only in it."))

if st.session_state.get(lm_runs.SESSION_KEY):      # language-model runs too: ui/language/compare.py shows them
    which = st.radio(_("Runs of"), ("digits", "words"), horizontal=True, key="cmp_which",
                     index=0 if st.session_state.get("runs") else 1,
                     format_func={"digits": _("Digits"), "words": _("Language models")}.get)
    if which == "words":
        lm_compare.show_runs()
        st.stop()

records = st.session_state.setdefault("runs", [])
if not records:
    st.info(_("No runs yet. Train a network on the Train page (the **🧪 Guided experiments** there load "
              "ready-made pairs of settings), then come back here."))
    pages.page_link("train", label=_("Go to Train"))
    st.stop()

for r in records:
    r.setdefault("name", run_names.default_name(r))     # a new run: named once, renamed below
by_id = {r["id"]: r for r in records}


def _rename(run_id):
    """The name box changed: keep the new name unless it is empty or another run's."""
    run = by_id.get(run_id)
    if run is None:
        return
    name = st.session_state.get(f"cmp_name_{run_id}", "").strip()
    taken = {r["name"] for r in records if r["id"] != run_id}
    if not name or name in taken:
        st.session_state["cmp_msg"] = (_("That name is empty or already used by another run; the old name is kept.")
                                       if name else _("A run needs a name; the old name is kept."))
        st.session_state[f"cmp_name_{run_id}"] = run["name"]
    else:
        run["name"] = name


def _delete(run_id):
    st.session_state["runs"] = [r for r in st.session_state["runs"] if r["id"] != run_id]
    st.session_state.pop(f"cmp_name_{run_id}", None)
    st.session_state["cmp_msg"] = _("Deleted {name}.").format(name=as_is(by_id[run_id]['name']))


# ------------------------------------------------------------------ the runs
st.header(_("Your runs ({n})").format(n=num(len(records))))
msg = st.session_state.pop("cmp_msg", None)
if msg:
    st.info(msg)
present = presenter.on()
for r in records:
    key = f"cmp_name_{r['id']}"
    if key not in st.session_state:
        st.session_state[key] = r["name"]
    with st.container(border=True):
        c = st.columns([3, 3.4, 2, 1, 1.1] if not present else [3, 3, 2], vertical_alignment="center")
        c[0].text_input(_("Name"), key=key, on_change=_rename, args=(r["id"],), label_visibility="collapsed",
                        help=_("Rename the run (names label the curves below)."))
        c[1].caption(run_names.settings_summary(r["settings"], run_names.marks_of(r)) + f" · {runs.status_text(r)}")
        c[2].markdown(_("**{accuracy}** on the test set  \n{seconds} s of training").format(
            accuracy=pct(r['test_accuracy'], 1), seconds=num(r['train_seconds'], 1)))
        if not present:
            c[3].download_button(_("CSV"), key=f"cmp_csv_{r['id']}", data=training.history_csv([r]),
                                 file_name=f"run_{r['id']}_history.csv", mime="text/csv", on_click="ignore",
                                 width="stretch", help=_("Download this run's history as CSV "
                                                         "(per epoch and per mini-batch)."))
            c[4].button(_("Delete"), key=f"cmp_del_{r['id']}", on_click=_delete, args=(r["id"],), width="stretch",
                        help=_("Remove this run from the list (your model stays)."))

# ------------------------------------------------------------------ pick and overlay
st.header(_("Their curves, in one chart"))
ids = [r["id"] for r in records]
if "cmp_pick" in st.session_state:      # runs deleted since: drop them from the choice
    st.session_state["cmp_pick"] = [i for i in st.session_state["cmp_pick"] if i in by_id and i in ids]
else:
    st.session_state["cmp_pick"] = ids[-4:]
c1, c2 = st.columns([3, 2])
run_names_shown = {i: as_is(by_id[i]["name"]) for i in ids}       # a name is the user's: shown as it is
picked = c1.multiselect(_("Runs to compare"), ids, key="cmp_pick", format_func=run_names_shown.get,
                        placeholder=_("Choose runs"))
curve_words = {c: _(words) for c, words in runs.CURVES.items()}   # (in the run's language, not format_func's)
curve = c2.radio(_("Curve"), list(runs.CURVES), format_func=curve_words.get, key="cmp_curve",
                 help=_("Validation: images held out from training, checked after each epoch. Mini-batch losses "
                        "are placed by epochs done, so runs with different batch sizes line up."))
chosen = [by_id[i] for i in picked]

if not chosen:
    st.info(_("Choose one or more runs above."))
    st.stop()

df, fallback = runs.curve_frame(chosen, curve)
df["run"] = [as_is(n) for n in df["run"]]
if df.empty:
    st.info(_("These runs ended before their first mini-batch. Pick another curve or other runs.")
            if curve == "batch_loss" else
            _("These runs ended before their first epoch. Pick another curve or other runs."))
else:
    title = _(runs.CURVES[curve])
    x_title = _("epochs done") if curve == "batch_loss" else _("epoch")
    y_title = {"val_acc": _("accuracy"), "val_loss": _("loss"), "batch_loss": _("loss")}[curve]
    show(st, charts.compare_chart, df, x_title, y_title, title, percent=curve == "val_acc",
         height=presenter.height(360), points=curve != "batch_loss", big=presenter.on(), key="cmp_chart")
    notes = [_("To save the chart as a picture: hover it and click the download icon at its top right (PNG).")]
    if fallback:
        notes.insert(0, _("No validation images in {runs}: the training numbers are shown.").format(
            runs=", ".join(as_is(n) for n in fallback)))
    if curve != "val_acc" and len({r["settings"]["loss"] for r in chosen}) > 1:
        notes.insert(0, _("⚠️ These runs use different losses (MSE and cross-entropy), whose values are on "
                          "different scales: compare their accuracy instead."))
    st.caption(" ".join(notes))

# ------------------------------------------------------------------ side by side
table = runs.side_by_side(chosen)
runs.show_side_by_side(table, len(chosen), ("cmp_show_same", "cmp_table"))

if not present:
    d1, d2 = st.columns(2)
    d1.download_button(_("Histories of the chosen runs (CSV)"), key="cmp_csv_all", data=training.history_csv(chosen),
                       file_name="runs_history.csv", mime="text/csv", on_click="ignore", icon=":material/download:",
                       help=_("One table: a row per epoch (kind = epoch) and per mini-batch (kind = batch), "
                              "with the run's name in the first column."))
    d2.download_button(_("Settings and results (CSV)"), key="cmp_table_csv",
                       data=table.to_csv(),
                       file_name="runs_side_by_side.csv", mime="text/csv", on_click="ignore",
                       icon=":material/download:")

class_set.submit_run()      # "Submit this run" (your latest model) to the class leaderboard (ui/class_set.py)

with st.expander(_("The classic comparison: the write-up's network vs today's usual choice")):
    st.write(_("The write-up trains sigmoid units with a sigmoid output and mean squared error. Most networks today "
               "use ReLU hidden units and softmax + cross-entropy. On the Train page, open **🧪 Guided experiments → "
               "The write-up's sigmoid + MSE vs ReLU + softmax + cross-entropy**, train both variants (same plain "
               "SGD, learning rate, batch size and epochs), then choose them here with *Validation accuracy per "
               "epoch*. Cross-entropy is far ahead after the first epoch and stays ahead."))
    pages.page_link("train", label=_("Go to Train"))
