"""The class store: the digits a class drew and its leaderboard, in one database.

SQLite by default (a file in the app's data folder; nothing to install or start), or
PostgreSQL when DIGITS_DB is a postgresql:// URL, so that a school can run several app
processes behind one address. Every query is written once, with SQLAlchemy Core, and
SQLAlchemy binds every value as a parameter: no value is ever pasted into SQL text.

What keeps a room full of students safe:
- SQLite runs in WAL mode (readers never wait for the writer) with a busy timeout, and
  every write transaction starts with BEGIN IMMEDIATE: it takes the write lock first and
  waits its turn. (A deferred transaction that reads first and writes later can be told
  "database is locked" at once, without waiting, when another writer got in between.)
- A write returns only once it is committed: an entry confirmed to a student survives the
  server being killed the next moment (a test SIGKILLs a writer process to check).
- A schema version table with migration steps: a file from a newer release is refused
  with one sentence, never half-read or changed.
- Per session (an opaque id the app makes; nothing else about the student is kept) at
  most one drawing a second and 500 in all, and 50 leaderboard rows; and limits a new
  session (a new cookie) does not reset: per client address and for the whole server,
  drawings and leaderboard rows a minute, and the set's size (classroom/limits.py). All
  counted in the database itself, in the entry's own transaction, so they hold across app
  processes, and a refused entry uses up nothing.
- What a browser left for "Welcome back" (ui/keep.py) and the teacher passcode's wrong tries
  (classroom/teacher.py) are kept here too when the database is PostgreSQL, so that every app
  process of a school sees them (docs/school_server.md); a single process on SQLite keeps
  both in its memory, as it always did.
- Every value is checked before it is stored (`Refused` says what is wrong); a database
  that cannot be used raises `StoreUnavailable` with one sentence saying why.
"""
import io
import json
import math
import operator
import os
import threading
import time
from contextlib import contextmanager, nullcontext
from pathlib import Path

import numpy as np
from sqlalchemy import (CheckConstraint, Column, Float, Integer, LargeBinary, MetaData, String, Table, Text, bindparam,
                        case, create_engine, delete, event, func, or_, select, text, update)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from classroom.limits import WINDOW, ClassLimits
from engine.data import default_cache_dir
from engine.preprocess import MIN_INK

DB_FILE = "class.sqlite3"          # in the app's data folder (engine.data.default_cache_dir)
MAX_PER_SESSION = ClassLimits.per_browser       # drawings one session may add in all (by default)
MIN_INTERVAL = ClassLimits.browser_seconds      # seconds between two drawings of one session (by default)
MAX_SCORES_PER_SESSION = 50        # leaderboard rows one session may add
NICKNAME_CHARS = 24
SESSION_CHARS = 64
MAX_PNG_BYTES = 64_000             # the app's pictures of a 280x280 drawing at 112 px take about 2 kB
MAX_PNG_SIDE = 560
MAX_SETTINGS_CHARS = 4_000
BUSY_TIMEOUT = 30.0                # seconds a SQLite writer waits for the lock before it gives up
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SQLITE_HEADER = b"SQLite format 3\x00"


class StoreUnavailable(Exception):
    """The class store cannot be used; the message says why in one sentence."""


class Refused(ValueError):
    """This entry is not stored; the message says why in one sentence."""


# ------------------------------------------------------------------ the schema

metadata = MetaData()
schema_version = Table("schema_version", metadata, Column("version", Integer, nullable=False))
drawings = Table(
    "drawings", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("label", Integer, CheckConstraint("label BETWEEN 0 AND 9", name="label_is_digit"), nullable=False),
    Column("pixels", LargeBinary, nullable=False),       # the 28x28 preprocessed digit, 784 uint8 bytes
    Column("png", LargeBinary, nullable=False),          # a small picture of the raw drawing
    Column("nickname", String(NICKNAME_CHARS), nullable=False),
    Column("created", Float, nullable=False),            # seconds since 1970 (UTC)
    Column("session", String(SESSION_CHARS), nullable=False, index=True),
)
scores = Table(
    "scores", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("nickname", String(NICKNAME_CHARS), nullable=False),
    Column("accuracy", Float, nullable=False),           # measured by the server on its own test set
    Column("n_test", Integer, nullable=False),
    Column("data", String(200), nullable=False),         # which test set (full MNIST or the sample)
    Column("model", String(200), nullable=False),        # the network in words
    Column("settings", Text, nullable=False),            # JSON: the training settings
    Column("lesson", Text, nullable=False),              # JSON: the lesson link's parameters
    Column("created", Float, nullable=False),
    Column("session", String(SESSION_CHARS), nullable=False, index=True),
)
quotas = Table(
    "quotas", metadata,
    Column("session", String(SESSION_CHARS), primary_key=True),
    Column("n", Integer, nullable=False),                # drawings added (removals don't give them back)
    Column("last", Float, nullable=False),               # when the last one was added
)

