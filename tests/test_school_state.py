"""Issue 26: a school's server shares its state through one PostgreSQL database. What a browser left
("Welcome back") and the teacher passcode's wrong tries are seen by every app process (here: two
Store objects on one real PostgreSQL database, as two processes hold them); SQLite stays the
single-process default, in memory. The browser test with real processes behind the proxy is
tests/browser/test_browser_school.py."""
import io
import math
import time

import numpy as np
import pytest

from classroom import teacher
from classroom.store import Store, is_shared
from engine.convnet import ConvNet
from engine.network import Network
from ui import class_db, keep, keep_shared

KEY_A, KEY_B = "a" * 32, "b" * 32


def run_record(i, points=10):
    return {"id": i, "label": f"run {i}", "status": "finished", "test_loss": float("nan"),
            "settings": {"sizes": [784, 8, 10], "lr": 0.1},
            "history": {"batch_step": list(range(points)), "batch_loss": [0.5] * points,
                        "epochs": [{"epoch": 1, "val_acc": np.float32(0.5)}],
                        "marks": [(3, "lr 0.1 → 0.2", {"lr": (0.1, 0.2)})]}}


class Process:
    """What one app process holds: its own Store on the shared database, and its keep store."""

    def __init__(self, url):
        self.db = Store(url)
        self.kept = keep_shared.SharedStore(keep.Kept, keep.Store(10 * 2**20, 3600))


@pytest.fixture
def processes(pg_url, monkeypatch):
    """Two 'processes' on one fresh PostgreSQL database; class_db.store() answers with the one in use."""
    import pg_server
    url = pg_server.new_database(pg_url)
    monkeypatch.setenv("DIGITS_DB", url)
    a, b = Process(url), Process(url)
    current = [a]
    monkeypatch.setattr(class_db, "store", lambda: (current[0].db, None))

    def on(p):
        current[0] = p
        return p.kept

    yield on, a, b
    a.db.close()
    b.db.close()


def test_what_a_browser_left_on_one_process_is_offered_by_another(processes):
    on, a, b = processes
    net = Network([784, 8, 10], seed=1)
    on(a).put(KEY_A, [run_record(1), run_record(2)], net, {"label": "your model (784-8-10)", "settings": {"lr": 0.1}})
    kept = on(b).get(KEY_A)                       # the browser lands on the other process
    assert kept is not None and [r["id"] for r in kept.runs] == [1, 2]
    assert kept.model is not net and isinstance(kept.model, Network) and kept.model.sizes == net.sizes
    for w, w0 in zip(kept.model.params(), net.params()):
        assert w.dtype == np.float32 and np.array_equal(w, w0)
    assert kept.model_info == {"label": "your model (784-8-10)", "settings": {"lr": 0.1}}
    r = kept.runs[0]
    assert math.isnan(r["test_loss"]) and r["history"]["epochs"][0]["val_acc"] == pytest.approx(0.5)
    assert r["history"]["marks"][0][2]["lr"][1] == 0.2              # steering's marks read back (tuples as lists)
    assert on(b).get(KEY_B) is None                                 # another browser: nothing
    assert on(b).get(KEY_A) is on(b).get(KEY_A)                     # read again (each rerun): not decoded again
    on(a).put(KEY_A, [run_record(3)], None, {})                     # ... until the browser leaves something new
    assert [r["id"] for r in on(b).get(KEY_A).runs] == [3] and on(b).get(KEY_A).model is None
    on(b).drop(KEY_A)
    assert on(a).get(KEY_A) is None


def test_a_cnn_comes_back_through_the_model_file_format(processes):
    on, a, b = processes
    from ui import training
    settings = training.settings_from_values({"train_kind": "cnn", "train_filters": "4", "train_kernel": 3}).as_dict()
    net = ConvNet(settings["layers"], seed=0)
    on(a).put(KEY_A, [], net, {"settings": settings})
    back = on(b).get(KEY_A).model
    assert isinstance(back, ConvNet) and back.spec() == net.spec()
    assert all(np.array_equal(p, q) for p, q in zip(back.params(), net.params()))


def test_nothing_is_pickled_and_what_no_codec_writes_stays_in_memory(processes):
    on, a, b = processes

    class Thing:
        pass

    with pytest.raises(keep_shared.Unkeepable, match="runs holds a Thing"):
        keep_shared.encode({"runs": [Thing()]})
    with pytest.raises(keep_shared.Unkeepable):
        keep_shared.encode({"model_info": {1: "a key that is not text"}})
    data = keep_shared.encode({"runs": [run_record(1)], "model": Network([784, 4, 10], seed=0), "model_info": {}})
    with np.load(io.BytesIO(data), allow_pickle=False) as files:      # readable without pickles
        assert {f.dtype.kind for f in files.values()} <= {"i", "U", "u"}
    on(a).put(KEY_A, [{"id": 1, "odd": Thing()}], None, {})
    assert on(a).get(KEY_A) is not None                  # kept, in this process's memory
    assert on(b).get(KEY_A) is None                       # and only there


