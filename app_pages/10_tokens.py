"""Tokens: text becomes characters, characters become numbers, numbers become one-hot vectors,
and one-hot times a matrix is a row lookup: the embedding. Then how real language models cut
text into tokens: a byte-pair-encoding trainer, merge by merge."""
import numpy as np
import pandas as pd
import streamlit as st

from engine.language import bpe
from engine.language.layers import Embedding
from engine.language.text import Vocabulary
from engine.network import one_hot
from ui import pages, presenter
from ui.chart_cache import show
from ui.code import show_code
from ui.language import charts, texts, tokens

ONE_HOT_ROWS = 12           # characters of the typed text drawn as one-hot vectors
TABLE_ROWS = 7              # rows of the embedding matrix shown, round the one picked
DEFAULT_TEXT = {"names": "emma", "shakespeare": "To be, or not to be"}

st.title(pages.title("tokens"))
st.write("A network reads numbers, not letters. For digits the numbers were the pixels; for text each "
         "character gets a number, its **id**, and from the id the network reads a vector of numbers it "
         "learns: the character's **embedding**. This page follows one text of yours all the way.")

label, p = texts.choose_text()
vocab, V = p.vocab, p.vocab.size

# ------------------------------------------------------------ 1. characters -> ids
st.header("1 · Characters become numbers")
counts = np.bincount(p.train_ids, minlength=V)
st.write(f"The training part of {label} ({len(p.train):,} characters) has **{V}** different characters. "
         f"Sorted, each gets a number from 0 to {V - 1}: that list is the model's **vocabulary**.")
st.markdown(texts.chips([(texts.char_label(c), str(i), f"id {i}: {counts[i]:,} times in the training part")
                         for i, c in enumerate(vocab.chars)]), unsafe_allow_html=True)
st.caption("Each box: the character (␣ is a space, ↵ a line break) over its id. Point at a box for how often "
           "it occurs.")

choice = st.session_state.get(texts.CHOICE, "names")
default = DEFAULT_TEXT.get(choice) or p.train[:20]
if st.session_state.get("tk_for") != choice:             # a new text: start from its own example
    st.session_state["tk_typed"], st.session_state["tk_for"] = default, choice
typed = st.text_input("Type a text", key="tk_typed", max_chars=200,
                      help="Any characters; those the vocabulary does not have are shown and left out.")
ids = vocab.lookup(typed)
unknown = vocab.unknown_counts(typed)
known = ids[ids >= 0]
if unknown:
    n = len(unknown)
    st.warning(f"{n} different character{'s' * (n > 1)} of your text {'are' if n > 1 else 'is'} not in the "
               f"vocabulary of {label}: {texts.chars_list(unknown)}. A model trained on it has never seen "
               f"{'them' if n > 1 else 'it'} and has no id for {'them' if n > 1 else 'it'}, so "
               f"{'they are' if n > 1 else 'it is'} left out below.")
if not len(known):
    st.info("Type a text with at least one character of the vocabulary to follow it further.")
    st.stop()
st.markdown(texts.chips([(texts.char_label(c), str(i), f"id {i}") for c, i in
                         zip(vocab.decode(known), known)]), unsafe_allow_html=True)
st.code(f"ids = {known.tolist()}", language="python", wrap_lines=True)
show_code(Vocabulary.lookup, Vocabulary.encode, Vocabulary.decode,
          intro="`lookup` made the ids: one table indexed by each character's Unicode code point, so the whole "
                "1.1 MB of Shakespeare becomes ids in milliseconds, with no Python loop over its characters.")

# ------------------------------------------------------------ 2. ids -> one-hot vectors
st.header("2 · Numbers become one-hot vectors")
shown = known[:ONE_HOT_ROWS]
X = one_hot(shown, V)
rows = [f"{k} · {texts.char_label(c)}" for k, c in enumerate(vocab.decode(shown))]
st.write(f"Each id becomes a vector of V = {V} numbers, all 0 except a 1 at the id: the same **one-hot "
         f"encoding** as the digits' labels. {'The' if len(shown) == len(known) else 'The first'} {len(shown)} "
         f"character{'s' * (len(shown) > 1)} of your text make a "
         f"{len(shown)}×{V} matrix: {X.size:,} numbers, {int(X.sum())} of them 1.")
show(st, charts.one_hot_chart, X, rows, [str(i) for i in range(V)], cell=22 if presenter.on() else 16,
     big=presenter.on())
pages.page_link("one_hot", label="One-hot encoding: why the digits' labels are vectors too")

# ------------------------------------------------------------ 3. one-hot x matrix = row lookup
st.header("3 · One-hot times a matrix picks a row: the embedding")
c1, c2 = st.columns(2, gap="large")
width = c1.slider("Numbers per character (embedding width)", 2, 8, 4, key="tk_width", persist_state="session",
                  help="Real models use hundreds: GPT-2 small gives each token 768 numbers.")
pos = c2.slider("Character of your text", 0, len(shown) - 1, 0, key="tk_pos",
                help="Which of the characters above goes through the matrix.")
layer = tokens.embedding(V, width)
E = layer.W
i = int(shown[pos])
product = X[pos] @ E                             # (V,) one-hot times (V, width)
looked_up = layer.forward(shown[None, pos:pos + 1], keep=False)[0, 0]
same = np.array_equal(product, looked_up)
st.write(f"The embedding is a matrix E of V × width = {V} × {width} numbers, one row per character "
         f"(here random, as the engine's MLP starts its `Embedding`: standard deviation 1; training moves them). "
         f"Character "
         f"{pos} of your text, {texts.quoted(vocab.chars[i])}, is id {i}: its one-hot vector times E "
         f"multiplies every row of E by 0 except row {i}, by 1.")
