"""The class store (classroom/store.py) against real SQLite files and a real PostgreSQL server:
entries round-trip, the per-session limits hold, hostile values are stored harmlessly or
refused with a clear message, and a damaged, unwritable or newer database turns the class
features off with one sentence.
"""
import io
import os
import pwd
import sqlite3

import numpy as np
import pytest
from PIL import Image

from class_db import PNG, digit
from classroom import store as cs
from classroom.limits import ClassLimits, address_key
from classroom.store import Refused, Store, StoreUnavailable


@pytest.fixture
def store(db_url):
    s = Store(db_url)
    yield s
    s.close()


def test_drawings_round_trip(store):
    ids = [store.add_drawing("s1", label, digit(label), PNG, nickname="Ada", now=1000 + 2 * i)
           for i, label in enumerate((3, 3, 7))]
    assert len(set(ids)) == 3
    x, y, got_ids = store.class_set()
    assert list(y) == [3, 3, 7] and list(got_ids) == ids
    assert x.dtype == np.uint8 and x.shape == (3, 784)
    assert np.array_equal(x[2], digit(7))
    assert list(store.counts_by_label()) == [0, 0, 0, 2, 0, 0, 0, 1, 0, 0]
    assert store.counts_by_nickname() == [("Ada", 3)]
    sevens = store.drawings(label=7)
    assert [d["id"] for d in sevens] == [ids[2]] and bytes(sevens[0]["png"]) == PNG
    assert store.session_count("s1") == 3 and store.session_count("nobody") == 0


def test_floats_from_the_preprocessing_are_stored_as_bytes(store):
    x = digit(1).astype(np.float32) / 255
    store.add_drawing("s", 1, x, PNG)
    assert np.array_equal(store.class_set()[0][0], digit(1))


def test_one_drawing_a_second_per_session(store):
    store.add_drawing("s1", 1, digit(), PNG, now=100.0)
    with pytest.raises(Refused, match="One drawing a second"):
        store.add_drawing("s1", 1, digit(), PNG, now=100.5)
    store.add_drawing("s2", 1, digit(), PNG, now=100.5)     # another session is not held up
    store.add_drawing("s1", 1, digit(), PNG, now=101.0)
    assert store.count() == 3


def test_at_most_500_drawings_per_session(db_url):
    s = Store(db_url, min_interval=0)
    for i in range(cs.MAX_PER_SESSION):
        s.add_drawing("busy", i % 10, digit(i), PNG, now=float(i))
    with pytest.raises(Refused, match="500 drawings"):
        s.add_drawing("busy", 1, digit(), PNG, now=1e6)
    s.add_drawing("other", 1, digit(), PNG)
    assert s.count() == cs.MAX_PER_SESSION + 1
    s.remove_drawing(s.drawings(limit=1)[0]["id"])     # a removal does not give the quota back ...
    with pytest.raises(Refused):
        s.add_drawing("busy", 1, digit(), PNG, now=2e6)
    assert s.clear() == cs.MAX_PER_SESSION             # ... clearing the set does
    s.add_drawing("busy", 1, digit(), PNG, now=3e6)
    assert s.count() == 1
    s.close()


HOSTILE_NICKNAMES = ["';DROP TABLE drawings--", "<script>alert(1)</script>"[:24], "<img src=x onerror=f()>", "x\" OR 1=1 --",
                     "ünïcødé ✏️ 数字", "%s %(x)s {0}"]


@pytest.mark.parametrize("nickname", HOSTILE_NICKNAMES)
def test_hostile_nicknames_are_stored_as_text(store, nickname):
    store.add_drawing("s", 2, digit(), PNG, nickname=nickname)
    store.add_score("s", nickname, 0.5, 10, "sample", "784-10", {"lr": 0.1}, {})
    assert store.counts_by_nickname() == [(nickname, 1)]
    assert store.scores()[0]["nickname"] == nickname
    assert store.count() == 1          # the tables are all still there


@pytest.mark.parametrize("nickname, why", [
    ("x" * 10_000, "at most 24"), ("a" * 25, "at most 24"), ("tab\there", "control characters"),
    ("new\nline", "control characters"), ("nul\x00", "control characters"), ("bidi\u202e", "control characters"),
    (b"bytes", "must be text")])
