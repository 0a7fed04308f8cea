"""The Train a language model page (app_pages/12_train_language.py) with AppTest: a tiny run prints
samples as it learns, pause / resume / stop, steering, the cost check, save and load, bad uploads in
one sentence, and the lesson link. The runs train in their own thread: the tests count steps and
samples, never seconds."""
import io

import numpy as np
import pytest
from apptest_utils import get, open_page, texts, wait_for

from engine.language.modelfile import load_language_model
from ui.language import train as lm

PAGE = "app_pages/12_train_language.py"


def tiny(at, steps=40, every=10, kind="mlp"):
    """Settings of a run that takes a second or two."""
    at.radio(key="lmt_kind").set_value(kind).run()
    if kind == "mlp":
        at.number_input(key="lmt_hidden").set_value(32)
    if kind == "transformer":
        at.number_input(key="lmt_width").set_value(16)
        at.number_input(key="lmt_blocks").set_value(1)
        at.number_input(key="lmt_context").set_value(16)
    at.number_input(key="lmt_batch_size").set_value(8)
    at.number_input(key="lmt_eval_every").set_value(every)
    at.number_input(key="lmt_steps").set_value(steps).run()
    assert not at.exception, at.exception
    return at


def finish(at):
    assert get(at, "lmt_job").join(300), "the run did not end"
    at.run()
    assert not at.exception, at.exception
    return get(at, "lmt_status")


@pytest.mark.parametrize("kind", ["mlp", "transformer"])
def test_a_tiny_run_prints_samples_as_it_learns(kind):
    at = tiny(open_page(PAGE), kind=kind)
    at.button(key="lmt_start").click().run()
    assert get(at, "lmt_status") == "running" and not at.error
    run = get(at, "lmt_trainer")
    wait_for(lambda: len(run.history.samples) >= 2, what="two samples")
    at.run()
    codes = [c.value for c in at.code]
    (first, _), (second, _) = run.history.samples[:2]
    assert (first, second) == (10, 20)          # a sample every `every` steps, from the weights of that step
    assert lm.one_line(run.history.samples[1][1]) in codes and "After step 20" in texts(at.caption)
    assert finish(at) == "finished"
    assert run.step == 40 and len(run.history.samples) == 4 and len(run.history.epochs) == 4
    result = get(at, "lmt_result")
    assert "Run finished after 40 steps" in at.success[0].value
    assert f"validation loss **{result['val_loss']:.4f}**" in at.success[0].value
    assert get(at, "lm_model")["model"].kind == kind
    assert np.isfinite(result["val_loss"]) and result["val_loss"] < np.log(27) + 0.5


def test_pause_resume_and_stop_answer_between_steps():
    at = tiny(open_page(PAGE), steps=100_000, every=1000)
    at.button(key="lmt_start").click().run()
    run, job = get(at, "lmt_trainer"), get(at, "lmt_job")
    wait_for(lambda: run.step >= 3, what="three steps")
    at.button(key="lmt_pause").click().run()
    assert get(at, "lmt_status") == "paused" and job.phase == "paused"
    held = run.step
    at.run()
    assert run.step == held                     # paused: no step since (the thread sleeps until resumed)
    at.button(key="lmt_resume").click().run()
    wait_for(lambda: run.step >= held + 3, what="three more steps")
    at.number_input(key="lmt_lr").set_value(0.002).run()       # steering: from the next step, marked
    assert run.settings.lr == 0.002 and "lr 0.002" in run.history.marks[-1][1]
    at.button(key="lmt_stop").click().run()
    if get(at, "lmt_status") == "stopping":
        finish(at)
    assert get(at, "lmt_status") == "stopped" and run.step < 100_000
    assert "stopped early after" in at.success[0].value
    assert get(at, "lm_model") is not None


