"""Inside a language model, and the systems side: the characters' embedding map (PCA), loss against
context length and model size, weights and arithmetic next to GPT-2 small's, and the key/value cache's
speed measured live."""
import streamlit as st

from engine.language import generate, inspect, kvcache
from i18n import _, as_is, ngettext, num, pct
from ui import pages, presenter
from ui.chart_cache import show
from ui.code import show_code
from ui.language import inside, model_charts, texts
from ui.language.model import current_language_model, is_builtin, seen_points, train_link

st.title(pages.title("inside_language"))
st.write(_("What a trained language model has learned about characters, how its loss depends on what it reads "
           "and how big it is, how much arithmetic it costs next to GPT-2, and one trick every real language "
           "model uses to write fast: the key/value cache."))

entry = current_language_model()
model, vocab = entry["model"], entry["vocab"]
big = presenter.on()
st.caption(_("Looking inside {model}.").format(model=entry['label'])
           + (" " + _("Train your own on the Train a language model page and this page looks inside yours.")
              if is_builtin(entry) else ""))
if is_builtin(entry):
    train_link()

# ------------------------------------------------------------ 1. embedding map
st.header(_("1 · The characters' embeddings, on a map"))
coords, share = inspect.embedding_map(model)
E = inspect.embeddings(model).shape[1]
st.write(_("Each character's embedding is {E} numbers, too many to draw. **PCA** finds the two directions in "
           "which the {n} embeddings differ most and shows each character's position along them: "
           "together they hold {share} of the spread. Characters the model uses alike tend to land "
           "close together.").format(E=E, n=num(vocab.size), share=pct(share.sum(), 0)))
show(st, model_charts.embedding_map_chart, coords, [texts.char_label(c) for c in vocab.chars], share,
     big=big)
show_code(inspect.embedding_map)

# ------------------------------------------------------------ 2. loss against context and size
st.header(_("2 · Loss against context length and model size"))
points = seen_points()
mine = [p for p in points[1:] if p["val_loss"] is not None]
st.write(_("Does reading more characters help? Does a bigger model? Each point is one model's validation loss "
           "(nats per character, on the held-out part of its text; lower is better). The diamond is the "
           "built-in transformer."))
c1, c2 = st.columns(1 if big else 2, gap="large") * (2 if big else 1)
show(c1, model_charts.runs_chart, points, "context", _("characters read (context)"), big=big)
show(c2, model_charts.runs_chart, points, "weights", _("weights (log scale)"), big=big)
if not mine:
    st.info(_("No models of yours yet: on the Train a language model page train a few, changing one thing at a "
              "time (the context, or the width and blocks), then come back. Each model you train is added here "
              "when this page or the Attention page reads it."))
else:
    st.write(ngettext("{n} of your models so far. Only losses on the same text compare: point at a point to see "
                      "its text.",
                      "{n} of your models so far. Only losses on the same text compare: point at a point to see "
                      "its text.", len(mine)).format(n=num(len(mine))))
st.dataframe([{_("model"): p["label"], _("text"): p["corpus"], _("characters read"): p["context"],
               _("weights"): p["weights"], _("validation loss"): p["val_loss"]} for p in points], hide_index=True,
             column_config={_("weights"): st.column_config.NumberColumn(format="localized"),
                            _("validation loss"): st.column_config.NumberColumn(format="%.4f")})

# ------------------------------------------------------------ 3. counts next to GPT-2
st.header(_("3 · Weights and arithmetic, next to GPT-2 small"))
settings = entry.get("settings") or {}
tokens = None
if all(settings.get(k) for k in ("step", "batch_size")):
    window = settings.get("window") or (settings.get("context") if model.kind == "transformer" else 32)
    tokens = int(settings["step"]) * int(settings["batch_size"]) * int(window)
n = inspect.sizes(model, tokens)
about = _("about {n}")
this, gpt2 = _("this model"), as_is("GPT-2 small")
rows = [
    {"": _("weights"), this: num(n['weights']), gpt2: num(n['gpt2_weights'])},
    {"": _("operations to read one character (forward)"), this: num(n['forward_ops']),
     gpt2: about.format(n=inside.big_number(2 * n["gpt2_weights"]))},
    {"": _("operations to train on one character (forward + backward)"), this: num(n['train_ops']),
     gpt2: about.format(n=inside.big_number(n["gpt2_train_ops"]))},
    {"": _("6 × weights"), this: num(n['six_n']), gpt2: num(n['gpt2_train_ops'])},
    {"": _("operations of its whole training"), this: inside.big_number(n["run_ops"]) if tokens else _("not known"),
     gpt2: _("about {n} (300 billion tokens)").format(n=inside.big_number(n["gpt2_run_ops"]))},
]
st.table(rows)
ratio = n["gpt2_weights"] / n["weights"]
st.write(_("GPT-2 small has **{ratio} times** as many weights as this model. Training costs about 6 "
           "operations per weight per token: 2 to read it forward (a multiply and an add) and 4 backward (the "
           "blame for the input and for the weight). The engine's own count for this model is "
           "{ops} operations per character, {times} × the 6 × weights "
           "rule (it adds attention's scores and weighted sums, and leaves out the table lookups, the biases and "
           "LayerNorm).").format(ratio=num(round(ratio)), ops=num(n['train_ops']),
                                  times=num(n['train_ops'] / n['six_n'], 2))
         + (" " + _("It trained on {tokens} characters ({steps} steps of {batch} windows of {window}): {ops} "
                    "operations.").format(tokens=num(tokens), steps=num(settings['step']),
                                          batch=num(settings['batch_size']), window=num(window),
                                          ops=inside.big_number(n['run_ops'])) if tokens else "")
         + " " + _("nanoGPT's reproduction of GPT-2 small trains on about 300 billion tokens."))
show_code(inspect.sizes, type(model).flops_per_token)

# ------------------------------------------------------------ 4. key/value cache
st.header(_("4 · Writing fast: the key/value cache"))
st.write(_("To write, a model reads its window, picks the next character, appends it and reads again. Without a "
           "cache it computes every earlier character's keys and values again at every step; with the cache each "
           "attention layer keeps them, and a new character costs one position's work. Measured just now, on "
           "this machine:"))
again = st.button(_("⏱️ Measure again"), key="inside_measure",
                  help=_("Generates the same text with and without the cache, twice each (about a second)."))
with st.spinner(_("Measuring…")):
    r = inside.speed(entry, again=again)
c1, c2, c3 = st.columns(3)
tries = _("{n} characters, the faster of 2 tries.").format(n=num(r['n']))
ms = _("{n} ms")
c1.metric(_("Without the cache"), ms.format(n=num(round(r['no_cache_s'] * 1000))), help=tries)
c2.metric(_("With the cache"), ms.format(n=num(round(r['cache_s'] * 1000))), help=tries)
c3.metric(_("Faster by"), f"{num(r['speedup'], 1)} ×")
st.write((_("Both wrote {n} characters from the same random seed, and the texts are **the same**:") if r["identical"]
          else _("Both wrote {n} characters from the same random seed, and the texts are **NOT the same**:")).format(
    n=num(r['n'])))
st.code(vocab.decode(r["ids"]), language=None, wrap_lines=True)
if model.kind != "transformer":
    st.caption(_("This model is an MLP: it reads a fixed number of characters and has no keys or values, so both "
                 "ways do the same work.") if model.kind == "mlp" else
               _("This model is a bigram: it reads a fixed number of characters and has no keys or values, so both "
                 "ways do the same work."))
show_code(generate.generate, kvcache.KVCache.next, generate.cache_speed)
pages.page_link("attention", label=_("Back to Attention"))
