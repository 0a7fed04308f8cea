"""The Next character page's parts (app_pages/11_next_character.py): the count table and the
neural bigram trained to it, both cached per text. The maths is engine/language/bigram.py's."""
import numpy as np
import streamlit as st

from engine.language import bigram
from engine.language.models import build_model
from engine.optim import Adam

MAX_TABLE = 65              # characters the heat maps show (tiny Shakespeare's 65 fit); more: the most frequent
MAX_STEPS = 300             # steps the page may ask for: 0.2 s for V = 65, 0.8 s CPU for V = 300 (load 25)
LEARNING_RATE = 1.0         # Adam's; the table of logits is a single layer, a big step is safe
SEED = 0


@st.cache_resource(show_spinner=False, max_entries=16)
def count_table(train_ids, V):
    """N (V, V) of the training part, read-only (shared by every session on the same text)."""
    N = bigram.counts(train_ids, V)
    N.flags.writeable = False
    return N


@st.cache_resource(show_spinner=False, max_entries=32)     # the page shows a spinner (in its language)
def trained_network(N, steps):
    """The neural Bigram after `steps` full-batch steps of Adam from the same start (seed SEED):
    (losses before each step and after the last, its probabilities (V, V))."""
    V = len(N)
    model = build_model({"kind": "bigram", "vocab": V}, seed=SEED)
    optimizer = Adam(lr=LEARNING_RATE)
    losses = bigram.fit(model, N, steps, optimizer)
    losses.append(bigram.text_loss_and_gradients(model, N)[0])
    Q = bigram.network_probabilities(model)
    Q.flags.writeable = False
    return losses, Q


def shown_ids(counts):
    """The ids the heat maps show: all of them, or the MAX_TABLE most frequent in id order."""
    if len(counts) <= MAX_TABLE:
        return np.arange(len(counts))
    return np.sort(np.argsort(-counts, kind="stable")[:MAX_TABLE])
