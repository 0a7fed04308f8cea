"""Memory across classes: does one app server give its memory back after each class?

    python bench/bench_classes.py [--rounds 5] [--sessions 10] [--group 3] [--full]

Starts ONE app server (`streamlit run dashboard.py`, headless, on 127.0.0.1 at a
free port, no file watcher) with the built-in sample (MNIST_DIR empty), or with
--full the MNIST_DIR of the environment. Then runs --rounds "classes" one after
the other. In each, --sessions students come, --group of them at a time (one
headless Chromium, a browser context per student): each opens a lesson link
(/train?epochs=2&hidden=32&seed=<its own>), presses Start, waits until the
progress line says Finished, goes to the Evaluate page through the menu, and
leaves (its context is closed).

After each class, once the server is idle again (its CPU time stops rising,
for at most IDLE_WAIT_S), prints the server's RSS (VmRSS of the streamlit
process and its children) and thread count (/proc/<pid>/status Threads), so
memory or threads kept from class to class show up. At the end: RSS after the
first class vs after the last, and PASS when it grew by at most
GROWTH_BOUND_PCT (and every session got through); exits 1 on FAIL.
The server is stopped at the end, also on errors.
"""
import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from bench_load import CHROMIUM, CHROMIUM_ARGS, DRAWN_JS, cpu_seconds, free_port, page_list, rss_mb

ROOT = Path(__file__).resolve().parents[1]
LESSON = "train?epochs=2&hidden=32&seed={seed}"
GROWTH_BOUND_PCT = 15.0     # RSS after the last class within this of RSS after the first
STEP_TIMEOUT_MS = 300_000   # one step of a session (load, training, page switch): generous on 2 shared cores
IDLE_WAIT_S = 60            # at most this long for the server to go idle after a class


def start_server(port, env, log):
    server = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "dashboard.py",
                               "--server.port", str(port), "--server.address", "127.0.0.1",
                               "--server.headless", "true", "--server.fileWatcherType", "none",
                               "--browser.gatherUsageStats", "false"],
                              cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and server.poll() is None:
        try:
            with urllib.request.urlopen(url + "/_stcore/health", timeout=1) as r:
                if r.status == 200:
                    return server, url
        except OSError:
            time.sleep(0.5)                 # polling interval, not a wait for the app
    stop_server(server)
    raise SystemExit(f"the server did not start within 120 s (log: {log.name})")


def stop_server(server):
    try:
        os.killpg(server.pid, 15)
        server.wait(10)
    except ProcessLookupError:
        pass
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, 9)
        server.wait(10)


