"""Issue 21: one budget for the Train page, the lesson links and the model loader (engine/budget.py),
and the worker's passes in the line of runs, in parts (engine/worker.py)."""
import io
import itertools
import threading
import time

import numpy as np
import pytest

from engine import budget
from engine.convnet import ConvNet, cnn_spec
from engine.modelfile import ModelFileError, load_model, model_arrays, model_to_bytes
from engine.network import Network
from engine.trainer import Settings, new_run
from engine.worker import BackgroundRun, Slots
from ui import lesson, limits
from ui.training import check_cost, settings_from_values

N_TEST = 10_000


def accepted(values):
    """The Train page's verdict on widget values: (settings, None) or (None, why)."""
    try:
        settings = settings_from_values(values)
        check_cost(settings, N_TEST, 60_000)
        return settings, None
    except ValueError as err:
        return None, str(err)


def round_trip(net):
    """Save `net` as the Train page's download does, load it as its uploader does, and use it."""
    back, _ = load_model(model_to_bytes(net, {"epochs": 1}), "biggest.npz")
    x = np.random.default_rng(0).random((3, 784), dtype=np.float32)
    np.testing.assert_allclose(back.predict_proba(x), net.predict_proba(x), rtol=1e-5, atol=1e-6)
    return back


# ---------------------------------------------------------------- item 4: what it builds, it loads

def test_the_biggest_mlp_the_train_page_allows_saves_loads_and_works():
    hidden = ",".join([str(limits.MAX_UNITS)] * limits.MAX_HIDDEN_LAYERS)
    settings, why = accepted({"train_hidden": hidden, "train_batch_size": 16})
    assert why is None, why
    round_trip(settings.new_net())


def test_the_biggest_cnns_the_train_page_allows_save_load_and_work():
    """Big filters (up to 3 layers of MAX_FILTERS), every kernel, padding and pooling, with the biggest
    dense layer or none: the one the Train page accepts with the most arithmetic an image, and the one
    with the most numbers in its busiest layer, load back and work. The issue's (128-128-128, kernel 9,
    padding 4, no pooling) was accepted and saved a file the loader refused (8.3 M values in one layer)."""
    top = limits.MAX_FILTERS
    most = {"flops": (0, None), "peak": (0, None)}
    for filters, k, p, pool, dense in itertools.product(
            (f"{top}", f"{top // 2},{top}", f"{top},{top},{top}"), (3, 5, 7, limits.MAX_KERNEL),
            (0, 2, limits.MAX_PADDING), (1, 2, limits.MAX_POOL), (0, limits.MAX_UNITS)):
        if p >= k:
            continue
        settings, why = accepted({"train_kind": "cnn", "train_filters": filters, "train_kernel": k,
                                  "train_padding": p, "train_pool": pool, "train_dense": dense,
                                  "train_batch_size": 1})
        if settings is None:
            assert any(w in why for w in ("bigger than any model may be", "nothing left", "larger than its",
                                          "more than 20,000,000")), why
            continue
        net = settings.new_net()
        for what, size in (("flops", net.flops_per_example(backward=False)), ("peak", net.peak_values())):
            if size > most[what][0]:
                most[what] = (size, net)
    assert most["flops"][0] > 0.8 * budget.MAX_FORWARD_FLOPS        # the page lets you get near the budget
    for _, net in most.values():
        round_trip(net)


def test_the_issues_cnn_is_refused_before_start_with_the_loaders_reason():
    _, why = accepted({"train_kind": "cnn", "train_filters": "128,128,128", "train_kernel": 9,
                       "train_padding": 4, "train_pool": 1, "train_batch_size": 40})
    assert why.startswith("this network is bigger than any model may be in this app: one image would need "
                          "8,329,216 numbers at once in its busiest layer"), why
    net = ConvNet(cnn_spec((128, 128, 128), 9, 4, 1))
    with pytest.raises(ModelFileError, match="one image would need 8,329,216 numbers"):
        load_model(model_to_bytes(net), "issue.npz")


def test_the_estimate_covers_the_validation_and_test_passes_with_pooling():
    settings = settings_from_values({"train_kind": "cnn", "train_filters": "8,16", "train_pool": 2})
    cost, _ = check_cost(settings, 2_000, 10_000)
    forward = settings.new_net().flops_per_example(backward=False)
    assert cost.test_flops == forward * 2_000 and cost.val_flops == forward * 1_000     # val share 0.1
    pooled = forward - ConvNet(cnn_spec((8, 16), 5, 0, 2)[:2] + cnn_spec((8, 16), 5, 0, 2)[3:]).flops_per_example(
        backward=False)
    assert pooled != 0          # the pooling layer changes the count (its comparisons, the smaller maps after it)


