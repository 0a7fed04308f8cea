"""The Tokens page's parts (app_pages/10_tokens.py): the embedding table it shows and the
byte-pair-encoding trainer, bounded and cached. The maths is engine/language's."""
import numpy as np
import streamlit as st

from engine.language import bpe
from engine.language.layers import Embedding

# The BPE trainer runs on the page: at most BPE_MERGES merges on the first BPE_BYTES bytes of the
# training part. Measured (tests/test_lm_bpe.py, bench figures in docs/language_text.md): about
# 0.7 s on one idle core of this project's machine for tiny Shakespeare.
BPE_BYTES = 200_000
BPE_MERGES = 500
EMBED_SEED = 0


def sample_of(text, n_bytes=BPE_BYTES):
    """The start of text, at most n_bytes of UTF-8 (a character cut in two at the end is dropped)."""
    return text.encode("utf-8", errors="surrogatepass")[:n_bytes].decode("utf-8", errors="ignore")


@st.cache_resource(show_spinner=False, max_entries=8)      # the page shows a spinner (in its language)
def trained_bpe(sample):
    """The BPE tokenizer trained on `sample` (shared by every session that reads the same text)."""
    return bpe.train(sample, BPE_MERGES)


def embedding(V, width):
    """An embedding table (V, width) as engine/language/layers.py's Embedding starts it (seed EMBED_SEED)."""
    return Embedding(V, width, std=1.0, rng=np.random.default_rng(EMBED_SEED))
