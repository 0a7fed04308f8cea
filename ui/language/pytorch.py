"""The language model's PyTorch page (app_pages/15_pytorch_language.py): the engine's transformer code next
to its PyTorch twin's (bridge/language_twin.py), a small transformer built from the page's knobs, and its
comparison with the twin. torch is only imported (by the bridge, inside its functions) when asked for.

STEPS: (title, what to say, the engine's function whose real source is shown, the PyTorch lines). The
PyTorch lines are those of bridge/language_twin.py's modules (tests/test_app_pytorch_language.py checks
that each snippet's lines are in that file).
"""
from dataclasses import replace
from typing import NamedTuple

import numpy as np
import pandas as pd
import streamlit as st

from bridge import language_notebook, language_twin
from engine.language import layers
from engine.language.models import build_model
from engine.language.trainer import LMSettings
from i18n import N_, _, as_is, ngettext, num
from ui import charts
from ui.chart_cache import show as show_chart
from ui.code import source_of
from ui.formats import seconds_text
from ui.language.model import current_language_model

KEY = "lm_pytorch_result"
FLAG = 1e-5           # a difference above this is more than float32 rounding
BATCH = 8             # windows in the one batch sent through both
MAX_STEPS = 200       # the steps knob's top
SECONDS = 1.0         # the training race stops when both together have taken this long (the page's bound)


class Step(NamedTuple):
    title: str        # marked N_: translated where shown
    text: str
    engine: object    # the engine function shown (its real source)
    torch: str        # the PyTorch lines doing the same (from bridge/language_twin.py)


STEPS = [
    Step(N_("Embedding"), N_("A character id picks a row of a (V, C) table: one-hot times a matrix, without the "
         "multiplication. `nn.Embedding(V, C)` holds the same table as its `weight`; its backward adds each "
         "position's gradient into the row it used, as the engine's scatter-add."),
         layers.Embedding.forward,
         "self.tok = nn.Embedding(V, C)\n...\nx = self.tok(ids)"),
    Step(N_("Positions"), N_("A learned (T, C) table, one row per position, added to the characters' rows. PyTorch has "
         "no module for it: a plain `nn.Parameter`."),
         layers.PositionEmbedding.forward,
         "self.pos = nn.Parameter(torch.zeros(T, C))\n...\nx = self.tok(ids) + self.pos[:ids.shape[1]]"),
    Step(N_("LayerNorm"), N_("Each position's C numbers are shifted to mean 0 and scaled to variance 1, then multiplied "
         "by a gain and shifted by a bias. Same eps (1e-5) on both sides."),
         layers.LayerNorm.forward,
         "self.ln1, self.ln2 = nn.LayerNorm(C, eps=1e-5), nn.LayerNorm(C, eps=1e-5)"),
    Step(N_("Attention"), N_("The engine writes every line: q, k, v in one projection, scores scaled by 1/√D, the causal "
         "mask, softmax, the weighted sum. PyTorch does the middle in one call, "
         "`F.scaled_dot_product_attention(q, k, v, is_causal=True)`: `is_causal=True` is the mask that stops "
         "a position from looking ahead."),
         layers.CausalSelfAttention.forward,
         "def attention(self, x):\n"
         "    B, T, C = x.shape\n"
         "    q, k, v = self.qkv(x).view(B, T, 3, self.H, C // self.H).permute(2, 0, 3, 1, 4)\n"
         "    a = F.scaled_dot_product_attention(q, k, v, is_causal=True)     # (B, H, T, D)\n"
         "    return self.proj(a.transpose(1, 2).reshape(B, T, C))"),
    Step(N_("Feed-forward"), N_("Each position on its own: C → 4C, GELU (the tanh form on both sides), 4C → C."),
         layers.FeedForward.forward,
         "self.fc, self.out = nn.Linear(C, 4 * C), nn.Linear(4 * C, C)\n...\n"
         "self.out(F.gelu(self.fc(self.ln2(x)), approximate=\"tanh\"))"),
    Step(N_("Block"), N_("LayerNorm before each part, and each part's output added to its input (the residual "
         "connections). PyTorch's backward follows both roads by itself."),
         layers.Block.forward,
         "def forward(self, x):\n"
         "    x = x + self.attention(self.ln1(x))\n"
         "    return x + self.out(F.gelu(self.fc(self.ln2(x)), approximate=\"tanh\"))"),
    Step(N_("Loss"), N_("Softmax + cross-entropy at every position: the digits' own loss, one class per character. "
         "`F.cross_entropy` takes the logits as rows, so (B, T, V) becomes (B·T, V)."),
         layers.sequence_cross_entropy,
         "loss = F.cross_entropy(z.reshape(-1, z.shape[-1]), y.reshape(-1))\n"
         "loss.backward()"),
]