# ---------------------------------------------------------------- item 8: links and files

@pytest.mark.parametrize("name,text,why", [
    ("filters", "-8", "separated by dashes"),
    ("filters", "8--16", "separated by dashes"),
    ("hidden", "-128", "separated by dashes"),
    ("epochs", "\u0663", "digits 0-9"),               # Arabic-Indic 3
    ("filters", "\u0668-\u0661\u0666", "digits 0-9"),  # Arabic-Indic 8-16
    ("lr", "\u0660.\u0665", "digits 0-9"),
    ("batch", "\uff16\uff14", "digits 0-9"),           # full-width 64
])
def test_a_link_refuses_negative_sizes_and_other_scripts_digits(name, text, why):
    values, notes = lesson.from_params({name: text})
    assert values == {} and len(notes) == 1 and why in notes[0], (values, notes)


def test_a_typed_layer_size_in_another_script_is_refused():
    from ui.training import parse_filters, parse_hidden
    for parse in (parse_hidden, parse_filters):
        with pytest.raises(ValueError, match="whole numbers"):
            parse("\u0668")


@pytest.mark.parametrize("version", [np.array(2.0), np.array([2]), np.array(1.0), np.array([1, 2])])
def test_a_format_version_that_is_not_a_whole_number_is_refused_for_that(version):
    arrays = model_arrays(ConvNet(cnn_spec((2,), 3)))
    arrays["format_version"] = version
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    with pytest.raises(ModelFileError, match=r"has format version .*; this app reads versions 1 \(MLPs\) and 2 "
                                             r"\(layer stacks, CNNs\), each a single whole number"):
        load_model(buf.getvalue(), "m.npz")


# ---------------------------------------------------------------- item 1: the worker's passes in parts

def heavy_run(n_test=400):
    """A run whose closing test pass is many parts: the test set, 400 images, in parts of 3 * part."""
    rng = np.random.default_rng(0)
    x, y = rng.integers(0, 255, (300, 784), dtype=np.uint8), np.arange(300) % 10
    settings = Settings(layers=cnn_spec((4,), 3, 1, 1), batch_size=30, epochs=1, val_fraction=0.2)
    run = new_run(x, y, settings)
    run.part = 2              # tiny parts, so that the passes have many of them
    x_test = rng.random((n_test, 784), dtype=np.float32)
    return run, x_test, np.arange(n_test) % 10


def wait(condition, seconds=30):
    end = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.01)


def test_the_validation_pass_goes_in_parts_and_carries_on_where_it_was():
    run, _, _ = heavy_run()
    calls, seen = 0, []
    while not run.finished:
        report = run.run(seconds=0)         # one part (of a batch or of the validation pass) per call
        calls += 1
        assert calls < 200, "the validation pass never ends (started again at every call?)"
        assert report.batches + report.parts <= 1
        if run.checking is not None:
            seen.append(run.checking.seen)
    assert run.history.epochs[0]["val_acc"] is not None
    assert seen == list(range(0, 60, 6))        # 60 validation images, carried on 6 at a time, never redone
    assert calls == 8 * 15 + 10                  # 240 training images: 8 batches of 15 parts; 10 validation parts


