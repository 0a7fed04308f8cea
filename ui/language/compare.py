"""Compare runs, for language models: the session's ended language-model runs (ui/language/runs.py
records), their loss curves step by step in one chart and their settings side by side. Drawn by the
Compare runs page (app_pages/8_compare.py) when "Language models" is chosen there, in that page's style."""
import streamlit as st

from i18n import _, as_is, num
from ui import charts, pages, presenter
from ui import runs as digits_runs
from ui.chart_cache import show
from ui.language import runs


def _delete(run_id):
    gone = [r["name"] for r in st.session_state.get(runs.SESSION_KEY, []) if r["id"] == run_id]
    st.session_state[runs.SESSION_KEY] = [r for r in st.session_state.get(runs.SESSION_KEY, []) if r["id"] != run_id]
    if gone:
        st.session_state["cmp_lm_msg"] = _("Deleted {name}.").format(name=as_is(gone[0]))


def show_runs():
    """The page's part for language-model runs (the caller has checked there is at least one)."""
    records = st.session_state[runs.SESSION_KEY]
    by_id = {r["id"]: r for r in records}
    present = presenter.on()
    st.header(_("Your language-model runs ({n})").format(n=num(len(records))))
    msg = st.session_state.pop("cmp_lm_msg", None)
    if msg:
        st.info(msg)
    for r in records:
        with st.container(border=True):
            c = st.columns([3, 3.4, 2, 1.1] if not present else [3, 3.4, 2], vertical_alignment="center")
            c[0].markdown(f"**{as_is(r['name'])}**")
            c[1].caption(_("on {text} · {ended}").format(
                text=r["corpus"], ended=_(runs.ENDED.get(r["status"], runs.ENDED["stopped"])).format(
                    step=num(r["steps"]), steps=num(r["settings"]["steps"]))))
            c[2].markdown(_("**{loss}** nats per character on held-out text  \n{s} s of training").format(
                loss=num(r["val_loss"], 4), s=num(r["train_seconds"], 1)))
            if not present:
                c[3].button(_("Delete"), key=f"cmp_lm_del_{r['id']}", on_click=_delete, args=(r["id"],),
                            width="stretch", help=_("Remove this run from the list (your language model stays)."))

    st.header(_("Their curves, in one chart"))
    ids = [r["id"] for r in records]
    if "cmp_lm_pick" in st.session_state:      # runs deleted since: drop them from the choice
        st.session_state["cmp_lm_pick"] = [i for i in st.session_state["cmp_lm_pick"] if i in by_id]
    else:
        st.session_state["cmp_lm_pick"] = ids[-4:]
    c1, c2 = st.columns([3, 2])
    picked = c1.multiselect(_("Runs to compare"), ids, key="cmp_lm_pick",
                            format_func=lambda i: as_is(by_id[i]["name"]), placeholder=_("Choose runs"))
    curve = c2.radio(_("Curve"), list(runs.CURVES), format_func=lambda k: _(runs.CURVES[k]), key="cmp_lm_curve",
                     help=_("Validation: characters held out from training, read at each evaluation. "
                            "Training: the loss of each step's batch (an average of neighbouring steps on long runs)."))
    chosen = [by_id[i] for i in picked]
    if not chosen:
        st.info(_("Choose one or more runs above."))
        return
    df = runs.curve_frame(chosen, curve)
    if df.empty:
        st.info(_("These runs ended before their first evaluation. Pick the training loss or other runs."))
    else:
        show(st, charts.compare_chart, df, _("step"), _("loss (nats per character)"), _(runs.CURVES[curve]),
             height=presenter.height(360), points=curve == "val_loss", big=present, key="cmp_lm_chart")
        notes = [_("Lower is better. Steps line up across runs; a step's batch size is in the table below.")]
        if len({r["corpus"] for r in chosen}) > 1:
            notes.insert(0, _("⚠️ These runs learned different texts, whose losses do not compare: a text's "
                              "characters are easier or harder to guess."))
        st.caption(" ".join(notes))

    digits_runs.show_side_by_side(runs.side_by_side(chosen), len(chosen), ("cmp_lm_same", "cmp_lm_table"),
                                  results=[_(runs.ROW_NAMES[k]) for k in runs.RESULTS])
    pages.page_link("train_language", label=_("Train another language model"))