def engine_code(step):
    """(source, where) of the engine's function for a step."""
    return source_of(step.engine)


def knobs():
    """The model's knobs on the page; returns LMSettings for them (a small, quick training run)."""
    c1, c2, c3, c4, c5 = st.columns(5)
    blocks = c1.selectbox(_("Blocks"), [1, 2, 3, 4], index=1, key="lmpt_blocks",
                          help=_("Transformer blocks in a row."))
    heads = c2.selectbox(_("Heads"), [1, 2, 4], index=1, key="lmpt_heads", help=_("Attention heads in each block."))
    width = c3.selectbox(_("Width"), [16, 32, 64, 128], index=1, key="lmpt_width",
                         help=_("C: the numbers that stand for each character inside the model."))
    context = c4.selectbox(_("Context"), [8, 16, 32, 64], index=1, key="lmpt_context",
                           help=_("T: the characters the model reads at once."))
    steps = c5.number_input(_("Steps"), 1, MAX_STEPS, 60, step=10, key="lmpt_steps",
                            help=_("Both train this many steps of {batch} windows, or fewer: the race stops "
                                   "when both together have taken {seconds} s.").format(batch=BATCH,
                                                                                       seconds=num(SECONDS)))
    return LMSettings(context=context, width=width, blocks=blocks, heads=heads, batch_size=BATCH, steps=int(steps),
                      lr=3e-3, min_lr=3e-4, warmup=5, eval_every=10**6)


def pick_model(settings):
    """The radio: a fresh transformer from the knobs, or the session's language model (ui/language/model.py:
    its own, else the built-in) when it is a transformer. Returns (entry or None, how the page names it)."""
    entry = current_language_model()
    options = ["knobs"] + (["mine"] if entry["model"].kind == "transformer" else [])
    names = {"knobs": _("a fresh transformer from the knobs above"), "mine": entry["label"]}
    choice = st.radio(_("Model to compare"), options, format_func=names.get, key="lmpt_which",
                      help=_("The knobs build a new transformer (fast). Your language model is the one you "
                             "trained last, or the built-in one; only a transformer has a PyTorch twin here."))
    if entry["model"].kind != "transformer":
        st.caption(_("Your language model is {model}: only the transformer has a PyTorch twin here.").format(
            model=entry['model'].describe()))
    return (entry, names["mine"]) if choice == "mine" else (None, names["knobs"])


def run(prepared, settings, label, entry=None):
    """One batch through a model (a fresh one from `settings`, or entry["model"]) and its twin, then both
    train; kept in the session. The windows are the chosen text's, in the model's own vocabulary
    (characters it has never seen left out)."""
    if entry is None:
        model, ids = build_model(settings.spec(prepared.vocab.size), seed=settings.seed), prepared.train_ids
    else:
        model = entry["model"]
        ids = entry["vocab"].lookup(prepared.train)
        ids = ids[ids >= 0]
        if len(ids) < model.context + 2:
            st.error(_("This text has fewer than {n} characters your language model knows: "
                       "choose another text.").format(n=num(model.context + 2)))
            return
        settings = replace(settings, context=model.context, width=model.spec()["width"],
                           blocks=model.spec()["blocks"], heads=model.spec()["heads"])
    rng = np.random.default_rng(settings.seed)
    starts = rng.integers(0, len(ids) - settings.context - 1, BATCH)
    x = np.stack([ids[s:s + settings.context] for s in starts])
    y = np.stack([ids[s + 1:s + settings.context + 1] for s in starts])
    check = language_twin.compare(model, x, y)
    race = language_twin.train_both(model, ids, settings, settings.steps, seconds=SECONDS)
    st.session_state[KEY] = {"label": label, "model": model.describe(), "fresh": entry is None, "n_params": model.n_params(),
                             "names": language_twin.param_names(model), "check": check, "race": race,
                             "settings": settings}


