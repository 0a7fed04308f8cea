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
from i18n import _, ngettext, num
from ui import pages, presenter
from ui.chart_cache import show
from ui.code import show_code
from ui.language import charts, texts, tokens

ONE_HOT_ROWS = 12           # characters of the typed text drawn as one-hot vectors
TABLE_ROWS = 7              # rows of the embedding matrix shown, round the one picked
DEFAULT_TEXT = {"names": "emma", "shakespeare": "To be, or not to be"}

st.title(pages.title("tokens"))
st.write(_("A network reads numbers, not letters. For digits the numbers were the pixels; for text each "
           "character gets a number, its **id**, and from the id the network reads a vector of numbers it "
           "learns: the character's **embedding**. This page follows one text of yours all the way."))

label, p = texts.choose_text()
vocab, V = p.vocab, p.vocab.size

# ------------------------------------------------------------ 1. characters -> ids
st.header(_("1 · Characters become numbers"))
counts = np.bincount(p.train_ids, minlength=V)
st.write(_("The training part of {label} ({n} characters) has **{V}** different characters. "
           "Sorted, each gets a number from 0 to {last}: that list is the model's **vocabulary**.").format(
    label=label, n=num(len(p.train)), V=num(V), last=V - 1))
st.markdown(texts.chips([(texts.char_label(c), str(i),
                          ngettext("id {i}: {n} time in the training part", "id {i}: {n} times in the training part",
                                   int(counts[i])).format(i=i, n=num(int(counts[i]))))
                         for i, c in enumerate(vocab.chars)]), unsafe_allow_html=True)
st.caption(_("Each box: the character (␣ is a space, ↵ a line break) over its id. Point at a box for how often "
             "it occurs."))

choice = st.session_state.get(texts.CHOICE, "names")
default = DEFAULT_TEXT.get(choice) or p.train[:20]
if st.session_state.get("tk_for") != choice:             # a new text: start from its own example
    st.session_state["tk_typed"], st.session_state["tk_for"] = default, choice
typed = st.text_input(_("Type a text"), key="tk_typed", max_chars=200,
                      help=_("Any characters; those the vocabulary does not have are shown and left out."))
ids = vocab.lookup(typed)
unknown = vocab.unknown_counts(typed)
known = ids[ids >= 0]
if unknown:
    n = len(unknown)
    st.warning(ngettext("{n} different character of your text is not in the vocabulary of {label}: {chars}. A model "
                        "trained on it has never seen it and has no id for it, so it is left out below.",
                        "{n} different characters of your text are not in the vocabulary of {label}: {chars}. A "
                        "model trained on it has never seen them and has no id for them, so they are left out below.",
                        n).format(n=num(n), label=label, chars=texts.chars_list(unknown)))
if not len(known):
    st.info(_("Type a text with at least one character of the vocabulary to follow it further."))
    st.stop()
st.markdown(texts.chips([(texts.char_label(c), str(i), _("id {i}").format(i=i)) for c, i in
                         zip(vocab.decode(known), known)]), unsafe_allow_html=True)
st.code(f"ids = {known.tolist()}", language="python", wrap_lines=True)
show_code(Vocabulary.lookup, Vocabulary.encode, Vocabulary.decode,
          intro=_("`lookup` made the ids: one table indexed by each character's Unicode code point, so the whole "
                  "1.1 MB of Shakespeare becomes ids in milliseconds, with no Python loop over its characters."))

# ------------------------------------------------------------ 2. ids -> one-hot vectors
st.header(_("2 · Numbers become one-hot vectors"))
shown = known[:ONE_HOT_ROWS]
X = one_hot(shown, V)
rows = [f"{k} · {texts.char_label(c)}" for k, c in enumerate(vocab.decode(shown))]
st.write(" ".join([
    _("Each id becomes a vector of V = {V} numbers, all 0 except a 1 at the id: the same **one-hot encoding** as "
      "the digits' labels.").format(V=num(V)),
    (ngettext("The {n} character of your text makes a {n}×{V} matrix: {size} numbers, {ones} of them 1.",
              "The {n} characters of your text make a {n}×{V} matrix: {size} numbers, {ones} of them 1.",
              len(shown)) if len(shown) == len(known) else
     ngettext("The first {n} character of your text makes a {n}×{V} matrix: {size} numbers, {ones} of them 1.",
              "The first {n} characters of your text make a {n}×{V} matrix: {size} numbers, {ones} of them 1.",
              len(shown))).format(n=len(shown), V=V, size=num(X.size), ones=num(int(X.sum())))]))
