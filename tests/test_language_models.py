"""The language-model ladder (engine/language): the neural bigram learns the count table, AdamW is
torch's AdamW, generation with the key/value cache writes the same text as without, and the
digits' line of runs (engine/worker.py) trains a language model like any run."""
import importlib.util
import threading

import numpy as np
import pytest

from engine.language.generate import generate, sample
from engine.language.kvcache import KVCache
from engine import fast
from engine.language.models import LanguageModel, build_model, spec_params
from engine.language.text import Vocabulary, load_corpus
from engine.language.trainer import LMSettings, LMTrainer, learning_rate, new_lm_run
from engine.optim import Adam, AdamW
from engine.worker import BackgroundRun, Slots

HAS_TORCH = importlib.util.find_spec("torch") is not None


def names_ids(n=60_000):
    text = load_corpus("names")[:n]
    vocab = Vocabulary.of(text)
    return vocab, vocab.encode(text)


def test_neural_bigram_learns_the_count_tables_probabilities():
    vocab, ids = names_ids(30_000)
    V = vocab.size
    model = build_model({"kind": "bigram", "vocab": V})
    n = (len(ids) - 1) // 1000 * 1000
    x, y = ids[:n].reshape(-1, 1000), ids[1:n + 1].reshape(-1, 1000)
    counts = np.zeros((V, V))
    np.add.at(counts, (x.ravel(), y.ravel()), 1)          # the pairs the network sees
    opt = Adam(lr=0.1)
    for _ in range(300):                                    # the whole text every step: full-batch descent
        loss, grads = model.gradients(x, y)
        opt.step(model.params(), grads)
    seen = counts.sum(1) >= 200
    learned = np.exp(model.table.W.astype(np.float64))
    learned /= learned.sum(1, keepdims=True)
    table = counts / np.maximum(counts.sum(1, keepdims=True), 1)
    assert np.abs(learned[seen] - table[seen]).max() < 0.01
    count_loss = -np.sum(counts * np.log(np.where(counts > 0, table, 1))) / counts.sum()
    assert loss == pytest.approx(count_loss, abs=0.005)   # the table's own loss is the best possible


def adamw_by_hand(p, grads, lr, b1, b2, eps, wd):
    p, m, s = p.astype(np.float64), 0.0, 0.0
    for t, g in enumerate(grads, 1):
        p = p * (1 - lr * wd)
        m = b1 * m + (1 - b1) * g
        s = b2 * s + (1 - b2) * g * g
        p = p - lr * (m / (1 - b1 ** t)) / (np.sqrt(s / (1 - b2 ** t)) + eps)
    return p


def test_adamw_is_adam_with_decoupled_weight_decay():
    rng = np.random.default_rng(0)
    w0 = rng.standard_normal((3, 4))
    grads = [rng.standard_normal((3, 4)) for _ in range(5)]
    w, b = w0.copy(), np.ones(4)
    opt = AdamW(lr=0.01, beta1=0.9, beta2=0.99, eps=1e-8, weight_decay=0.5, decays=[True, False])
    for g in grads:
        opt.step([w, b], [g, np.zeros(4)])
    np.testing.assert_allclose(w, adamw_by_hand(w0, grads, 0.01, 0.9, 0.99, 1e-8, 0.5), rtol=1e-12)
    np.testing.assert_array_equal(b, np.ones(4))            # no decay, no gradient: untouched
    w2 = w0.copy()                                          # decoupled: not Adam with an L2 term
    adam = Adam(lr=0.01, beta1=0.9, beta2=0.99)
    for g in grads:
        adam.step([w2], [g + 0.5 * w2])
    assert np.abs(w2 - w).max() > 1e-3


@pytest.mark.skipif(not HAS_TORCH, reason="PyTorch is not installed")
def test_adamw_steps_equal_torch_adamw():
    import torch
    rng = np.random.default_rng(1)
    w0 = rng.standard_normal((4, 5))
    grads = [rng.standard_normal((4, 5)) for _ in range(6)]
    w = w0.copy()
    opt = AdamW(lr=0.003, weight_decay=0.1)
    tw = torch.tensor(w0, requires_grad=True)
    topt = torch.optim.AdamW([tw], lr=0.003, betas=(0.9, 0.99), eps=1e-8, weight_decay=0.1)
    for g in grads:
        opt.step([w], [g])
        tw.grad = torch.tensor(g)
        topt.step()
    np.testing.assert_allclose(w, tw.detach().numpy(), rtol=1e-10, atol=1e-12)


