"""Next character: the bigram count table as a heat map, its probabilities and loss, the one-layer
network that learns the same probabilities with softmax + cross-entropy, and sampling with a temperature."""
import math

import numpy as np
import streamlit as st

from engine.language import bigram
from engine.language.models import Bigram
from i18n import _, ngettext, num, pct
from ui import pages, presenter
from ui.chart_cache import show
from ui.code import show_code
from ui.language import charts, next_char, texts

SMOOTHING = [0.0, 0.01, 0.1, 0.5, 1.0, 2.0, 5.0, 10.0, 100.0]

st.title(pages.title("next_character"))
st.write(_("A language model answers one question, over and over: *which character comes next?* The simplest "
           "one looks only at the character it has just read. To build it, count which character follows "
           "which in the training text; then let a network of one layer learn the same thing with the loss "
           "the digits used."))

label, p = texts.choose_text()
vocab, V = p.vocab, p.vocab.size
N = next_char.count_table(p.train_ids, V)
labels = [texts.char_label(c) for c in vocab.chars]
big = presenter.on()
warning = texts.unknown_sentence(p, label)
if warning:
    st.info(warning)

# ------------------------------------------------------------ 1. counts
st.header(_("1 · Count which character follows which"))
row_totals = N.sum(axis=1)
shown = next_char.shown_ids(row_totals + N.sum(axis=0))
a, b = np.unravel_index(int(np.argmax(N)), N.shape)
zeros = int(np.count_nonzero(N == 0))
st.write(_("Walk through the training part of {label} ({chars} characters, so {pairs} pairs "
           "of neighbours) and add 1 to cell (this character, next character) for every pair. The table has "
           "{V} × {V} = {cells} cells. The most frequent pair: {a} then {b}, {count} times. {zeros} cells "
           "are 0: pairs the training part never has.").format(
    label=label, chars=num(len(p.train)), pairs=num(int(N.sum())), V=V, cells=num(V * V),
    a=texts.quoted(vocab.chars[a]), b=texts.quoted(vocab.chars[b]), count=num(int(N[a, b])), zeros=num(zeros)))
title = _("How often the next character follows this one")
if len(shown) < V:
    title = _("How often the next character follows this one ({n} most frequent characters)").format(n=len(shown))
    st.caption(_("The heat map shows the {n} most frequent of the {V} characters; the numbers on this "
                 "page use all of them.").format(n=len(shown), V=V))
show(st, charts.count_table_chart, N[np.ix_(shown, shown)], [labels[i] for i in shown], title,
     size=760 if big else 560, big=big, width="content")
show_code(bigram.counts, intro=_("One `np.bincount` counts every pair: each pair (a, b) becomes the number "
                                  "a·V + b."))

# ------------------------------------------------------------ 2. probabilities
st.header(_("2 · Counts become probabilities"))
st.write(_("Divide each row by its total and it says how likely each next character is. A pair never seen "
           "would get probability 0, and one such pair in new text makes the loss infinite (−log 0), so "
           "**smoothing** adds a small number k to every count first."))
c1, c2 = st.columns(2, gap="large")
k = c1.select_slider(_("Smoothing k (added to every count)"), SMOOTHING, value=1.0, key="nc_k",
                     format_func={s: num(s) for s in SMOOTHING}.get,
                     persist_state="session", help=_("0: the plain counts. Large: every row nears equal chances."))
P = bigram.probabilities(N, k)
st.session_state.setdefault("nc_char", int(np.argmax(row_totals)))
st.session_state["nc_char"] = min(int(st.session_state["nc_char"]), V - 1)
this = c2.selectbox(_("After the character"), range(V), format_func=lambda i: labels[i], key="nc_char",
                    help=_("Its row of the table, as probabilities."))
best = int(np.argmax(P[this]))
show(st, charts.next_probs_chart, P[this], labels,
     _("Next character after {char}").format(char=texts.quoted(vocab.chars[this])), big=big)
if row_totals[this] == 0:            # (0 + k) / (0 + V k) = 1/V for every k
    st.write(_("{char} is never followed by anything in the training part (it only ends it): with nothing to "
               "count, every next character gets the same 1/{V} = {p}.").format(
        char=texts.quoted(vocab.chars[this]), V=V, p=pct(1 / V, 1)))