rates = Table(
    "rates", metadata,
    Column("scope", String(100), primary_key=True),    # e.g. "drawings server", "runs address " + a hashed address
    Column("start", Float, nullable=False),              # when its minute began
    Column("n", Integer, nullable=False),                # drawings taken in since then
)


# What a browser left ("Welcome back", ui/keep.py), when several app processes share a PostgreSQL
# database: a browser that lands on another process after a restart finds it there.
kept = Table(
    "kept", metadata,
    Column("browser", String(SESSION_CHARS), primary_key=True),   # a hash of the browser's key
    Column("saved", Float, nullable=False, index=True),           # seconds since 1970 (UTC)
    Column("nbytes", Integer, nullable=False),
    Column("data", LargeBinary, nullable=False),                  # ui/keep_shared.py's archive (no pickles)
)
# Wrong passcode tries (classroom/teacher.py), per browser and per address, for the whole school.
tries = Table(
    "passcode_tries", metadata,
    Column("who", String(100), primary_key=True),     # "browser " or "address " + an opaque hash
    Column("n", Integer, nullable=False),             # wrong tries in a row
    Column("last", Float, nullable=False, index=True),  # when the last was made
)


def _v1(conn):
    metadata.create_all(conn, tables=[drawings, scores, quotas])


def _v2(conn):
    metadata.create_all(conn, tables=[rates])


def _v3(conn):
    metadata.create_all(conn, tables=[kept, tries])


# MIGRATIONS[i] takes a database from schema version i to i + 1, inside one transaction.
# A new release appends a step (never edits an old one) and so raises SCHEMA_VERSION.
MIGRATIONS = [_v1, _v2, _v3]
SCHEMA_VERSION = len(MIGRATIONS)


# ------------------------------------------------------------------ checking values

def check_nickname(nickname):
    """'' or up to 24 printable characters (spaces inside allowed, trimmed at the ends)."""
    if nickname is None:
        return ""
    if not isinstance(nickname, str):
        raise Refused("A nickname must be text.")
    nickname = nickname.strip()
    if len(nickname) > NICKNAME_CHARS:
        raise Refused(f"A nickname is at most {NICKNAME_CHARS} characters (this one has {len(nickname):,}).")
    if not nickname.isprintable():
        raise Refused("A nickname can't hold control characters (such as tabs, new lines or invisible marks).")
    return nickname


def check_label(label):
    """The digit the student meant: a whole number 0-9."""
    if isinstance(label, bool):
        raise Refused("The label must be a digit from 0 to 9.")
    try:
        label = operator.index(label)
    except TypeError:
        raise Refused("The label must be a digit from 0 to 9.") from None
    if not 0 <= label <= 9:
        raise Refused(f"The label must be a digit from 0 to 9 (got {label}).")
    return label


def check_pixels(pixels):
    """The preprocessed digit as 784 uint8 bytes: from bytes, or an array of 784 (or 28x28)
    uint8 values 0-255 or floats 0-1 (as engine.preprocess makes them). Empty drawings refused."""
    if isinstance(pixels, (bytes, bytearray, memoryview)):
        arr = np.frombuffer(bytes(pixels), dtype=np.uint8)
    else:
        arr = np.asarray(pixels)
        if arr.dtype.kind == "f":
            if not np.all(np.isfinite(arr)) or arr.size and (arr.min() < 0 or arr.max() > 1):
                raise Refused("The digit's pixels must be numbers between 0 and 1.")
            arr = np.round(arr * 255).astype(np.uint8)
        elif arr.dtype != np.uint8:
            raise Refused(f"The digit's pixels must be bytes 0-255 or numbers 0-1 (got {arr.dtype}).")
    if arr.size != 784:
        raise Refused(f"The digit must be 28x28 = 784 pixels (got {arr.size:,}).")
    if arr.sum(dtype=np.int64) / 255 < MIN_INK:
        raise Refused("That drawing is empty: draw a digit first.")
    return arr.reshape(784).tobytes()