table = pd.DataFrame(E, columns=[f"e{k}" for k in range(width)])
table.insert(0, "character", [texts.char_label(c) for c in vocab.chars])
table.index.name = "id"
lo, hi = max(0, i - TABLE_ROWS // 2), min(V, max(0, i - TABLE_ROWS // 2) + TABLE_ROWS)
st.dataframe(table.iloc[lo:hi].style.format({f"e{k}": "{:.4f}" for k in range(width)})
             .apply(lambda r: ["background-color: #fde7c8; color: #111" if r.name == i else "" for _ in r], axis=1),
             width="stretch")
st.caption(f"Rows {lo} to {hi - 1} of E's {V}; row {i}, the one the one-hot vector picks, is coloured.")
c1, c2 = st.columns(1 if presenter.on() else 2, gap="large") * (2 if presenter.on() else 1)
c1.code(f"one_hot({i}) @ E =\n{np.array2string(product, precision=4, floatmode='fixed')}", language=None,
        wrap_lines=True)
c2.code(f"E[{i}] (the row lookup) =\n{np.array2string(looked_up, precision=4, floatmode='fixed')}",
        language=None, wrap_lines=True)
zeros = V * width - width
st.write(f"{'The same' if same else 'Not the same'} {width} numbers{', exactly' if same else ''}. The product "
         f"does V × width = {V * width:,} multiplications, {zeros:,} of them by 0, then adds them up; the "
         f"lookup copies one row of {width} numbers. That is why a language model stores its embedding as a "
         "table and looks rows up (the engine's `Embedding` does), and never builds the one-hot vectors.")
show_code(Embedding.forward, one_hot,
          intro="`Embedding.forward` is the lookup `W[ids]`; `one_hot` made the vectors of section 2.")

# ------------------------------------------------------------ 4. BPE
st.header("4 · How real language models cut text into tokens")
sample = tokens.sample_of(p.train)
tok = tokens.trained_bpe(sample)
n_merges = len(tok.merges)
st.write("Our models read one character at a time. GPT-2 reads **tokens**: 50,257 of them, pieces of "
         "words learned from text by **byte-pair encoding** (BPE). Start from the text's bytes (256 possible "
         "ids: every text fits), find the pair of neighbours that occurs most often, make it one new token, "
         f"and repeat. Here a BPE trainer written from scratch has made {n_merges} merges on the first "
         f"{tok.lengths[0]:,} bytes of the training part of {label}.")
if n_merges == 0:
    st.info("This text has no pair of neighbouring bytes that occurs twice: there is nothing to merge.")
    st.stop()
st.session_state.setdefault("tk_merges", min(20, n_merges))
st.session_state["tk_merges"] = min(int(st.session_state["tk_merges"]), n_merges)
k = st.slider("Merges", 0, n_merges, key="tk_merges", help="The tokenizer after this many merges.")
now = tok.first(k)
vocab_bytes = tok.token_bytes()
c1, c2, c3 = st.columns(3)
c1.metric("Tokens in the vocabulary", f"{now.size:,}", help="256 bytes + one per merge.")
c2.metric("Tokens in the sample", f"{tok.lengths[k]:,}",
          help=f"The training sample of {tok.lengths[0]:,} bytes, cut with these merges.")
c3.metric("Bytes per token", f"{tok.lengths[0] / tok.lengths[k]:.2f}")
typed_ids = now.encode(typed)
st.markdown(f"**Your text** ({len(typed.encode('utf-8', 'surrogatepass')):,} bytes) in {len(typed_ids)} tokens "
            f"after {k} merges:")
st.markdown(texts.chips([(bpe.token_text(vocab_bytes[t]), str(t), f"token {t}") for t in typed_ids]),
            unsafe_allow_html=True)
unseen = tokens.sample_of(p.val, 120)
unseen_ids = now.encode(unseen)
st.markdown(f"**The start of the validation part** (text the trainer never saw, "
            f"{len(unseen.encode('utf-8', 'surrogatepass')):,} bytes) in {len(unseen_ids)} tokens:")
st.markdown(texts.chips([(bpe.token_text(vocab_bytes[t]), str(t), f"token {t}") for t in unseen_ids]),
            unsafe_allow_html=True)
c1, c2 = st.columns([1, 1], gap="large")
show(c1, charts.merges_chart, tok.lengths, k, big=presenter.on())
if k:
    merges = pd.DataFrame({
        "merge": np.arange(1, k + 1), "new token": 256 + np.arange(k),
        "pair": [f"{bpe.token_text(vocab_bytes[a])} + {bpe.token_text(vocab_bytes[b])}" for a, b in now.merges],
        "becomes": [bpe.token_text(vocab_bytes[256 + j]) for j in range(k)],
        "times": now.counts})
    c2.dataframe(merges.iloc[::-1], hide_index=True, height=260, width="stretch")
    c2.caption(f"The {k} merges, the last first; *times*: how often the pair occurred when it was merged.")
st.write("GPT-2's tokenizer is this algorithm with 50,000 merges (its 50,257 tokens: 256 bytes, 50,000 merges "
         "and one end-of-text mark), and one more rule: it first cuts the text into words, numbers and "
         "punctuation, each word with the space before it, and never merges across those cuts.")
show_code(bpe.most_frequent_pair, bpe.merge, bpe.train,
          intro="The trainer of `engine/language/bpe.py`: each merge counts every pair of neighbours at once "
                "(`np.bincount`) and replaces the winner everywhere in one pass.")
st.write("Next: count which character follows which, and let a network learn the same.")
pages.page_link("next_character")
