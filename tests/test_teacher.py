"""The teacher's passcode gate (classroom/teacher.py): right and wrong answers, slowing down
after wrong ones, no controls without a passcode."""
from classroom.teacher import MAX_WAIT, QUIET, Gate, configured_passcode


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_right_and_wrong_passcodes():
    gate = Gate("tulip-42", clock=Clock())
    assert gate.enabled
    assert gate.check("tulip-42") == (True, 0)
    for wrong in ("tulip-4", "tulip-420", "", "TULIP-42"):
        assert not gate.check(wrong)[0]
    assert gate.check(None) == (False, 0) and gate.check(42) == (False, 0)


def test_wrong_attempts_are_held_longer_and_longer():
    clock = Clock()
    gate = Gate("tulip-42", clock=clock)
    who = ("browser A", "address 1")
    holds = []
    for _ in range(9):
        ok, hold = gate.check("guess", who)
        assert not ok
        holds.append(hold)
        clock.now += hold
    assert holds == [1, 2, 4, 8, 16, 32, MAX_WAIT, MAX_WAIT, MAX_WAIT]
    clock.now += QUIET + 1                                  # a quarter of an hour without a wrong try
    assert gate.check("guess", who) == (False, 1)


def test_the_right_passcode_is_never_held():
    """Issue 21 (6): one wrong try a minute kept the teacher out (a try during the wait was
    refused even when right, and the wait was one for the whole server)."""
    clock = Clock()
    gate = Gate("tulip-42", clock=clock)
    student = ("browser S", "address school")
    for _ in range(20):
        assert not gate.check("guess", student)[0]
    # At once, no time passing: from the same browser and address, and from another browser
    # on the same address (a school's one public address), and from anywhere else.
    assert gate.check("tulip-42", student) == (True, 0)
    assert gate.check("tulip-42", ("browser T", "address school")) == (True, 0)
    assert gate.check("tulip-42", ("browser T", "address home")) == (True, 0)


def test_one_browsers_wrong_tries_do_not_slow_another_browser_elsewhere():
    clock = Clock()
    gate = Gate("tulip-42", clock=clock)
    for _ in range(10):
        gate.check("guess", ("browser S", "address 1"))
    assert gate.check("guess", ("browser T", "address 2")) == (False, 1)     # its own count: 1 s
    # The same address counts together (a new cookie does not start a new count) ...
    assert gate.check("guess", ("browser U", "address 1")) == (False, MAX_WAIT)
    # ... and so does one browser that moves to another address.
    assert gate.check("guess", ("browser S", "address 3")) == (False, MAX_WAIT)


def test_the_counts_kept_are_bounded():
    clock = Clock()
    gate = Gate("tulip-42", clock=clock, max_keys=50)
    for i in range(500):
        clock.now += 1
        gate.check("guess", (f"browser {i}", "address 1"))
    assert len(gate._wrong) == 50 and "address 1" in gate._wrong       # the busiest key is kept
    assert gate.check("guess", ("browser new", "address 1"))[1] == MAX_WAIT


def test_no_passcode_no_gate(monkeypatch):
    monkeypatch.delenv("DIGITS_TEACHER_PASSCODE", raising=False)
    assert configured_passcode({}) == "" and not Gate("").enabled and not Gate("").check("")[0]
    assert configured_passcode({"teacher_passcode": "from-secrets"}) == "from-secrets"
    monkeypatch.setenv("DIGITS_TEACHER_PASSCODE", "from-env")
    assert configured_passcode({"teacher_passcode": "from-secrets"}) == "from-env"

    class Broken:
        def get(self, *_):
            raise FileNotFoundError("no secrets.toml")
    monkeypatch.delenv("DIGITS_TEACHER_PASSCODE")
    assert configured_passcode(Broken()) == ""
