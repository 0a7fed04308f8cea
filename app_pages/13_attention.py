"""Attention: one sentence of the user's through a trained transformer, head by head: queries, keys,
the score table, the causal mask, softmax and the weighted sum of values, in real numbers and as
heat maps; and which earlier characters each head looks at."""
import numpy as np
import streamlit as st

from engine.language import inspect
from engine.language.layers import CausalSelfAttention
from i18n import _, num, pct
from ui import pages, presenter
from ui.chart_cache import show
from ui.code import show_code
from ui.language import attention, model_charts
from ui.language.model import current_language_model, is_builtin, train_link

st.title(pages.title("attention"))
st.write(_("A transformer guesses the next character from every character before it. **Attention** is how "
           "each position gathers what it needs from the earlier ones: it asks a question (its **query**), "
           "every earlier position offers a label (its **key**) and a message (its **value**); how well query "
           "and key match decides how much of each message it takes. Type a sentence and follow it through a "
           "trained model, with the model's own numbers."))

entry = current_language_model()
model, vocab = entry["model"], entry["vocab"]
big = presenter.on()
if model.kind != "transformer":
    st.info(_("Your language model is {model}: it has no attention. Train a transformer on the "
              "Train a language model page to see its attention here; until then this page reads the "
              "built-in one.").format(model=model.describe()))
    from ui.language.model import builtin
    entry = builtin()
    model, vocab = entry["model"], entry["vocab"]
loss = (entry.get("settings") or {}).get("val_loss")
st.caption((_("Reading with {model} (validation loss {loss} nats per character).") if loss else
            _("Reading with {model}.")).format(model=entry['label'], loss=num(loss or 0, 4))
           + (" " + _("Train your own on the Train a language model page and this page reads yours.")
              if is_builtin(entry) else ""))
if is_builtin(entry):
    train_link()

typed = st.text_input(_("Your sentence"), attention.DEFAULT_SENTENCE, key="att_sentence",
                      max_chars=attention.MAX_TYPED, persist_state="session",
                      help=_("Up to {n} characters are read (the model's context).").format(n=num(model.context)))
ids, chars, notes = attention.sentence_ids(vocab, typed, model.context)
for note in notes:
    st.info(note)
if len(ids) < 2:
    st.info((_("Type at least two characters that the built-in model knows (it knows {n}: letters, digits, "
               "punctuation, spaces and line breaks of its training text) to see attention at work.")
             if is_builtin(entry) else
             _("Type at least two characters that your model knows (it knows {n}: letters, digits, "
               "punctuation, spaces and line breaks of its training text) to see attention at work.")).format(
        n=num(vocab.size)))
    st.stop()

maps = inspect.attention(model, ids)
labels = attention.position_labels(chars)
T, H, D = len(ids), model.blocks[0].attn.H, model.blocks[0].attn.D
c1, c2 = st.columns(2)
block = 0
if len(maps) > 1:
    blocks = [_("block {i} of {n}").format(i=b + 1, n=len(maps)) for b in range(len(maps))]
    block = c1.selectbox(_("Block"), range(len(maps)), format_func=blocks.__getitem__,
                         key="att_block", help=_("Each block has its own attention; block 1 reads the embeddings."))
heads = [_("head {i}").format(i=h + 1) for h in range(H)]
head = c2.radio(_("Head"), range(H), format_func=heads.__getitem__, key="att_head",
                horizontal=True,
                help=_("{H} heads work side by side, each with its own {D} numbers per character.").format(H=H, D=D))
m = maps[block]
st.write(_("The sentence is {T} characters; the model is {model}, so each of the {H} heads of a "
           "block works with **{D} numbers** per character. Below: block {block}, head {head}.").format(
    T=num(T), model=model.describe(), H=H, D=D, block=block + 1, head=head + 1))

# ------------------------------------------------------------ 1. queries and keys
st.header(_("1 · Queries, keys and values"))
st.write(_("Each character's vector (after LayerNorm) is multiplied by three learned matrices: out come its "
           "query q, its key k and its value v, {D} numbers each for this head. One row per character:").format(D=D))
attention.side_by_side((_("Queries q"), m.q[head]), (_("Keys k"), m.k[head]), labels=labels)

# ------------------------------------------------------------ 2. scores and mask
st.header(_("2 · The score table and the causal mask"))
i_hi = int(np.argmax(np.where(np.tril(np.ones((T, T), bool)), m.scores[head], -np.inf)[T - 1]))
st.write((_("Score (i, j) = q_i · k_j / √{D}: how well the query of character i matches the key of character j. "
            "A model that guesses the next character may not read the future, so every score with j > i is "
            "replaced by −∞ (the **causal mask**, grey). For example the last character, {last}, matches its own "
            "key best: score {score}.") if i_hi == T - 1 else
          _("Score (i, j) = q_i · k_j / √{D}: how well the query of character i matches the key of character j. "
            "A model that guesses the next character may not read the future, so every score with j > i is "
            "replaced by −∞ (the **causal mask**, grey). For example the last character, {last}, matches {best} "
            "best: score {score}.")).format(D=D, last=labels[-1], best=labels[i_hi],
                                            score=num(m.scores[head][T - 1, i_hi], 3)))
