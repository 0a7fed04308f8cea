"""Next character: the bigram count table as a heat map, its probabilities and loss, the one-layer
network that learns the same probabilities with softmax + cross-entropy, and sampling with a temperature."""
import math

import numpy as np
import streamlit as st

from engine.language import bigram
from engine.language.models import Bigram
from ui import pages, presenter
from ui.chart_cache import show
from ui.code import show_code
from ui.language import charts, next_char, texts

SMOOTHING = [0.0, 0.01, 0.1, 0.5, 1.0, 2.0, 5.0, 10.0, 100.0]

st.title(pages.title("next_character"))
st.write("A language model answers one question, over and over: *which character comes next?* The simplest "
         "one looks only at the character it has just read. To build it, count which character follows "
         "which in the training text; then let a network of one layer learn the same thing with the loss "
         "the digits used.")

label, p = texts.choose_text()
vocab, V = p.vocab, p.vocab.size
N = next_char.count_table(p.train_ids, V)
labels = [texts.char_label(c) for c in vocab.chars]
big = presenter.on()
warning = texts.unknown_sentence(p, label)
if warning:
    st.info(warning)

# ------------------------------------------------------------ 1. counts
st.header("1 · Count which character follows which")
row_totals = N.sum(axis=1)
shown = next_char.shown_ids(row_totals + N.sum(axis=0))
a, b = np.unravel_index(int(np.argmax(N)), N.shape)
zeros = int(np.count_nonzero(N == 0))
st.write(f"Walk through the training part of {label} ({len(p.train):,} characters, so {int(N.sum()):,} pairs "
         f"of neighbours) and add 1 to cell (this character, next character) for every pair. The table has "
         f"{V} × {V} = {V * V:,} cells. The most frequent pair: {texts.quoted(vocab.chars[a])} then "
         f"{texts.quoted(vocab.chars[b])}, {int(N[a, b]):,} times. {zeros:,} cells are 0: pairs the "
         "training part never has.")
title = "How often the next character follows this one"
if len(shown) < V:
    title += f" ({len(shown)} most frequent characters)"
    st.caption(f"The heat map shows the {len(shown)} most frequent of the {V} characters; the numbers on this "
               "page use all of them.")
show(st, charts.count_table_chart, N[np.ix_(shown, shown)], [labels[i] for i in shown], title,
     size=760 if big else 560, big=big, width="content")
show_code(bigram.counts, intro="One `np.bincount` counts every pair: each pair (a, b) becomes the number a·V + b.")

# ------------------------------------------------------------ 2. probabilities
st.header("2 · Counts become probabilities")
st.write("Divide each row by its total and it says how likely each next character is. A pair never seen "
         "would get probability 0, and one such pair in new text makes the loss infinite (−log 0), so "
         "**smoothing** adds a small number k to every count first.")
c1, c2 = st.columns(2, gap="large")
k = c1.select_slider("Smoothing k (added to every count)", SMOOTHING, value=1.0, key="nc_k",
                     persist_state="session", help="0: the plain counts. Large: every row nears equal chances.")
P = bigram.probabilities(N, k)
st.session_state.setdefault("nc_char", int(np.argmax(row_totals)))
st.session_state["nc_char"] = min(int(st.session_state["nc_char"]), V - 1)
this = c2.selectbox("After the character", range(V), format_func=lambda i: labels[i], key="nc_char",
                    help="Its row of the table, as probabilities.")
best = int(np.argmax(P[this]))
show(st, charts.next_probs_chart, P[this], labels, f"Next character after {texts.quoted(vocab.chars[this])}",
     big=big)
if row_totals[this] == 0:            # (0 + k) / (0 + V k) = 1/V for every k
    st.write(f"{texts.quoted(vocab.chars[this])} is never followed by anything in the training part (it only "
             f"ends it): with nothing to count, every next character gets the same 1/{V} = {1 / V:.1%}.")
else:
    st.write(f"{texts.quoted(vocab.chars[this])} is followed by something {int(row_totals[this]):,} times in "
             f"the training part. With k = {k:g}, the most likely next character is "
             f"{texts.quoted(vocab.chars[best])}: ({int(N[this, best]):,} + {k:g}) / ({int(row_totals[this]):,} + "
             f"{V} × {k:g}) = {P[this, best]:.1%}.")
train_loss = bigram.nll(P, p.train_ids)[0]
val_loss, used, left = bigram.nll(P, p.val_ids)
c1, c2, c3 = st.columns(3)
c1.metric("Loss on the training part", f"{train_loss:.4f}", help="Average negative log-likelihood, nats per character.")
c2.metric("Loss on the validation part", "infinite" if math.isinf(val_loss) else f"{val_loss:.4f}",
          help="The same, on the last 10% of the text, kept apart.")
c3.metric("Knowing nothing: log V", f"{math.log(V):.4f}", help=f"Every one of the {V} characters equally likely.")
loss_words = (f"The loss is the average of −log P(next | this) over the pairs: the **average negative "
              f"log-likelihood**, in nats per character (natural log). On the validation part ({used:,} pairs")
