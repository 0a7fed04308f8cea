"""Two works taking turns in one place of the line (engine/worker.Slots(1)): a work's step is never
more than one of the Trainer's parts, so a turn ends within a part and nobody's work is redone or
starved, however big the mini-batch (the PyTorch comparison of a model saved with batch size 3,000
used to be one step of a whole engine mini-batch: about a minute, ten under load, for each turn).
"""
import threading

import numpy as np
import pytest

pytest.importorskip("torch")

from bridge import twin                                    # noqa: E402
from engine import trainer as trainer_module              # noqa: E402
from engine.linework import LineWork, run_through, within  # noqa: E402
from engine.network import Network                        # noqa: E402
from engine.trainer import Settings                       # noqa: E402
from engine.worker import Slots, stop_all                 # noqa: E402

PART, BATCH = 25, 100          # 4 parts a mini-batch


@pytest.fixture
def setup(monkeypatch):
    monkeypatch.setattr(trainer_module, "parts_of", lambda net, flops=None: PART)
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (600, 784), dtype=np.uint8)
    labels = rng.integers(0, 10, 600)
    net = Network([784, 16, 10], seed=0)
    settings = twin.settings_for(net, Settings(batch_size=BATCH, optimizer="adam", lr=0.001, epochs=1).as_dict())
    calls = []                                             # (thread name, "engine"/"torch"), in order
    gradients, loss = Network.gradients, twin.torch_loss
    monkeypatch.setattr(Network, "gradients", lambda self, *a, **k: calls.append(
        (threading.current_thread().name, "engine")) or gradients(self, *a, **k))
    monkeypatch.setattr(twin, "torch_loss", lambda *a, **k: calls.append(
        (threading.current_thread().name, "torch")) or loss(*a, **k))
    yield x, labels, net, settings, calls
    stop_all()


def comparison(x, labels, net, settings, batches):
    def steps(stop=None):
        check = yield from within(twin.compare_steps(net, x[:8], labels[:8], settings.l2)(stop), 0.0, 0.1)
        race = yield from within(twin.train_both_steps(net, x, labels, settings, batches)(stop), 0.1, 1.0)
        return check, race
    return steps


def test_a_step_of_the_comparison_is_never_more_than_one_part(setup):
    x, labels, net, settings, calls = setup
    gen = twin.train_both_steps(net, x, labels, settings, 2)()
    most = 0
    while True:
        before = len(calls)
        try:
            next(gen)
        except StopIteration as end:
            race = end.value
            break
        most = max(most, len(calls) - before)
    assert len(race.engine_losses) == len(race.torch_losses) == 2
    assert sum(1 for _, side in calls if side == "engine") == 2 * BATCH // PART   # each part once, none redone
    assert most == 1, f"one step did {most} parts"


def test_two_works_in_one_place_take_turns_within_a_mini_batch_and_both_finish(setup):
    x, labels, net, settings, calls = setup
    alone = run_through(comparison(x, labels, net, settings, 1))
    calls.clear()
    slots = Slots(1, turn_seconds=0.0)                     # a turn is over after every step when someone waits
    holder = object()
    assert slots.acquire(holder)                           # both line up before either starts: A first, then B
    first = LineWork(comparison(x, labels, net, settings, 1), slots, name="A")
    while slots.counts() != (1, 1):
        threading.Event().wait(0.001)
    second = LineWork(comparison(x, labels, net, settings, 2), slots, name="B")
    while slots.counts() != (1, 2):
        threading.Event().wait(0.001)
    slots.release(holder)
    assert first.join(60) and second.join(60)
    assert first.finished and second.finished, (first.error, second.error)
    # A's one training mini-batch (after its check's one part): B had turns in the middle of it.
    mine = [i for i, (who, side) in enumerate(calls) if who == "line: A" and side == "engine"][1:]
    assert len(mine) == BATCH // PART
    assert any(calls[i][0] == "line: B" for i in range(mine[0], mine[-1])), calls
    # Taking turns changed nothing: the same losses as done alone.
    assert first.result[1].engine_losses == alone[1].engine_losses
    assert first.result[1].torch_losses == alone[1].torch_losses
