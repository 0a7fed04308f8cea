"""The teacher's passcode: set by whoever runs the server (env DIGITS_TEACHER_PASSCODE or
`teacher_passcode` in .streamlit/secrets.toml); none set = no teacher controls.

Compared in constant time (hmac.compare_digest), so the time of a wrong answer tells
nothing about the right one. The right passcode always gets in at once, whatever was
tried before, from any browser. A wrong try is answered only after a hold that doubles
with each wrong try (1, 2, 4 ... up to 60 s), counted per browser and per client address
(the larger of the two counts); the page waits for the answer, so one browser tries at
most once per hold. A browser or address that makes no wrong try for QUIET seconds starts
again at 1 s. So a student's wrong tries slow only wrong tries, never the teacher's right
one. (A student who opens many new browsers gets one try in each at once: the hold slows
guessing, it cannot stop it, so the passcode must be hard to guess; docs/class_limits.md.)
Counted in the class database when it is PostgreSQL (every app process of a school counts
together: `shared`, Store.wrong_try), else per server process, in memory; in memory too
while that database cannot be reached. The passcode is never shown, logged or put in an address.
"""
import hashlib
import hmac
import os
import threading
import time

MAX_WAIT = 60.0          # seconds: the longest hold of a wrong try
QUIET = 15 * 60.0        # seconds without a wrong try after which a browser's or address's count starts again
MAX_KEYS = 10_000        # browsers and addresses counted at most (the longest quiet ones are forgotten first)


class Gate:
    """Checks attempts against one passcode; wrong ones are held longer and longer."""

    def __init__(self, passcode, clock=time.monotonic, max_keys=MAX_KEYS, shared=None):
        # Kept as a digest: compare_digest then compares equal-length values, whatever the lengths typed.
        self._digest = hashlib.sha256(passcode.encode()).digest() if passcode else None
        self._clock, self._lock, self._max_keys = clock, threading.Lock(), max_keys
        self._wrong = {}          # who -> (wrong tries in a row, when the last was made); oldest first
        # shared(who, quiet, max_keys) -> the most wrong tries in a row among `who`, counted where every
        # process of the server sees them, or None where there is no such place (then counted here).
        self._shared = shared

    @property
    def enabled(self):
        return self._digest is not None

    def check(self, attempt, who=()):
        """(True, 0) for the right passcode, at once. (False, hold) for a wrong one: hold is
        how many seconds its answer should be held back (the caller waits that long before
        saying so). who: the keys the try is counted under (this browser, its address)."""
        if self._digest is None or not isinstance(attempt, str):
            return False, 0.0
        if hmac.compare_digest(hashlib.sha256(attempt.encode()).digest(), self._digest):
            return True, 0.0
        most = self._shared(tuple(who), QUIET, self._max_keys) if self._shared is not None else None
        if most is None:
            most = self._count_here(who)
        return False, min(MAX_WAIT, 2.0 ** (max(most, 1) - 1))

    def _count_here(self, who):
        """Count the wrong try in this process's memory; the most wrong tries in a row among `who`."""
        with self._lock:
            now, most = self._clock(), 0
            for key in who:
                n, last = self._wrong.pop(key, (0, now))
                n = 1 if now - last > QUIET else n + 1
                self._wrong[key] = (n, now)        # (re)inserted last: the dict stays oldest first
                most = max(most, n)
            while len(self._wrong) > self._max_keys:
                del self._wrong[next(iter(self._wrong))]
        return most


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
