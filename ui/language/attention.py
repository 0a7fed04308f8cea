"""The Attention page's parts (app_pages/13_attention.py): the user's sentence as ids the model knows,
and the tables of numbers. The maths is engine/language/inspect.py's (attention), itself the model's
own forward."""
import numpy as np
import pandas as pd
import streamlit as st

from i18n import _, ngettext, num
from ui.language import texts

DEFAULT_SENTENCE = "First Citizen:\nWe are accounted poor citizens."
MAX_TYPED = 500            # characters read from the box; the model then reads at most its context


def sentence_ids(vocab, text, context):
    """(ids, kept characters, sentences to show) for the user's sentence: characters the model has never
    seen are left out (said in one sentence), and only the first `context` known characters are read."""
    notes = []
    text = text[:MAX_TYPED]
    ids = vocab.lookup(text) if text else np.zeros(0, dtype=np.int32)
    unknown = vocab.unknown_counts(text) if text else {}
    if unknown:
        n = len(unknown)
        notes.append(ngettext("The model has never seen {n} of these characters: {chars}; it is left out and the "
                              "rest is read.",
                              "The model has never seen {n} of these characters: {chars}; they are left out and the "
                              "rest is read.", n).format(n=num(n), chars=texts.chars_list(unknown)))
    kept = ids[ids >= 0]
    if len(kept) > context:
        notes.append(_("The model reads at most {context} characters at once: the first {context} of the "
                       "{n} it knows are shown.").format(context=num(context), n=num(len(kept))))
        kept = kept[:context]
    return kept.astype(np.int32), [vocab.chars[i] for i in kept], notes


def position_labels(chars):
    """Axis labels for a sentence's characters: "0 · F", "1 · i", ... (a sentence repeats characters)."""
    return [f"{t} · {texts.char_label(c)}" for t, c in enumerate(chars)]


def numbers_frame(matrix, rows, cols, masked=None):
    """A table of real numbers for st.dataframe; masked (T, T) bool: those cells show −∞ as text
    (scores) — None: every cell is a number."""
    m = np.asarray(matrix, dtype=float)
    if masked is None:
        return pd.DataFrame(m, index=rows, columns=cols)
    cells = np.where(masked, "−∞", np.vectorize(lambda v: num(v, 3))(m)).astype(object)
    return pd.DataFrame(cells, index=rows, columns=cols)


def dims(D):
    return [f"d{i + 1}" for i in range(D)]


def side_by_side(*tables, labels):
    """Tables of (title, matrix (T, D)) in columns, one row per character of the sentence."""
    for col, (title, matrix) in zip(st.columns(len(tables)), tables):
        col.subheader(title)
        col.dataframe(numbers_frame(matrix, labels, dims(matrix.shape[1])), height=240)
