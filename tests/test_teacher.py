"""The teacher's passcode gate (classroom/teacher.py): right and wrong answers, slowing down
after wrong ones, no controls without a passcode."""
from classroom.teacher import MAX_WAIT, Gate, configured_passcode


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_right_and_wrong_passcodes():
    gate = Gate("tulip-42", clock=Clock())
    assert gate.enabled
    assert gate.check("tulip-42")
    assert not gate.check("tulip-4") and not gate.check("tulip-420") and not gate.check("")


def test_wrong_attempts_slow_down_the_next_ones():
    clock = Clock()
    gate = Gate("tulip-42", clock=clock)
    waits = []
    for _ in range(9):
        assert not gate.check("guess")
        waits.append(gate.wait())
        assert not gate.check("tulip-42")      # too soon: even the right one is not taken ...
        clock.now += gate.wait()               # ... the wait did not grow by trying too soon
    assert waits == [1, 2, 4, 8, 16, 32, MAX_WAIT, MAX_WAIT, MAX_WAIT]
    assert gate.check("tulip-42") and gate.wait() == 0
    assert not gate.check("guess") and gate.wait() == 1      # a right answer starts the count again


def test_no_passcode_no_gate(monkeypatch):
    monkeypatch.delenv("DIGITS_TEACHER_PASSCODE", raising=False)
    assert configured_passcode({}) == "" and not Gate("").enabled and not Gate("").check("")
    assert configured_passcode({"teacher_passcode": "from-secrets"}) == "from-secrets"
    monkeypatch.setenv("DIGITS_TEACHER_PASSCODE", "from-env")
    assert configured_passcode({"teacher_passcode": "from-secrets"}) == "from-env"

    class Broken:
        def get(self, *_):
            raise FileNotFoundError("no secrets.toml")
    monkeypatch.delenv("DIGITS_TEACHER_PASSCODE")
    assert configured_passcode(Broken()) == ""