def test_transformer_training_lowers_the_held_out_loss():
    vocab, ids = names_ids(20_000)
    s = LMSettings(context=16, width=32, blocks=2, heads=2, batch_size=16, steps=60, eval_every=60, lr=3e-3,
                   warmup=5)
    run = new_lm_run(ids, s, vocab.size, vocab)
    before = run.evaluate()[0]
    assert before == pytest.approx(np.log(vocab.size), abs=0.1)     # about uniform at the start
    report = run.run()
    assert report.finished and not report.diverged
    assert run.history.epochs[-1]["val_loss"] < before - 0.5


@pytest.mark.parametrize("temperature,top_k", [(1.0, None), (0.7, 5), (0.0, None)])
def test_generation_with_the_cache_writes_the_same_text_as_without(temperature, top_k):
    model = build_model({"kind": "transformer", "vocab": 11, "context": 16, "width": 16, "blocks": 2, "heads": 2},
                        seed=3)
    rng = np.random.default_rng(0)
    for p in model.params():
        p += (rng.standard_normal(p.shape) * 0.3).astype(p.dtype)
    a = generate(model, [1, 2, 3], 70, temperature, top_k, seed=7, cache=True)      # past the window twice
    b = generate(model, [1, 2, 3], 70, temperature, top_k, seed=7, cache=False)
    np.testing.assert_array_equal(a, b)
    assert len(set(a.tolist())) > 1


def float64_transformer():
    """A small float64 transformer with weights far from their start (every part matters), and an rng."""
    model = build_model({"kind": "transformer", "vocab": 9, "context": 12, "width": 16, "blocks": 2, "heads": 4},
                        seed=1).astype(np.float64)
    rng = np.random.default_rng(2)
    for p in model.params():
        p += rng.standard_normal(p.shape) * 0.3
    return model, rng


def test_the_cached_step_gives_the_full_forwards_logits():
    model, rng = float64_transformer()
    ids = rng.integers(0, 9, (1, 12))
    full = model.forward(ids)
    caches = [{} for _ in model.blocks]
    first = model.step(ids[:, :5], caches, 0)
    rest = [model.step(ids[:, t:t + 1], caches, t) for t in range(5, 12)]
    np.testing.assert_allclose(np.concatenate([first] + rest, axis=1), full, rtol=1e-10, atol=1e-12)


def test_the_lean_cached_step_gives_the_full_forwards_logits_also_after_a_restart():
    """engine/language/kvcache.py's one-position step (generation's fast path) against forward()."""
    model, rng = float64_transformer()
    ids = rng.integers(0, 9, (1, 12))
    cache = KVCache(model)
    for restart in range(2):                   # the second time into the same arrays, after clear()
        first = cache.read(ids[0, :4].tolist())
        rest = [cache.next(int(ids[0, t])).copy() for t in range(4, 12)]
        full = model.forward(ids)[0]
        np.testing.assert_allclose(np.stack([first] + rest), full[3:], rtol=1e-10, atol=1e-12)
        with pytest.raises(ValueError, match="at most 12"):
            cache.next(0)
        cache.clear()
        ids = rng.integers(0, 9, (1, 12))


def test_sampling_temperature_and_top_k():
    logits = np.array([0.0, 1.0, 3.0, 2.0])
    rng = np.random.default_rng(0)
    assert sample(logits, 0) == 2
    top2 = {sample(logits, 1.0, 2, rng) for _ in range(300)}
    assert top2 == {2, 3}
    cold = np.mean([sample(logits, 0.2, None, rng) == 2 for _ in range(300)])
    hot = np.mean([sample(logits, 5.0, None, rng) == 2 for _ in range(300)])
    assert cold > 0.95 and hot < 0.5