show(st, charts.one_hot_chart, X, rows, [str(i) for i in range(V)], cell=22 if presenter.on() else 16,
     big=presenter.on())
pages.page_link("one_hot", label=_("One-hot encoding: why the digits' labels are vectors too"))

# ------------------------------------------------------------ 3. one-hot x matrix = row lookup
st.header(_("3 · One-hot times a matrix picks a row: the embedding"))
c1, c2 = st.columns(2, gap="large")
width = c1.slider(_("Numbers per character (embedding width)"), 2, 8, 4, key="tk_width", persist_state="session",
                  help=_("Real models use hundreds: GPT-2 small gives each token 768 numbers."))
pos = c2.slider(_("Character of your text"), 0, len(shown) - 1, 0, key="tk_pos",
                help=_("Which of the characters above goes through the matrix."))
layer = tokens.embedding(V, width)
E = layer.W
i = int(shown[pos])
product = X[pos] @ E                             # (V,) one-hot times (V, width)
looked_up = layer.forward(shown[None, pos:pos + 1], keep=False)[0, 0]
same = np.array_equal(product, looked_up)
st.write(_("The embedding is a matrix E of V × width = {V} × {width} numbers, one row per character "
           "(here random, as the engine's MLP starts its `Embedding`: standard deviation 1; training moves them). "
           "Character {pos} of your text, {char}, is id {i}: its one-hot vector times E "
           "multiplies every row of E by 0 except row {i}, by 1.").format(
    V=V, width=width, pos=pos, char=texts.quoted(vocab.chars[i]), i=i))
