"""A training run in a thread of its own, and a line for runs that share one server.

A user interface must answer a click at once, but one mini-batch of a big network
can take many seconds. So the training happens here, in one worker thread per run,
and the interface only asks: pause(), resume(), stop(), and reads the Trainer's
progress. The worker is the only thread that ever changes its Trainer's network,
and it checks for a request between batches and between the parts of a big batch
(Trainer.run's `stop`), so a request takes effect within a fraction of a second.

Slots: at most `size` runs of one server train at the same time (2 cores can't do
more work by running more threads), each place giving its run its share of the cores
(Slots.threads: the threads a run may work in at once, engine/fast.py trick 1). The others
wait in line, first come first served, and a run that has trained for `turn_seconds` while others wait gives its
place to the next and lines up again, so every run moves on and none waits forever.
"""
import threading
import time
from collections import deque

from . import fast

SLICE_SECONDS = 0.25     # the worker trains this long between two looks at the line


def mid_way(trainer):
    """True while a trainer has a mini-batch (a step) or a check cut short between two of its parts."""
    return getattr(trainer, "under_way", None) is not None or getattr(trainer, "checking", None) is not None


class Pace:
    """Slow motion: mini-batch n starts no earlier than start + n * batch_seconds.

    A schedule, not a rest after each batch: a batch that takes longer than its share (the
    validation pass at an epoch's end, a busy machine) is made up by shorter rests after it,
    so N batches of a run take N * batch_seconds in all, however long each one computes.
    A run that needs longer than that at full speed gets no rest at all.
    """

    def __init__(self):
        self.due = None            # when the next batch may start (time.monotonic()); None: no schedule

    def rest(self, now, batch_seconds):
        """Seconds to wait before the next batch, which starts the clock `now`; books its share."""
        if self.due is None:
            self.due = now             # slow motion (re)starts: its schedule starts here
        wait = max(0.0, self.due - now)
        self.due += batch_seconds
        return wait

    def reset(self):
        """Full speed, a pause or a wait in line: the schedule starts afresh next time."""
        self.due = None