def test_bad_nicknames_are_refused(store, nickname, why):
    with pytest.raises(Refused, match=why):
        store.add_drawing("s", 2, digit(), PNG, nickname=nickname)
    with pytest.raises(Refused, match=why):
        store.add_score("s", nickname, 0.5, 10, "sample", "784-10", {}, {})
    assert store.count() == 0 and store.scores() == []


@pytest.mark.parametrize("label", [-1, 10, 255, 3.5, "3", None, True, 2**70])
def test_labels_out_of_range_are_refused(store, label):
    with pytest.raises(Refused, match="digit from 0 to 9"):
        store.add_drawing("s", label, digit(), PNG)
    assert store.count() == 0


def _png(width, height):
    buf = io.BytesIO()
    Image.new("L", (width, height), 255).save(buf, format="PNG", optimize=True)
    return buf.getvalue()


@pytest.mark.parametrize("pixels, why", [
    (np.zeros(784, np.uint8), "empty"), (b"\x00" * 784, "empty"), (b"\xff" * 783, "784 pixels"),
    (np.full((56, 56), 200, np.uint8), "784 pixels"), (np.full(784, np.nan, np.float32), "between 0 and 1"),
    (np.full(784, 2.0), "between 0 and 1"), (np.full(784, 7, np.int64), "bytes 0-255"), (b"", "784 pixels")])
def test_malformed_digits_are_refused(store, pixels, why):
    with pytest.raises(Refused, match=why):
        store.add_drawing("s", 1, pixels, PNG)
    assert store.count() == 0


@pytest.mark.parametrize("png, why", [
    (b"GIF89a" + b"\x00" * 100, "not a PNG"), (PNG[:40], "damaged"), (PNG[:8] + b"\x00" * 200, "damaged"),
    (PNG[:8] + os.urandom(cs.MAX_PNG_BYTES), "too big"), (_png(20_000, 4), "too large"), ("text", "PNG bytes")])
def test_malformed_or_oversized_pictures_are_refused(store, png, why):
    with pytest.raises(Refused, match=why):
        store.add_drawing("s", 1, digit(), png)
    assert store.count() == 0


@pytest.mark.parametrize("accuracy", [1.5, -0.1, float("nan"), float("inf")])
def test_impossible_accuracies_are_refused(store, accuracy):
    with pytest.raises(Refused, match="between 0 and 1"):
        store.add_score("s", "me", accuracy, 10, "sample", "784-10", {}, {})


def test_leaderboard_best_first_and_removable(store):
    a = store.add_score("s1", "A", 0.91, 2000, "sample", "784-10", {"lr": 0.1}, {"lr": "0.1"}, now=1)
    b = store.add_score("s2", "B", 0.97, 2000, "sample", "784-256-10", {"lr": 0.5}, {"hidden": "256"}, now=2)
    c = store.add_score("s3", "C", 0.91, 2000, "sample", "784-10", {}, {}, now=3)
    rows = store.scores()
    assert [r["id"] for r in rows] == [b, a, c]         # best first; the earlier of equals first
    assert rows[0]["lesson"] == {"hidden": "256"} and rows[0]["settings"] == {"lr": 0.5}
    assert store.remove_score(a) and not store.remove_score(a)
    assert [r["id"] for r in store.scores()] == [b, c]


def test_reopening_keeps_everything_and_does_not_migrate_again(db_url):
    s = Store(db_url)
    s.add_drawing("s", 4, digit(), PNG)
    s.close()
    s = Store(db_url)
    assert s.count() == 1 and s.version() == cs.SCHEMA_VERSION
    s.close()


def test_an_old_schema_is_migrated(tmp_path):
    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as conn:          # a database of schema 0: only the version table
        conn.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
        conn.execute("INSERT INTO schema_version VALUES (0)")
    s = Store(path)
    assert s.version() == cs.SCHEMA_VERSION
    s.add_drawing("s", 1, digit(), PNG)
    assert s.count() == 1
    s.close()


