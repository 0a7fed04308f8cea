"""Nothing lost on reload (issue 11): what the server keeps for each browser is
bounded in time and size, found only with that browser's key, and offered back
to a new session of the same browser (the real reload is in
tests/browser/test_browser_server.py)."""
import time

import numpy as np

from apptest_utils import open_page, texts
from engine.network import Network
from ui.keep import Store

KEY_A, KEY_B = "a" * 32, "b" * 32


def run_record(i, points=10):
    return {"id": i, "label": f"run {i}", "history": {"batch_loss": [0.5] * points}}


def test_kept_work_is_found_only_with_its_own_key():
    store = Store(max_bytes=10 * 2**20, max_seconds=3600)
    net = Network([784, 8, 10], seed=0)
    store.put(KEY_A, [run_record(1)], net, {"label": "mine"})
    kept = store.get(KEY_A)
    assert kept.model is net and [r["id"] for r in kept.runs] == [1] and kept.model_info == {"label": "mine"}
    assert store.get(KEY_B) is None
    store.drop(KEY_A)
    assert store.get(KEY_A) is None


def test_kept_work_expires_and_the_oldest_goes_first_when_memory_is_short():
    net = Network([784, 64, 10], seed=0)                    # about 200 kB of weights
    size = sum(p.nbytes for p in net.params())
    store = Store(max_bytes=int(2.5 * size), max_seconds=3600)
    for i, key in enumerate(("c" * 32, "d" * 32, "e" * 32)):
        store.put(key, [run_record(i)], net, {})
    assert store.get("c" * 32) is None                      # the oldest made room
    assert store.get("d" * 32) is not None and store.get("e" * 32) is not None
    assert store.total_bytes() <= 2.5 * size
    store.get("d" * 32).saved = time.time() - 7200          # kept two hours ago, allowed one
    assert store.get("d" * 32) is None and store.get("e" * 32) is not None


def test_a_new_session_of_the_same_browser_is_offered_its_work_back(monkeypatch):
    from ui import keep
    store = Store(max_bytes=10 * 2**20, max_seconds=3600)
    monkeypatch.setattr(keep, "store", lambda: store)
    net = Network([784, 8, 10], seed=3)
    store.put(KEY_A, [run_record(7)], net, {"label": "your model (784-8-10)"})
    monkeypatch.setattr(keep, "browser_key", lambda: KEY_A)     # this browser's cookie
    at = open_page()
    assert "Welcome back!" in texts(at.sidebar.markdown) and "1 run and your model" in texts(at.sidebar.markdown)
    at.sidebar.button(key="keep_restore").click().run()
    assert not at.exception, at.exception
    assert at.session_state["model"] is net and [r["id"] for r in at.session_state["runs"]] == [7]
    assert "Welcome back!" not in texts(at.sidebar.markdown)
    monkeypatch.setattr(keep, "browser_key", lambda: KEY_B)     # another browser: nothing
    other = open_page()
    assert "Welcome back!" not in texts(other.sidebar.markdown) and "model" not in other.session_state
    assert np.array_equal(store.get(KEY_A).model.weights[0], net.weights[0])     # A's work untouched


def test_restore_brings_back_the_runs_settings_everywhere_they_are_read(monkeypatch):
    """Issue 22: after a reload and Restore, "Download as notebook" exported the default MLP, not the restored
    CNN. The run's settings come back with its model: the Train page's settings, its lesson link and the
    notebook of the Train and PyTorch pages are the CNN's."""
    from engine.convnet import ConvNet
    from ui import keep, notebook_button, training
    settings = training.settings_from_values({"train_kind": "cnn", "train_filters": "4,8", "train_kernel": 3,
                                              "train_lr": 0.05, "train_epochs": 2}).as_dict()
    net = ConvNet(settings["layers"], seed=0)
    store = Store(max_bytes=10 * 2**20, max_seconds=3600)
    monkeypatch.setattr(keep, "store", lambda: store)
    store.put(KEY_A, [], net,
              {"label": "your model (CNN)", "settings": settings, "history": {"marks": []}})
    monkeypatch.setattr(keep, "browser_key", lambda: KEY_A)
    exported = []
    real = notebook_button.current_settings
    monkeypatch.setattr(notebook_button, "current_settings", lambda: exported.append(real()) or exported[-1])
    at = open_page()
    at.sidebar.button(key="keep_restore").click().run()
    assert not at.exception, at.exception
    assert at.session_state["model"] is net
    for page in ("app_pages/4_train.py", "app_pages/9_pytorch.py"):
        exported.clear()
        at.switch_page(page).run()
        assert not at.exception, at.exception
        assert exported and exported[-1] == settings, page          # the notebook's settings: the CNN's
    at.switch_page("app_pages/4_train.py").run()
    assert at.session_state["train_kind"] == "cnn" and at.session_state["train_filters"] == "4,8"
    assert at.query_params["kind"] in (["cnn"], "cnn")               # the page's lesson link


