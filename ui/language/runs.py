"""The session's language-model runs, kept for the Compare page and "Welcome back" (ui/keep.py).

Each ended run of the Train a language model page (finished, stopped or diverged) becomes a record in
st.session_state["lm_runs"]: plain numbers, lists and text (no model: the session's language model is
kept on its own), so a record is small and the kept archive can write it as it is.

    add(run, result, label)         record an ended run (ui/language/train.finish), numbered after the others
    merged(kept, mine)              restored records (ui/keep.py) and the session's own, numbered apart
    record(run, result, label, id)  the record itself
    curve_frame(records, curve)     one curve per run for charts.compare_chart
    side_by_side(records)           settings and results, a column per run
"""
import pandas as pd
import streamlit as st

from i18n import N_, _, as_is, num

SESSION_KEY = "lm_runs"
CURVES = {"val_loss": N_("Validation loss at each evaluation"), "batch_loss": N_("Training loss of each step")}
RESULTS = ("validation loss", "training time")     # rows never folded away (ui/runs.show_side_by_side)
ENDED = {"finished": N_("finished at step {step} of {steps}"), "stopped": N_("stopped early at step {step} of {steps}"),
         "diverged": N_("diverged at step {step} of {steps}")}


def record(run, result, label, run_id):
    """The record of an ended run: its settings, text, size, curves and results."""
    h = run.history
    return {"id": run_id, "name": _("LM {id}: {model}").format(id=run_id, model=run.model.describe()),
            "settings": run.settings.as_dict(), "corpus": str(label)[:200], "vocab_size": int(run.model.V),
            "n_params": int(run.model.n_params()), "model": run.model.describe(),
            "history": {"batch_step": list(h.batch_step), "batch_loss": [float(v) for v in h.batch_loss],
                        "evals": [{"step": int(e["step"]), "train_loss": float(e["train_loss"]),
                                   "val_loss": float(e["val_loss"]), "seconds": float(e["seconds"])}
                                  for e in h.epochs]},
            "status": result["status"], "val_loss": float(result["val_loss"]), "val_acc": float(result["val_acc"]),
            "steps": int(result["steps"]), "train_seconds": float(result["train_seconds"])}


def add(run, result, label):
    """Append the record of an ended run to the session's lm_runs."""
    records = st.session_state.setdefault(SESSION_KEY, [])
    run_id = max([r["id"] for r in records] + [0]) + 1
    records.append(record(run, result, label, run_id))


def merged(kept, mine):
    """Restored records (ui/keep.py) first, then this session's own; one of these whose number a restored
    record has gets the next free number (and the name that goes with it)."""
    out = [dict(r) for r in kept]
    taken = {r["id"] for r in out}
    for r in mine:
        if r["id"] in taken:
            r = {**r, "id": max(taken) + 1, "name": _("LM {id}: {model}").format(id=max(taken) + 1, model=r["model"])}
        taken.add(r["id"])
        out.append(r)
    return out


def curve_frame(records, curve):
    """(columns run, x = step, value = nats per character) for the runs' `curve` (a key of CURVES). A run's name
    is data (i18n.as_is): it stays in the language it was made in."""
    rows = []
    for r in records:
        h = r["history"]
        if curve == "batch_loss":
            rows += [{"run": as_is(r["name"]), "x": s, "value": v} for s, v in zip(h["batch_step"], h["batch_loss"])]
        else:
            rows += [{"run": as_is(r["name"]), "x": e["step"], "value": e["val_loss"]} for e in h["evals"]]
    return pd.DataFrame(rows, columns=["run", "x", "value"])


def _column(r):
    s = r["settings"]
    kind = s["kind"]
    transformer, mlp = kind == "transformer", kind == "mlp"
    return {
        "validation loss": num(r["val_loss"], 4),
        "training time": _("{s} s").format(s=num(r["train_seconds"], 1)),
        "ended": _(ENDED.get(r["status"], ENDED["stopped"])).format(step=num(r["steps"]), steps=num(s["steps"])),
        "text": r["corpus"],
        "characters in the vocabulary": num(r["vocab_size"]),
        "kind": kind,
        "characters read": num(s["context"]) if (transformer or mlp) else "1",
        "width": num(s["width"]) if transformer else "–",
        "blocks": num(s["blocks"]) if transformer else "–",
        "heads": num(s["heads"]) if transformer else "–",
        "embedding size": num(s["embed"]) if mlp else "–",
        "hidden layer": num(s["hidden"]) if mlp else "–",
        "weights": num(r["n_params"]),
        "learning rate": num(s["lr"]),
        "lowest learning rate": num(s["min_lr"]),
        "warm-up steps": num(s["warmup"]),
        "weight decay": num(s["weight_decay"]),
        "gradient clipping": num(s["grad_clip"]),
        "batch size": num(s["batch_size"]),
        "training windows": num(s["window"] or (s["context"] if transformer else 32)),
        "seed": str(s["seed"]),
    }


ROW_NAMES = {"validation loss": N_("validation loss (nats per character)"), "training time": N_("training time"),
             "ended": N_("ended"), "text": N_("text"),
             "characters in the vocabulary": N_("characters in the vocabulary"),
             "kind": N_("kind of model"), "characters read": N_("characters read"), "width": N_("width"),
             "blocks": N_("blocks"), "heads": N_("heads"), "embedding size": N_("embedding size"),
             "hidden layer": N_("hidden layer"), "weights": N_("weights"), "learning rate": N_("learning rate"),
             "lowest learning rate": N_("lowest learning rate"), "warm-up steps": N_("warm-up steps"),
             "weight decay": N_("weight decay"), "gradient clipping": N_("gradient clipping"),
             "batch size": N_("batch size"), "training windows": N_("training windows (characters)"),
             "seed": N_("seed")}


def side_by_side(records):
    """Settings and results as text, a row per setting (named in this language) and a column per run (named by
    the run's name); ui/runs.show_side_by_side shows it."""
    return pd.DataFrame({r["name"]: _column(r) for r in records}).rename(index=lambda k: _(ROW_NAMES.get(k, k)))
