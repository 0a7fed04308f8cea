"""Long session: 50 epochs on the full MNIST through the Train page, with live charts.

    MNIST_DIR=/path/to/mnist python bench/bench_long.py [--epochs 50] [--mode apptest|browser]

Trains with the page's default settings (engine.trainer.Settings(), printed at the
start) for --epochs epochs (default 50) through the very code the Train page runs
in a browser:

  apptest (default)  the Train page in Streamlit's AppTest: a click on Start
                     starts the run in its own thread (engine/worker.py), then
                     the page is rerun every training.TICK_SECONDS while it
                     trains, as the live panel's st.fragment(run_every=...)
                     redraws it in a browser (a whole-page rerun: more work
                     than the fragment's redraw alone).
  browser            a real `streamlit run` server and headless Chromium
                     (Playwright) pressing Start; the fragment ticks by itself.

The process RSS (VmRSS of /proc/<pid>/status: this process in apptest mode,
the server in browser mode) is sampled at the end of every epoch. Prints the
curve, the maximum, the growth from epoch 5 to the last, and the length of
the per-batch loss history, and checks:
    max RSS           < RSS_BOUND_MB
    growth (5 → end)  < GROWTH_BOUND_MB  (no leak: memory must not grow with epochs)
    per-batch history <= engine.trainer.MAX_BATCH_POINTS points
Exit status 1 if a bound is not met.
"""
import argparse
import os
import re
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")   # as dashboard.py does

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine.trainer import MAX_BATCH_POINTS  # noqa: E402

