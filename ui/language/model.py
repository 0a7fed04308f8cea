"""Which language model the Attention and Inside pages look into: the session's own (the Train a
language model page keeps it in st.session_state["lm_model"] as {"model", "vocab", "settings", "label",
"origin"}) or, for a first-time user, the built-in transformer trained on tiny Shakespeare
(engine/models/pretrained_lm.npz, made by scripts/train_pretrained_language.py).

Each model these pages meet is also noted in the session (SEEN), so the Inside page can put the runs
made side by side: loss against context length and model size.
"""
from pathlib import Path

import streamlit as st

from engine.language.modelfile import load_language_model
from i18n import _

BUILTIN_PATH = Path(__file__).resolve().parents[2] / "engine" / "models" / "pretrained_lm.npz"
SESSION_KEY = "lm_model"          # set by the Train a language model page (ui/language/train.py)
SEEN = "lm_seen_models"           # [{"label", "kind", "context", "weights", "val_loss", "corpus", "builtin"}]


@st.cache_resource(show_spinner=False)
def _builtin():
    model, vocab, settings, _notes = load_language_model(BUILTIN_PATH, name="the built-in model")
    return {"model": model, "vocab": vocab, "settings": settings, "origin": "built-in"}


def builtin():
    """The built-in model as a session entry (shared, read-only by convention: pages only read it), its
    label in this run's language."""
    entry = _builtin()
    return {**entry, "label": _("the built-in {model}, trained on Tiny Shakespeare").format(
        model=entry["model"].describe())}


def current_language_model():
    """The session's language model entry, or the built-in one when the session has none."""
    entry = st.session_state.get(SESSION_KEY)
    entry = entry if entry and entry.get("model") is not None and entry.get("vocab") is not None else builtin()
    note(entry)
    return entry


def train_link():
    """A link to the Train a language model page, once the menu has it (it comes from another branch)."""
    from ui import pages
    if any(p.name == "train_language" for p in pages.PAGES):
        pages.page_link("train_language")


def is_builtin(entry):
    return entry.get("origin") == "built-in"


def reads(model):
    """Characters the model reads to guess the next one: 1 (bigram), k (MLP), its context (transformer)."""
    return 1 if model.kind == "bigram" else int(getattr(model, "k", model.context))


def model_key(entry):
    """A short fingerprint of the model's weights (the same model seen twice is noted once)."""
    first = entry["model"].params()[0]
    return (entry["model"].n_params(), float(first.ravel()[:64].sum()))


def point(entry):
    """What the Inside page plots of a model: its size, context and validation loss (None if unknown)."""
    model, settings = entry["model"], entry.get("settings") or {}
    loss = settings.get("val_loss")
    return {"label": entry["label"], "kind": model.kind, "context": reads(model),
            "weights": int(model.n_params()), "val_loss": None if loss is None else float(loss),
            "corpus": str(settings.get("corpus", _("unknown text"))), "builtin": is_builtin(entry)}


def note(entry):
    """Remember a model this session has had (once per model object; the built-in is always shown)."""
    if is_builtin(entry):
        return
    seen = st.session_state.setdefault(SEEN, {})
    settings = entry.get("settings") or {}
    key = (entry["label"], model_key(entry), settings.get("step"), settings.get("val_loss"))
    if key not in seen:
        seen[key] = point(entry)


def seen_points():
    """The built-in's point, then each of the session's models these pages have met, oldest first."""
    return [point(builtin())] + list(st.session_state.get(SEEN, {}).values())