def test_learning_rate_warms_up_then_decays_to_min_lr():
    s = LMSettings(lr=1e-3, min_lr=1e-4, warmup=100, steps=2000)
    assert learning_rate(s, 0) < learning_rate(s, 50) < learning_rate(s, 99) <= 1e-3
    assert learning_rate(s, 100) == pytest.approx(1e-3)
    assert learning_rate(s, 1050) == pytest.approx(5.5e-4)
    assert learning_rate(s, 2000) == pytest.approx(1e-4)


def test_spec_sizes_are_checked_before_anything_is_made():
    spec = {"kind": "transformer", "vocab": 65, "context": 64, "width": 128, "blocks": 4, "heads": 4}
    assert spec_params(spec) == build_model(spec).n_params()
    for s in ({"kind": "mlp", "vocab": 27, "context": 3, "embed": 10, "hidden": 200}, {"kind": "bigram", "vocab": 27}):
        assert spec_params(s) == build_model(s).n_params()
    with pytest.raises(ValueError, match="heads"):
        build_model({**spec, "heads": 3})
    with pytest.raises(ValueError, match="at most"):
        build_model({**spec, "width": 1024, "blocks": 4, "vocab": 2000}, max_params=1_000_000)


def test_the_line_of_runs_trains_pauses_and_stops_a_language_model():
    vocab, ids = names_ids(20_000)
    s = LMSettings(kind="mlp", context=3, batch_size=8, steps=100_000, eval_every=50)
    run = BackgroundRun(new_lm_run(ids, s, vocab.size, vocab), Slots(1), None, None)
    try:
        for _ in range(500):
            if run.trainer.step >= 60:
                break
            run.join(0.01)
        assert run.trainer.step >= 60 and run.error is None
        assert run.pause(wait=5.0)
        paused_at = run.trainer.step
        run.join(0.3)
        assert run.trainer.step == paused_at
        run.resume()
        assert run.stop(wait=5.0)
    finally:
        run.stop(wait=5.0)
    assert run.error is None and run.result is not None
    loss, acc = run.result
    assert 0 < loss < np.log(vocab.size) and 0 < acc < 1
    assert run.trainer.history.epochs and run.trainer.history.epochs[0]["step"] == 50


def test_steering_changes_the_learning_rate_from_the_next_step():
    vocab, ids = names_ids(20_000)
    run = LMTrainer(build_model({"kind": "bigram", "vocab": vocab.size}), ids,
                    LMSettings(kind="bigram", steps=10, warmup=0, eval_every=5, min_lr=1e-3, lr=1e-3))
    run.run(batches=2)
    assert run.set_hyperparams(lr=0.5) == "lr 0.5"
    run.run(batches=1)
    assert run.optimizer.lr == pytest.approx(learning_rate(run.settings, 2)) and run.optimizer.lr > 0.1
    with pytest.raises(ValueError, match="learning rate"):
        run.set_hyperparams(lr=-1)


def test_attention_maps_are_the_models_own_numbers():
    from engine.language.inspect import attention, embedding_map
    model = build_model({"kind": "transformer", "vocab": 9, "context": 8, "width": 16, "blocks": 2, "heads": 4},
                        seed=1).astype(np.float64)
    rng = np.random.default_rng(2)
    for p in model.params():
        p += rng.standard_normal(p.shape) * 0.3
    ids = np.array([1, 4, 2, 8, 0])
    maps = attention(model, ids)
    assert len(maps) == 2 and maps[0].weights.shape == (4, 5, 5)
    np.testing.assert_allclose(maps[1].weights.sum(-1), 1, rtol=1e-12)
    assert (maps[1].weights[:, np.triu_indices(5, 1)[0], np.triu_indices(5, 1)[1]] == 0).all()
    # the maps' last block, pushed through its projection, is the block's own attention output
    block = model.blocks[1]
    x = model.pos.forward(model.tok.forward(ids[None], keep=False), keep=False)
    x = model.blocks[0].forward(x, keep=False)
    want = block.attn.forward(block.ln1.forward(x, keep=False), keep=False)
    got = block.attn._merge(maps[1].out[None])
    np.testing.assert_allclose(got, want, rtol=1e-10)
    coords, share = embedding_map(model)
    assert coords.shape == (9, 2) and 0 < share[1] <= share[0] <= 1