def test_a_newer_schema_is_refused_and_left_alone(db_url):
    s = Store(db_url)
    s.add_drawing("s", 4, digit(), PNG)
    with s._write.begin() as conn:
        conn.execute(cs.update(cs.schema_version).values(version=cs.SCHEMA_VERSION + 5))
    s.close()
    with pytest.raises(StoreUnavailable, match=rf"newer release of this app \(schema {cs.SCHEMA_VERSION + 5}; "
                                               rf"this one reads up to {cs.SCHEMA_VERSION}\)"):
        Store(db_url)
    s = Store.__new__(Store)        # look inside without migrating: nothing was changed
    with Store._sqlite_engine(cs._engine_url(db_url), False).connect() if "://" not in db_url else \
            cs.create_engine(cs._engine_url(db_url)).connect() as conn:
        assert conn.execute(cs.select(cs.schema_version.c.version)).scalar() == cs.SCHEMA_VERSION + 5
        assert conn.execute(cs.select(cs.func.count()).select_from(cs.drawings)).scalar() == 1


def test_a_damaged_file_is_refused_in_one_sentence(tmp_path):
    path = tmp_path / "class.sqlite3"
    path.write_bytes(b"this is not a database\n" * 200)
    with pytest.raises(StoreUnavailable) as e:
        Store(path)
    assert str(e.value) == (f"The class set is off: the file {path} is damaged (not a readable SQLite database). "
                            f"Move it away, or set DIGITS_DB to another file.")
    assert path.read_bytes() == b"this is not a database\n" * 200      # left as it was


