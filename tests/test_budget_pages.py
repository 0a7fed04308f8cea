"""Every page's heavy work is bounded: about a second on the page, or in the line of runs in parts of at most
trainer.PART_FLOPS that answer Stop, Pause and the page going away, with a progress line (ui/linework.py,
engine/linework.py). The model used is one at the model loader's own limit of arithmetic per image.

The arithmetic is counted where it happens: every Conv2D and Dense layer's forward and backward (and
PyTorch's forward passes on the PyTorch page) add their operations to the thread that does them, and each
part of a work in the line records what it did.
"""
import threading
import time

import numpy as np
import pytest

from apptest_utils import finish_line_work, get, open_page, texts, wait_for
from engine import linework as engine_linework
from engine import worker
from engine.convnet import ConvNet, cnn_spec
from engine.layers import Conv2D, Dense
from engine.modelfile import MAX_FORWARD_FLOPS
from engine.network import Network
from engine.trainer import PART_FLOPS, parts_of
from ui import linework

EVALUATE, INSIDE, WHY = "app_pages/5_evaluate.py", "app_pages/7_inside.py", "app_pages/7b_why_convolutions.py"
CLASS, DRAW, TRAIN, PYTORCH = ("app_pages/8b_class.py", "app_pages/6_draw.py", "app_pages/4_train.py",
                               "app_pages/9_pytorch.py")

pytestmark = pytest.mark.usefixtures("builtin_sample_always")