def test_the_closing_test_pass_runs_in_the_line_in_parts_and_answers_pause_and_cancel():
    run, x_test, y_test = heavy_run()
    slots = Slots(size=1)
    hold_at, box = [3], []

    def alive():
        """The page is there; between two parts, the worker waits here while the test pass has done
        hold_at parts: the test looks at it mid-pass however fast this machine does the parts."""
        testing = box[0].testing if box else None
        while testing is not None and testing.parts >= hold_at[0]:
            time.sleep(0.001)
        return True

    job = BackgroundRun(run, slots, x_test, y_test, alive=alive)
    box.append(job)
    wait(lambda: job.testing is not None and job.testing.parts >= 3)
    # While it tests it holds the run's place in the line: nobody else trains meanwhile.
    assert job.phase == "testing" and slots.position(job) == 0 and slots.counts() == (1, 0)
    job.pause(wait=0)
    hold_at[0] = 10**9
    assert job.pause(wait=5) and job.phase == "paused"
    assert slots.counts() == (0, 0)                       # pausing the test gives the place back
    done = job.testing.seen
    time.sleep(0.3)
    assert job.testing.seen == done                       # ... and no work goes on
    hold_at[0] = job.testing.parts + 2
    job.resume()
    wait(lambda: job.testing.parts >= hold_at[0])
    assert job.testing.seen > done
    job.cancel(wait=0)
    hold_at[0] = 10**9
    assert job.cancel(wait=5), "a cancel is answered within a part"
    assert job.result is None and job.testing.seen < job.testing.total     # ended in the middle, untested
    assert job.testing.parts == -(-job.testing.seen // job.testing.chunk)  # whole parts, one at a time
    assert job.testing.chunk == 6 and job.testing.total == 400


def test_stop_still_tests_in_parts_and_a_page_gone_ends_the_test():
    run, x_test, y_test = heavy_run()
    job = BackgroundRun(run, Slots(1), x_test, y_test)
    wait(lambda: job.phase == "training")
    assert job.stop(wait=30)
    assert job.result is not None and job.testing.seen == job.testing.total == 400
    assert job.testing.parts == -(-400 // job.testing.chunk)          # 67 parts of at most 6 images

    run, x_test, y_test = heavy_run()
    here, box = [True], []

    def alive():             # the page is there; after 2 parts of the test pass the worker waits here
        testing = box[0].testing if box else None
        while here[0] and testing is not None and testing.parts >= 2:
            time.sleep(0.001)
        return here[0]

    job = BackgroundRun(run, Slots(1), x_test, y_test, alive=alive)
    box.append(job)
    wait(lambda: job.testing is not None and job.testing.parts >= 2)
    here[0] = False                          # the page went away during the test pass
    assert job.join(5) and job.result is None and job.testing.seen < job.testing.total


def test_a_test_pass_waits_in_line_and_gives_its_place_after_its_turn():
    slots = Slots(size=1, turn_seconds=0.0)
    run, x_test, y_test = heavy_run()
    hold, box = [True], []

    def alive():             # after the test pass's first part the worker waits here, holding its place
        testing = box[0].testing if box else None
        while hold[0] and testing is not None and testing.parts >= 1:
            time.sleep(0.001)
        return True

    job = BackgroundRun(run, slots, x_test, y_test, alive=alive)
    box.append(job)
    wait(lambda: job.testing is not None and job.testing.parts >= 1)
    other, got = object(), []
    taker = threading.Thread(target=lambda: got.append(slots.acquire(other, give_up=lambda: False, poll=0.01)))
    taker.start()
    wait(lambda: slots.counts() == (1, 1))   # the other one waits in line behind the test pass
    hold[0] = False
    taker.join(30)
    assert got == [True]                     # the test pass let it in between parts
    assert job.position() == 1 and job.phase == "waiting"
    seen = job.testing.seen
    time.sleep(0.2)
    assert job.testing.seen == seen          # no part of it runs outside the line
    slots.release(other)
    assert job.join(30) and job.result is not None


def test_a_training_run_gives_its_place_between_two_parts_of_a_mini_batch_and_carries_it_on(monkeypatch):
    from engine import worker
    monkeypatch.setattr(worker, "SLICE_SECONDS", 0.0)     # a slice of training is one part
    calls, gradients = [], ConvNet.gradients
    monkeypatch.setattr(ConvNet, "gradients", lambda self, *a, **k: calls.append(1) or gradients(self, *a, **k))
    slots = Slots(size=1, turn_seconds=0.0)
    run, x_test, y_test = heavy_run()                      # mini-batches of 15 parts
    holder, other, got = object(), object(), []
    assert slots.acquire(holder)                           # the run lines up first, then the other one
    job = BackgroundRun(run, slots, x_test, y_test)
    wait(lambda: slots.counts() == (1, 1))
    taker = threading.Thread(target=lambda: got.append((slots.acquire(other, poll=0.01), run.step, len(calls))))
    taker.start()
    wait(lambda: slots.counts() == (1, 2))
    slots.release(holder)
    taker.join(30)
    assert got == [(True, 0, 1)]                           # its place came after one part of the first mini-batch
    slots.release(other)
    wait(lambda: run.epoch >= 1)
    assert job.cancel(5)
    assert len(calls) == 8 * 15                            # 8 mini-batches of 15 parts: none done twice