@pytest.mark.parametrize("kind", ["transformer", "mlp", "bigram"])
def test_cost_estimate_before_start_bounds_the_memory_a_step_really_takes(kind):
    import tracemalloc

    from engine.cost import lm_run_cost
    vocab, ids = names_ids(20_000)
    s = LMSettings(kind=kind, context=32, width=64, blocks=2, heads=2, batch_size=16, steps=5, eval_every=5)
    cost = lm_run_cost(s, vocab.size)
    tracemalloc.start()
    try:
        run = new_lm_run(ids, s, vocab.size)
        run.run(batches=2)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert cost.n_params == run.model.n_params()
    assert peak <= cost.memory_bytes <= 4 * peak + 2**20, (peak, cost.memory_bytes)
    if kind == "transformer":
        assert cost.batch_flops == pytest.approx(run.model.flops_per_token() * s.batch_size * s.sequence, rel=0.001)


def test_a_runs_divergence_is_told_in_the_language_of_the_session_that_started_it():
    """The run trains in a thread of its own (no language set there): its message is still in the language of the
    page that started it (i18n's language is per script run)."""
    import threading

    import i18n
    vocab, ids = names_ids(5_000)
    i18n.use("it")
    try:
        run = new_lm_run(ids, LMSettings(kind="bigram", batch_size=8, steps=10, eval_every=5), vocab.size, vocab)
    finally:
        i18n.use(i18n.SOURCE)
    run.model.params()[0][...] = np.nan                  # the next step's loss is nan
    thread = threading.Thread(target=run.run, kwargs={"batches": 1})
    thread.start()
    thread.join(30)
    assert run.diverged
    assert run.message.startswith("L'addestramento è divergente al passo 1: la perdita è diventata nan."), run.message


# ---------------------------------------------------------------- threads (engine/fast.py trick 1)

def small_lm_run(threads, steps=6):
    vocab, ids = names_ids(20_000)
    s = LMSettings(context=16, width=32, blocks=2, heads=2, batch_size=10, steps=steps, eval_every=steps, lr=3e-3,
                   warmup=2)
    run = new_lm_run(ids, s, vocab.size, vocab)
    run.threads = threads
    run.run()
    return run


@pytest.mark.parametrize("threads", [2, 3])
def test_a_language_model_in_threads_learns_what_one_thread_learns(monkeypatch, threads):
    """The very same numbers: the batch is cut into the same slices on any number of threads."""
    monkeypatch.setattr(fast, "MIN_SLICE_FLOPS", 1.0)             # this small model: slices of 1 window and up
    one, many = small_lm_run(1), small_lm_run(threads)
    assert fast.slices(10, fewest=1, smallest=1) == [slice(0, 5), slice(5, 10)]
    for p, q in zip(one.model.params(), many.model.params()):
        np.testing.assert_array_equal(p, q)
    assert one.history.batch_loss == many.history.batch_loss


def test_a_language_model_works_on_two_threads_at_once(monkeypatch):
    seen, lock, both = set(), threading.Lock(), threading.Barrier(2, timeout=10)
    plain = LanguageModel.gradients

    def spy(model, ids, targets):
        with lock:
            seen.add((threading.get_ident(), id(model.layers[0])))
        both.wait()                              # both slices are in gradients() at the same moment
        return plain(model, ids, targets)

    monkeypatch.setattr(fast, "MIN_SLICE_FLOPS", 1.0)
    monkeypatch.setattr(LanguageModel, "gradients", spy)
    small_lm_run(2, steps=1)
    assert len({t for t, _ in seen}) == 2 and len({layer for _, layer in seen}) == 2