loss_words += f"; {left:,} with an unknown character left out)" if left else ")"
if math.isinf(val_loss):
    unseen = int(np.count_nonzero(P[p.val_ids[:-1][(p.val_ids[:-1] >= 0) & (p.val_ids[1:] >= 0)],
                                    p.val_ids[1:][(p.val_ids[:-1] >= 0) & (p.val_ids[1:] >= 0)]] == 0))
    loss_words += (f" it is infinite: {unseen:,} of its pairs never occur in the training part, and without "
                   "smoothing their probability is 0. Move k above 0.")
else:
    loss_words += (f" it is {val_loss:.4f}, against {math.log(V):.4f} for a model that gives all {V} characters "
                   "the same chance: the table has learned something.")
st.write(loss_words)
show_code(bigram.probabilities, bigram.nll)

# ------------------------------------------------------------ 3. the network
st.header("3 · A network learns the same probabilities")
st.write(f"Now a network of one layer, the engine's neural `Bigram`: its weights are a {V} × {V} table W. "
         "Reading a character a (its one-hot vector times W: the embedding lookup of the Tokens page) gives "
         "the row W[a], the next character's scores (logits); softmax turns them into probabilities. It is "
         "trained with **softmax + cross-entropy, the digits' own loss**, by gradient descent (Adam, "
         f"learning rate {next_char.LEARNING_RATE:g}), each step on every pair of the training part.")
steps = st.slider("Steps of gradient descent", 0, next_char.MAX_STEPS, 100, step=10, key="nc_steps",
                  persist_state="session", help="The network is trained again from the same random start.")
losses, Q = next_char.trained_network(N, steps)
P0 = bigram.probabilities(N, 0.0)
table_loss = bigram.nll(P0, p.train_ids)[0]
seen = row_totals > 0
diff = Q - P0
worst = np.unravel_index(int(np.argmax(np.abs(diff) * seen[:, None])), diff.shape)
show(st, charts.fit_loss_chart, losses, table_loss, big=big)
st.write(f"After {steps} steps the network's loss on the training part is **{losses[-1]:.4f}** nats per "
         f"character; the count table without smoothing (k = 0) has **{table_loss:.4f}**, the lowest any "
         f"bigram model can have there. Their probabilities differ by at most "
         f"**{abs(diff[worst]):.4f}** (after {texts.quoted(vocab.chars[worst[0]])}, for "
         f"{texts.quoted(vocab.chars[worst[1]])}; over the {int(seen.sum())} characters that are followed by "
         "something in the training part).")
cols = st.columns(1 if big else 2, gap="large") * (2 if big else 1)
sub = np.ix_(shown, shown)
sub_labels = [labels[i] for i in shown]
size = 560 if big else 320
show(cols[0], charts.probability_table_chart, P0[sub], sub_labels, "Count table (k = 0)", size=size, big=big,
     width="content")
show(cols[1], charts.probability_table_chart, Q[sub], sub_labels, f"Network after {steps} steps", size=size,
     big=big, width="content")
show(st, charts.probability_table_chart, diff[sub], sub_labels, "Network − count table", diverging=True,
     size=size, big=big, width="content")
show_code(bigram.text_loss_and_gradients, bigram.fit, Bigram,
          intro="The loss on every pair of the text, grouped by the first character: the same numbers as "
                "`model.gradients` on the whole text, in V rows instead of one per character "
                "(tests/test_lm_bigram.py checks it).")

# ------------------------------------------------------------ 4. sampling
st.header("4 · The model writes: sampling with a temperature")
st.session_state.setdefault("nc_seed", 0)
c1, c2, c3 = st.columns([2, 2, 1], vertical_alignment="bottom")
temperature = c1.slider("Temperature", 0.1, 2.0, 1.0, 0.1, key="nc_temp", persist_state="session",
                        help="Below 1: the likely characters get likelier. Above 1: chances even out.")
source = c2.radio("Sample from", ["the count table", "the network"], key="nc_source", horizontal=True,
                  persist_state="session")
if c3.button("🎲 Another sample", key="nc_again", width="stretch"):
    st.session_state["nc_seed"] += 1
table = P if source == "the count table" else Q
ids = vocab.ids()
start = ids.get("\n", int(np.argmax(row_totals)))
length = 300 if len(p.train) > 50_000 else 200
out = bigram.sample(table, start, length, temperature, rng=st.session_state["nc_seed"])
st.code(vocab.decode(out), language=None, wrap_lines=True)
hot = bigram.with_temperature(table[start:start + 1], temperature)[0]
top = int(np.argmax(table[start]))
what = f"{source} (k = {k:g})" if source == "the count table" else f"{source} after {steps} steps"
at = (f"{texts.quoted(vocab.chars[top])} has {table[start, top]:.1%} at T = 1" if temperature == 1 else
      f"{texts.quoted(vocab.chars[top])} has {table[start, top]:.1%} at T = 1 and {hot[top]:.1%} at "
      f"T = {temperature:g}")
st.write(f"{length} characters drawn one by one from {what}, each from the row of the one before, starting "
         f"after {texts.quoted(vocab.chars[start])}. The temperature T divides the logits before the softmax "
         f"(P^(1/T), rows made to add up to 1 again): after {texts.quoted(vocab.chars[start])}, {at}.")
show_code(bigram.with_temperature, bigram.sample)
st.write("One character of memory is all this model has: each character is drawn knowing only the one before "
         "it, so a word comes out only by chance. Models that read more characters back, and then whole "
         "contexts with attention, come next.")
pages.page_link("tokens", label="Back to Tokens: text becomes numbers")