else:
    st.write(ngettext("{char} is followed by something {n} time in the training part. With k = {k}, the most likely "
                      "next character is {best}: ({count} + {k}) / ({n} + {V} × {k}) = {p}.",
                      "{char} is followed by something {n} times in the training part. With k = {k}, the most "
                      "likely next character is {best}: ({count} + {k}) / ({n} + {V} × {k}) = {p}.",
                      int(row_totals[this])).format(
        char=texts.quoted(vocab.chars[this]), n=num(int(row_totals[this])), k=num(k),
        best=texts.quoted(vocab.chars[best]), count=num(int(N[this, best])), V=V, p=pct(P[this, best], 1)))
train_loss = bigram.nll(P, p.train_ids)[0]
val_loss, used, left = bigram.nll(P, p.val_ids)
c1, c2, c3 = st.columns(3)
c1.metric(_("Loss on the training part"), num(train_loss, 4),
          help=_("Average negative log-likelihood, nats per character."))
c2.metric(_("Loss on the validation part"), _("infinite") if math.isinf(val_loss) else num(val_loss, 4),
          help=_("The same, on the last {share} of the text, kept apart.").format(share=pct(0.1, 0)))
c3.metric(_("Knowing nothing: log V"), num(math.log(V), 4),
          help=_("Every one of the {V} characters equally likely.").format(V=V))
loss_words = _("The loss is the average of −log P(next | this) over the pairs: the **average negative "
               "log-likelihood**, in nats per character (natural log).")
pairs = (_("{used} pairs; {left} with an unknown character left out").format(used=num(used), left=num(left)) if left
         else _("{used} pairs").format(used=num(used)))
if math.isinf(val_loss):
    unseen = int(np.count_nonzero(P[p.val_ids[:-1][(p.val_ids[:-1] >= 0) & (p.val_ids[1:] >= 0)],
                                    p.val_ids[1:][(p.val_ids[:-1] >= 0) & (p.val_ids[1:] >= 0)]] == 0))
    loss_words += " " + _("On the validation part ({pairs}) it is infinite: {unseen} of its pairs never occur in the "
                          "training part, and without smoothing their probability is 0. Move k above 0.").format(
        pairs=pairs, unseen=num(unseen))
else:
    loss_words += " " + _("On the validation part ({pairs}) it is {loss}, against {log_v} for a model that gives all "
                          "{V} characters the same chance: the table has learned something.").format(
        pairs=pairs, loss=num(val_loss, 4), log_v=num(math.log(V), 4), V=V)
st.write(loss_words)
show_code(bigram.probabilities, bigram.nll)

# ------------------------------------------------------------ 3. the network
st.header(_("3 · A network learns the same probabilities"))
st.write(_("Now a network of one layer, the engine's neural `Bigram`: its weights are a {V} × {V} table W. "
           "Reading a character a (its one-hot vector times W: the embedding lookup of the Tokens page) gives "
           "the row W[a], the next character's scores (logits); softmax turns them into probabilities. It is "
           "trained with **softmax + cross-entropy, the digits' own loss**, by gradient descent (Adam, "
           "learning rate {lr}), each step on every pair of the training part.").format(
    V=V, lr=num(next_char.LEARNING_RATE)))
steps = st.slider(_("Steps of gradient descent"), 0, next_char.MAX_STEPS, 100, step=10, key="nc_steps",
                  persist_state="session", help=_("The network is trained again from the same random start."))
with st.spinner(_("Training the network…")):
    losses, Q = next_char.trained_network(N, steps)