def test_a_language_models_replica_shares_the_weights_not_the_memory():
    model = build_model({"kind": "transformer", "vocab": 11, "context": 16, "width": 16, "blocks": 2, "heads": 2})
    twin = model.replica()
    assert all(p is q for p, q in zip(model.params(), twin.params()))
    assert all(a is not b for a, b in zip(model.layers, twin.layers))
    ids = np.random.default_rng(0).integers(0, 11, (3, 8))
    before = [vars(layer).copy() for layer in model.layers]
    twin.gradients(ids, ids)
    assert [vars(layer).keys() for layer in model.layers] == [b.keys() for b in before]   # nothing kept on the original


# ---------------------------------------------------------------- a step and an evaluation cut short

def test_a_step_or_an_evaluation_stopped_between_its_parts_is_carried_on_not_lost_or_redone(monkeypatch):
    """A Pause, or the end of a turn in the line of runs, comes between two parts of a step or of the held-out
    check: the next call carries on from there. The run ends on the numbers of a run never stopped (the same
    windows, no part twice) and keeps every check (the last one too: it was lost, the run being 'finished')."""
    vocab, ids = names_ids(20_000)
    s = LMSettings(kind="mlp", context=3, batch_size=8, steps=6, eval_every=3, eval_tokens=240, window=8,
                   sample_chars=20)

    def make():
        run = new_lm_run(ids, s, vocab.size, vocab)
        run.part = 2                                       # 4 parts a step, 10 parts a check (3 * part windows)
        return run
    calls, gradients = [], LanguageModel.gradients
    monkeypatch.setattr(LanguageModel, "gradients", lambda self, *a, **k: calls.append(1) or gradients(self, *a, **k))
    alone = make()
    alone.run()
    assert len(calls) == 6 * 4 and [e["step"] for e in alone.history.epochs] == [3, 6]
    calls.clear()
    run, asked, calls_made = make(), [0], 0
    while not run.finished:
        run.run(stop=lambda: asked.__setitem__(0, asked[0] + 1) or asked[0] % 3 == 0)   # cut every few parts
        calls_made += 1
        assert calls_made < 200
    assert calls_made > 10                                 # (so it was really cut, steps and checks)
    assert len(calls) == 6 * 4                             # each part of each step once
    for p, q in zip(alone.model.params(), run.model.params()):
        np.testing.assert_array_equal(p, q)
    assert alone.history.batch_loss == run.history.batch_loss
    assert ([(e["step"], e["val_loss"]) for e in run.history.epochs]
            == [(e["step"], e["val_loss"]) for e in alone.history.epochs])
    assert run.history.samples == alone.history.samples


def test_a_language_models_closing_check_goes_in_parts_that_answer_pause():
    """The worker's closing check of a language model was one whole evaluate(): Pause waited for all of it
    (15,360 characters by default, minutes for the biggest model the budget allows) and the run held its
    place in the line meanwhile. Now it is a HeldOutCheck, a part per step, like the digits' test pass."""
    vocab, ids = names_ids(20_000)
    run = new_lm_run(ids, LMSettings(kind="mlp", context=3, batch_size=8, steps=2, eval_every=2, eval_tokens=480,
                                     window=8), vocab.size, vocab)
    run.part = 2                                           # the check: 60 windows, 6 a part: 10 parts
    slots, hold_at, box = Slots(1), [3], []

    def alive():                     # between two parts the worker waits here once the check has done hold_at
        testing = box[0].testing if box else None
        while testing is not None and testing.parts >= hold_at[0]:
            threading.Event().wait(0.001)
        return True
    job = BackgroundRun(run, slots, None, None, alive=alive)
    box.append(job)
    for _ in range(5000):
        if job.testing is not None and job.testing.parts >= 3:
            break
        job.join(0.002)
    assert job.phase == "testing" and (job.testing.seen, job.testing.total) == (3 * 6 * 8, 480)
    job.pause(wait=0)
    hold_at[0] = 10 ** 9
    assert job.pause(wait=5) and job.phase == "paused" and slots.counts() == (0, 0)   # its place given back
    seen = job.testing.seen
    job.join(0.2)
    assert job.testing.seen == seen
    job.resume()
    assert job.join(10) and job.error is None
    assert job.testing.parts == 10 and job.result == run.evaluate()     # carried on, nothing done twice