def test_the_size_and_age_limits_hold_for_the_whole_school(processes, monkeypatch):
    on, a, b = processes
    net = Network([784, 64, 10], seed=0)
    size = len(keep_shared.encode({"runs": [run_record(0)], "model": net, "model_info": {}}))
    for p in (a, b):
        p.kept.max_bytes = int(2.5 * size)
    on(a).put("c" * 32, [run_record(0)], net, {})
    on(b).put("d" * 32, [run_record(1)], net, {})
    on(a).put("e" * 32, [run_record(2)], net, {})
    assert on(b).get("c" * 32) is None                   # the oldest made room, whichever process kept it
    assert on(b).get("d" * 32) is not None and on(a).get("e" * 32) is not None
    assert a.db.kept_bytes() <= 2.5 * size
    b.kept.max_bytes = size // 2                         # bigger than all the room: not kept at all
    on(b).put("f" * 32, [run_record(3)], net, {})
    assert on(a).get("f" * 32) is None
    on(a).max_seconds = a.kept.max_seconds = 0.0         # everything older than now has expired
    assert on(a).get("e" * 32) is None


def test_wrong_passcode_tries_count_for_the_whole_school(processes):
    on, a, b = processes
    gates = [teacher.Gate("tulip-42", shared=lambda who, quiet, most, s=p.db: s.wrong_try(who, quiet, most))
             for p in (a, b)]
    who = ("browser x", "address y")
    holds = [gates[i % 2].check("wrong", who)[1] for i in range(4)]     # alternating processes
    assert holds == [1.0, 2.0, 4.0, 8.0]
    assert gates[1].check("tulip-42", who) == (True, 0.0)                # the right one: at once
    assert gates[0].check("wrong", ("browser z", "address y"))[1] == 16.0  # a new browser, same address
    # A key quiet for QUIET seconds starts again; keys beyond max_keys are forgotten, the quietest first.
    assert a.db.wrong_try(("browser x",), teacher.QUIET, 100, now=time.time() + teacher.QUIET + 1) == 1
    for i in range(5):
        b.db.wrong_try((f"browser n{i}",), teacher.QUIET, 3)
    assert b.db.wrong_try(("browser n4",), teacher.QUIET, 3) == 2 and a.db.wrong_try(("browser n0",),
                                                                                       teacher.QUIET, 3) == 1


def test_sqlite_is_the_single_process_default_kept_in_memory(monkeypatch, tmp_path):
    monkeypatch.setenv("DIGITS_DB", str(tmp_path / "class.sqlite3"))
    assert not class_db.shared() and not is_shared(str(tmp_path / "x.sqlite3"))
    assert is_shared("postgresql://u@h/db") and not is_shared("mysql://u@h/db")
    keep.store.clear()
    try:
        assert type(keep.store()) is keep.Store
        monkeypatch.setenv("DIGITS_DB", "postgresql://digits@127.0.0.1:1/none")
        keep.store.clear()
        assert type(keep.store()) is keep_shared.SharedStore
    finally:
        keep.store.clear()


def test_the_class_page_counts_wrong_tries_in_the_database_when_it_is_postgresql(pg_url, monkeypatch, tmp_path):
    """ui/class_set.py's Gate asks the class database (ui/class_db.py) on PostgreSQL, its memory on SQLite."""
    import pg_server
    from ui import class_set
    who = ("browser q", "address r")
    monkeypatch.setenv("DIGITS_DB", str(tmp_path / "class.sqlite3"))
    assert class_set._shared_tries(who, teacher.QUIET, 100) is None
    monkeypatch.setenv("DIGITS_DB", pg_server.new_database(pg_url))
    class_db._failed.clear()
    try:
        assert [class_set._shared_tries(who, teacher.QUIET, 100) for _ in range(3)] == [1, 2, 3]
        other = Store(class_db.default_url())           # another process's view of the same database
        assert other.wrong_try(who, teacher.QUIET, 100) == 4
        other.close()
    finally:
        class_db._open.clear()


def test_the_language_model_parts_cross_processes_too(processes):
    """The payload is generic: the language-model runs and model (ui/keep.py's lm_runs, lm_model: its model
    file's bytes as a uint8 array) are written and read back with no code of their own here."""
    from test_keep import lm_run
    on, a, b = processes
    record, entry = lm_run(0)
    on(a).put(KEY_A, [], None, {}, lm_runs=[record], lm_model=keep._lm_kept(entry))
    back = on(b).get(KEY_A)
    assert back.lm_runs == [record] and back.lm_model["label"] == entry["label"]
    assert back.lm_model["file"].dtype == np.uint8
    model = keep._lm_entry(back.lm_model)["model"]
    assert all(np.array_equal(p, q) for p, q in zip(model.params(), entry["model"].params()))