table = pd.DataFrame(E, columns=[f"e{k}" for k in range(width)])
table.insert(0, _("character"), [texts.char_label(c) for c in vocab.chars])
table.index.name = "id"
lo, hi = max(0, i - TABLE_ROWS // 2), min(V, max(0, i - TABLE_ROWS // 2) + TABLE_ROWS)
st.dataframe(table.iloc[lo:hi].style.format({f"e{k}": lambda v: num(v, 4) for k in range(width)})
             .apply(lambda r: ["background-color: #fde7c8; color: #111" if r.name == i else "" for _ in r], axis=1),
             width="stretch")
st.caption(_("Rows {lo} to {hi} of E's {V}; row {i}, the one the one-hot vector picks, is coloured.").format(
    lo=lo, hi=hi - 1, V=V, i=i))
c1, c2 = st.columns(1 if presenter.on() else 2, gap="large") * (2 if presenter.on() else 1)
c1.code(f"one_hot({i}) @ E =\n{np.array2string(product, precision=4, floatmode='fixed')}", language=None,
        wrap_lines=True)
c2.code(f"E[{i}] (the row lookup) =\n{np.array2string(looked_up, precision=4, floatmode='fixed')}",
        language=None, wrap_lines=True)
zeros = V * width - width
st.write((_("The same {width} numbers, exactly.") if same else _("Not the same {width} numbers.")).format(width=width)
         + " " + _("The product does V × width = {products} multiplications, {zeros} of them by 0, then adds them "
                   "up; the lookup copies one row of {width} numbers. That is why a language model stores its "
                   "embedding as a table and looks rows up (the engine's `Embedding` does), and never builds the "
                   "one-hot vectors.").format(products=num(V * width), zeros=num(zeros), width=width))
show_code(Embedding.forward, one_hot,
          intro=_("`Embedding.forward` is the lookup `W[ids]`; `one_hot` made the vectors of section 2."))

# ------------------------------------------------------------ 4. BPE
st.header(_("4 · How real language models cut text into tokens"))
sample = tokens.sample_of(p.train)
with st.spinner(_("Training the byte-pair encoder…")):
    tok = tokens.trained_bpe(sample)
n_merges = len(tok.merges)
st.write(_("Our models read one character at a time. GPT-2 reads **tokens**: {gpt2} of them, pieces of "
           "words learned from text by **byte-pair encoding** (BPE). Start from the text's bytes (256 possible "
           "ids: every text fits), find the pair of neighbours that occurs most often, make it one new token, "
           "and repeat. Here a BPE trainer written from scratch has made {merges} merges on the first "
           "{bytes} bytes of the training part of {label}.").format(
    gpt2=num(50257), merges=num(n_merges), bytes=num(tok.lengths[0]), label=label))
if n_merges == 0:
    st.info(_("This text has no pair of neighbouring bytes that occurs twice: there is nothing to merge."))
    st.stop()
st.session_state.setdefault("tk_merges", min(20, n_merges))
st.session_state["tk_merges"] = min(int(st.session_state["tk_merges"]), n_merges)
k = st.slider(_("Merges"), 0, n_merges, key="tk_merges", help=_("The tokenizer after this many merges."))
now = tok.first(k)
vocab_bytes = tok.token_bytes()
c1, c2, c3 = st.columns(3)
c1.metric(_("Tokens in the vocabulary"), num(now.size), help=_("256 bytes + one per merge."))
c2.metric(_("Tokens in the sample"), num(tok.lengths[k]),
          help=_("The training sample of {n} bytes, cut with these merges.").format(n=num(tok.lengths[0])))
c3.metric(_("Bytes per token"), num(tok.lengths[0] / tok.lengths[k], 2))
typed_ids = now.encode(typed)
st.markdown(_("**Your text** ({bytes} bytes) in {n} tokens after {k} merges:").format(
    bytes=num(len(typed.encode('utf-8', 'surrogatepass'))), n=num(len(typed_ids)), k=num(k)))
st.markdown(texts.chips([(bpe.token_text(vocab_bytes[t]), str(t), _("token {t}").format(t=t)) for t in typed_ids]),
            unsafe_allow_html=True)
unseen = tokens.sample_of(p.val, 120)
unseen_ids = now.encode(unseen)
st.markdown(_("**The start of the validation part** (text the trainer never saw, {bytes} bytes) in {n} "
              "tokens:").format(bytes=num(len(unseen.encode('utf-8', 'surrogatepass'))), n=num(len(unseen_ids))))
st.markdown(texts.chips([(bpe.token_text(vocab_bytes[t]), str(t), _("token {t}").format(t=t)) for t in unseen_ids]),
            unsafe_allow_html=True)
c1, c2 = st.columns([1, 1], gap="large")
show(c1, charts.merges_chart, tok.lengths, k, big=presenter.on())
if k:
    merges = pd.DataFrame({
        _("merge"): np.arange(1, k + 1), _("new token"): 256 + np.arange(k),
        _("pair"): [f"{bpe.token_text(vocab_bytes[a])} + {bpe.token_text(vocab_bytes[b])}" for a, b in now.merges],
        _("becomes"): [bpe.token_text(vocab_bytes[256 + j]) for j in range(k)],
        _("times"): now.counts})
    c2.dataframe(merges.iloc[::-1], hide_index=True, height=260, width="stretch")
    c2.caption(ngettext("The {k} merge, the last first; *times*: how often the pair occurred when it was merged.",
                        "The {k} merges, the last first; *times*: how often the pair occurred when it was merged.",
                        k).format(k=num(k)))
st.write(_("GPT-2's tokenizer is this algorithm with {merges} merges (its {tokens} tokens: 256 bytes, {merges} "
           "merges and one end-of-text mark), and one more rule: it first cuts the text into words, numbers and "
           "punctuation, each word with the space before it, and never merges across those cuts.").format(
    merges=num(50000), tokens=num(50257)))
show_code(bpe.most_frequent_pair, bpe.merge, bpe.train,
          intro=_("The trainer of `engine/language/bpe.py`: each merge counts every pair of neighbours at once "
                  "(`np.bincount`) and replaces the winner everywhere in one pass."))
st.write(_("Next: count which character follows which, and let a network learn the same."))
pages.page_link("next_character")
