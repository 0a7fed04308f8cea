"""A computation too big for a page, done in the server's line of runs, a part at a time.

A page must answer within about a second, but what some pages show (a model's outputs on the
whole test set, its accuracy on moved or noisy digits, a PCA map, an explanation) can take
minutes for the biggest model a file may hold. Such work is written as a generator that does
one part per step:

    def steps(stop):                 # stop(): True when a long call inside a part should give up
        for part in ...:
            ... at most PART_FLOPS of arithmetic (about 0.1 s on one core) ...
            yield fraction_done      # between two parts: where Stop, Pause and the line are heard
        return result

run_through(steps) does it all at once (a page, when the whole is small: ui/linework.py).
LineWork(steps, slots) does it in a thread of its own that, like a training run
(worker.BackgroundRun), first waits for a place in the line (worker.Slots), then between two
parts stops (Stop, or nobody there any more: alive() says False), pauses (Pause: it gives its
place back), or gives its place to the next in line when its turn is over. A `gate` (a lock
shared by one browser's works) lets one browser hold at most one place in the line at a time.

The part sizes come from the network's own cost per image, the same measure as the Trainer's
parts (trainer.PART_FLOPS), so a model at the loader's limit is read a few images at a time.
"""
import threading
import time

import numpy as np

from .convnet import ConvNet
from .trainer import PART_FLOPS
# Every thread still going, training runs and page works alike: worker.stop_all() stops them all.
from .worker import _ALL, _ALL_LOCK


def forward_flops(net):
    """Arithmetic of one image's forward pass (2 operations per multiply-add)."""
    if isinstance(net, ConvNet):
        return float(net.flops_per_example(backward=False))
    return 2.0 * sum(W.size for W in net.weights)


def rows_per_part(net, flops=PART_FLOPS, times=1.0):
    """How many images one part may read: a part's arithmetic, `times` forward passes of each
    image, stays within `flops` (and a CNN's busiest layer within its memory bound)."""
    rows = int(flops // max(forward_flops(net) * times, 1.0))
    if isinstance(net, ConvNet):
        from .convnet import CHUNK_VALUES
        rows = min(rows, CHUNK_VALUES // net.peak_values())
    return max(1, rows)


def outputs_steps(net, x, rows=None):
    """steps() for net.predict_proba(x) (n, classes) float32, `rows` images a part."""
    def steps(stop=None):
        size = rows or rows_per_part(net)
        out = np.empty((len(x), net.sizes[-1]), np.float32)
        for start in range(0, len(x), size):
            with np.errstate(all="ignore"):      # the page says, in words, when an output is not finite
                out[start:start + size] = net.predict_proba(np.asarray(x[start:start + size], np.float32))
            yield min(1.0, (start + size) / len(x))
        return out
    return steps


def within(gen, low, high):
    """The parts of the steps `gen` (a started generator), their fractions put in [low, high] (one stage
    of a longer work); returns gen's result."""
    while True:
        try:
            done = next(gen)
        except StopIteration as end:
            return end.value
        yield low + (high - low) * (done or 0.0)


def run_through(steps):
    """The result of steps(), all of it now, in this thread."""
    gen = steps(lambda: False)
    while True:
        try:
            next(gen)
        except StopIteration as end:
            return end.value


class LineWork:
    """Does steps() (see the module doc) in its own thread, in the line of `slots`.

    state: what was asked ("running", "paused", "stopped");
    phase: what the thread does ("waiting" in line, "working", "paused", "done").
    finished: the result is there (result); error: the exception steps() raised.
    fraction: the last fraction done the steps gave; parts: parts done; seconds: time working.
    """

    def __init__(self, steps, slots, alive=lambda: True, gate=None, name="page work"):
        self.steps, self.slots, self.alive, self.gate = steps, slots, alive, gate
        self.state, self.phase = "running", "waiting"
        self.finished, self.result, self.error = False, None, None
        self.fraction, self.parts, self.seconds = 0.0, 0, 0.0
        self._wake = threading.Event()
        self._thread = threading.Thread(target=self._main, name=f"line: {name}", daemon=True)
        with _ALL_LOCK:
            _ALL.add(self)
        self._thread.start()

    # ------------------------------------------------------------ asked by the page
    def pause(self):
        if self.state == "running":
            self.state = "paused"

    def resume(self):
        if self.state == "paused":
            self.state = "running"
            self._wake.set()

    def stop(self, wait=1.0):
        """Ask to stop; wait up to `wait` s until the thread is done (False if not yet)."""
        self.state = "stopped"
        self._wake.set()
        self._thread.join(wait)
        return self.done

    cancel = stop          # (worker.stop_all's word: a page's work has no test pass to keep)

    @property
    def done(self):
        return self.phase == "done"

    def join(self, timeout=None):
        self._thread.join(timeout)
        return self.done

    def position(self):
        """0 while working, n when n-th in line, None when in neither (paused, done, or waiting
        for the gate: its browser's other work goes first)."""
        return self.slots.position(self)

    def interrupted(self):
        return self.state != "running" or not self.alive()

    # ------------------------------------------------------------ the thread
    def _enter(self):
        """A place in the line (and the gate first): True, or False once interrupted."""
        if self.gate is not None:
            while not self.gate.acquire(timeout=0.1):
                if self.interrupted():
                    return False
        if self.slots.acquire(self, give_up=self.interrupted):
            return True
        if self.gate is not None:
            self.gate.release()
        return False

    def _leave(self):
        self.slots.release(self)
        if self.gate is not None:
            self.gate.release()

    def _part(self, gen):
        """One part: next(gen). True once the steps have returned their result."""
        started = time.perf_counter()
        try:
            done = next(gen)
            self.fraction = float(done) if done is not None else self.fraction
            self.parts += 1
            return False
        except StopIteration as end:
            self.result, self.finished, self.fraction = end.value, True, 1.0
            return True
        finally:
            self.seconds += time.perf_counter() - started

    def _main(self):
        gen = None
        try:
            while not self.finished and self.state != "stopped":
                if not self.alive():
                    self.state = "stopped"
                    break
                if self.state == "paused":
                    self.phase = "paused"
                    self._wake.wait(1.0)      # wakes on resume/stop, and now and then to check alive()
                    self._wake.clear()
                    continue
                self.phase = "waiting"
                if not self._enter():
                    continue
                try:
                    self.phase = "working"
                    gen = gen or self.steps(self.interrupted)
                    while not self.interrupted() and not self._part(gen):
                        if self.slots.should_yield(self):
                            break             # others wait: back in line
                finally:
                    self._leave()
        except Exception as err:              # shown to the user by the page that asked
            self.error = err.with_traceback(None)
        finally:
            if gen is not None:
                gen.close()                   # a stopped work's partial results are freed now
            self.phase = "done"
            with _ALL_LOCK:
                _ALL.discard(self)
