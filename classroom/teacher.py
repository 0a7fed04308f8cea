"""The teacher's passcode: set by whoever runs the server (env DIGITS_TEACHER_PASSCODE or
`teacher_passcode` in .streamlit/secrets.toml); none set = no teacher controls.

Compared in constant time (hmac.compare_digest), so the time of a wrong answer tells
nothing about the right one; after each wrong attempt the next must wait longer (1, 2,
4 ... up to 60 s), counted per server process for everyone together, so guessing is slow
even from many sessions. The passcode is never shown, logged or put in an address.
"""
import hashlib
import hmac
import os
import threading
import time

MAX_WAIT = 60.0


class Gate:
    """Checks attempts against one passcode, slowing down after wrong ones."""

    def __init__(self, passcode, clock=time.monotonic):
        # Kept as a digest: compare_digest then compares equal-length values, whatever the lengths typed.
        self._digest = hashlib.sha256(passcode.encode()).digest() if passcode else None
        self._clock, self._lock = clock, threading.Lock()
        self._failures, self._next_try = 0, 0.0

    @property
    def enabled(self):
        return self._digest is not None

    def wait(self):
        """Seconds until the next attempt is taken (0 = now)."""
        with self._lock:
            return max(0.0, self._next_try - self._clock())

    def check(self, attempt):
        """True for the right passcode. A wrong one (or one tried too soon) is False and
        pushes the next try further away."""
        if self._digest is None or not isinstance(attempt, str):
            return False
        with self._lock:
            if self._clock() < self._next_try:
                return False
            ok = hmac.compare_digest(hashlib.sha256(attempt.encode()).digest(), self._digest)
            if ok:
                self._failures = 0
            else:
                self._failures += 1
                self._next_try = self._clock() + min(MAX_WAIT, 2.0 ** (self._failures - 1))
            return ok


def configured_passcode(secrets=None):
    """The passcode set for this server ('' = none): DIGITS_TEACHER_PASSCODE, else
    `teacher_passcode` in `secrets` (st.secrets)."""
    passcode = os.environ.get("DIGITS_TEACHER_PASSCODE", "")
    if not passcode and secrets is not None:
        try:
            passcode = str(secrets.get("teacher_passcode", "") or "")
        except Exception:  # noqa: BLE001 - no secrets.toml at all, or an unreadable one: no controls
            passcode = ""
    return passcode
