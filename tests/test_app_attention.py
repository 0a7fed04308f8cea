"""The Attention and Inside a language model pages (app_pages/13_attention.py, 14_inside_language.py) with
AppTest: every widget, a sentence with characters the model has never seen, the session's own model or the
built-in one, presenter mode; and the numbers on screen against the engine's own (the attention weights P
that training's CausalSelfAttention.forward makes, the weights and operation counts of the model)."""
import json

import numpy as np
import pytest
from apptest_utils import open_page, texts

from engine.language.models import build_model
from engine.language.text import Vocabulary
from ui.language.attention import DEFAULT_SENTENCE
from ui.language.model import builtin

ATTENTION, INSIDE = "app_pages/13_attention.py", "app_pages/14_inside_language.py"


def engine_weights(model, ids):
    """Each block's attention weights P (H, T, T) as training's forward computes and keeps them."""
    model.forward(np.asarray(ids).reshape(1, -1), keep=True)
    return [b.attn.P[0].astype(np.float64) for b in model.blocks]


def shown_weights(at, T):
    """The page's table of P: the one T x T table of numbers (the score table's cells are text)."""
    tables = [d.value for d in at.dataframe if d.value.shape == (T, T) and d.value.dtypes.map(
        lambda t: t.kind == "f").all()]
    assert len(tables) == 1, [d.value.shape for d in at.dataframe]
    return tables[0].to_numpy()


def chart_titles(at):
    return [json.loads(c.proto.spec).get("title") for c in at.get("vega_lite_chart")]


def attention_page(sentence=None, entry=None, present=False):
    at = open_page()
    if entry is not None:
        at.session_state["lm_model"] = entry
    if present:
        at.session_state["presenter"] = True
    at.switch_page(ATTENTION).run()
    if sentence is not None:
        at.text_input(key="att_sentence").input(sentence).run()
    assert not at.exception, at.exception
    return at


def test_the_pages_weights_are_the_engines_and_the_future_gets_zero():
    at = attention_page()
    model, vocab = builtin()["model"], builtin()["vocab"]
    ids = vocab.encode(DEFAULT_SENTENCE)
    T = len(ids)
    P = shown_weights(at, T)
    want = engine_weights(model, ids)[0][0]                      # block 1, head 1
    np.testing.assert_allclose(P, want, rtol=0, atol=1e-6)
    assert np.all(P[np.triu_indices(T, k=1)] == 0), "masked entries are exactly 0"
    np.testing.assert_allclose(P.sum(axis=1), 1, atol=1e-6)
    # every widget: the block, the head, the query slider, and the weights follow
    at.selectbox(key="att_block").set_value(1).run()
    at.radio(key="att_head").set_value(2).run()
    assert not at.exception, at.exception
    np.testing.assert_allclose(shown_weights(at, T), engine_weights(model, ids)[1][2], rtol=0, atol=1e-6)
    at.select_slider(key="att_query").set_value(5).run()
    assert not at.exception, at.exception
    assert "Where 5 · ␣ looks, head by head" in chart_titles(at)
    words = texts(at.markdown)
    assert f"for 0 of the {T - 1}" not in words and f"of the {T - 1} characters after the first" in words


def test_unknown_characters_get_one_sentence_and_the_rest_is_read():
    at = attention_page("Héllo wörld 😀!")
    notes = [i.value for i in at.info]
    assert len(notes) == 1 and "never seen 3 of these characters" in notes[0], notes
    assert "‘é’ (once)" in notes[0] and "‘😀’ (once)" in notes[0]
    model, vocab = builtin()["model"], builtin()["vocab"]
    ids = vocab.encode("Hllo wrld !")
    np.testing.assert_allclose(shown_weights(at, len(ids)), engine_weights(model, ids)[0][0], atol=1e-6)


def test_too_little_known_text_says_so_and_stops():
    at = attention_page("😀é")
    assert any("Type at least two characters" in i.value for i in at.info)
    assert not at.dataframe


def test_a_long_sentence_is_cut_to_the_context():
    model = builtin()["model"]
    at = attention_page("to be or not " * 10)
    assert any(f"at most {model.context} characters" in i.value for i in at.info)
    shown_weights(at, model.context)


