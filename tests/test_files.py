"""Crash safety: a writer killed mid-write leaves the old file intact."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from engine.files import atomic_write, atomic_write_bytes
from engine.modelfile import load_model, save_model
from engine.network import Network

ROOT = Path(__file__).resolve().parent.parent

WRITER = """
import sys, time
import numpy as np
sys.path.insert(0, {root!r})
from engine.modelfile import save_model
from engine.network import Network
net = Network([784, 2000, 2000, 10], seed=1)     # ~22 MB: each save takes a while
print("ready", flush=True)
while True:
    save_model({path!r}, net, {{"dataset": "new"}})
"""


@pytest.mark.parametrize("delay", [0.05, 0.2, 0.5])
def test_killed_writer_leaves_a_loadable_model(tmp_path, delay):
    path = tmp_path / "model.npz"
    old = Network([784, 16, 10], seed=0)
    save_model(path, old, {"dataset": "old"})   # (a setting the loader keeps: it drops unknown ones)
    proc = subprocess.Popen([sys.executable, "-c", WRITER.format(root=str(ROOT), path=str(path))],
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "ready"
        time.sleep(delay)     # let it get somewhere inside a write
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    net, settings = load_model(str(path))   # never a half-written file
    assert settings["dataset"] in ("old", "new")
    if settings["dataset"] == "old":
        np.testing.assert_array_equal(net.weights[0], old.weights[0])
    else:
        assert net.sizes == [784, 2000, 2000, 10]


def test_failed_write_keeps_old_file_and_leaves_no_temporary(tmp_path):
    path = tmp_path / "f.bin"
    atomic_write_bytes(path, b"old content")

    def broken(f):
        f.write(b"half of the new")
        raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError):
        atomic_write(path, broken)
    assert path.read_bytes() == b"old content"
    assert [p.name for p in tmp_path.iterdir()] == ["f.bin"]


def test_unwritable_folder_gives_clear_error(tmp_path):
    if os.geteuid() == 0:
        target = Path("/proc/digits-test/model.npz")   # root can write anywhere but here
    else:
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        target = locked / "model.npz"
    with pytest.raises(OSError):
        save_model(target, Network([784, 4, 10]))
