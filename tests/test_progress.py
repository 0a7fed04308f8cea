"""The progress line's numbers (ui/training.progress) never step back, even while an
epoch's batches are done and its validation pass is still running (when the page,
in another thread, may well read them)."""
import numpy as np

from engine.data import load_sample
from engine.network import Network
from engine.trainer import Settings, Trainer
from ui.training import progress


def test_progress_moves_on_through_an_epoch_end_and_its_validation():
    data = load_sample()
    s = Settings(sizes=(784, 16, 10), batch_size=50, val_fraction=0.2, epochs=3)
    run = Trainer(Network(s.sizes, s.activation, s.loss, seed=0), data.x_train[:500],
                  data.y_train[:500].astype(np.int64), s)
    run.part = 10                   # validation of 100 images in parts of 30: stop() is asked in between
    seen, during_validation = [], []

    def look():                     # what a page redrawn at this moment would show
        p = progress(run)
        seen.append((p["epoch"], p["batch"], p["fraction"]))
        if run.pos >= run.n_train:
            during_validation.append(seen[-1])
        return False                # never stop

    while run.epoch < 2:
        run.run(batches=1, stop=look)
        look()
    assert during_validation, "the test never looked during a validation pass"
    assert set(v[:2] for v in during_validation) == {(1, run.batches_per_epoch), (2, run.batches_per_epoch)}
    assert seen == sorted(seen), seen                                    # never backwards


def test_the_progress_line_names_the_validation_and_test_passes(monkeypatch):
    """Issue 21: the passes run in parts in the line of runs, and the progress line says which one and how far."""
    import time
    from engine.worker import BackgroundRun, Slots
    from ui import training
    data = load_sample()
    s = Settings(sizes=(784, 16, 10), batch_size=50, val_fraction=0.2, epochs=1)
    run = Trainer(Network(s.sizes, s.activation, s.loss, seed=0), data.x_train[:500],
                  data.y_train[:500].astype(np.int64), s)
    run.part = 10
    monkeypatch.setattr(training, "trainer", lambda: run)
    monkeypatch.setattr(training, "job", lambda: None)
    words = []
    while not run.finished:
        run.run(batches=1, stop=lambda: bool(words.append(training.passes_progress())))
    assert " · checking the validation images: 30 of 100" in words and " · checking the validation images: 90 of 100" \
        in words, words
    slots, other = Slots(1), object()
    assert slots.acquire(other)          # the one place is taken: the test pass waits in line ...
    job = BackgroundRun(run, slots, data.test_float()[:200], data.y_test[:200])
    monkeypatch.setattr(training, "job", lambda: job)
    end = time.monotonic() + 30
    while job.testing is None and time.monotonic() < end:
        time.sleep(0.01)
    job.pause(wait=0)                    # ... and is paused there, before its first part
    slots.release(other)
    assert job.pause(wait=10)
    assert training.passes_progress() == f" · testing: {job.testing.seen:,} of 200 test images"
    job.cancel(wait=10)


def test_the_progress_line_says_how_far_a_mini_batch_in_parts_is(monkeypatch):
    """A big mini-batch is worked through in parts (a Pause keeps the parts done): between two of them the
    progress line says how far it is, so a long mini-batch does not look stuck; a stopped run says nothing of it."""
    from ui import training
    data = load_sample()
    s = Settings(sizes=(784, 16, 10), batch_size=100, val_fraction=0.0, epochs=1)
    run = Trainer(Network(s.sizes, s.activation, s.loss, seed=0), data.x_train[:500],
                  data.y_train[:500].astype(np.int64), s)
    run.part = 30                                   # parts of 30, 30, 30 and 10 examples
    for name, value in (("trainer", run), ("job", None), ("status", "paused")):
        monkeypatch.setattr(training, name, lambda value=value: value)
    words = []
    run.run(batches=2, stop=lambda: bool(words.append(training.passes_progress())))
    assert words == ["", " · mini-batch 1: 30 of its 100 examples done", " · mini-batch 1: 60 of its 100 examples done",
                     " · mini-batch 1: 90 of its 100 examples done", "", " · mini-batch 2: 30 of its 100 examples done",
                     " · mini-batch 2: 60 of its 100 examples done", " · mini-batch 2: 90 of its 100 examples done"]
    asked = []
    run.run(batches=1, stop=lambda: len(asked) > 1 or bool(asked.append(1)))     # paused after its second part
    assert training.passes_progress() == " · mini-batch 3: 60 of its 100 examples done"
    monkeypatch.setattr(training, "status", lambda: "stopped")
    assert training.passes_progress() == ""


def test_the_progress_line_gives_no_rate_before_a_mini_batch_is_done(monkeypatch):
    """Before the first mini-batch is done there is no rate to give: the line does not call a run at work
    '0 examples/s'; after it, the rate is there."""
    from ui import training
    data = load_sample()
    s = Settings(sizes=(784, 16, 10), batch_size=100, val_fraction=0.0, epochs=1)
    run = Trainer(Network(s.sizes, s.activation, s.loss, seed=0), data.x_train[:500],
                  data.y_train[:500].astype(np.int64), s)
    run.part = 30
    for name, value in (("trainer", run), ("job", None), ("status", "running")):
        monkeypatch.setattr(training, name, lambda value=value: value)
    words = []
    run.run(batches=1, stop=lambda: bool(words.append(training.progress_text())))
    assert words[0] == "**Training…** epoch 1/1 · batch 0/5"
    assert words[1] == "**Training…** epoch 1/1 · batch 0/5 · mini-batch 1: 30 of its 100 examples done"
    run.train_seconds = 0.5                          # (the worker counts the training time)
    assert training.progress_text() == "**Training…** epoch 1/1 · batch 1/5 · 200 examples/s · about 2 s left"