def limit_model():
    """A CNN (conv f@9x9, padding 4, max-pool 2) with as many filters as the model loader's limit of
    arithmetic per image (modelfile.MAX_FORWARD_FLOPS) allows: issue 21's file at the limit then was a conv
    170@30x30 with padding 29 (0.994 GFLOP an image); whatever the limit, this model is at it."""
    def cnn(f):
        return ConvNet(cnn_spec(filters=(f,), k=9, p=4, pool=2))
    f = max(1, int(MAX_FORWARD_FLOPS // cnn(1).flops_per_example(backward=False)))
    while f > 1 and cnn(f).flops_per_example(backward=False) > MAX_FORWARD_FLOPS:
        f -= 1
    return cnn(f)


@pytest.fixture(scope="module")
def big():
    net = limit_model()
    assert net.flops_per_example(backward=False) > 0.9 * MAX_FORWARD_FLOPS
    return net


@pytest.fixture
def meter(monkeypatch):
    """Counts the arithmetic of every layer, per thread; and what each part of a work in the line did."""
    count = {"by_thread": {}, "parts": [], "torch_rows": []}
    lock = threading.Lock()

    def add(flops):
        name = threading.current_thread().name
        with lock:
            count["by_thread"][name] = count["by_thread"].get(name, 0) + flops

    def wrap(cls):
        forward, backward = cls.forward, cls.backward

        def counted_forward(self, x, keep=True):
            y = forward(self, x, keep)
            if isinstance(self, Dense):
                self._macs = len(x) * self.W.size
            else:
                self._macs = (y.size // self.W.shape[0]) * self.W.size
            add(2 * self._macs)
            return y

        def counted_backward(self, dy):
            add(2 * self._macs * (2 if self.need_dx else 1))
            return backward(self, dy)
        monkeypatch.setattr(cls, "forward", counted_forward)
        monkeypatch.setattr(cls, "backward", counted_backward)
    wrap(Conv2D)
    wrap(Dense)
    part = engine_linework.LineWork._part

    def counted_part(self, gen):
        me = threading.current_thread().name
        before = count["by_thread"].get(me, 0)
        out = part(self, gen)
        count["parts"].append((me, count["by_thread"].get(me, 0) - before))
        return out
    monkeypatch.setattr(engine_linework.LineWork, "_part", counted_part)
    count["page"] = lambda: sum(v for k, v in count["by_thread"].items() if not k.startswith("line:"))
    return count


def watch(at, condition, what, timeout=300):
    """Wait for condition(), rerunning the page now and then as its progress line does in a browser."""
    end = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < end, f"timed out waiting for {what}"
        at.run()                                              # "the page is still there"
        asked = time.monotonic()
        while not condition() and time.monotonic() - asked < 5:
            time.sleep(0.01)


def works(at):
    return get(at, "line_works") or {}


def with_model(at, net, label="your model (at the loader's limit)"):
    at.session_state["model"] = net
    at.session_state["model_info"] = {"label": label, "settings": {"layers": net.spec()} if hasattr(net, "spec") else {}}


def in_line(at, meter, starts, parts=2, timeout=120):
    """The session's work whose name starts with `starts`: in the line, `parts` parts done; every part
    within the budget, and nothing heavy done by the page itself."""
    found = [h for name, h in works(at).items() if name.startswith(starts)]
    assert found, f"no work {starts!r} in the line: {list(works(at))}"
    for name, h in works(at).items():
        if not name.startswith(starts):
            h["work"].stop()          # one place in the line per browser: the page's other works go first
    work = found[0]["work"]
    wait_for(lambda: work.parts >= parts or work.done, timeout, f"{parts} parts of {starts!r}")
    mine = [f for name, f in meter["parts"] if name == work._thread.name]
    assert mine and max(mine) <= PART_FLOPS * 1.05, [f"{f:.3g}" for f in mine]
    assert meter["page"]() <= linework.page_flops(), f"the page itself did {meter['page']():.3g} operations"
    return found[0], work


def bounded(at, meter, starts):
    """The work `starts` is in the line in parts (in_line), or was small enough to be done on the page:
    then the page did at most a second's arithmetic (linework.page_flops)."""
    if any(name.startswith(starts) for name in works(at)):
        return in_line(at, meter, starts)
    assert 0 < meter["page"]() <= linework.page_flops(), f"the page itself did {meter['page']():.3g} operations"
    return None


# ------------------------------------------------------------------ each page, with a model at the limit

PAGES = {
    "upload's first evaluation, Evaluate": (EVALUATE, "test outputs"),
    "Inside: PCA map": (INSIDE, "inside pca"),
    "Inside: robustness": (INSIDE, "inside robustness"),
    "Why convolutions": (WHY, "why shift"),
}


@pytest.mark.parametrize("what", list(PAGES))
def test_a_pages_heavy_work_at_the_limit_goes_into_the_line_in_parts(big, meter, what):
    page, name = PAGES[what]
    at = open_page(page)
    with_model(at, big)
    at.run()
    assert not at.exception, at.exception
    held, work = in_line(at, meter, name)
    assert held["what"] in " ".join(p.proto.text for p in at.get("progress"))    # its progress line
    worker.stop_all()


def test_class_pages_scoring_at_the_limit(big, meter, db_with_digits):
    at = open_page(CLASS)
    with_model(at, big)
    at.run()
    assert not at.exception, at.exception
    bounded(at, meter, "class set")
    assert "still being measured" in texts(at.caption)
    at.run()
    in_line(at, meter, "test outputs")                                  # its MNIST accuracy too
    assert "Leaderboard" in " ".join(h.value for h in at.header)        # the rest of the page is there


@pytest.mark.parametrize("panel", ["cover", "seen", "fool", "dream"])
def test_explanation_panels_at_the_limit(big, meter, panel):
    from test_pretrained_cnn import _drawn_seven
    from apptest_utils import canvas_state
    at = open_page(DRAW)
    with_model(at, big)
    at.session_state["draw_canvas_0"] = canvas_state(_drawn_seven())
    at.session_state[f"draw_xp_{panel}"] = True
    at.run()
    assert not at.exception, at.exception
    bounded(at, meter, f"draw {panel}")


def test_upload_at_the_limit_answers_at_once_and_measures_in_the_line(big, meter):
    from engine.modelfile import model_to_bytes
    at = open_page(TRAIN)
    at.file_uploader(key="train_upload").set_value(("limit.npz", model_to_bytes(big, {}), "application/octet-stream"))
    at.run()
    assert not at.exception, at.exception
    assert "its accuracy on the 2,000 test images is being measured" in texts(at.success)
    in_line(at, meter, "test outputs")
    assert get(at, "model_info")["test_accuracy"] is None


# ------------------------------------------------------------------ Stop, the page going away, reruns

def evaluating(big, meter):
    """Evaluate, with the model at the limit: (the AppTest, its work's name, the work), a few parts done."""
    at = open_page(EVALUATE)
    with_model(at, big)
    at.run()
    held, work = in_line(at, meter, "test outputs")
    return at, next(n for n in works(at) if n.startswith("test outputs")), work


def test_stop_ends_the_work_within_a_part_and_says_so(big, meter):
    at, name, work = evaluating(big, meter)
    at.button(key=f"line_{name}_stop").click().run()
    assert not at.exception, at.exception
    assert work.join(5) and not work.finished, "Stop did not end the work"
    parts = work.parts
    time.sleep(0.5)
    assert work.parts == parts
    assert "Stopped" in texts(at.info) and at.button(key=f"line_{name}_again")
    at.run()                                                  # a rerun does not start it again...
    assert works(at)[name]["work"] is work
    at.button(key=f"line_{name}_again").click().run()         # ..."Start it again" does
    assert works(at)[name]["work"] is not work


def test_pause_gives_the_place_back_and_go_on_resumes(big, meter):
    at, name, work = evaluating(big, meter)
    at.button(key=f"line_{name}_pause").click().run()
    wait_for(lambda: work.phase == "paused", 10, "the pause")
    assert work.position() is None                            # its place in the line is free
    parts = work.parts
    time.sleep(0.5)
    assert work.parts == parts
    at.button(key=f"line_{name}_resume").click().run()
    wait_for(lambda: work.parts > parts, 30, "the work going on")


def test_a_page_left_stops_its_work(big, meter):
    at, name, work = evaluating(big, meter)
    at.switch_page(INSIDE).run()                              # another page: nobody looks at it any more
    assert work.join(5) and not work.finished, "the work went on without its page"
    assert name not in works(at)
    at.switch_page(EVALUATE).run()                            # the page is back: it starts again by itself
    again = works(at)[name]["work"]
    assert again is not work and not again.done


def test_results_are_kept_reruns_and_other_pages_recompute_nothing(meter, monkeypatch):
    monkeypatch.setattr(linework, "PAGE_SECONDS", 0.0)        # even a small model's work goes into the line
    store = linework.Kept()                                   # (a fresh store: no other test's results)
    monkeypatch.setattr(linework, "kept", lambda: store)
    made, held, release = [], [], threading.Event()
    steps = engine_linework.outputs_steps

    def counted(*args, **kwargs):             # counts the computations started, not the steps made ready
        inner = steps(*args, **kwargs)

        def started(stop=None):
            made.append(1)
            if held:                          # the work waits until the test has seen its progress line
                release.wait(30)              # (a small model's work could end before the page is looked at)
            return (yield from inner(stop))
        return started
    monkeypatch.setattr(linework, "outputs_steps", counted)
    net = Network([784, 16, 10], seed=3)
    at = open_page(EVALUATE)
    made.clear()                              # (the built-in model's, done by open_page)
    held.append(1)
    with_model(at, net)
    at.run()
    wait_for(lambda: made, 30, "the work to start in the line")
    assert len(made) == 1 and works(at)       # in the line: the page shows its progress line
    release.set()
    finish_line_work(at)
    assert len(made) == 1 and at.metric[0].label == "Test accuracy"
    lines = len(meter["parts"])
    at.run()
    assert len(made) == 1 and not works(at), "a rerun that changed nothing computed the outputs again"
    at.toggle(key="eval_normalise").set_value(True).run()
    assert len(made) == 1 and len(meter["parts"]) == lines and not works(at)
    at.switch_page(INSIDE).run()                              # another page, and back
    at.switch_page(EVALUATE).run()
    assert len(made) == 1 and not [name for name in works(at) if name.startswith("test outputs")]


@pytest.fixture
def db_with_digits(tmp_path, monkeypatch):
    from class_db import PNG, digit
    from classroom.store import Store
    from ui import class_set
    path = tmp_path / "class.sqlite3"
    monkeypatch.setenv("DIGITS_DB", str(path))
    class_set._failed.clear()
    s = Store(str(path))
    for i in range(40):          # 40 digits: 40 GFLOP for the model at the limit, more than a page may do
        s.add_drawing(f"s{i}", i % 10, digit(i), PNG, now=1000.0 + 10 * i)
    s.close()
    yield path
    class_set._open.clear()


# ------------------------------------------------------------------ the PyTorch page (items 2 and 5)

def test_pytorch_comparison_at_the_limit_in_the_trainers_parts_on_both_sides(big, meter, monkeypatch):
    from bridge import twin
    from engine.convnet import ConvNet as Net
    from engine import fast
    rows, parted = {"engine": [], "torch": []}, []
    gradients, loss, in_threads = Net.gradients, twin.torch_loss, fast.in_threads

    def counted(self, x, *a, **k):                        # the check's batch (a Trainer's part: counted whole)
        if not parted:
            rows["engine"].append(len(x))
        return gradients(self, x, *a, **k)

    def part(work, nets, x, *a, **k):                     # a Trainer's part, then cut in cache-sized slices
        rows["engine"].append(len(x))
        parted.append(1)
        try:
            return in_threads(work, nets, x, *a, **k)
        finally:
            parted.pop()
    monkeypatch.setattr(Net, "gradients", counted)
    monkeypatch.setattr(fast, "in_threads", part)
    monkeypatch.setattr(twin, "torch_loss", lambda z, *a, **k: rows["torch"].append(len(z)) or loss(z, *a, **k))
    from ui import pytorch_twin
    monkeypatch.setattr(pytorch_twin, "BATCH", 4)           # the one-batch check: 4 images, then training
    at = open_page(PYTORCH)
    with_model(at, big)
    at.session_state["model_info"]["settings"] = {"layers": big.spec(), "batch_size": 400}
    at.run()
    at.number_input(key="pytorch_batches").set_value(2)
    at.button(key="pytorch_run").click().run()
    assert not at.exception, at.exception
    held, work = in_line(at, meter, "pytorch")
    watch(at, lambda: len(rows["torch"]) > 1 or work.done, "the check's 4 images and a training batch's part")
    assert not work.done, (work.error, work.state, work.fraction)
    check = max(1, int(PART_FLOPS // (big.flops_per_example() + engine_linework.forward_flops(big))))
    assert rows["engine"][0] == rows["torch"][0] == min(4, check)      # the check: parts within PART_FLOPS
    assert max(rows["engine"][1:]) == max(rows["torch"][1:]) == parts_of(big)   # training: the Trainer's parts,
    assert len(rows["torch"]) >= 2                                              # on both sides
    worker.stop_all()


def test_pytorch_page_says_one_sentence_for_a_model_pytorch_cannot_run(monkeypatch):
    """Issue 21 item 5: a model PyTorch fails on (then a stride of 10^30, now refused by the loader) gave a raw
    exception with the server's paths. Whatever PyTorch raises, the page says one sentence."""
    from bridge import twin

    def fails(net):
        raise TypeError("conv2d(): argument 'stride' failed to unpack the object at pos 1 with error \"Overflow "
                        "when unpacking long long\nException raised from THPUtils_unpackLong at "
                        "/__w/pytorch/pytorch/torch/csrc/utils/python_numbers.h:79")
    monkeypatch.setattr(twin, "torch_model", fails)
    at = open_page(PYTORCH)
    with_model(at, Network([784, 8, 10], seed=1))
    at.run()
    at.button(key="pytorch_run").click().run()
    assert not at.exception, at.exception
    [error] = at.error
    assert error.value.startswith("This model cannot be compared with PyTorch: ") and error.value.count(". ") == 0
    assert "/" not in error.value and "Traceback" not in error.value and "Exception raised" not in error.value
    at.run()                                                  # the sentence was for that click; the page goes on
    assert not at.exception and not at.error