def within(diff, value):
    """A difference that is float32 rounding: at most FLAG, or FLAG of the value when it is above 1."""
    return diff <= FLAG * max(1.0, value)


def show(result):
    """The table of largest differences (one row per weight array), a verdict, and both curves."""
    check, s = result["check"], result["settings"]
    st.markdown((_("Model: a {model}, {n} weights, fresh from seed {seed}, on windows of {text}. One batch of {batch} "
                   "windows of {context} characters through both:") if result.get("fresh", True) else
                 _("Model: a {model}, {n} weights, your language model's weights, on windows of {text}. One batch of "
                   "{batch} windows of {context} characters through both:")).format(
        model=result['model'], n=num(result['n_params']), seed=s.seed, text=result['label'], batch=BATCH,
        context=s.context))
    rows = list(zip([_("logits"), _("loss")] + [_("gradient of the {w}").format(w=w) for w in result["names"]],
                    [check.logits, check.loss] + check.grads, check.scales))
    table = pd.DataFrame([{_("what"): w, _("largest |NumPy − PyTorch|"): f"{d:.1e}", _("largest |value|"): f"{v:.2g}",
                           _("within 1e-5"): "✅" if within(d, v) else "⚠️"} for w, d, v in rows])
    st.dataframe(table, hide_index=True, width="stretch")
    st.caption(_("Within 1e-5: the difference is at most 1e-5, or 1e-5 of the largest value when that is above 1 "
                 "(float32 keeps about 7 significant digits, so larger numbers carry larger rounding)."))
    flagged = [w for w, d, v in rows if not within(d, v)]
    if flagged:
        st.warning(_("Above 1e-5, more than float32 rounding: {what}.").format(what=", ".join(flagged)), icon="⚠️")
    else:
        st.success(_("Same model: the largest difference of the logits, the loss and all {n} "
                     "gradients is **{worst:.1e}**, float32 rounding.").format(n=len(check.grads), worst=check.worst),
                   icon="✅")
    ours, theirs, t_ours, t_theirs = result["race"]
    n = len(ours)
    st.markdown((ngettext("**Both trained {n} step** (of the {asked} asked: the race stops after {seconds} s) of "
                          "{batch} windows from the same weights, on the same windows (AdamW, lr {lr} with warm-up "
                          "and cosine decay, gradients clipped at {clip}):",
                          "**Both trained {n} steps** (of the {asked} asked: the race stops after {seconds} s) of "
                          "{batch} windows from the same weights, on the same windows (AdamW, lr {lr} with warm-up "
                          "and cosine decay, gradients clipped at {clip}):", n) if n < s.steps else
                 ngettext("**Both trained {n} step** of {batch} windows from the same weights, on the same windows "
                          "(AdamW, lr {lr} with warm-up and cosine decay, gradients clipped at {clip}):",
                          "**Both trained {n} steps** of {batch} windows from the same weights, on the same windows "
                          "(AdamW, lr {lr} with warm-up and cosine decay, gradients clipped at {clip}):", n)).format(
        n=num(n), asked=num(s.steps), seconds=num(SECONDS), batch=num(BATCH), lr=num(s.lr), clip=num(s.grad_clip)))
    gap = max(abs(a - b) for a, b in zip(ours, theirs))
    c1, c2, c3 = st.columns(3)
    c1.metric(_("NumPy engine"), _("{seconds} s").format(seconds=seconds_text(t_ours)))
    c2.metric(as_is("PyTorch"), _("{seconds} s").format(seconds=seconds_text(t_theirs)))
    c3.metric(_("Largest loss difference"), f"{gap:.1e}",
              help=_("Rounding differences grow a little with every step: AdamW divides by each gradient's size."))
    show_chart(st, charts.twin_loss_chart, ours, theirs, _("NumPy engine ({seconds} s)").format(seconds=seconds_text(t_ours)),
               _("PyTorch ({seconds} s)").format(seconds=seconds_text(t_theirs)))
    st.caption(_("Training loss (nats per character) at each step. The dashed PyTorch curve runs inside the "
                 "engine's wide pale one; largest gap between them: {gap:.1e}.").format(gap=gap))