# Chosen from measurements (see the report at the end of a run): full MNIST in a
# Streamlit process takes about 250-300 MB (the trainer reads the uint8 images and
# converts one mini-batch at a time to float32: no float32 copy of the training
# set) and stays flat over 50 epochs. The bounds leave a margin for other
# Python/numpy versions.
RSS_BOUND_MB = 700
GROWTH_BOUND_MB = 50

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def rss_mb(pid="self"):
    """Resident memory of a process in MB (VmRSS), or None if it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ------------------------------------------------------------------ apptest mode

def run_apptest(epochs, deadline):
    from streamlit.testing.v1 import AppTest

    from ui.training import TICK_SECONDS

    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=600)
    at.run()
    at.switch_page("app_pages/4_train.py")
    at.run()
    assert not at.exception, at.exception
    print(f"data: {at.caption[0].value}")
    at.number_input(key="train_epochs").set_value(epochs).run()
    samples = [(0, rss_mb(), 0, 0.0)]           # (epoch, RSS MB, per-batch points, seconds)
    state = {"run": None, "stop": False}
    start = time.perf_counter()

    def sampler():                               # reads the trainer; never changes anything
        seen = 0
        while not state["stop"]:
            run = state["run"]
            if run is not None and len(run.history.epochs) > seen:
                seen = len(run.history.epochs)
                samples.append((seen, rss_mb(), len(run.history.batch_loss), time.perf_counter() - start))
            time.sleep(0.05)

    thread = threading.Thread(target=sampler, daemon=True)
    thread.start()
    draw = 0.0                                   # wall seconds spent in page reruns while it trained
    try:
        at.button(key="train_start").click().run()      # start() hands the run to its own thread
        assert not at.exception, at.exception
        assert at.session_state["train_status"] == "running", at.session_state["train_error"]
        job = at.session_state["train_job"]
        state["run"] = at.session_state["trainer"]
        reruns, tick = 0, time.perf_counter()
        while not job.done and time.perf_counter() < deadline:
            tick += TICK_SECONDS                 # the fragment's run_every: a redraw every TICK_SECONDS
            if job.join(max(0.0, tick - time.perf_counter())):
                break
            began = time.perf_counter()
            at.run()
            draw += time.perf_counter() - began
            reruns += 1
            assert not at.exception, at.exception
            tick = max(tick, time.perf_counter() - TICK_SECONDS)    # a slow rerun skips ticks, as a browser does
        job.join(max(0.0, deadline - time.perf_counter()))
        at.run()                                 # the page records the ended run (training.finish)
        assert not at.exception, at.exception
    finally:
        state["stop"] = True
        thread.join()
        if at.session_state["train_status"] in ("running", "paused"):
            at.session_state["train_job"].stop(wait=5)     # past the deadline: don't leave it training
    run = at.session_state["trainer"]
    return {"samples": samples, "status": at.session_state["train_status"], "epochs_done": len(run.history.epochs),
            "batch_points": len(run.history.batch_loss), "steps": run.step, "wall": time.perf_counter() - start,
            "train_seconds": run.train_seconds, "draw_seconds": draw, "reruns": reruns, "tick": TICK_SECONDS,
            "test_accuracy": (at.session_state["train_result"] or {}).get("test_accuracy")}


# ------------------------------------------------------------------ browser mode

def run_browser(epochs, deadline):
    from playwright.sync_api import sync_playwright

    port = free_port()
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1"}
    server = subprocess.Popen([sys.executable, "-m", "streamlit", "run", str(ROOT / "dashboard.py"),
                               "--server.port", str(port), "--server.address", "127.0.0.1",
                               "--server.headless", "true", "--browser.gatherUsageStats", "false"],
                              cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    samples, start = [], time.perf_counter()
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS, headless=True)
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            url = f"http://127.0.0.1:{port}/train"
            for _ in range(60):
                try:
                    page.goto(url, timeout=60_000)
                    break
                except Exception:
                    time.sleep(0.5)
            page.locator(".st-key-train_start button").first.wait_for(timeout=90_000)
            box = page.locator(".st-key-train_epochs input")
            box.fill(str(epochs))
            box.press("Enter")
            page.wait_for_timeout(1500)
            samples.append((0, rss_mb(server.pid), None, 0.0))
            page.locator(".st-key-train_start button").first.click()
            start = time.perf_counter()
            seen, status = 0, "running"
            while time.perf_counter() < deadline:
                text = ""
                try:
                    text = page.locator("[data-testid=stProgress]").first.inner_text(timeout=2000)
                except Exception:
                    pass
                m = re.search(r"epoch (\d+)/(\d+)", text)
                done = int(m.group(1)) - 1 if m else seen
                if "Finished" in text:
                    done, status = epochs, "finished"
                if done > seen:
                    seen = done
                    samples.append((seen, rss_mb(server.pid), None, time.perf_counter() - start))
                if status == "finished" or "Diverged" in text:
                    break
                time.sleep(0.5)
            browser.close()
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
    return {"samples": samples, "status": status, "epochs_done": seen, "batch_points": None,
            "wall": time.perf_counter() - start}


# ------------------------------------------------------------------ main

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--epochs", type=int, default=50, help="epochs to train (default 50)")
    ap.add_argument("--mode", choices=["apptest", "browser"], default="apptest")
    ap.add_argument("--deadline", type=float, default=3600, help="give up after this many seconds")
    args = ap.parse_args()
    if not os.environ.get("MNIST_DIR"):
        print("warning: MNIST_DIR is not set: this trains on the built-in sample, not the full MNIST")
    load = os.getloadavg()
    from engine.trainer import Settings
    print(f"settings: {Settings().as_dict()}")
    print(f"mode {args.mode}, {args.epochs} epochs, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}, "
          f"{os.cpu_count()} CPUs")
    deadline = time.perf_counter() + args.deadline
    result = (run_apptest if args.mode == "apptest" else run_browser)(args.epochs, deadline)

    samples = result["samples"]
    print("\nepoch  RSS MB  per-batch points  seconds")
    for epoch, rss, points, sec in samples:
        print(f"{epoch:5d}  {rss:6.0f}  {'' if points is None else points:>16}  {sec:7.1f}")
    rss = [s[1] for s in samples if s[1] is not None]
    after5 = [s[1] for s in samples if s[0] >= 5 and s[1] is not None]
    growth = (after5[-1] - after5[0]) if len(after5) >= 2 else 0.0
    print(f"\nstatus {result['status']} after {result['epochs_done']} epochs, {result['wall']:.0f} s wall")
    if "train_seconds" in result:
        t, d = result["train_seconds"], result["draw_seconds"]
        print(f"training {t:.0f} s in its own thread; meanwhile {result['reruns']} page reruns (one every "
              f"{result['tick']:g} s) took {d:.1f} s of wall time; {result['steps']:,} mini-batches; "
              f"test accuracy {result['test_accuracy'] or float('nan'):.2%}")
    print(f"RSS: start {rss[0]:.0f} MB, max {max(rss):.0f} MB (bound {RSS_BOUND_MB} MB), "
          f"growth from epoch 5 to the end {growth:+.0f} MB (bound {GROWTH_BOUND_MB} MB)")
    ok = max(rss) < RSS_BOUND_MB and growth < GROWTH_BOUND_MB and result["epochs_done"] == args.epochs
    if result["batch_points"] is not None:
        points = [s[2] for s in samples]
        print(f"per-batch loss history: max {max(points)} points (bound {MAX_BATCH_POINTS}) "
              f"for {result['steps']:,} mini-batches")
        ok = ok and max(points) <= MAX_BATCH_POINTS
    load = os.getloadavg()
    print(f"load average at the end {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    print("OK: every bound met" if ok else "FAILED: a bound was not met")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