masked = m.mask == -np.inf
size = 600 if big else 480
show(st, model_charts.attention_map_chart, np.where(masked, 0.0, m.scores[head]), labels,
     _("Scores q·k/√{D}, block {block}, head {head}").format(D=D, block=block + 1, head=head + 1), kind="scores",
     size=size, big=big, width="content")
with st.expander(_("The score table in numbers (−∞: masked)"), expanded=False):
    st.dataframe(attention.numbers_frame(m.scores[head], labels, labels, masked=masked))

# ------------------------------------------------------------ 3. softmax
st.header(_("3 · Softmax: scores become weights"))
row = m.weights[head][T - 1]
top = int(np.argmax(row))
st.write((_("Softmax along each row turns the scores into weights from 0 to 1 that add up to 1; e^−∞ = 0, so "
            "the future gets exactly 0. Row by row this is the table P the model uses: the last character, "
            "{last}, puts {share} of its attention on itself.") if top == T - 1 else
          _("Softmax along each row turns the scores into weights from 0 to 1 that add up to 1; e^−∞ = 0, so "
            "the future gets exactly 0. Row by row this is the table P the model uses: the last character, "
            "{last}, puts {share} of its attention on {top}.")).format(
    last=labels[-1], share=pct(row[top], 1), top=labels[top]))
show(st, model_charts.attention_map_chart, m.weights[head], labels,
     _("Attention weights P, block {block}, head {head}").format(block=block + 1, head=head + 1), kind="weights",
     size=size, big=big, width="content")
st.caption(_("Each row adds up to 1 ({all}). Grey cells are the masked future: weight 0.").format(all=pct(1, 0)))
st.write(_("The weights P in numbers (rows: queries; columns: keys):"))
st.dataframe(attention.numbers_frame(m.weights[head], labels, labels), key="att_weights")

# ------------------------------------------------------------ 4. weighted sum of values
st.header(_("4 · The weighted sum of values"))
st.write(_("Each character takes the values of the characters it looks at, in the proportions of its row of P: "
           "out_i = Σ_j P(i, j) v_j. That is one matrix product, P v: ({T} × {T}) times ({T} × {D}). The "
           "{H} heads' outputs are put side by side ({H} × {D} = {HD} numbers) and a last learned matrix "
           "mixes them back into the character's vector.").format(T=T, D=D, H=H, HD=H * D))
attention.side_by_side((_("Values v"), m.v[head]), (_("Weighted sums P v"), m.out[head]), labels=labels)

# ------------------------------------------------------------ 5. which earlier characters
st.header(_("5 · Which earlier characters each head looks at"))
st.session_state.setdefault("att_query", T - 1)
st.session_state["att_query"] = min(int(st.session_state["att_query"]), T - 1)
query = st.select_slider(_("Character looking (query)"), range(T), format_func=lambda i: labels[i], key="att_query",
                         help=_("Its row of P in every head of this block."))
show(st, model_charts.looks_at_chart, m.weights, labels, query, list(range(H)), big=big)
lines = []
for h in range(H):
    back = np.arange(1, T) - np.argmax(np.where(np.tril(np.ones((T, T), bool)), m.weights[h], -1.0)[1:], axis=1)
    offsets, counts = np.unique(back, return_counts=True)
    k = int(offsets[np.argmax(counts)])
    what = (_("- **Head {h}**: for {n} of the {T} characters after the first, its largest weight is on itself.")
            if k == 0 else
            _("- **Head {h}**: for {n} of the {T} characters after the first, its largest weight is on the character "
              "just before.") if k == 1 else
            _("- **Head {h}**: for {n} of the {T} characters after the first, its largest weight is on the character "
              "{k} places back."))
    lines.append(what.format(h=h + 1, n=num(int(counts.max())), T=num(T - 1), k=k))
st.markdown("\n".join(lines))
cols = st.columns(2 if big else min(H, 4))
for h in range(H):
    show(cols[h % len(cols)], model_charts.attention_map_chart, m.weights[h], labels,
         _("Head {h}").format(h=h + 1), kind="weights", size=300 if big else 150, compact=True, big=big,
         width="content")
st.caption(_("Each small map is one head's P for this block, queries down, keys across, as above (point at a cell "
             "for its numbers)."))
show_code(inspect.attention, CausalSelfAttention.forward,
          intro=_("The page's tables come from `inspect.attention`, which runs the model's own layers; "
                  "`CausalSelfAttention.forward` is what training runs (tests/test_app_attention.py checks "
                  "that the page's P equals it)."))
pages.page_link("next_character", label=_("Back to Next character: counting pairs"))
