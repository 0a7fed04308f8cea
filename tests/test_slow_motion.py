"""Slow motion (engine/worker.py Pace; ui/training.set_pace gives each batch its share, checked with AppTest in
test_app_training.py): any run, of any network, faster than SLOW_MOTION_SECONDS lasts about that long, by arithmetic on a clock the test moves itself: no test here sleeps or times anything.

The batches' own compute times are what a CNN makes slow motion fail at when it rests "at least its
share after each batch": a batch that computes longer than its share (a CNN's, a validation pass) is never
made up for, and a run whose every batch computes nearly its share barely slows at all.
"""
import threading
import time
import types

import pytest

from engine import worker
from engine.worker import BackgroundRun, Pace, Slots
from ui import training

SECONDS = training.SLOW_MOTION_SECONDS


def paced_total(computes, batch_seconds):
    """Seconds a run of batches taking `computes` seconds each lasts in slow motion (a simulated clock)."""
    pace, clock = Pace(), 0.0
    for c in computes:
        clock += pace.rest(clock, batch_seconds)
        clock += c
    return clock


@pytest.mark.parametrize("n, compute", [(1410, 0.002), (1410, 0.015), (8440, 0.001), (100, 0.2)],
                         ids=["mlp-sample", "cnn-sample", "mlp-full-mnist", "few-slow-batches"])
def test_a_run_faster_than_the_budget_lasts_about_the_budget(n, compute):
    total = paced_total([compute] * n, SECONDS / n)
    # batch n starts at n shares: the last ends one share (minus its compute) before the budget
    assert total == pytest.approx(SECONDS - SECONDS / n + compute)


def test_batches_that_compute_almost_their_share_are_still_spread_over_the_budget():
    """A CNN whose batches take 80% of their share, every tenth one (an epoch end's validation pass)
    twice its share: the old rule (rest what is left of each share) made this run 10% longer; the
    schedule gives the budget."""
    n = 1000
    share = SECONDS / n
    computes = [2 * share if i % 10 == 9 else 0.8 * share for i in range(n)]
    assert paced_total(computes, share) == pytest.approx(SECONDS - share + computes[-1])


def test_a_run_slower_than_the_budget_goes_at_full_speed():
    n, compute = 500, 0.2                       # 100 s at full speed: no rest at all
    assert paced_total([compute] * n, SECONDS / n) == pytest.approx(n * compute)


def test_the_schedule_restarts_after_a_pause():
    pace = Pace()
    assert pace.rest(0.0, 1.0) == 0.0 and pace.rest(0.1, 1.0) == pytest.approx(0.9)
    pace.reset()                                # paused for a minute: no batch is owed a rest of minus 60 s
    assert pace.rest(60.0, 1.0) == 0.0 and pace.rest(60.5, 1.0) == pytest.approx(0.5)


class FakeClock:
    """time.monotonic for engine/worker.py that only moves when a batch computes or the worker rests."""

    def __init__(self):
        self.now, self.lock = 0.0, threading.Lock()

    def monotonic(self):
        return self.now

    def advance(self, seconds):
        with self.lock:
            self.now += seconds


class FakeRun:
    """A Trainer whose batch i computes computes[i] seconds on the fake clock."""

    def __init__(self, computes, clock):
        self.computes, self.clock, self.done = computes, clock, 0
        self.diverged = False

    @property
    def finished(self):
        return self.done >= len(self.computes)

    def run(self, batches=None, seconds=None, stop=None):
        self.clock.advance(self.computes[self.done])
        self.done += 1

    def evaluation(self, x, y):
        """The closing test pass (trainer.Evaluation's interface), already done: it takes no time."""
        return types.SimpleNamespace(done=True, result=(0.0, 1.0), seen=1, total=1, parts=1, step=lambda: None)


class Wake:
    """The worker's wake-up event: resting moves the fake clock at once, and nobody wakes it early."""

    def __init__(self, clock):
        self.clock = clock

    def wait(self, timeout=None):
        self.clock.advance(timeout or 0.0)
        return False

    def set(self):
        pass

    def clear(self):
        pass


def test_the_worker_rests_on_the_schedule(monkeypatch):
    """BackgroundRun itself: its rests and the batches' compute add up to the budget, on the fake clock."""
    clock = FakeClock()
    monkeypatch.setattr(worker, "time", types.SimpleNamespace(monotonic=clock.monotonic, sleep=lambda s: None))
    n, share = 400, SECONDS / 400               # every tenth batch computes 2 shares (validation), the rest 0.8
    computes = [2 * share if i % 10 == 9 else 0.8 * share for i in range(n)]
    run, slots, other = FakeRun(computes, clock), Slots(1), object()
    assert slots.acquire(other)                 # the one place is taken: the run waits in line ...
    job = BackgroundRun(run, slots, None, None)
    job._wake, job.batch_seconds = Wake(clock), share            # ... while slow motion is switched on
    slots.release(other)
    assert job.join(30), "the worker did not finish"
    assert run.done == n and job.error is None
    assert clock.now == pytest.approx(SECONDS - share + computes[-1])
    assert job.rested == pytest.approx(SECONDS - share - sum(computes[:-1]))