def threads(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Threads:"):
            return int(line.split()[1])
    return 0


def wait_idle(pid):
    """Wait until the server's CPU time stops rising (< 0.05 s in 2 s), at most IDLE_WAIT_S."""
    end = time.monotonic() + IDLE_WAIT_S
    last = cpu_seconds([pid])
    while time.monotonic() < end:
        time.sleep(2)                       # the polling interval of the CPU time
        now = cpu_seconds([pid])
        if now - last < 0.05:
            return True
        last = now
    return False


async def student(browser, url, seed, evaluate_h1):
    """One session: lesson link, Start, wait for Finished, Evaluate page, leave. Returns what it
    saw; if a step fails, raises saying which step and what the page showed then."""
    ctx = await browser.new_context(viewport={"width": 1400, "height": 900})
    step = "open a page"
    try:
        page = await ctx.new_page()
        step = "open the lesson link"
        await page.goto(f"{url}/{LESSON.format(seed=seed)}", timeout=STEP_TIMEOUT_MS)
        await page.wait_for_function(DRAWN_JS, timeout=STEP_TIMEOUT_MS, polling=200)
        step = "press Start"
        await page.locator(".st-key-train_start button:enabled").first.click(timeout=STEP_TIMEOUT_MS)
        step = "wait for Finished"
        done = page.locator("[data-testid=stProgress]", has_text="Finished").first
        await done.wait_for(timeout=STEP_TIMEOUT_MS)
        progress = " ".join((await done.inner_text()).split())
        errors = await page.locator("[data-testid=stException], [data-testid=stAlertContentError]").count()
        step = "go to Evaluate"
        await page.get_by_role("link", name="Evaluate", exact=True).first.click(timeout=STEP_TIMEOUT_MS)
        await page.locator("h1", has_text=evaluate_h1).first.wait_for(timeout=STEP_TIMEOUT_MS)
        await page.wait_for_function(DRAWN_JS, timeout=STEP_TIMEOUT_MS, polling=200)
        errors += await page.locator("[data-testid=stException], [data-testid=stAlertContentError]").count()
        if "epoch 2/2" not in progress:
            return f"FAILED: the lesson link's 2 epochs were not used: {progress}"
        return f"FAILED: {errors} error(s) shown" if errors else "ok"
    except Exception as err:
        raise RuntimeError(f"{step}: {type(err).__name__}: {str(err).splitlines()[0][:100]}; "
                           f"page then: {await what_shows(page)}") from None
    finally:
        await ctx.close()


async def what_shows(page):
    """The progress line, any error and the Start button's state: what a failed session saw."""
    try:
        seen = await page.locator("[data-testid=stProgress], [data-testid=stAlertContentError], "
                                  "[data-testid=stException]").all_inner_texts()
        start = page.locator(".st-key-train_start button")
        start = ("Start enabled" if await start.is_enabled(timeout=5000) else "Start disabled") \
            if await start.count() else "no Start button"
        return f"{page.url} {start} {[' '.join(t.split())[:160] for t in seen]}"
    except Exception as err:
        return f"(could not look: {type(err).__name__})"


async def one_class(browser, url, rnd, n_sessions, group, evaluate_h1):
    gate = asyncio.Semaphore(group)

    async def one(i):
        async with gate:
            try:
                return await student(browser, url, 1000 * rnd + i, evaluate_h1)
            except Exception as err:        # report it, keep the others going
                return f"FAILED: {err}"

    return await asyncio.gather(*(one(i) for i in range(n_sessions)))


async def classes(args, server_pid, url, rows, failures):
    from playwright.async_api import async_playwright

    evaluate_h1 = next(h1 for title, h1 in page_list() if title == "Evaluate")
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            for rnd in range(1, args.rounds + 1):
                start = time.perf_counter()
                results = await one_class(browser, url, rnd, args.sessions, args.group, evaluate_h1)
                seconds = time.perf_counter() - start
                idle = await asyncio.to_thread(wait_idle, server_pid)
                rss, n_threads = rss_mb(server_pid), threads(server_pid)
                ok = sum(r == "ok" for r in results)
                rows.append((rnd, rss))
                print(f"round {rnd}: {ok}/{args.sessions} sessions ok, server RSS {rss:.0f} MB, "
                      f"threads {n_threads}, {seconds:.0f} s{'' if idle else ' (server still busy)'}", flush=True)
                for i, r in enumerate(results):
                    if r != "ok":
                        failures.append(f"round {rnd} session {i}: {r}")
                        print(f"  session {i}: {r}", flush=True)
        finally:
            await browser.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--sessions", type=int, default=10, help="students per class")
    ap.add_argument("--group", type=int, default=3, help="students at once")
    ap.add_argument("--full", action="store_true", help="use MNIST_DIR from the environment, not the sample")
    args = ap.parse_args()
    env = {**os.environ, "OPENBLAS_NUM_THREADS": os.environ.get("OPENBLAS_NUM_THREADS", "1")}
    cache = tempfile.TemporaryDirectory(prefix="bench-classes-cache-")
    if not args.full:                       # the built-in sample, even if a downloaded copy is cached
        env.update(MNIST_DIR="", DIGITS_CACHE_DIR=cache.name)
    elif not env.get("MNIST_DIR"):
        raise SystemExit("--full needs MNIST_DIR=/path/to/mnist")
    log = tempfile.NamedTemporaryFile(prefix="bench-classes-server-", suffix=".log", delete=False)
    port = free_port()
    load = os.getloadavg()
    print(f"{args.rounds} rounds of {args.sessions} sessions ({args.group} at once), "
          f"lesson /{LESSON.format(seed='<per session>')}, data: "
          f"{'full MNIST (' + env['MNIST_DIR'] + ')' if args.full else 'built-in sample'}; port {port}; "
          f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; server log {log.name}", flush=True)
    rows, failures = [], []
    server, url = start_server(port, env, log)
    try:
        wait_idle(server.pid)
        print(f"server idle: RSS {rss_mb(server.pid):.0f} MB, threads {threads(server.pid)}", flush=True)
        asyncio.run(classes(args, server.pid, url, rows, failures))
    finally:
        stop_server(server)
        cache.cleanup()
    first, last = rows[0][1], rows[-1][1]
    growth = 100 * (last - first) / first
    ok = growth <= GROWTH_BOUND_PCT and not failures
    print(f"RSS after round 1: {first:.0f} MB, after round {rows[-1][0]}: {last:.0f} MB, growth {growth:+.1f}% "
          f"(bound {GROWTH_BOUND_PCT:.0f}%){'' if not failures else f'; {len(failures)} session(s) failed'}")
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
