"""The server killed while sessions write: a writer process (several threads, as an app
server's sessions) adds drawings and says "confirmed <id>" for each one the store returned;
it is killed with SIGKILL mid-writes. The database must open afterwards and hold every
confirmed entry, on SQLite and on PostgreSQL. And the PostgreSQL server itself killed with
SIGKILL (all its processes, as a crash would) while the sessions write: after it restarts
(crash recovery), every confirmed entry is there.
"""
import os
import signal
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from classroom.store import Store

ROOT = Path(__file__).resolve().parent.parent
CONFIRMED_BEFORE_KILL = 150

WRITER = r"""
import sys, threading
import numpy as np
from classroom.store import Store, drawing_png
store = Store(sys.argv[1], min_interval=0)
png = drawing_png(np.eye(40, dtype=np.float32))
lock = threading.Lock()
def session(k):
    x = np.zeros(784, np.uint8); x[200:400] = 200
    for i in range(100000):
        new = store.add_drawing(f"writer-{k}", i % 10, x, png)
        with lock:                       # told to the user only after the store returned it
            print(f"confirmed {new}", flush=True)
for k in range(4):
    threading.Thread(target=session, args=(k,), daemon=True).start()
threading.Event().wait()
"""


def _kill_app(proc):
    os.kill(proc.pid, signal.SIGKILL)     # mid-writes: four threads are in transactions


def _kill_while_writing(where, kill=None):
    """Run the writer on `where` until CONFIRMED_BEFORE_KILL entries are confirmed, then
    kill(proc) (default: SIGKILL the writer); returns the ids confirmed to the writer's users."""
    kill = kill or _kill_app
    proc = subprocess.Popen([sys.executable, "-c", WRITER, where], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    confirmed = []
    timer = threading.Timer(300, proc.kill)      # bounded, whatever happens
    timer.start()
    try:
        for line in proc.stdout:
            confirmed.append(int(line.split()[1]))
            if len(confirmed) >= CONFIRMED_BEFORE_KILL:
                kill(proc)
                break
        rest = proc.stdout.read()                     # lines written before the kill landed
        confirmed += [int(line.split()[1]) for line in rest.splitlines() if line.startswith("confirmed ")]
        proc.wait(60)
    finally:
        timer.cancel()
    assert proc.returncode == -signal.SIGKILL, proc.stderr.read()
    return confirmed


def test_sqlite_keeps_every_confirmed_entry_after_sigkill(tmp_path):
    path = tmp_path / "class.sqlite3"
    Store(path).close()
    confirmed = _kill_while_writing(str(path))
    assert len(confirmed) >= CONFIRMED_BEFORE_KILL
    with sqlite3.connect(path) as conn:                    # the file itself is sound
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    s = Store(path)
    stored = {d["id"] for d in s.drawings(with_png=False)}
    s.close()
    assert set(confirmed) <= stored
    assert len(stored) - len(confirmed) <= 4   # at most one commit per thread not yet told to the user


def test_postgresql_keeps_every_confirmed_entry_after_sigkill(pg_url):
    import pg_server
    url = pg_server.new_database(pg_url)
    Store(url).close()
    confirmed = _kill_while_writing(url)
    s = Store(url)
    stored = {d["id"] for d in s.drawings(with_png=False)}
    s.close()
    assert set(confirmed) <= stored and len(stored) - len(confirmed) <= 4


def test_postgresql_keeps_every_confirmed_entry_after_the_server_is_killed():
    import pg_server
    reason = pg_server.missing_reason()
    if reason:
        pytest.skip(reason)

    def kill_server_then_app(proc):
        pg_server.kill(server)           # the database server dies mid-transactions ...
        os.kill(proc.pid, signal.SIGKILL)  # ... then the app (its sessions only see errors now)

    with pg_server.postgres(fsync=True) as server:    # its own server, with fsync on as in production
        url = pg_server.new_database(server)
        Store(url).close()
        confirmed = _kill_while_writing(url, kill_server_then_app)
        pg_server.start(server)          # crash recovery replays the write-ahead log
        s = Store(url)
        stored = {d["id"] for d in s.drawings(with_png=False)}
        s.close()
    assert len(confirmed) >= CONFIRMED_BEFORE_KILL
    assert set(confirmed) <= stored and len(stored) - len(confirmed) <= 4