def test_the_sessions_own_transformer_is_read():
    vocab = Vocabulary.of("abcde fghij")
    model = build_model({"kind": "transformer", "vocab": vocab.size, "context": 16, "width": 8, "blocks": 1,
                         "heads": 2}, seed=3)
    entry = {"model": model, "vocab": vocab, "settings": {"val_loss": 2.0}, "label": "my tiny model",
             "origin": "trained on this page"}
    at = attention_page("a bad cafe", entry)
    assert "my tiny model" in texts(at.caption)
    assert not at.main.selectbox, "one block: no block to choose"        # (the sidebar has the language picker)
    np.testing.assert_allclose(shown_weights(at, 10), engine_weights(model, vocab.encode("a bad cafe"))[0][0],
                               atol=1e-6)


def test_a_model_without_attention_says_so_and_the_built_in_is_read():
    vocab = Vocabulary.of("abc")
    entry = {"model": build_model({"kind": "bigram", "vocab": 3}), "vocab": vocab, "settings": {},
             "label": "a bigram", "origin": "trained on this page"}
    at = attention_page(entry=entry)
    assert any("has no attention" in i.value for i in at.info)
    assert "built-in" in texts(at.caption)


@pytest.mark.parametrize("page", [ATTENTION, INSIDE])
def test_presenter_mode(page):
    at = open_page()
    at.session_state["presenter"] = True
    at.switch_page(page).run()
    assert not at.exception, at.exception


# ------------------------------------------------------------------ Inside

def table_cell(at, row):
    rows = at.table[0].value
    return rows.set_index("").loc[row]


def test_inside_counts_are_the_engines_and_the_cache_is_measured():
    at = open_page(INSIDE)
    model = builtin()["model"]
    assert table_cell(at, "weights")["this model"] == f"{model.n_params():,}"
    assert table_cell(at, "operations to train on one character (forward + backward)")["this model"] == \
        f"{model.flops_per_token(backward=True):,}"
    assert table_cell(at, "weights")["GPT-2 small"] == "124,439,808"
    metrics = {m.label: m.value for m in at.metric}
    assert set(metrics) == {"Without the cache", "With the cache", "Faster by"}
    assert "the texts are **the same**" in texts(at.markdown)
    first = list(at.session_state["lm_cache_speed"].values())
    at.run()
    assert list(at.session_state["lm_cache_speed"].values())[0] is first[0], "measured once per model"
    at.button(key="inside_measure").click().run()
    assert not at.exception, at.exception
    assert list(at.session_state["lm_cache_speed"].values())[0] is not first[0], "the button measures anew"
    # the built-in's point is always there; no model of the user's yet
    assert any("No models of yours yet" in i.value for i in at.info)
    assert len(at.dataframe[0].value) == 1


def test_inside_notes_the_sessions_models_and_their_training():
    vocab = builtin()["vocab"]
    model = build_model({"kind": "transformer", "vocab": vocab.size, "context": 32, "width": 16, "blocks": 1,
                         "heads": 2}, seed=1)
    entry = {"model": model, "vocab": vocab, "label": "mine", "origin": "trained on this page",
             "settings": {"val_loss": 2.5, "step": 100, "batch_size": 8, "context": 32, "window": None,
                          "corpus": "Tiny Shakespeare"}}
    at = open_page()
    at.session_state["lm_model"] = entry
    at.switch_page(INSIDE).run()
    assert not at.exception, at.exception
    runs = at.dataframe[0].value
    assert list(runs["model"])[1] == "mine" and list(runs["characters read"]) == [64, 32]
    assert list(runs["validation loss"])[1] == 2.5
    tokens = 100 * 8 * 32
    assert f"It trained on {tokens:,} characters" in texts(at.markdown)
    assert "1 of your models so far" in texts(at.markdown)


@pytest.mark.parametrize("spec", [{"kind": "mlp", "context": 3, "embed": 4, "hidden": 8}, {"kind": "bigram"}],
                         ids=["mlp", "bigram"])
def test_inside_reads_a_model_without_attention(spec):
    vocab = Vocabulary.of("abcdefgh \n")
    model = build_model({**spec, "vocab": vocab.size})
    entry = {"model": model, "vocab": vocab, "label": f"my {spec['kind']}", "origin": "trained on this page",
             "settings": {"val_loss": 2.1, "corpus": "the names"}}
    at = open_page()
    at.session_state["lm_model"] = entry
    at.switch_page(INSIDE).run()
    assert not at.exception, at.exception
    assert list(at.dataframe[0].value["characters read"]) == [64, 3 if spec["kind"] == "mlp" else 1]
    assert table_cell(at, "weights")["this model"] == f"{model.n_params():,}"
    assert table_cell(at, "operations of its whole training")["this model"] == "not known"
    assert "has no keys or values" in texts(at.caption)