def notebook_run(knob_settings, knob_corpus):
    """The run "Download as notebook" reproduces: the session's (its language model's settings, text and seed,
    for the steps it took: ui/language/train.py keeps them with the model), else one with the page's knobs on
    the chosen text. Returns {"settings": LMSettings, "corpus": "names" | "shakespeare" | None (the user's own
    text), "steps", "app_loss" (the session run's held-out loss, or None), "words": which run, in a sentence}."""
    entry = st.session_state.get("lm_model") or {}
    saved = entry.get("settings") or {}
    fields = {k: saved[k] for k in LMSettings.__dataclass_fields__ if k in saved}
    if entry.get("model") is not None and "kind" in fields and "seed" in fields:
        settings = LMSettings(**fields)
        corpus = saved.get("text")
        steps = int(saved.get("step", settings.steps))
        twin = (_("then PyTorch re-creates it from the saved weights and checks the logits.")
                if settings.kind == "transformer" else _("(only the transformer has a PyTorch twin here)."))
        words = _("**Take it home**: your language model's run ({model}, trained on {text}, seed {seed}, {steps} "
                  "steps) as a Jupyter notebook. It trains the same model on the same text with the same settings, "
                  "saves it, {twin}").format(model=entry["model"].describe(), text=as_is(saved.get("corpus", "?")),
                                             seed=settings.seed, steps=num(steps), twin=twin)
        return {"settings": settings, "corpus": corpus if corpus in ("names", "shakespeare") else None,
                "steps": steps, "app_loss": saved.get("val_loss"), "words": words}
    return {"settings": knob_settings, "corpus": knob_corpus, "steps": knob_settings.steps, "app_loss": None,
            "words": _("**Take it home**: you have not trained a language model in this session, so the notebook "
                       "is a run with these knobs: the NumPy engine trains it and saves it, then PyTorch re-creates "
                       "it from the saved weights and checks the logits.")}


def download_button(key, settings, corpus, steps=None, app_loss=None):
    """"Download as notebook" for a run with `settings` on `corpus` ("names", "shakespeare", or None for the
    user's own text) for `steps` steps (None: settings.steps); the notebook is built only when the button is
    clicked."""
    st.download_button(
        _("Download as notebook"), icon=":material/download:", key=key, on_click="ignore",
        data=lambda: language_notebook.to_bytes(language_notebook.build(settings.as_dict(), corpus, steps, app_loss)),
        file_name="language_model_run.ipynb", mime="application/x-ipynb+json",
        help=_("A Jupyter notebook: the NumPy engine trains this {kind} for {steps} steps and saves it; a "
               "transformer is then re-created in PyTorch from the saved weights, with a cell asserting equal "
               "logits.").format(kind={"bigram": _("bigram model"), "mlp": _("MLP"),
                                       "transformer": _("transformer")}.get(settings.kind, as_is(settings.kind)),
                                 steps=num(settings.steps if steps is None else steps))
        + ("" if corpus else " " + _("Your own text is not put in it: save it as {name}.").format(
            name=language_notebook.OWN_TEXT)))