def test_a_folder_that_cannot_be_made_is_refused(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    with pytest.raises(StoreUnavailable, match="The class set is off: the file .*a_file/class.sqlite3"):
        Store(blocker / "class.sqlite3")


def _open_as(uid, path):
    """Store(path)'s error as user `uid` (a forked child: root may write anything), or ''."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:                                  # the child: become `uid`, try, report, leave
        os.close(read)
        message = ""
        try:
            if uid is not None:
                os.setgid(uid)
                os.setuid(uid)
            Store(path).close()
        except StoreUnavailable as e:
            message = str(e)
        except BaseException as e:  # noqa: BLE001 - anything else is reported to the test
            message = f"unexpected {type(e).__name__}: {e}"
        os.write(write, message.encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as f:
        message = f.read().decode()
    os.waitpid(pid, 0)
    return message


def test_an_unwritable_file_is_refused_in_one_sentence(tmp_path):
    path = tmp_path / "class.sqlite3"
    Store(path).close()           # made (and every module it needs imported) before the child forks
    uid = None
    if os.geteuid() == 0:
        try:
            uid = pwd.getpwnam("nobody").pw_uid
        except KeyError:
            pytest.skip("running as root, and there is no 'nobody' user to try as")
    os.chmod(path, 0o444)
    os.chmod(tmp_path, 0o555)
    try:
        message = _open_as(uid, path)
    finally:
        os.chmod(tmp_path, 0o755)
        os.chmod(path, 0o644)
    assert message.startswith(f"The class set is off: the file {path} cannot be written ("), message
    assert message.endswith("or set DIGITS_DB to a file it can write.") and "\n" not in message


def test_unreachable_postgresql_says_where_without_the_password():
    with pytest.raises(StoreUnavailable) as e:
        Store("postgresql://student:s3cret@127.0.0.1:1/classdb")
    assert "the PostgreSQL database classdb on 127.0.0.1" in str(e.value) and "s3cret" not in str(e.value)


def test_other_kinds_of_database_are_refused():
    with pytest.raises(StoreUnavailable, match="DIGITS_DB must be a file name"):
        Store("mysql://x@localhost/db")


def test_default_file_is_in_the_apps_data_folder(monkeypatch, tmp_path):
    monkeypatch.delenv("DIGITS_DB", raising=False)
    monkeypatch.setenv("DIGITS_CACHE_DIR", str(tmp_path))
    assert cs.default_url() == str(tmp_path / "class.sqlite3")
    monkeypatch.setenv("DIGITS_DB", "postgresql://h/db")
    assert cs.default_url() == "postgresql://h/db"


def in_threads(session, n):
    """session(k) for k = 0 .. n-1, each in a thread of its own, all at once; returns when all are done."""
    import threading
    threads = [threading.Thread(target=session, args=(k,)) for k in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)


def test_sessions_writing_at_once_all_get_in(db_url):
    """Ten sessions in threads, each 20 drawings and a row, as fast as they can: no error
    (never "database is locked"), and exactly what was confirmed is stored."""
    s = Store(db_url, min_interval=0)
    confirmed, errors = [], []

    def session(k):
        try:
            for i in range(20):
                confirmed.append(s.add_drawing(f"s{k}", i % 10, digit(i), PNG))
            s.add_score(f"s{k}", f"n{k}", 0.5, 10, "sample", "784-10", {}, {})
        except Exception as e:  # noqa: BLE001 - any error fails the test below
            errors.append(e)

    in_threads(session, 10)
    assert errors == []
    assert sorted(confirmed) == sorted(d["id"] for d in s.drawings(with_png=False)) and len(confirmed) == 200
    assert len(s.scores()) == 10
    s.close()


# ------------------------------------------------------------------ limits a new session does not reset (issue 21, 7)

def limited(db_url, **numbers):
    return Store(db_url, limits=ClassLimits(**{"per_address_minute": 1000, "server_minute": 1000,
                                               "max_drawings": 10_000, **numbers}))


def test_new_sessions_from_one_address_share_its_limit(db_url):
    s = limited(db_url, per_address_minute=5)
    for i in range(5):                                   # five new browsers (new cookies) on one address
        s.add_drawing(f"new{i}", 1, digit(i), PNG, address="addr-a", now=100.0 + i / 10)
    with pytest.raises(Refused, match=r"^Too many drawings from your network just now \(at most 5 a minute from "
                                      r"one address, shared by everyone on it\): wait a minute and add it again\.$"):
        s.add_drawing("new5", 1, digit(), PNG, address="addr-a", now=101.0)
    assert s.session_count("new5") == 0                  # a refused drawing uses up nothing
    s.add_drawing("other", 1, digit(), PNG, address="addr-b", now=101.0)     # another address is not held up
    s.add_drawing("new5", 1, digit(), PNG, address="addr-a", now=160.0)      # a minute later: room again
    assert s.count() == 7
    s.close()


def test_the_whole_server_takes_in_at_most_its_rate(db_url):
    s = limited(db_url, server_minute=4)
    for i in range(4):
        s.add_drawing(f"s{i}", 2, digit(i), PNG, address=f"addr-{i}", now=100.0 + i)
    with pytest.raises(Refused, match=r"^The class set is taking in too many drawings at once \(at most 4 a minute "
                                      r"for the whole server\): wait a minute and add it again\.$"):
        s.add_drawing("s9", 2, digit(), PNG, address="addr-9", now=110.0)
    s.add_drawing("s9", 2, digit(), PNG, address="addr-9", now=161.0)
    assert s.count() == 5 and s.session_count("s9") == 1
    s.close()


def test_the_set_holds_at_most_its_size(db_url):
    s = limited(db_url, max_drawings=3)
    ids = [s.add_drawing(f"s{i}", 3, digit(i), PNG, now=100.0 + i) for i in range(3)]
    with pytest.raises(Refused, match=r"^The class set is full \(3 drawings, the most it holds\): ask your teacher "
                                      r"to export and clear it\.$"):
        s.add_drawing("s9", 3, digit(), PNG, now=200.0)
    s.remove_drawing(ids[0])
    s.add_drawing("s9", 3, digit(), PNG, now=201.0)
    assert s.count() == 3
    s.close()


def test_the_limits_are_counted_in_the_database_across_processes(db_url):
    """Two Stores (own connections, as two app processes have) count one address and the server together."""
    a, b = limited(db_url, per_address_minute=4), limited(db_url, per_address_minute=4)
    for i in range(4):
        (a if i % 2 else b).add_drawing(f"s{i}", 4, digit(i), PNG, address="school", now=100.0 + i)
    for s in (a, b):
        with pytest.raises(Refused, match="from your network"):
            s.add_drawing("late", 4, digit(), PNG, address="school", now=104.0)
    a.close(), b.close()


def test_a_flood_from_many_threads_stops_exactly_at_the_rate(db_url):
    """Twelve new sessions in threads of two Stores, as fast as they can: exactly the server's
    rate gets in, every other drawing is refused with the sentence, nothing else goes wrong."""
    stores = [limited(db_url, server_minute=30), limited(db_url, server_minute=30)]
    now = 1000.0           # one minute for all: the count, not the clock, is under test
    confirmed, refused, errors = [], [], []

    def session(k):
        for i in range(5):
            try:
                confirmed.append(stores[k % 2].add_drawing(f"flood{k}-{i}", i, digit(i), PNG, address=f"a{k}",
                                                           now=now))
            except Refused as e:
                refused.append(str(e))
            except Exception as e:  # noqa: BLE001 - any other error fails the test below
                errors.append(e)

    in_threads(session, 12)
    assert errors == []
    assert len(confirmed) == 30 and len(refused) == 30 and all("for the whole server" in r for r in refused)
    assert sorted(confirmed) == sorted(d["id"] for d in stores[0].drawings(with_png=False))
    for s in stores:
        s.close()


def test_a_schema_1_database_gets_the_rate_table(tmp_path):
    path = tmp_path / "v1.sqlite3"
    s = Store(path)
    s.add_drawing("s", 1, digit(), PNG)
    s.close()
    with sqlite3.connect(path) as conn:                  # as the release before issue 21 left it
        conn.execute("DROP TABLE rates")
        conn.execute("DROP TABLE kept")
        conn.execute("DROP TABLE passcode_tries")
        conn.execute("UPDATE schema_version SET version = 1")
    s = limited(path, per_address_minute=1)
    assert s.version() == cs.SCHEMA_VERSION == 3 and s.count() == 1
    s.add_drawing("t", 1, digit(), PNG, address="x")
    with pytest.raises(Refused, match="from your network"):
        s.add_drawing("u", 1, digit(), PNG, address="x")
    s.close()


def test_the_limits_are_read_from_the_environment(monkeypatch, caplog):
    monkeypatch.setenv("DIGITS_CLASS_PER_ADDRESS_MINUTE", "90")
    monkeypatch.setenv("DIGITS_CLASS_SERVER_MINUTE", "-3")               # not positive: the default, and a warning
    monkeypatch.setenv("DIGITS_CLASS_MAX_DRAWINGS", "lots")
    monkeypatch.setenv("DIGITS_CLASS_PER_BROWSER", "20")
    got = ClassLimits.from_env()
    assert (got.per_address_minute, got.per_browser) == (90, 20)
    assert (got.server_minute, got.max_drawings) == (ClassLimits.server_minute, ClassLimits.max_drawings)
    assert "DIGITS_CLASS_SERVER_MINUTE" in caplog.text and "DIGITS_CLASS_MAX_DRAWINGS" in caplog.text


def test_addresses_are_counted_as_networks_and_kept_only_as_hashes():
    key = address_key
    assert key("203.0.113.7") == key("::ffff:203.0.113.7") != key("203.0.113.8")
    assert key("2001:db8:1:2::17") == key("2001:db8:1:2:aaaa:bbbb:cccc:dddd") != key("2001:db8:1:3::17")
    assert key(None) == key("") != key("127.0.0.2")
    assert all(len(key(a)) == 32 and "203" not in key(a) for a in ("203.0.113.7", None, "not an address"))


def test_the_browser_pace_sentence_says_the_pace_set(tmp_path):
    s = Store(tmp_path / "c.sqlite3", limits=ClassLimits(browser_seconds=5))
    s.add_drawing("s", 1, digit(), PNG, now=100.0)
    with pytest.raises(Refused, match=r"^One drawing every 5 seconds, please"):
        s.add_drawing("s", 1, digit(), PNG, now=104.0)
    s.add_drawing("s", 1, digit(), PNG, now=105.0)
    s.close()


def test_leaderboard_rows_from_new_sessions_are_limited_per_address_and_server(db_url):
    s = limited(db_url, runs_per_address_minute=2, runs_server_minute=3)

    def submit(session, address, now):
        return s.add_score(session, "", 0.5, 10, "sample", "784-10", {}, {}, now=now, address=address)

    submit("a1", "school", 100.0), submit("a2", "school", 101.0)
    with pytest.raises(Refused, match=r"^Too many runs submitted from your network just now \(at most 2 a minute "
                                      r"from one address, shared by everyone on it\): wait a minute and submit "
                                      r"it again\.$"):
        submit("a3", "school", 102.0)
    submit("b1", "home", 102.0)
    with pytest.raises(Refused, match=r"^The leaderboard is taking in too many runs at once \(at most 3 a minute for "
                                      r"the whole server\): wait a minute and submit it again\.$"):
        submit("c1", "cafe", 103.0)
    submit("a3", "school", 161.0)                     # a minute later
    assert len(s.scores()) == 4
    s.add_drawing("d", 1, digit(), PNG, address="school", now=103.0)      # drawings count on their own
    s.close()