def check_png(png):
    """A small PNG picture (the raw drawing): the signature, the size in bytes and in pixels."""
    if not isinstance(png, (bytes, bytearray)):
        raise Refused("The picture of the drawing must be PNG bytes.")
    if len(png) > MAX_PNG_BYTES:
        raise Refused(f"The picture of the drawing is too big ({len(png):,} bytes; at most {MAX_PNG_BYTES:,}).")
    if not bytes(png[:8]) == PNG_SIGNATURE:
        raise Refused("The picture of the drawing is not a PNG file.")
    from PIL import Image     # Pillow reads PNG headers safely; it ships with Streamlit
    try:
        with Image.open(io.BytesIO(png)) as img:
            w, h = img.size
            if max(w, h) > MAX_PNG_SIDE:
                raise Refused(f"The picture of the drawing is too large ({w}x{h}; at most "
                              f"{MAX_PNG_SIDE}x{MAX_PNG_SIDE} pixels).")
            img.load()
    except Refused:
        raise
    except Exception:  # noqa: BLE001 - any decoding failure means the same to the student
        raise Refused("The picture of the drawing is a damaged PNG file.") from None
    return bytes(png)


def drawing_png(ink, side=112):
    """A small dark-on-white PNG of the raw drawing: ink (H, W) in [0, 1] -> PNG bytes,
    the longer side `side` pixels (and a frame)."""
    from PIL import Image, ImageOps
    ink = np.clip(np.nan_to_num(np.asarray(ink, dtype=np.float32)), 0, 1)
    img = Image.fromarray((255 - ink * 255).round().astype(np.uint8), mode="L")
    img.thumbnail((side, side), Image.Resampling.BOX)
    img = ImageOps.expand(img, border=1, fill=200)       # a thin grey frame: the paper's edge on a white page
    buf = io.BytesIO()
    img.save(buf, format="PNG", optimize=True)
    return buf.getvalue()


def _check_session(session):
    if not isinstance(session, str) or not 1 <= len(session) <= SESSION_CHARS or not session.isprintable():
        raise Refused("The session id must be 1 to 64 printable characters.")
    return session


def _check_json(value, what):
    try:
        data = json.dumps(value, sort_keys=True, allow_nan=False)
    except (TypeError, ValueError):
        raise Refused(f"The {what} must be plain numbers and text.") from None
    if len(data) > MAX_SETTINGS_CHARS:
        raise Refused(f"The {what} are too long ({len(data):,} characters; at most {MAX_SETTINGS_CHARS:,}).")
    return data


def _short_text(value, what, limit=200):
    if not isinstance(value, str) or len(value) > limit or not value.isprintable():
        raise Refused(f"The {what} must be at most {limit} printable characters.")
    return value


# ------------------------------------------------------------------ where the database is

def default_url():
    """DIGITS_DB (a file path, sqlite:/// or postgresql:// URL) or the file class.sqlite3 in
    the app's data folder (DIGITS_CACHE_DIR or the platform's cache folder)."""
    return os.environ.get("DIGITS_DB") or str(default_cache_dir() / DB_FILE)


def _engine_url(where):
    """A SQLAlchemy URL for a file path or a database URL (PostgreSQL through psycopg 3)."""
    where = str(where)
    if "://" not in where:
        return make_url("sqlite://").set(database=str(Path(where).expanduser()))
    url = make_url(where)
    if url.get_backend_name() == "postgresql":
        return url.set(drivername="postgresql+psycopg")
    if url.get_backend_name() == "sqlite" and url.database:
        return url
    raise StoreUnavailable(f"DIGITS_DB must be a file name or a sqlite:/// or postgresql:// URL "
                           f"(got one for {url.get_backend_name()}).")


