"""A session's run records shaped for the Compare page: the curves to overlay and the
side-by-side table of settings and results. Records are the dicts ui/training.py
appends to st.session_state["runs"], each with a name (ui/run_names.py)."""
import pandas as pd

from engine.trainer import steering
from i18n import N_, _, as_is, num, pct
from ui import formats, run_names, training
from ui.formats import LOSS_SHORT, ending_text

CURVES = {"val_acc": N_("Validation accuracy per epoch"), "val_loss": N_("Validation loss per epoch"),
          "batch_loss": N_("Training loss of each mini-batch")}
RESULTS = [N_("test accuracy"), N_("test loss"), N_("training time")]     # rows of the table never folded away


def status_text(record):
    """How the run ended, in words."""
    return ending_text(record["status"])


def curve_frame(records, curve):
    """One curve of each run, for charts.compare_chart: (df with columns run, x, value;
    names of the runs without validation images, whose training numbers are shown instead).

    curve: a key of CURVES. Mini-batch losses are placed by epochs done, so runs with
    different batch sizes line up."""
    rows, fallback = [], []
    for r in records:
        h = r["history"]
        if curve == "batch_loss":
            # x = epochs done when the batch ended: batch number × batch size / training images.
            per_epoch = r["n_train"] / r["settings"]["batch_size"]
            for step, loss in zip(h["batch_step"], h["batch_loss"]):
                rows.append({"run": r["name"], "x": step / per_epoch, "value": loss})
        else:
            what = curve.removeprefix("val_")
            for e in h["epochs"]:
                value = e.get(curve)
                if value is None:              # no validation images in this run: its training numbers
                    value = e.get(f"train_{what}")
                    if r["name"] not in fallback:
                        fallback.append(r["name"])
                rows.append({"run": r["name"], "x": e["epoch"], "value": value})
    return pd.DataFrame(rows, columns=["run", "x", "value"]), fallback


def _column(r):
    s, changed = r["settings"], steering(run_names.marks_of(r))
    return {
        _("test accuracy"): pct(r['test_accuracy'], 2),
        _("test loss"): num(r['test_loss'], 4),
        _("training time"): _("{seconds} s").format(seconds=num(r['train_seconds'], 1)),
        _("ended"): (_("{ending} after {epochs} epochs").format(ending=status_text(r), epochs=num(r['epoch_fraction'], 1))
                     if r["status"] != "finished" else status_text(r)),
        _("kind"): "CNN" if s.get("layers") else "MLP",
        _("layers"): training.cnn_words(s["layers"]) if s.get("layers") else "-".join(map(str, s["sizes"])),
        _("weights and biases"): num(r['n_params']),
        _("activation"): s["activation"],
        _("output + loss"): LOSS_SHORT.get(s["loss"], s["loss"]),
        _("optimiser"): s["optimizer"],
        _("learning rate"): run_names.value_text(s, changed, "lr"),
        _("lr decay per epoch"): f"{s['lr_decay']:g}",
        _("momentum"): run_names.value_text(s, changed, "momentum") if s["optimizer"] == "momentum" else "–",
        "L2": run_names.value_text(s, changed, "l2"),
        _("batch size"): run_names.value_text(s, changed, "batch_size", "{:,}"),
        _("epochs"): run_names.value_text(s, changed, "epochs", "{}"),
        _("init scale"): f"{s['init_scale']:g}",
        _("shuffle"): _("yes") if s["shuffle"] else _("no"),
        _("validation share"): pct(s['val_fraction'], 0),
        _("augment"): f"{s['augment']:g}",
        _("seed"): str(s["seed"]),
        _("data"): formats.source_text(r["source"]),
    }


def side_by_side(records):
    """Settings and results as text, a column per run (named by the run's name)."""
    return pd.DataFrame({r["name"]: _column(r) for r in records})


def differences(table, results=None):
    """The rows of a side_by_side table that differ between its runs, and the results (row names; default:
    RESULTS in this language)."""
    same = table.nunique(axis=1) == 1
    return table[~same | table.index.isin([_(row) for row in RESULTS] if results is None else results)]


def show_side_by_side(table, n_runs, keys, results=None):
    """Compare runs' "Side by side" part: the table (the rows that differ, unless the toggle asks for all;
    column names shown as data) and the caption. keys: (the toggle's key, the table's key)."""
    import streamlit as st
    st.header(_("Side by side"))
    shown = table
    if n_runs > 1 and not st.toggle(_("Show settings that are the same in every run"), key=keys[0]):
        shown = differences(table, results)
    st.dataframe(shown.rename(columns=as_is), width="stretch", height="content", key=keys[1])
    if n_runs > 1:
        st.caption(_("Rows that differ between the chosen runs are the experiment; the others are kept the same "
                     "(switch them on above to check)."))