def lm_run(seed=0):
    """A small language-model run, trained a few steps and ended as the Train a language model page ends one:
    (its Compare record, the session's language-model entry)."""
    from engine.language.modelfile import settings_of
    from engine.language.text import Vocabulary, load_corpus
    from engine.language.trainer import LMSettings, new_lm_run
    from ui.language import runs as lm_runs
    text = load_corpus("names")[:20_000]
    vocab = Vocabulary.of(text)
    s = LMSettings(kind="mlp", context=3, embed=4, hidden=16, lr=0.01, batch_size=8, steps=30, eval_every=10,
                   eval_tokens=256, warmup=0, seed=seed)
    run = new_lm_run(vocab.encode(text), s, vocab.size, vocab)
    run.run(batches=30)
    val_loss, val_acc = run.evaluate()
    result = {"status": "finished", "val_loss": val_loss, "val_acc": val_acc, "steps": run.step,
              "train_seconds": run.train_seconds}
    entry = {"model": run.model.copy(), "vocab": vocab, "label": "MLP, trained on names", "origin": "trained",
             "settings": settings_of(run.settings, val_loss=round(val_loss, 4), corpus="names", step=run.step)}
    return lm_runs.record(run, result, "names", 1 + seed), entry


def test_language_model_runs_and_model_are_kept_and_offered_back(monkeypatch):
    """#23: a reload lost the language-model runs (Compare runs) and the session's language model."""
    from ui import keep
    store = Store(max_bytes=10 * 2**20, max_seconds=3600)
    monkeypatch.setattr(keep, "store", lambda: store)
    monkeypatch.setattr(keep, "browser_key", lambda: KEY_A)
    records, entries = zip(*(lm_run(seed) for seed in (0, 1)))
    at = open_page()
    at.session_state["lm_runs"] = list(records)
    at.session_state["lm_model"] = entries[1]
    at.run()                                                   # the page's end keeps them (keep.remember)
    kept = store.get(KEY_A)
    assert [r["id"] for r in kept.lm_runs] == [1, 2] and kept.lm_model["label"] == "MLP, trained on names"
    assert kept.nbytes >= kept.lm_model["file"].nbytes > 0

    again = open_page()                                        # the reload: a new session of the same browser
    assert "2 language-model runs and your language model" in texts(again.sidebar.markdown)
    again.sidebar.button(key="keep_restore").click().run()
    assert not again.exception, again.exception
    assert [r["id"] for r in again.session_state["lm_runs"]] == [1, 2]
    assert again.session_state["lm_runs"][0]["history"] == records[0]["history"]
    back = again.session_state["lm_model"]
    assert back["label"] == entries[1]["label"] and back["vocab"].chars == entries[1]["vocab"].chars
    for a, b in zip(back["model"].params(), entries[1]["model"].params()):
        np.testing.assert_array_equal(a, b)
    assert back["settings"]["step"] == entries[1]["settings"]["step"]


def test_restored_language_model_runs_and_new_ones_are_numbered_apart():
    from ui.language import runs as lm_runs
    kept = [{"id": 1, "name": "LM 1: a", "model": "a"}, {"id": 2, "name": "LM 2: b", "model": "b"}]
    mine = [{"id": 1, "name": "LM 1: c", "model": "c"}]
    out = lm_runs.merged(kept, mine)
    assert [(r["id"], r["name"]) for r in out] == [(1, "LM 1: a"), (2, "LM 2: b"), (3, "LM 3: c")]