def is_shared(where):
    """True when `where` is a PostgreSQL database: one that several app processes (on one machine
    or several) share, so they keep there what a single process keeps in its memory."""
    try:
        return _engine_url(where).get_backend_name() == "postgresql"
    except (StoreUnavailable, ArgumentError, ValueError):
        return False


def describe(where):
    """Where the store is, for people: a file name, or host and database (never a password)."""
    try:
        url = _engine_url(where)
    except (StoreUnavailable, ArgumentError, ValueError):
        return "the class database"
    if url.get_backend_name() == "sqlite":
        return f"the file {url.database}"
    return f"the PostgreSQL database {url.database or ''} on {url.host or 'this machine'}".replace("  ", " ")


def _damaged(place):
    return (f"The class set is off: {place} is damaged (not a readable SQLite database). "
            f"Move it away, or set DIGITS_DB to another file.")


def _why(error, where):
    """One sentence for a database error (the driver's first line, never a password)."""
    orig = getattr(error, "orig", None) or error
    msg = str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__
    low = msg.lower()
    place = describe(where)
    if "not a database" in low or "malformed" in low or "file is encrypted" in low:
        return _damaged(place)
    if "disk i/o" in low or "disk is full" in low:
        return (f"The class set is off: {place} cannot be written ({msg}). "
                f"Check that the disk has room and that the server may write the file and its folder.")
    if "readonly" in low or "read-only" in low or "unable to open" in low or "permission denied" in low:
        return (f"The class set is off: {place} cannot be written ({msg}). "
                f"Give the server write access to it, or set DIGITS_DB to a file it can write.")
    if "connection" in low and any(w in low for w in ("refused", "failed", "closed", "timeout", "terminating")):
        return (f"The class set is off: {place} cannot be reached ({msg[:200]}). "
                f"Check that the PostgreSQL server is running and DIGITS_DB names it.")
    if "database is locked" in low:
        return f"The class set is busy: {place} stayed locked for over {BUSY_TIMEOUT:.0f} s; try again."
    return f"The class set is off: {place} cannot be used ({msg[:200]})."


# ------------------------------------------------------------------ the store

