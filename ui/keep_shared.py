"""What a browser left ("Welcome back", ui/keep.py) kept in the class database, for a school's
server: several app processes behind one address (docs/school_server.md) share one PostgreSQL
database, and a browser that lands on another process after a restart or a failover finds its
runs and model there. The single-process default (SQLite) keeps them in memory (ui/keep.Store).

What is kept is a dict of named parts (today: runs, model, model_info; a new part needs nothing
here). It is written as one .npz archive, never a pickle:
    format   int, FORMAT
    payload  a JSON string: the parts, with every model or array in them replaced by a marker
             {"__kept_part__": [codec, i]}
    part<i>  uint8: the bytes of the i-th model or array, in its codec's format: an engine model
             in the project's model-file format (engine/modelfile.py, read back by its checking
             loader), a NumPy array as .npy (allow_pickle=False)
A part holding anything else (an object no codec claims) is not written to the database: the
whole payload stays in this process's memory, as on a single server, and the log says why.
Another kind of model registers its codec with register() (its module, e.g. a language model's).
"""
import io
import json
import logging
import threading

import numpy as np
import streamlit as st

from classroom.store import StoreUnavailable
from engine.convnet import ConvNet
from engine.modelfile import load_model, model_to_bytes
from engine.network import Network
from ui import class_db

_log = logging.getLogger(__name__)
FOLLOW_SECONDS = 600    # the timer of follow_failover(): its one job is to exist
FORMAT = 1
MARK = "__kept_part__"
_CODECS = {}        # name -> (claims(value) -> bool, to_bytes(value) -> bytes, from_bytes(bytes) -> value)


class Unkeepable(ValueError):
    """A part of the payload that cannot be written to the database; the message says which."""


def register(name, claims, to_bytes, from_bytes):
    """Teach the archive another kind of object: claims(value) says whether this codec writes it,
    to_bytes(value) -> bytes, from_bytes(bytes) -> the value (checking what it reads: never a pickle)."""
    _CODECS[name] = (claims, to_bytes, from_bytes)


def _array_bytes(a):
    buf = io.BytesIO()
    np.save(buf, a, allow_pickle=False)
    return buf.getvalue()


register("model", lambda v: isinstance(v, (Network, ConvNet)), model_to_bytes, lambda b: load_model(b)[0])
register("array", lambda v: isinstance(v, np.ndarray) and v.dtype.kind in "biufc", _array_bytes,
         lambda b: np.load(io.BytesIO(b), allow_pickle=False))


def encode(payload):
    """The archive's bytes for a dict of parts; Unkeepable if a part holds what no codec writes."""
    parts = []

    def plain(value, where):
        for name, (claims, to_bytes, _) in _CODECS.items():
            if claims(value):
                parts.append(np.frombuffer(to_bytes(value), dtype=np.uint8))
                return {MARK: [name, len(parts) - 1]}
        if value is None or isinstance(value, (bool, int, float, str)):
            return value
        if isinstance(value, np.generic):
            return value.item()
        if isinstance(value, (list, tuple)):
            return [plain(v, where) for v in value]
        if isinstance(value, dict) and all(isinstance(k, str) for k in value) and MARK not in value:
            return {k: plain(v, f"{where}.{k}") for k, v in value.items()}
        raise Unkeepable(f"{where} holds a {type(value).__name__}, which the kept archive does not write")

    text = json.dumps({k: plain(v, k) for k, v in payload.items()})
    buf = io.BytesIO()
    np.savez(buf, format=np.array(FORMAT), payload=np.array(text), **{f"part{i}": p for i, p in enumerate(parts)})
    return buf.getvalue()


def decode(data):
    """The dict of parts of an archive made by encode()."""
    with np.load(io.BytesIO(data), allow_pickle=False) as files:
        if int(files["format"]) != FORMAT:
            raise ValueError(f"kept archive of format {files['format']}, this release reads {FORMAT}")
        text = str(files["payload"])

        def part(d):
            if MARK not in d:
                return d
            name, i = d[MARK]
            return _CODECS[name][2](files[f"part{int(i)}"].tobytes())

        return json.loads(text, object_hook=part)


class SharedStore:
    """ui/keep.Store's interface, kept in the class database (see the module's docstring).
    make: the record to return (ui/keep.Kept); local: a keep.Store in this process's memory, for
    what the database cannot take (the database unreachable, or a part no codec writes)."""

    CACHED = 8      # browsers whose last decoded record is held (an offer is read again on each rerun)

    def __init__(self, make, local):
        self.make, self.local = make, local
        self.max_bytes, self.max_seconds = local.max_bytes, local.max_seconds
        self._decoded, self._lock = {}, threading.Lock()      # browser id -> the record last read

    def put(self, key, runs, model, model_info, **more):
        payload = {"runs": list(runs), "model": model, "model_info": dict(model_info or {}), **more}
        s, why = class_db.store()
        try:
            if s is None:
                raise StoreUnavailable(why)
            s.put_kept(self.local._id(key), encode(payload), self.max_bytes, self.max_seconds)
        except (StoreUnavailable, Unkeepable) as e:
            _log.warning("kept in this process's memory only: %s", e)
            self.local.put(key, runs, model, model_info, **more)
        else:
            self.local.drop(key)          # an older copy here must not shadow the database's

    def get(self, key):
        here, there = self.local.get(key), None
        s, why = class_db.store()
        kid = self.local._id(key)
        with self._lock:
            held = self._decoded.get(kid)
        try:
            found = None if s is None else s.get_kept(kid, self.max_seconds,
                                                      unless_saved=held.saved if held else None)
            if found is not None:
                data, saved = found
                there = held if data is None else self.make(**decode(data), saved=saved, nbytes=len(data))
                with self._lock:
                    self._decoded.pop(kid, None)
                    self._decoded[kid] = there
                    while len(self._decoded) > self.CACHED:
                        del self._decoded[next(iter(self._decoded))]
        except StoreUnavailable as e:
            _log.warning("what this browser left in the database can't be read: %s", e)
        except (ValueError, KeyError, TypeError, OSError) as e:  # a damaged archive, or another release's
            _log.warning("what this browser left in the database is unreadable: %s", e)
        return max((k for k in (here, there) if k is not None), key=lambda k: k.saved, default=None)

    def drop(self, key):
        self.local.drop(key)
        with self._lock:
            self._decoded.pop(self.local._id(key), None)
        s, _ = class_db.store()
        try:
            if s is not None:
                s.drop_kept(self.local._id(key))
        except StoreUnavailable as e:
            _log.warning("what this browser left in the database can't be dropped: %s", e)

    def total_bytes(self):
        s, _ = class_db.store()
        try:
            there = s.kept_bytes() if s is not None else 0
        except StoreUnavailable:
            there = 0
        return self.local.total_bytes() + there


def follow_failover():
    """On a school's server, make a page that lost its process run again as soon as it reconnects
    (through the proxy, to another process), so that the new process offers its work back at once
    ("Welcome back!") rather than at the student's next click. Streamlit's page asks for a run after
    reconnecting only if it has a fragment that reruns on a timer (or a run was under way); this is
    one, that does nothing every FOLLOW_SECONDS. A single server (SQLite) has no other process: none."""
    if class_db.shared():
        _timer()


@st.fragment(run_every=FOLLOW_SECONDS)
def _timer():
    pass
