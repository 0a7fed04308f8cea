"""engine/language/bigram.py: the count table, its probabilities, the loss in nats per character
and sampling with a temperature, each against a computation written out here."""
import math
from collections import Counter

import numpy as np
import pytest

from engine.language import bigram
from engine.language.text import Vocabulary, load_corpus, prepare


def test_counts_are_the_pairs_of_the_text():
    text = "abracadabra"
    vocab = Vocabulary.of(text)
    N = bigram.counts(vocab.encode(text), vocab.size)
    pairs = Counter(zip(text, text[1:]))
    for a in vocab.chars:
        for b in vocab.chars:
            assert N[vocab.ids()[a], vocab.ids()[b]] == pairs[(a, b)]
    assert N.sum() == len(text) - 1
    ids = vocab.lookup("ab?ra")                   # ? is unknown: the pairs b? and ?r are not counted
    assert bigram.counts(ids, vocab.size).sum() == 2


@pytest.mark.parametrize("k", [0.0, 0.5, 1.0, 10.0])
def test_probabilities_are_smoothed_counts_over_their_row(k):
    N = np.array([[3, 1, 0], [0, 0, 0], [5, 5, 10]])
    P = bigram.probabilities(N, k)
    np.testing.assert_allclose(P.sum(axis=1), 1.0)
    np.testing.assert_allclose(P[0], (N[0] + k) / (4 + 3 * k))
    np.testing.assert_allclose(P[2], (N[2] + k) / (20 + 3 * k))
    np.testing.assert_allclose(P[1], 1 / 3)       # an empty row: every character equally likely


def test_the_loss_is_the_average_negative_log_probability_in_nats():
    text = "hello hello help"
    vocab = Vocabulary.of(text)
    P = bigram.probabilities(bigram.counts(vocab.encode(text), vocab.size), 1.0)
    ids = vocab.lookup("helpx hell")
    loss, used, left = bigram.nll(P, ids)
    idx = vocab.ids()
    terms = [-math.log(P[idx[a], idx[b]]) for a, b in zip("helpx hell", "elpx hell") if a in idx and b in idx]
    assert (used, left) == (len(terms), 2) and loss == pytest.approx(sum(terms) / len(terms))
    uniform = np.full((vocab.size, vocab.size), 1 / vocab.size)
    assert bigram.nll(uniform, ids)[0] == pytest.approx(math.log(vocab.size))
    with np.errstate(divide="ignore"):
        assert bigram.nll(bigram.probabilities(bigram.counts(vocab.encode("hel"), vocab.size), 0.0),
                          vocab.encode("hh"))[0] == math.inf


def test_the_names_count_model_beats_knowing_nothing():
    p = prepare(load_corpus("names"))
    P = bigram.probabilities(bigram.counts(p.train_ids, p.vocab.size), 1.0)
    loss, used, left = bigram.nll(P, p.val_ids)
    assert left == 0 and used == len(p.val) - 1
    assert 2.3 < loss < 2.7 < math.log(27)       # makemore's bigram: about 2.45 on all the names


def test_temperature_sharpens_and_flattens_the_rows():
    P = np.array([[0.7, 0.2, 0.1, 0.0], [0.25, 0.25, 0.25, 0.25], [0.5, 0.5, 0, 0], [0.1, 0.2, 0.3, 0.4]])
    np.testing.assert_allclose(bigram.with_temperature(P, 1.0), P, atol=1e-12)
    cold, hot = bigram.with_temperature(P, 0.5), bigram.with_temperature(P, 2.0)
    np.testing.assert_allclose(cold[0, :3], np.array([0.49, 0.04, 0.01]) / 0.54)
    np.testing.assert_allclose(hot[0, :3], np.sqrt([0.7, 0.2, 0.1]) / np.sqrt([0.7, 0.2, 0.1]).sum())
    assert cold[0, 3] == hot[0, 3] == 0           # never seen stays never
    np.testing.assert_allclose(cold[1], 0.25)


def test_samples_follow_the_table():
    P = np.array([[0.0, 0.9, 0.1], [0.0, 0.0, 1.0], [1.0, 0.0, 0.0]])
    out = bigram.sample(P, 0, 20_000, 1.0, rng=0)
    assert out.dtype == np.int32
    prev = np.concatenate(([0], out[:-1]))
    assert not np.any(P[prev, out] == 0), "a pair with probability 0 was drawn"
    after0 = out[prev == 0]
    assert np.mean(after0 == 1) == pytest.approx(0.9, abs=0.02)
    cold = bigram.sample(P, 0, 5000, 0.25, rng=1)
    assert np.mean(cold[np.concatenate(([0], cold[:-1])) == 0] == 1) > 0.99     # 0.9^4 / (0.9^4 + 0.1^4)
    np.testing.assert_array_equal(bigram.sample(P, 0, 50, 1.0, rng=3), bigram.sample(P, 0, 50, 1.0, rng=3))


# ------------------------------------------------------------------ the neural twin
def test_the_loss_from_the_counts_is_the_networks_loss_on_the_whole_text():
    from engine.language.models import build_model
    text = load_corpus("names")[:20_000]
    vocab = Vocabulary.of(text)
    ids = vocab.encode(text)
    model = build_model({"kind": "bigram", "vocab": vocab.size}, seed=3).astype(np.float64)
    model.table.W[...] = np.random.default_rng(1).normal(size=model.table.W.shape)
    loss, grads = bigram.text_loss_and_gradients(model, bigram.counts(ids, vocab.size))
    grads = [g.copy() for g in grads]
    want_loss, want_grads = model.gradients(ids[:-1][:, None], ids[1:][:, None])   # every pair, one by one
    assert loss == pytest.approx(want_loss, rel=1e-12)
    np.testing.assert_allclose(grads[0], want_grads[0], rtol=1e-9, atol=1e-15)


def test_the_network_ends_with_the_count_tables_probabilities():
    from engine.language.models import build_model
    from engine.optim import Adam
    p = prepare(load_corpus("names"))
    N = bigram.counts(p.train_ids, p.vocab.size)
    model = build_model({"kind": "bigram", "vocab": p.vocab.size})
    losses = bigram.fit(model, N, 300, Adam(lr=1.0))
    table = bigram.probabilities(N, 0.0)
    assert losses[0] == pytest.approx(math.log(27), abs=0.01) and losses[-1] < losses[0]
    assert np.abs(bigram.network_probabilities(model) - table).max() < 1e-3
    assert bigram.nll(bigram.network_probabilities(model), p.train_ids)[0] == pytest.approx(
        bigram.nll(table, p.train_ids)[0], abs=1e-4)