class Store:
    """The class's drawings and leaderboard in one database (see the module's docstring).

    where: a file path, or a sqlite:/// or postgresql:// URL (default: default_url()).
    limits: a ClassLimits (default: from the environment, classroom/limits.py).
    min_interval, max_per_session: the per-session limits on drawings, if not the limits'
    (the load benchmark lowers min_interval to measure the database rather than the limit).
    """

    def __init__(self, where=None, min_interval=None, max_per_session=None, limits=None):
        self.where = str(where or default_url())
        self.limits = limits or ClassLimits.from_env()
        self.min_interval = float(self.limits.browser_seconds if min_interval is None else min_interval)
        self.max_per_session = int(self.limits.per_browser if max_per_session is None else max_per_session)
        url = _engine_url(self.where)
        self.kind = url.get_backend_name()
        self._thread_turn = threading.Lock() if self.kind == "sqlite" else nullcontext()
        self._file = None           # SQLite: (path, (device, inode)) of the file opened
        self._take_rate = None      # the statement that counts an entry in a minute (_take)
        try:
            if self.kind == "sqlite":
                Path(url.database).parent.mkdir(parents=True, exist_ok=True)
                self._write = self._sqlite_engine(url, immediate=True)
                self._read = self._sqlite_engine(url, immediate=False)
            else:
                # connect_timeout: an unreachable server costs a page 5 s, not the system's TCP timeout.
                self._write = self._read = create_engine(url, pool_size=5, max_overflow=30, pool_timeout=60,
                                                         pool_pre_ping=True, connect_args={"connect_timeout": 5})
            self._migrate()
            if self.kind == "sqlite":
                found = os.stat(url.database)
                self._file = (url.database, (found.st_dev, found.st_ino))
        except StoreUnavailable:
            self.close()
            raise
        except (SQLAlchemyError, OSError) as e:
            self.close()
            raise StoreUnavailable(_why(e, self.where)) from None

    @staticmethod
    def _sqlite_engine(url, immediate):
        engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT, "check_same_thread": False},
                               pool_size=5, max_overflow=60, pool_timeout=60)

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn, _record):
            dbapi_conn.isolation_level = None      # we say BEGIN ourselves (below)
            cur = dbapi_conn.cursor()
            cur.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT * 1000)}")
            cur.execute("PRAGMA journal_mode = WAL")
            # NORMAL in WAL mode: a commit survives the process being killed; only a power
            # cut can lose the last commits (FULL would fsync on every commit).
            cur.execute("PRAGMA synchronous = NORMAL")
            cur.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn):
            conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

        return engine

    def close(self):
        for engine in {id(e): e for e in (getattr(self, "_write", None), getattr(self, "_read", None)) if e}.values():
            engine.dispose()

    # ------------------------------------------------------------ schema

    def _migrate(self):
        with self._write.begin() as conn:
            if self.kind == "postgresql":   # two app processes starting at once: one migrates, the other waits
                conn.execute(text("SELECT pg_advisory_xact_lock(15015)"))
            schema_version.create(conn, checkfirst=True)
            found = conn.execute(select(schema_version.c.version)).scalar()
            if found is None:
                found = 0
                conn.execute(schema_version.insert().values(version=0))
            if found > SCHEMA_VERSION:
                raise StoreUnavailable(
                    f"The class set is off: {describe(self.where)} was made by a newer release of this app "
                    f"(schema {found}; this one reads up to {SCHEMA_VERSION}). Update the app, or set "
                    f"DIGITS_DB to another file.")
            for step in MIGRATIONS[found:]:
                step(conn)
            # Always a write, even with nothing to migrate: a database we can't write is found now.
            conn.execute(update(schema_version).values(version=SCHEMA_VERSION))

    def version(self):
        with self._guard(self._read.connect) as conn:
            return conn.execute(select(schema_version.c.version)).scalar()

    def check(self):
        """Raise StoreUnavailable if the SQLite file was removed, replaced or overwritten since
        it was opened. SQLite itself does not notice (in WAL mode it goes on reading and writing
        the file it has open, or its own cached pages), so entries would be confirmed to
        students and then lost; every use of the store checks first (a stat and 16 bytes)."""
        if self._file is None:
            return
        path, opened = self._file
        try:
            with open(path, "rb") as f:
                found, head = os.fstat(f.fileno()), f.read(len(SQLITE_HEADER))
        except FileNotFoundError:
            found, head = None, b""
        except OSError as e:
            raise StoreUnavailable(_why(e, self.where)) from None
        if found is None or (found.st_dev, found.st_ino) != opened:
            raise StoreUnavailable(f"The class set is off: {describe(self.where)} was removed or replaced while "
                                   f"the app was running; the app opens what is there now within a minute.")
        if head != SQLITE_HEADER:
            raise StoreUnavailable(_damaged(describe(self.where)))
        if not os.access(path, os.W_OK):      # made read-only (or immutable): the next open fails too
            raise StoreUnavailable(_why(PermissionError("permission denied"), self.where))

    @contextmanager
    def _writing(self):
        """A write transaction. On SQLite, the threads of this process take turns in order
        (a lock) rather than by SQLite's busy handler, which sleeps and retries and can leave
        one unlucky writer waiting for seconds while others get in; processes still wait for
        each other through the busy timeout."""
        with self._thread_turn:
            with self._guard(self._write.begin) as conn:
                yield conn
            self.check()        # committed to the file that is still there, or not confirmed

    @contextmanager
    def _guard(self, open_):
        """A connection or transaction (open_() makes it: connecting can fail too) whose
        database errors become StoreUnavailable."""
        self.check()
        try:
            with open_() as conn:
                yield conn
        except SQLAlchemyError as e:
            raise StoreUnavailable(_why(e, self.where)) from None

    def _insert(self, table, **values):
        """INSERT with the database's own ON CONFLICT clauses (SQLite and PostgreSQL spell them alike)."""
        if self.kind == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        return insert(table).values(**values)

    def _insert_ignore(self, table, **values):
        return self._insert(table, **values).on_conflict_do_nothing()

    # ------------------------------------------------------------ drawings

    def add_drawing(self, session, label, pixels, png, nickname="", now=None, address=None):
        """Store one drawing; returns its id once it is committed. Refused (with why) for a bad
        value or over a limit (the session's, its address's, the server's, the set's size);
        StoreUnavailable if the database fails. address: the client's address as an opaque key
        (classroom.limits.address_key); None = not counted per address."""
        row = dict(session=_check_session(session), label=check_label(label), pixels=check_pixels(pixels),
                   png=check_png(png), nickname=check_nickname(nickname))
        address = None if address is None else _check_session(address)
        now = time.time() if now is None else float(now)
        lim = self.limits
        with self._writing() as conn:
            conn.execute(self._insert_ignore(quotas, session=row["session"], n=0, last=0.0))
            counted = conn.execute(
                update(quotas)
                .where(quotas.c.session == row["session"], quotas.c.n < self.max_per_session,
                       quotas.c.last <= now - self.min_interval)
                .values(n=quotas.c.n + 1, last=now)).rowcount
            if counted != 1:
                n = conn.execute(select(quotas.c.n).where(quotas.c.session == row["session"])).scalar()
                if n >= self.max_per_session:
                    raise Refused(f"This session has added {self.max_per_session} drawings, the most one "
                                  f"session may add.")
                pace = "a second" if self.min_interval == 1 else f"every {self.min_interval:g} seconds"
                raise Refused(f"One drawing {pace}, please: wait a moment and add it again.")
            if address is not None:
                self._take(conn, "drawings", address, lim.per_address_minute, now)
            # The server's row last (it is locked from here to the commit: every writer waits for
            # it), then the set's size: on PostgreSQL, after that lock, the count sees every
            # drawing committed before this one.
            self._take(conn, "drawings", None, lim.server_minute, now)
            if conn.execute(select(func.count()).select_from(drawings)).scalar() >= lim.max_drawings:
                raise Refused(f"The class set is full ({lim.max_drawings:,} drawings, the most it holds): "
                              f"ask your teacher to export and clear it.")
            return conn.execute(drawings.insert().values(**row, created=now).returning(drawings.c.id)).scalar()

    _SAY = {"drawings": ("The class set is taking in too many drawings at once",
                         "Too many drawings from your network just now", "add it"),
            "runs": ("The leaderboard is taking in too many runs at once",
                     "Too many runs submitted from your network just now", "submit it")}

    def _take(self, conn, what, address, limit, now):
        """Count one entry (what: "drawings" or "runs") in the current minute of its address
        (None: of the whole server), or raise Refused saying so if that minute is full. One
        statement reads and writes the row: a new row, or a minute over, starts at 1; the row
        stays locked to this transaction until it ends, so writers of one scope take turns."""
        scope = f"{what} server" if address is None else f"{what} address {address}"
        if self._take_rate is None:     # built once: making a statement costs more than running it
            over = rates.c.start <= bindparam("since")
            self._take_rate = self._insert(rates, scope=bindparam("scope"), start=bindparam("now"), n=1) \
                .on_conflict_do_update(index_elements=[rates.c.scope], where=or_(over, rates.c.n < bindparam("limit")),
                                       set_={"n": case((over, 1), else_=rates.c.n + 1),
                                             "start": case((over, bindparam("now")), else_=rates.c.start)}) \
                .returning(rates.c.n)
        n = conn.execute(self._take_rate, {"scope": scope, "now": now, "since": now - WINDOW, "limit": limit}).scalar()
        if n == 1:      # a new minute began here: rows whose minutes are long over are forgotten
            conn.execute(delete(rates).where(rates.c.start < now - 2 * WINDOW))
        if n is not None:
            return
        server_full, address_full, again = self._SAY[what]
        if address is None:
            raise Refused(f"{server_full} (at most {limit:,} a minute for the whole server): wait a minute and "
                          f"{again} again.")
        raise Refused(f"{address_full} (at most {limit:,} a minute from one address, shared by everyone on it): "
                      f"wait a minute and {again} again.")

    def count(self):
        with self._guard(self._read.connect) as conn:
            return conn.execute(select(func.count()).select_from(drawings)).scalar()

    def session_count(self, session):
        """Drawings this session has added (its quota used)."""
        with self._guard(self._read.connect) as conn:
            return conn.execute(select(quotas.c.n).where(quotas.c.session == session)).scalar() or 0

    def counts_by_label(self):
        """Drawings of each digit: an int array of 10."""
        out = np.zeros(10, dtype=np.int64)
        with self._guard(self._read.connect) as conn:
            for label, n in conn.execute(select(drawings.c.label, func.count()).group_by(drawings.c.label)):
                out[label] = n
        return out

    def counts_by_nickname(self):
        """[(nickname, drawings)], most first ('' = no nickname given)."""
        n = func.count().label("n")
        with self._guard(self._read.connect) as conn:
            return [tuple(r) for r in conn.execute(
                select(drawings.c.nickname, n).group_by(drawings.c.nickname).order_by(n.desc(), drawings.c.nickname))]

    def drawings(self, label=None, limit=None, with_png=True):
        """The drawings (newest first), of one digit if `label` is given: dicts with id, label,
        nickname, created and png (unless with_png is False)."""
        cols = [drawings.c.id, drawings.c.label, drawings.c.nickname, drawings.c.created, drawings.c.session]
        query = select(*cols, *([drawings.c.png] if with_png else [])).order_by(drawings.c.id.desc())
        if label is not None:
            query = query.where(drawings.c.label == check_label(label))
        if limit is not None:
            query = query.limit(int(limit))
        with self._guard(self._read.connect) as conn:
            return [dict(r._mapping) for r in conn.execute(query)]

    def class_set(self):
        """(x, y, ids): x (n, 784) uint8 preprocessed digits, y (n,) uint8 labels, ids (n,) int64; oldest first."""
        with self._guard(self._read.connect) as conn:
            rows = conn.execute(select(drawings.c.id, drawings.c.label, drawings.c.pixels)
                                .order_by(drawings.c.id)).all()
        x = np.frombuffer(b"".join(bytes(r.pixels) for r in rows), dtype=np.uint8).reshape(len(rows), 784)
        y = np.array([r.label for r in rows], dtype=np.uint8)
        return x, y, np.array([r.id for r in rows], dtype=np.int64)

    def remove_drawing(self, drawing_id):
        """Remove one drawing (teacher). True if it was there."""
        with self._writing() as conn:
            return conn.execute(delete(drawings).where(drawings.c.id == int(drawing_id))).rowcount == 1

    def clear(self):
        """Remove every drawing and give every session its full quota back (teacher). Returns how many."""
        with self._writing() as conn:
            conn.execute(delete(quotas))
            return conn.execute(delete(drawings)).rowcount

    # ------------------------------------------------------------ leaderboard

    def add_score(self, session, nickname, accuracy, n_test, data, model, settings, lesson, now=None, address=None):
        """One leaderboard row; returns its id once committed. `accuracy` must be what the
        server measured itself (ui/class_set.py does), never a number sent by a page. Refused
        over a limit (the session's 50, its address's and the server's rows a minute)."""
        acc = float(accuracy)
        if not math.isfinite(acc) or not 0 <= acc <= 1:
            raise Refused("An accuracy is a fraction between 0 and 1.")
        if isinstance(n_test, bool) or operator.index(n_test) < 1:
            raise Refused("The test set must hold at least one digit.")
        row = dict(session=_check_session(session), nickname=check_nickname(nickname), accuracy=acc,
                   n_test=operator.index(n_test), data=_short_text(data, "test set's name"),
                   model=_short_text(model, "model's description"),
                   settings=_check_json(settings, "settings"), lesson=_check_json(lesson, "lesson link's settings"),
                   created=time.time() if now is None else float(now))
        address = None if address is None else _check_session(address)
        with self._writing() as conn:
            mine = conn.execute(select(func.count()).select_from(scores)
                                .where(scores.c.session == row["session"])).scalar()
            if mine >= MAX_SCORES_PER_SESSION:
                raise Refused(f"This session has submitted {MAX_SCORES_PER_SESSION} runs, the most one session may.")
            if address is not None:
                self._take(conn, "runs", address, self.limits.runs_per_address_minute, row["created"])
            self._take(conn, "runs", None, self.limits.runs_server_minute, row["created"])
            return conn.execute(scores.insert().values(**row).returning(scores.c.id)).scalar()

    def scores(self, limit=100):
        """Leaderboard rows, best accuracy first (earlier first among equals): dicts with
        settings and lesson decoded."""
        query = select(scores).order_by(scores.c.accuracy.desc(), scores.c.created, scores.c.id).limit(int(limit))
        with self._guard(self._read.connect) as conn:
            rows = [dict(r._mapping) for r in conn.execute(query)]
        for r in rows:
            r["settings"], r["lesson"] = json.loads(r["settings"]), json.loads(r["lesson"])
        return rows

    def remove_score(self, score_id):
        with self._writing() as conn:
            return conn.execute(delete(scores).where(scores.c.id == int(score_id))).rowcount == 1

    def clear_scores(self):
        """Remove every leaderboard row, giving every session its submissions back (teacher). Returns how many."""
        with self._writing() as conn:
            return conn.execute(delete(scores)).rowcount


    # ------------------------------------------------------------ what a browser left (ui/keep.py)

    def put_kept(self, browser, data, max_bytes, max_seconds, now=None):
        """Keep `data` (bytes) for `browser` (an opaque hash), replacing what it left before; then
        forget what is older than max_seconds, and the oldest until all kept is within max_bytes
        (so data bigger than max_bytes is not kept at all). True if it is kept."""
        browser, data = _check_session(browser), bytes(data)
        now = time.time() if now is None else float(now)
        with self._writing() as conn:
            conn.execute(self._insert(kept, browser=browser, saved=now, nbytes=len(data), data=data)
                         .on_conflict_do_update(index_elements=[kept.c.browser],
                                                set_={"saved": now, "nbytes": len(data), "data": data}))
            conn.execute(delete(kept).where(kept.c.saved < now - max_seconds))
            # Newest first, the running total of bytes: every row past max_bytes goes (the oldest).
            total = func.sum(kept.c.nbytes).over(order_by=(kept.c.saved.desc(), kept.c.browser.desc()))
            newest = select(kept.c.browser, total.label("total")).subquery()
            conn.execute(delete(kept).where(kept.c.browser.in_(
                select(newest.c.browser).where(newest.c.total > max_bytes))))
            return conn.execute(select(func.count()).select_from(kept).where(kept.c.browser == browser)).scalar() == 1

    def get_kept(self, browser, max_seconds, now=None, unless_saved=None):
        """(data, saved) that `browser` left less than max_seconds ago, or None; (None, saved) if it
        was saved at `unless_saved` (the caller has that one already: its bytes are not sent again)."""
        now = time.time() if now is None else float(now)
        fresh = (kept.c.browser == browser, kept.c.saved >= now - max_seconds)
        with self._guard(self._read.connect) as conn:
            saved = conn.execute(select(kept.c.saved).where(*fresh)).scalar()
            if saved is None or saved == unless_saved:
                return None if saved is None else (None, saved)
            row = conn.execute(select(kept.c.data, kept.c.saved).where(*fresh)).first()
        return None if row is None else (bytes(row.data), row.saved)

    def drop_kept(self, browser):
        with self._writing() as conn:
            conn.execute(delete(kept).where(kept.c.browser == browser))

    def kept_bytes(self):
        with self._guard(self._read.connect) as conn:
            return conn.execute(select(func.coalesce(func.sum(kept.c.nbytes), 0))).scalar()

    # ------------------------------------------------------------ the passcode's wrong tries (classroom/teacher.py)

    def wrong_try(self, who, quiet, max_keys, now=None):
        """Count one wrong passcode try under each key of `who`; returns the most wrong tries in a
        row among them. A key without a wrong try for `quiet` seconds starts again at 1. Keys quiet
        that long are forgotten, and the longest quiet ones beyond max_keys."""
        now = time.time() if now is None else float(now)
        most = 0
        with self._writing() as conn:
            for key in who:
                key = _short_text(str(key), "passcode key", 100)
                over = tries.c.last < now - quiet
                n = conn.execute(self._insert(tries, who=key, n=1, last=now)
                                 .on_conflict_do_update(index_elements=[tries.c.who],
                                                        set_={"n": case((over, 1), else_=tries.c.n + 1), "last": now})
                                 .returning(tries.c.n)).scalar()
                most = max(most, n)
            conn.execute(delete(tries).where(tries.c.last < now - quiet))
            oldest = select(tries.c.who).order_by(tries.c.last.desc(), tries.c.who).offset(max_keys).subquery()
            conn.execute(delete(tries).where(tries.c.who.in_(select(oldest.c.who))))
        return most