class Slots:
    """At most `size` runs train at once; the others wait in line (see the module doc)."""

    def __init__(self, size=2, turn_seconds=10.0):
        self.size, self.turn_seconds = max(1, int(size)), float(turn_seconds)
        self._cond = threading.Condition()
        self._running = {}          # run -> time it got its place
        self._line = deque()        # runs waiting, first in line first

    def acquire(self, run, give_up=lambda: False, poll=0.1):
        """Wait for a place to train. Returns True once `run` has one, or False
        (and leaves the line) as soon as give_up() says True."""
        with self._cond:
            self._line.append(run)
            while self._line.index(run) >= self.size - len(self._running):
                if give_up():
                    self._line.remove(run)
                    self._cond.notify_all()
                    return False
                self._cond.wait(poll)
            self._line.remove(run)
            self._running[run] = time.monotonic()
            return True

    @property
    def threads(self):
        """Threads one place may use: its share of the machine's cores, at least 1
        (1 with the app's default of one place per core: ui/limits.py MAX_TRAINING_RUNS)."""
        return max(1, fast.cores() // self.size)

    def release(self, run):
        with self._cond:
            self._running.pop(run, None)
            self._cond.notify_all()

    def should_yield(self, run):
        """True when others wait and `run` has had its turn."""
        with self._cond:
            since = self._running.get(run)
            return bool(self._line) and since is not None and time.monotonic() - since >= self.turn_seconds

    def position(self, run):
        """0 while `run` trains, n when it is n-th in line, None when it is in neither."""
        with self._cond:
            if run in self._running:
                return 0
            return self._line.index(run) + 1 if run in self._line else None

    def counts(self):
        """(runs training, runs waiting) on this server."""
        with self._cond:
            return len(self._running), len(self._line)


class BackgroundRun:
    """Trains `trainer` in its own thread until it finishes, diverges or is stopped,
    then measures the network on (x_test, y_test).

    Both are done in the line of runs (Slots), in parts of about PART_FLOPS of arithmetic
    (engine/trainer.py: a mini-batch's parts, the validation pass's and the test pass's), and
    between two parts the thread asks whether to pause, stop, give its place to a run that
    waits, or give up because the page went away. So no request waits for more than a part,
    and no pass of this run ever works outside the line.

    state: what was asked ("running", "paused", "stopped", "cancelled");
        stop(): training ends and the network is tested (the test pass still answers pause,
        cancel and "the page went away"); cancel(): everything ends, untested (Reset, shutdown).
    phase: what the thread does ("waiting" in line, "training", "paused", "testing", "done").
    testing: the test pass (trainer.Evaluation: seen of total images) once it has begun.
    result: (test_loss, test_accuracy) once done; error: an exception the thread hit.
    alive(): False when nobody is there any more (the browser tab closed): the run ends untested.
    """

    def __init__(self, trainer, slots, x_test, y_test, alive=lambda: True, name="training run"):
        self.trainer, self.slots = trainer, slots
        self.x_test, self.y_test, self.alive = x_test, y_test, alive
        self.state, self.phase = "running", "waiting"
        self.result = self.error = self.testing = None
        self.batch_seconds = 0.0      # slow motion: each mini-batch's share of the run's time (0 = full speed)
        self.rested = 0.0             # seconds slow motion has waited so far (training time is the Trainer's)
        self._pace = Pace()
        self._wake = threading.Event()
        self._thread = threading.Thread(target=self._main, name=name, daemon=True)
        with _ALL_LOCK:
            _ALL.add(self)
        self._thread.start()

    # ------------------------------------------------------------ asked by the interface
    def pause(self, wait=1.0):
        """Ask to pause; wait up to `wait` s until the thread has stopped working."""
        if self.state == "running":
            self.state = "paused"
            self._wake.set()              # a slow-motion rest ends at once
        return self._wait_for(lambda: self.phase in ("paused", "done"), wait)

    def resume(self):
        if self.state == "paused":
            self.state = "running"
            self._wake.set()

    def stop(self, wait=1.0):
        """Ask to stop training (the network is then tested); wait up to `wait` s until the
        thread is done (False if not yet)."""
        if self.state != "cancelled":
            self.state = "stopped"
        self._wake.set()
        return self._wait_for(lambda: self.phase == "done", wait)

    def cancel(self, wait=1.0):
        """Ask to end everything now, the test pass too; wait up to `wait` s until the thread is done."""
        self.state = "cancelled"
        self._wake.set()
        return self._wait_for(lambda: self.phase == "done", wait)

    @property
    def done(self):
        return self.phase == "done"

    def join(self, timeout=None):
        self._thread.join(timeout)
        return self.done

    def position(self):
        """0 while working, n when n-th in line for a place (see Slots)."""
        return self.slots.position(self)

    def _wait_for(self, condition, seconds):
        end = time.monotonic() + seconds
        while not condition() and time.monotonic() < end:
            time.sleep(0.01)
        return condition()

    # ------------------------------------------------------------ the thread
    def _main(self):
        run = self.trainer
        try:
            self._take_turns("training", lambda: self.state in ("stopped", "cancelled") or run.finished
                             or run.diverged, self._train_some)
            if self.state != "cancelled" and self.alive():   # nobody left to show the test accuracy to: skip it
                self.testing = run.evaluation(self.x_test, self.y_test)
                self._take_turns("testing", lambda: self.state == "cancelled" or self.testing.done,
                                 self.testing.step)
                self.result = self.testing.result
        except Exception as err:              # shown to the user by whoever reads the run
            self.error = err
        finally:
            self.phase = "done"
            with _ALL_LOCK:
                _ALL.discard(self)

    def _take_turns(self, phase, over, work_some):
        """Call work_some() while holding a place in the line, until over() says True.

        Between two calls: a pause gives the place back and waits for resume (or stop); a run
        that has had its turn while others wait goes back in line; and a page that went away
        ends it all (state "cancelled"). Each call is one part, or a slice of SLICE_SECONDS."""
        while not over():
            if not self.alive():
                self.state = "cancelled"
                return
            if self.state == "paused":
                self.phase = "paused"
                self._wake.wait(1.0)      # wakes on resume/stop, and now and then to check alive()
                self._wake.clear()
                continue
            self.phase = "waiting"
            self._pace.reset()            # slow motion's schedule starts afresh after a pause or a wait
            if not self.slots.acquire(self, give_up=lambda: over() or self.state == "paused" or not self.alive()):
                continue
            try:
                self.phase = phase
                if hasattr(self.trainer, "threads"):
                    self.trainer.threads = self.slots.threads     # no more threads than the place gives
                while not (over() or self.state == "paused" or not self.alive()):
                    work_some()
                    if self.slots.should_yield(self):
                        break             # others wait: back in line
            finally:
                self.slots.release(self)

    def _interrupted(self):
        return self.state != "running" or not self.alive()

    def _train_some(self):
        """A slice of training (or in slow motion a rest, cut short by a click, then one batch, a big one
        SLICE_SECONDS at a time, with no rest inside it); stops at a request."""
        run = self.trainer
        if self.batch_seconds:      # slow motion: batch n starts no earlier than its place in the schedule
            if not mid_way(run):    # (the rest of a batch, or of a check, cut short between two parts: at once)
                started = time.monotonic()
                if self._wake.wait(self._pace.rest(started, self.batch_seconds)) and self.state == "running":
                    self._wake.clear()      # a stale wake-up (a resume long ago), not a request
                self.rested += time.monotonic() - started
            if not self._interrupted():
                # one batch, but a big one (of several parts) only for SLICE_SECONDS at a time, so that
                # runs waiting in line get their turn between two of its parts, as at full speed
                run.run(batches=1, seconds=SLICE_SECONDS, stop=self._interrupted)
        else:
            self._pace.reset()
            run.run(seconds=SLICE_SECONDS, stop=self._interrupted)


_ALL = set()                 # every run whose thread is still going (for stop_all)
_ALL_LOCK = threading.Lock()


def stop_all(wait=5.0):
    """Stop every run of this process (tests, and a server shutting down)."""
    with _ALL_LOCK:
        runs = list(_ALL)
    for run in runs:
        run.cancel(wait=0)
    for run in runs:
        run.join(wait)
