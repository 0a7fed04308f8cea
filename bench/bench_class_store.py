"""A class at once on the class store: 30 sessions adding digits and leaderboard rows together.

    python bench/bench_class_store.py [--db sqlite|postgresql|both] [--sessions 30] [--digits 50]
                                      [--rows 2] [--processes 3] [--paced] [--deadline 120]

Each session (a thread; the sessions are spread over --processes processes, as a school
runs several app processes behind one address) adds --digits drawings and --rows
leaderboard rows through the store's own API (classroom/store.py), all starting at the
same moment. Without --paced the sessions write as fast as they can (the store's
one-drawing-a-second limit is lifted: the hardest load on the database); with --paced
they keep that limit, as students must.

Afterwards the store is read back: it must hold exactly every entry that was confirmed
(same ids, labels, sessions; nothing else), and no session may have seen "database is
locked" or any other error. Prints entries per second, the median, 99th-percentile and
worst wait for one entry, and PASS/FAIL. SQLite: a file in a temporary folder. PostgreSQL:
a throwaway server on 127.0.0.1 (tests/pg_server.py, Debian's postgresql package, fsync on).
Bounded: every session stops at --deadline seconds, and so does the script.
"""
import argparse
import concurrent.futures as cf
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import numpy as np  # noqa: E402

from classroom.limits import ClassLimits  # noqa: E402
from classroom.store import Store, drawing_png  # noqa: E402


def _digit(i):
    x = np.zeros((28, 28), np.uint8)
    x[5:23, 8 + i % 10: 12 + i % 10] = 200 + i % 50
    return x.reshape(784)


def _session(store, name, digits, rows, paced, start, deadline, png):
    """One student: wait for the start, then add digits and rows; [(kind, id or None, wait, error)]."""
    out = []
    time.sleep(max(0.0, start - time.time()))
    for i in range(digits + rows):
        if time.time() > deadline:
            out.append(("stopped", None, 0.0, "deadline reached"))
            break
        t0 = time.perf_counter()
        try:
            if i < digits:
                kind = f"drawing:{i % 10}"
                new = store.add_drawing(name, i % 10, _digit(i), png, nickname=name[-8:])
            else:
                kind = "score"
                new = store.add_score(name, name[-8:], 0.9 + i / 1000, 10_000, "full MNIST", "784-256-10",
                                      {"lr": 0.1, "run": i}, {"lr": "0.1"})
            out.append((kind, new, time.perf_counter() - t0, None))
        except Exception as e:  # noqa: BLE001 - every error is counted and shown
            out.append((kind, None, time.perf_counter() - t0, f"{type(e).__name__}: {e}"))
        if paced and i < digits:    # a second from the answer to the next click, as a student would
            time.sleep(1.0)
    return name, out


def _process(url, names, digits, rows, paced, start, deadline):
    """One app process: its own Store (its own connections), one thread per session."""
    # The class-wide limits lifted: this measures the database, not the limits (classroom/limits.py).
    store = Store(url, min_interval=1.0 if paced else 0.0,
                  limits=ClassLimits(server_minute=10**9, per_address_minute=10**9, max_drawings=10**9,
                                     runs_server_minute=10**9, runs_per_address_minute=10**9))
    png = drawing_png(np.eye(80, dtype=np.float32))
    results = {}
    threads = [threading.Thread(target=lambda n=n: results.__setitem__(
        n, _session(store, n, digits, rows, paced, start, deadline, png)[1])) for n in names]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    store.close()
    return results


def run(url, args, label):
    names = [f"bench-{label}-{i:02d}" for i in range(args.sessions)]
    groups = [names[p::args.processes] for p in range(args.processes)]
    Store(url).close()                                     # the schema is made before the clock starts
    start = time.time() + 3.0                              # every process started and connected by then
    deadline = start + args.deadline
    results = {}
    with cf.ProcessPoolExecutor(args.processes) as pool:
        for part in pool.map(_process, [url] * len(groups), groups, [args.digits] * len(groups),
                             [args.rows] * len(groups), [args.paced] * len(groups), [start] * len(groups),
                             [deadline] * len(groups)):
            results.update(part)
    elapsed = max(time.time(), start) - start

    confirmed = {(k.split(":")[0], new): (name, k) for name, out in results.items() for k, new, _, err in out
                 if new is not None}
    errors = [err for out in results.values() for *_, err in out if err]
    waits = sorted(w for out in results.values() for _, new, w, _ in out if new is not None)

    store = Store(url)
    stored_drawings = {d["id"]: d for d in store.drawings(with_png=False)}
    stored_scores = {r["id"]: r for r in store.scores(limit=10**6)}
    store.close()
    want_d = {i: v for (kind, i), v in confirmed.items() if kind == "drawing"}
    want_s = {i: v for (kind, i), v in confirmed.items() if kind == "score"}
    same = (set(stored_drawings) == set(want_d) and set(stored_scores) == set(want_s)
            and all(stored_drawings[i]["session"] == s and f"drawing:{stored_drawings[i]['label']}" == k
                    for i, (s, k) in want_d.items())
            and all(stored_scores[i]["session"] == s for i, (s, _) in want_s.items()))
    locked = sum("locked" in e for e in errors)
    expected = args.sessions * (args.digits + args.rows)

    print(f"\n== {label}: {args.sessions} sessions in {args.processes} processes, {args.digits} digits + "
          f"{args.rows} rows each{' (paced: one drawing a second)' if args.paced else ' (as fast as they can)'}")
    print(f"confirmed entries        {len(confirmed):,} of {expected:,} "
          f"({len(want_d):,} drawings, {len(want_s):,} rows)")
    print(f"stored                   {len(stored_drawings):,} drawings, {len(stored_scores):,} rows: "
          f"{'exactly the confirmed ones' if same else 'NOT the confirmed ones'}")
    print(f"errors seen by sessions  {len(errors)} ({locked} 'database is locked')"
          + (f"; first: {errors[0]}" if errors else ""))
    print(f"throughput               {len(confirmed) / elapsed:,.0f} entries/s ({elapsed:.1f} s in all)")
    if waits:
        p99 = waits[min(len(waits) - 1, int(0.99 * len(waits)))]
        print(f"wait for one entry       median {1000 * statistics.median(waits):.1f} ms, "
              f"99th percentile {1000 * p99:.1f} ms, worst {1000 * waits[-1]:.1f} ms")
    ok = same and not errors and len(confirmed) == expected
    print("PASS" if ok else "FAIL")
    return ok


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    ap.add_argument("--sessions", type=int, default=30)
    ap.add_argument("--digits", type=int, default=50)
    ap.add_argument("--rows", type=int, default=2)
    ap.add_argument("--processes", type=int, default=3)
    ap.add_argument("--paced", action="store_true", help="keep the one-drawing-a-second limit")
    ap.add_argument("--deadline", type=float, default=120.0, help="seconds after which every session stops")
    args = ap.parse_args()
    ok = True
    if args.db in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as folder:
            ok &= run(str(Path(folder) / "class.sqlite3"), args, "SQLite")
    if args.db in ("postgresql", "both"):
        import pg_server
        reason = pg_server.missing_reason()
        if reason:
            print(f"\n== PostgreSQL: not run: {reason}")
            ok = False
        else:
            with pg_server.postgres(fsync=True) as url:
                ok &= run(url, args, "PostgreSQL")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