def test_the_speed_shown_counts_the_rests(monkeypatch):
    """The progress line's examples/s and time left are the pace the class sees, rests included."""
    run = types.SimpleNamespace(settings=types.SimpleNamespace(epochs=2, batch_size=100), finished=False,
                                n_train=1000, epoch=1, pos=0, train_seconds=2.0, batches_per_epoch=10)
    job = types.SimpleNamespace(rested=8.0)
    monkeypatch.setattr(training, "st", types.SimpleNamespace(session_state={"trainer": run, "train_job": job}))
    p = training.progress()
    assert p["speed"] == pytest.approx(1000 / 10.0)          # 1,000 examples in 2 s of training + 8 s of rest
    assert p["seconds_left"] == pytest.approx(10.0)


def test_pause_cuts_a_slow_motion_rest_short():
    """A run of 4 batches in slow motion rests 7.5 s before each: Pause answers at once, not after the rest."""
    clock = FakeClock()                         # the batches' own clock; the worker's rests are real waits here
    run = FakeRun([0.0] * 4, clock)
    slots, other = Slots(1), object()
    assert slots.acquire(other)
    job = BackgroundRun(run, slots, None, None)
    job.batch_seconds = SECONDS / 4
    slots.release(other)
    try:
        assert job._wait_for(lambda: run.done == 1, 10.0), "the first batch never ran"   # now in its 7.5 s rest
        assert job.pause(wait=5.0), f"still {job.phase} 5 s after Pause, in a rest of {job.batch_seconds} s"
        assert run.done <= 1
    finally:
        job.stop(wait=5.0)


def within(condition, seconds=10.0):
    """Wait (real time) until condition() is True, for at most `seconds`; its last answer."""
    end = time.monotonic() + seconds
    while not condition() and time.monotonic() < end:
        threading.Event().wait(0.005)
    return condition()


class PartedRun(FakeRun):
    """A Trainer whose mini-batches are `parts` parts of `part_seconds` each on the fake clock; like
    Trainer.run, a call with `seconds` stops between two parts once they have passed, and the batch
    is carried on from its next part at the next call (under_way says how far it is meanwhile)."""

    def __init__(self, batches, parts, part_seconds, clock):
        super().__init__([parts * part_seconds] * batches, clock)
        self.parts, self.part_seconds, self.part = parts, part_seconds, 0
        self.under_way, self.checking = None, None
        self.go = threading.Event()                 # the test lets the first part start
        self.rests_mid_batch = 0

    def run(self, batches=None, seconds=None, stop=None):
        self.go.wait(10)
        start = self.clock.now
        while True:
            self.clock.advance(self.part_seconds)
            self.part += 1
            if self.part == self.parts:
                self.part, self.under_way = 0, None
                self.done += 1
                return
            self.under_way = (self.part, self.parts)
            if (stop is not None and stop()) or (seconds is not None and self.clock.now - start >= seconds):
                return


class CountingWake(Wake):
    """Wake, counting the rests taken while a batch of `run` was only part done."""

    def __init__(self, clock, run):
        super().__init__(clock)
        self.run = run

    def wait(self, timeout=None):
        if timeout and self.run.under_way is not None:
            self.run.rests_mid_batch += 1
        return super().wait(timeout)


def test_a_big_batch_in_slow_motion_gives_its_place_between_two_parts(monkeypatch):
    """A run in slow motion whose mini-batches have 10 parts, and another run waiting for the one place:
    the waiting run gets it after a turn and one part, not after the whole batch; the batch is then carried
    on where it was (no part done twice) and slow motion rests only before a batch, never inside one."""
    clock = FakeClock()
    monkeypatch.setattr(worker, "time", types.SimpleNamespace(monotonic=clock.monotonic, sleep=lambda s: None))
    run = PartedRun(batches=3, parts=10, part_seconds=1.0, clock=clock)
    slots = Slots(1, turn_seconds=1.0)
    assert slots.acquire("holder")              # the place is taken while slow motion is switched on
    job = BackgroundRun(run, slots, None, None)
    job._wake, job.batch_seconds = CountingWake(clock, run), 20.0
    slots.release("holder")
    assert within(lambda: slots.position(job) == 0), "the run never got its place"
    got = {}

    def other():
        assert slots.acquire("other")
        got["parts"], got["batches"] = run.part, run.done       # where the slow-motion run was when it gave way
        slots.release("other")
    waiting = threading.Thread(target=other)
    waiting.start()
    assert within(lambda: slots.counts() == (1, 1)), "the other run never got in line"
    run.go.set()
    waiting.join(10)
    assert got == {"parts": 1, "batches": 0}, f"the waiting run got the place only at {got}"
    assert job.join(30), "the worker did not finish"
    assert job.error is None and run.done == 3 and run.part == 0
    # 30 s of parts, and one rest of 10 s: after its wait in line the schedule starts afresh (Pace.reset),
    # so batch 2 starts at once (t = 10 s) and batch 3 at its place, 20 s later
    assert run.rests_mid_batch == 0 and job.rested == pytest.approx(10.0) and clock.now == pytest.approx(40.0)