P0 = bigram.probabilities(N, 0.0)
table_loss = bigram.nll(P0, p.train_ids)[0]
seen = row_totals > 0
diff = Q - P0
worst = np.unravel_index(int(np.argmax(np.abs(diff) * seen[:, None])), diff.shape)
show(st, charts.fit_loss_chart, losses, table_loss, big=big)
st.write(_("After {steps} steps the network's loss on the training part is **{loss}** nats per "
           "character; the count table without smoothing (k = 0) has **{table}**, the lowest any "
           "bigram model can have there. Their probabilities differ by at most **{diff}** (after {a}, for {b}; "
           "over the {n} characters that are followed by something in the training part).").format(
    steps=num(steps), loss=num(losses[-1], 4), table=num(table_loss, 4), diff=num(abs(diff[worst]), 4),
    a=texts.quoted(vocab.chars[worst[0]]), b=texts.quoted(vocab.chars[worst[1]]), n=int(seen.sum())))
cols = st.columns(1 if big else 2, gap="large") * (2 if big else 1)
sub = np.ix_(shown, shown)
sub_labels = [labels[i] for i in shown]
size = 560 if big else 320
show(cols[0], charts.probability_table_chart, P0[sub], sub_labels, _("Count table (k = 0)"), size=size, big=big,
     width="content")
show(cols[1], charts.probability_table_chart, Q[sub], sub_labels,
     _("Network after {steps} steps").format(steps=num(steps)), size=size, big=big, width="content")
show(st, charts.probability_table_chart, diff[sub], sub_labels, _("Network − count table"), diverging=True,
     size=size, big=big, width="content")
show_code(bigram.text_loss_and_gradients, bigram.fit, Bigram,
          intro=_("The loss on every pair of the text, grouped by the first character: the same numbers as "
                  "`model.gradients` on the whole text, in V rows instead of one per character "
                  "(tests/test_lm_bigram.py checks it)."))

# ------------------------------------------------------------ 4. sampling
st.header(_("4 · The model writes: sampling with a temperature"))
st.session_state.setdefault("nc_seed", 0)
c1, c2, c3 = st.columns([2, 2, 1], vertical_alignment="bottom")
temperature = c1.slider(_("Temperature"), 0.1, 2.0, 1.0, 0.1, key="nc_temp", persist_state="session",
                        help=_("Below 1: the likely characters get likelier. Above 1: chances even out."))
SOURCES = {"the count table": _("the count table"), "the network": _("the network")}
source = c2.radio(_("Sample from"), ["the count table", "the network"], key="nc_source", horizontal=True,
                  format_func=SOURCES.get, persist_state="session")
if c3.button(_("🎲 Another sample"), key="nc_again", width="stretch"):
    st.session_state["nc_seed"] += 1
table = P if source == "the count table" else Q
ids = vocab.ids()
start = ids.get("\n", int(np.argmax(row_totals)))
length = 300 if len(p.train) > 50_000 else 200
out = bigram.sample(table, start, length, temperature, rng=st.session_state["nc_seed"])
st.code(vocab.decode(out), language=None, wrap_lines=True)
hot = bigram.with_temperature(table[start:start + 1], temperature)[0]
top = int(np.argmax(table[start]))
drawn = (_("{length} characters drawn one by one from the count table (k = {k}), each from the row of the one "
           "before, starting after {start}.") if source == "the count table" else
         _("{length} characters drawn one by one from the network after {steps} steps, each from the row of the "
           "one before, starting after {start}.")).format(
    length=num(length), k=num(k), steps=num(steps), start=texts.quoted(vocab.chars[start]))
at = (_("The temperature T divides the logits before the softmax (P^(1/T), rows made to add up to 1 again): after "
        "{start}, {top} has {p} at T = 1.") if temperature == 1 else
      _("The temperature T divides the logits before the softmax (P^(1/T), rows made to add up to 1 again): after "
        "{start}, {top} has {p} at T = 1 and {hot} at T = {T}.")).format(
    start=texts.quoted(vocab.chars[start]), top=texts.quoted(vocab.chars[top]), p=pct(table[start, top], 1),
    hot=pct(hot[top], 1), T=num(temperature))
st.write(drawn + " " + at)
show_code(bigram.with_temperature, bigram.sample)
st.write(_("One character of memory is all this model has: each character is drawn knowing only the one before "
           "it, so a word comes out only by chance. Models that read more characters back, and then whole "
           "contexts with attention, come next."))
pages.page_link("tokens", label=_("Back to Tokens: text becomes numbers"))