def test_too_big_a_model_is_refused_before_start_with_what_to_change():
    at = open_page(PAGE)
    at.radio(key="lmt_kind").set_value("transformer").run()
    for k, v in (("lmt_width", 512), ("lmt_blocks", 4), ("lmt_context", 256), ("lmt_batch_size", 512)):
        at.number_input(key=k).set_value(v)
    at.run()
    assert "Can't train this: one mini-batch of 512 windows of 256 characters would take about" in texts(at.warning)
    at.button(key="lmt_start").click().run()
    (error,) = at.error
    assert error.value.startswith("Can't start: one mini-batch") and "use a batch size of at most" in error.value
    assert get(at, "lmt_status") == "idle" and get(at, "lmt_job") is None


def test_save_and_load_round_trip_and_bad_uploads_in_one_sentence():
    at = tiny(open_page(PAGE), steps=20)
    at.button(key="lmt_start").click().run()
    finish(at)
    entry = get(at, "lm_model")
    data = lm.model_bytes(entry)
    model, vocab, settings, notes = load_language_model(data)
    assert not notes and vocab.chars == entry["vocab"].chars and settings["steps"] == 20
    assert all(np.array_equal(a, b) for a, b in zip(model.params(), entry["model"].params()))

    fresh = open_page(PAGE)        # a new session loads the file: the same model writes the same text
    fresh.file_uploader(key="lmt_upload").set_value(("mine.npz", data, "application/octet-stream")).run()
    assert not fresh.exception and fresh.success[0].value.startswith("Loaded mine.npz: MLP")
    loaded = get(fresh, "lm_model")
    assert lm.sample_now(loaded, seed=3) == lm.sample_now(entry, seed=3)
    fresh.button(key="lmt_write").click().run()
    written = get(fresh, "lmt_written")[1]
    assert len(written) == 300 and written.strip() in [c.value.strip() for c in fresh.code]

    buf = io.BytesIO()
    np.savez(buf, W0=np.zeros((784, 10), np.float32))
    for name, content in (("junk.npz", b"not a zip at all"), ("digits.npz", buf.getvalue()),
                          ("cut.npz", data[: len(data) // 2])):
        fresh.file_uploader(key="lmt_upload").set_value((name, content, "application/octet-stream")).run()
        assert not fresh.exception, name
        (error,) = fresh.error
        assert error.value.startswith(f"Could not load that file: {name}") and error.value.count(". ") <= 2, error.value
        assert error.value.endswith("Your current language model is still in use."), error.value
        assert get(fresh, "lm_model") is loaded


def test_lesson_link_sets_the_knobs_and_notes_odd_values():
    at = open_page(PAGE, {"kind": "transformer", "blocks": "3", "heads": "4", "width": "66", "lr": "abc",
                          "steps": "500", "text": "shakespeare"})
    assert at.radio(key="lmt_kind").value == "transformer" and at.radio(key="lm_text").value == "shakespeare"
    assert at.number_input(key="lmt_blocks").value == 3 and at.number_input(key="lmt_steps").value == 500
    assert at.number_input(key="lmt_width").value == lm.WIDGETS["lmt_width"]
    (warning,) = at.warning
    assert "`lr=abc`: not a number" in warning.value
    assert "`width=66`: must be a multiple of the number of heads (4)" in warning.value
    link = {"text": "shakespeare", "kind": "transformer", "blocks": "3", "heads": "4", "steps": "500"}
    assert {k: v[0] if isinstance(v, list) else v for k, v in dict(at.query_params).items()} == link
    assert "/train_language?text=shakespeare&kind=transformer&blocks=3&heads=4&steps=500" in texts(at.code)
    at.radio(key="lm_text").set_value("names").run()            # the link follows the page's text choice
    assert "text" not in dict(at.query_params)


def test_presenter_mode_keeps_the_main_knobs_only():
    at = open_page(PAGE, {"present": "1"})
    assert at.toggle(key="lmt_slow").value is True          # slow motion on by default for a class
    keys = {w.key for w in at.number_input}
    assert {"lmt_k", "lmt_hidden", "lmt_lr", "lmt_steps"} <= keys and "lmt_seed" not in keys
    assert not at.get("file_uploader")


def test_on_other_pages_the_run_shows_in_the_sidebar_and_pauses_from_there():
    at = tiny(open_page(PAGE), steps=100_000, every=1000)
    at.button(key="lmt_start").click().run()
    run = get(at, "lmt_trainer")
    wait_for(lambda: run.step >= 2, what="two steps")
    at.switch_page("app_pages/10_tokens.py").run()
    assert not at.exception, at.exception
    assert "Training a language model" in " ".join(p.proto.text for p in at.sidebar.get("progress"))
    at.sidebar.button(key="lm_sidebar_pause").click().run()
    assert get(at, "lmt_status") == "paused" and get(at, "lmt_job").phase == "paused"
    at.switch_page("app_pages/4_train.py").run()      # one run per session: the digits wait for this one
    at.button(key="train_start").click().run()
    assert at.error[0].value.startswith("Can't start: a language model is training on the Train a language "
                                        "model page; stop it first") and get(at, "train_job") is None
    at.switch_page(PAGE).run()
    assert at.button(key="lmt_start").disabled and get(at, "lmt_trainer") is run
    at.button(key="lmt_stop").click().run()
    if get(at, "lmt_status") == "stopping":
        finish(at)
    assert get(at, "lmt_status") == "stopped"


def test_the_progress_line_says_how_far_a_held_out_check_is(monkeypatch):
    """A check of the held-out text goes in parts (between two of them Pause is heard): the progress line says
    how far it is, during the run's checks and during the closing one, in the page's language."""
    import i18n
    from engine.language.text import Vocabulary, load_corpus
    from engine.language.trainer import LMSettings, new_lm_run
    from engine.worker import BackgroundRun, Slots
    text = load_corpus("names")[:20_000]
    vocab = Vocabulary.of(text)
    run = new_lm_run(vocab.encode(text), LMSettings(kind="mlp", context=3, batch_size=8, steps=4, eval_every=2,
                                                   eval_tokens=480, window=8), vocab.size, vocab)
    run.part = 2                                           # a check: 60 windows of 8 characters, 48 characters a part
    monkeypatch.setattr(lm, "trainer", lambda: run)
    monkeypatch.setattr(lm, "job", lambda: None)
    monkeypatch.setattr(lm, "status", lambda: "paused")
    words = []
    while not run.finished:
        run.run(stop=lambda: bool(words.append(lm.progress_text())))
    # (no rate: this run is driven by hand, so no training time is counted, and a line never says 0 characters/s)
    assert "**Paused** step 2/4 · checking the held-out text: 96 of 480 characters" in words, words
    assert not [w for w in words if "step 1/4" in w and "checking" in w]          # only while a check goes on
    slots, other = Slots(1), object()
    assert slots.acquire(other)                            # the closing check waits in line ...
    job = BackgroundRun(run, slots, None, None)
    monkeypatch.setattr(lm, "job", lambda: job)
    wait_for(lambda: job.testing is not None, 30, "the closing check")
    job.pause(wait=0)                                      # ... and is paused there, before its first part
    slots.release(other)
    assert job.pause(wait=10)
    i18n.use("it")
    try:
        assert lm.progress_text().endswith("controllo del testo di validazione: 0 di 480 caratteri")
    finally:
        i18n.use(i18n.SOURCE)
    job.cancel(wait=10)


def test_the_progress_line_says_how_far_a_step_in_parts_is(monkeypatch):
    from engine.language.text import Vocabulary, load_corpus
    from engine.language.trainer import LMSettings, new_lm_run
    text = load_corpus("names")[:20_000]
    vocab = Vocabulary.of(text)
    run = new_lm_run(vocab.encode(text), LMSettings(kind="mlp", context=3, batch_size=8, steps=4, eval_every=10,
                                                   window=8), vocab.size, vocab)
    run.part = 3                                           # a step: windows in parts of 3, 3 and 2
    for name, value in (("trainer", run), ("job", None), ("status", "paused")):
        monkeypatch.setattr(lm, name, lambda value=value: value)
    words = []
    run.run(batches=1, stop=lambda: bool(words.append(lm.progress_text())))
    assert [w.split(" · ")[-1] for w in words] == ["**Paused** step 0/4", "step 1: 3 of its 8 windows done",
                                                   "step 1: 6 of its 8 windows done"]
    assert run.under_way is None and not lm.progress_text().endswith("windows done")     # the step is done
