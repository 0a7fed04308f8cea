"""A class at once: many browser sessions on one app server, some training.

    [MNIST_DIR=/path/to/mnist] python bench/bench_load.py [--sessions 10] [--trainers 3] [--deadline 300]

Starts the app (`streamlit run dashboard.py`) on 127.0.0.1 at a free port, with
the full MNIST if MNIST_DIR is set, else the built-in sample. Then, in one
headless Chromium (Playwright), opens --sessions browser contexts (separate
users, each its own Streamlit session):

  1. all sessions open the Home page at once;
  2. --trainers of them go to the Train page and press Start at the same moment
     (the page's default settings), and stay there, training live;
  3. meanwhile every other session walks through every page of the app via the
     sidebar menu, all at once.

"Time to show a page" runs from the click on the menu link (or from the start of
the page load for Home) until the page's title is there, its script run has
ended (Streamlit's data-test-script-state is notRunning) and the browser has
drawn everything: no loading skeletons left, every chart drawn, every image
loaded. The time until the title alone shows is printed too (the first part
of the page the server sends: the least browser work). The server's RSS (VmRSS of the streamlit process and any children) is
sampled every 0.5 s during the whole run.

Prints the median and worst time to show a page, per page and overall, the
RSS curve summary and the trainers' progress, and checks them against the
bounds below. Bounded: a hard --deadline (default 300 s) after which
everything is stopped; the server is always killed at the end.
"""
import argparse
import asyncio
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
PORTS = range(8520, 8530)

# Bounds, from measurements on the 2-core test machine, where the ten Chromium
# renderers run on the same 2 cores as the server (and take ~4x the server's
# CPU: the Streamlit frontend and the Vega charts are drawn in each context).
# Measured there: median 28 s, worst 69 s to show everything, server RSS 400
# MB, 0.8 CPU-seconds of server work per page view. In a classroom every
# browser has its own machine and only the server is shared, so the
# server-CPU-per-page-view bound is the one that carries over.
MEDIAN_BOUND_S = 45.0
WORST_BOUND_S = 120.0
SERVER_CPU_PER_VIEW_BOUND_S = 1.5
RSS_BOUND_MB = 800
RSS_BOUND_FULL_MB = 1000

DRAWN_JS = """() => {
  const app = document.querySelector('[data-testid=stApp]');
  return app && app.getAttribute('data-test-script-state') === 'notRunning'
    && !document.querySelector('[data-testid=stMain] [data-testid=stSkeleton]')
    && [...document.querySelectorAll('[data-testid=stVegaLiteChart]')].every(c => c.querySelector('canvas, svg'))
    && [...document.querySelectorAll('[data-testid=stMain] img')].every(i => i.complete && i.naturalWidth > 0);
}"""


def page_list():
    """(menu title, heading shown as the h1) for every page of the app, Home first."""
    sys.path.insert(0, str(ROOT))
    from ui import pages         # the app's one list of pages
    return [(p.title, p.heading) for p in pages.PAGES]


def free_port():
    for port in PORTS:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
                return port
            except OSError:
                continue
    raise SystemExit(f"no free port in {PORTS.start}-{PORTS.stop - 1}")


def rss_mb(pid):
    """VmRSS of pid and its children, in MB."""
    total = 0
    pids = [pid]
    try:
        pids += [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        pass
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


def start_server(port, env):
    server = subprocess.Popen([sys.executable, "-m", "streamlit", "run", str(ROOT / "dashboard.py"),
                               "--server.port", str(port), "--server.address", "127.0.0.1",
                               "--server.headless", "true", "--browser.gatherUsageStats", "false"],
                              cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    for _ in range(120):
        try:
            with urllib.request.urlopen(url + "/_stcore/health", timeout=1) as r:
                if r.status == 200:
                    return server, url
        except OSError:
            time.sleep(0.5)
    server.kill()
    raise SystemExit("the server did not start within 60 s")


T0 = time.perf_counter()


def note(timings, i, title, start, first):
    took = time.perf_counter() - start
    timings.append((i, title, took, first))
    print(f"  [{time.perf_counter() - T0:6.1f} s] session {i}: {title} title after {first:.2f} s, "
          f"all shown after {took:.2f} s", flush=True)


async def wait_shown(page, h1, timeout_ms, start):
    """Wait until the page is all there; return the seconds until its title appeared."""
    await page.locator("h1", has_text=h1).first.wait_for(timeout=timeout_ms)
    first = time.perf_counter() - start
    await page.wait_for_function(DRAWN_JS, timeout=timeout_ms, polling=100)
    return first


async def session(i, browser, url, pages, role, timings, barrier, trainers_started, done, timeout_ms):
    ctx = await browser.new_context(viewport={"width": 1400, "height": 900})
    page = await ctx.new_page()
    try:
        start = time.perf_counter()
        await page.goto(url, timeout=timeout_ms)
        first = await wait_shown(page, pages[0][1], timeout_ms, start)
        note(timings, i, "Home", start, first)
        await barrier.wait()                          # everyone has Home: now all at once
        if role == "trainer":
            title, h1 = next(p for p in pages if p[0] == "Train")
            start = time.perf_counter()
            await page.get_by_role("link", name=title, exact=True).first.click()
            first = await wait_shown(page, h1, timeout_ms, start)
            note(timings, i, title, start, first)
            await trainers_started.wait()             # every trainer is on the page
            await page.locator(".st-key-train_start button").first.click()
            await page.locator("[data-testid=stProgress]").first.wait_for(timeout=timeout_ms)
            await done.wait()                         # keep training until the browsers are done
            text = await page.locator("[data-testid=stProgress]").first.inner_text(timeout=timeout_ms)
            return text.strip().replace("\n", " ")
        for title, h1 in pages[1:]:
            start = time.perf_counter()
            await page.get_by_role("link", name=title, exact=True).first.click()
            first = await wait_shown(page, h1, timeout_ms, start)
            note(timings, i, title, start, first)
        exceptions = await page.locator("[data-testid=stException]").count()
        return f"visited {len(pages) - 1} pages, {exceptions} exceptions shown"
    finally:
        await ctx.close()


class Barrier:
    """asyncio.Barrier for Python < 3.11 is missing; a tiny one-shot version."""

    def __init__(self, n):
        self.n, self.event = n, asyncio.Event()

    async def wait(self):
        self.n -= 1
        if self.n <= 0:
            self.event.set()
        await self.event.wait()


def cpu_seconds(pids):
    """User + system CPU seconds used so far by these processes."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])        # utime, stime (clock ticks)
        except (OSError, IndexError, ValueError):
            pass
    return total / os.sysconf("SC_CLK_TCK")


def descendants(root):
    """Every live process below `root` (by parent id)."""
    parent = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                parent[int(d.name)] = int((d / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                pass
    found, todo = [], [root]
    while todo:
        p = todo.pop()
        kids = [c for c, pp in parent.items() if pp == p]
        found += kids
        todo += kids
    return found


async def load_test(url, server_pid, n_sessions, n_trainers, deadline, out):
    """Runs the sessions; fills `out` as it goes, so a run cut by the deadline still reports."""
    from playwright.async_api import async_playwright

    out.update(pages=page_list(), timings=[], rss=[], results={}, browse_seconds=None, cpu=[])
    roles = out["roles"] = ["trainer"] * n_trainers + ["browser"] * (n_sessions - n_trainers)
    stop_sampling = asyncio.Event()

    async def sampler():
        t0 = time.perf_counter()
        browser_cpu = {}                          # pid -> last CPU seconds (processes come and go)
        while not stop_sampling.is_set():
            for pid in descendants(os.getpid()):
                if pid != server_pid:
                    browser_cpu[pid] = cpu_seconds([pid]) or browser_cpu.get(pid, 0)
            out["rss"].append((time.perf_counter() - t0, rss_mb(server_pid)))
            out["cpu"].append((cpu_seconds([server_pid]), sum(browser_cpu.values())))
            await asyncio.sleep(0.5)

    async def one(i, role):
        try:
            out["results"][i] = await session(i, browser, url, out["pages"], role, out["timings"], barrier,
                                              trainers_started if role == "trainer" else None, done, timeout_ms)
        except Exception as err:                  # report it, keep the others going
            out["results"][i] = f"FAILED: {type(err).__name__}: {str(err).splitlines()[0][:120]}"

    barrier = Barrier(n_sessions)
    trainers_started = Barrier(n_trainers)
    done = asyncio.Event()
    timeout_ms = int(deadline * 1000)
    sampling = asyncio.create_task(sampler())
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        tasks = [asyncio.create_task(one(i, role)) for i, role in enumerate(roles)]
        try:
            start = time.perf_counter()
            browsers = [t for t, r in zip(tasks, roles) if r == "browser"]
            if browsers:
                await asyncio.wait_for(asyncio.gather(*browsers), timeout=deadline)
            out["browse_seconds"] = time.perf_counter() - start
            done.set()
            await asyncio.wait_for(asyncio.gather(*tasks), timeout=60)
        except asyncio.TimeoutError:
            out["timed_out"] = True
        finally:
            done.set()
            stop_sampling.set()
            await sampling
            for t in tasks:
                t.cancel()
            await browser.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sessions", type=int, default=10)
    ap.add_argument("--trainers", type=int, default=3)
    ap.add_argument("--deadline", type=float, default=300, help="hard limit in seconds for the whole run")
    args = ap.parse_args()
    if not 0 <= args.trainers <= args.sessions:
        raise SystemExit("--trainers must be between 0 and --sessions")
    hard_stop = time.perf_counter() + args.deadline
    env = {**os.environ, "OPENBLAS_NUM_THREADS": os.environ.get("OPENBLAS_NUM_THREADS", "1")}
    full = bool(os.environ.get("MNIST_DIR"))
    cache = tempfile.TemporaryDirectory(prefix="bench-load-cache-")
    if not full:                         # the built-in sample, even if a downloaded copy is cached
        env.update(MNIST_DIR="", DIGITS_CACHE_DIR=cache.name)
    port = free_port()
    load = os.getloadavg()
    print(f"{args.sessions} sessions ({args.trainers} training), data: "
          f"{'full MNIST (MNIST_DIR)' if full else 'built-in sample'}; port {port}; "
          f"load average before {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}, {os.cpu_count()} CPUs", flush=True)
    server, url = start_server(port, env)
    idle_rss = rss_mb(server.pid)
    out = {}
    wall0 = time.perf_counter()
    try:
        remaining = hard_stop - time.perf_counter()
        try:
            asyncio.run(asyncio.wait_for(load_test(url, server.pid, args.sessions, args.trainers,
                                                   remaining - 30, out), timeout=remaining - 10))
        except asyncio.TimeoutError:
            out["timed_out"] = True
    finally:
        os.killpg(server.pid, 15)
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, 9)
        cache.cleanup()
    wall = time.perf_counter() - wall0
    pages, roles, timings, rss = out["pages"], out["roles"], out["timings"], out["rss"]
    results = [out["results"].get(i, "did not finish before the deadline") for i in range(len(roles))]

    print(f"\ntime to show a page (click or load -> title, script done, charts and images drawn), "
          f"{len(timings)} page views:")
    print(f"  {'':32s}       all shown: median   worst   title shown: median   worst")
    for title, _ in pages:
        t = [s for _, name, s, _ in timings if name == title]
        f = [s for _, name, _, s in timings if name == title]
        if t:
            print(f"  {title:32s} n={len(t):2d}  {statistics.median(t):13.2f} s {max(t):6.2f} s"
                  f"  {statistics.median(f):18.2f} s {max(f):6.2f} s")
    allt = [t[2] for t in timings] or [float("inf")]
    allf = [t[3] for t in timings] or [float("inf")]
    med, worst = statistics.median(allt), max(allt)
    print(f"  {'all pages':32s} n={len(timings):2d}  {med:13.2f} s {worst:6.2f} s"
          f"  {statistics.median(allf):18.2f} s {max(allf):6.2f} s")
    if out.get("browse_seconds") is not None:
        print(f"browsing sessions done in {out['browse_seconds']:.0f} s")
    for i, (role, result) in enumerate(zip(roles, results)):
        print(f"  session {i} ({role}): {result}")
    peak = max(m for _, m in rss)
    print(f"server RSS: idle {idle_rss:.0f} MB, max {peak:.0f} MB during the run, "
          f"last {rss[-1][1]:.0f} MB ({len(rss)} samples over {rss[-1][0]:.0f} s)")
    server_cpu = browser_cpu = float("nan")
    if out["cpu"]:
        server_cpu, browser_cpu = out["cpu"][-1]
        print(f"CPU used in {wall:.0f} s of wall time: server {server_cpu:.0f} s, Chromium + Playwright "
              f"{browser_cpu:.0f} s (2 cores = {2 * wall:.0f} CPU-seconds available, shared with the rest "
              f"of the machine)")
    load = os.getloadavg()
    print(f"load average after {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    rss_bound = RSS_BOUND_FULL_MB if full else RSS_BOUND_MB
    checks = [(f"finished within the {args.deadline:.0f} s deadline", not out.get("timed_out")),
              (f"median {med:.2f} s < {MEDIAN_BOUND_S} s", med < MEDIAN_BOUND_S),
              (f"worst {worst:.2f} s < {WORST_BOUND_S} s", worst < WORST_BOUND_S),
              (f"server RSS {peak:.0f} MB < {rss_bound} MB", peak < rss_bound),
              (f"server CPU per page view {server_cpu / max(len(timings), 1):.2f} s < "
               f"{SERVER_CPU_PER_VIEW_BOUND_S} s (includes the trainers' training)",
               server_cpu / max(len(timings), 1) < SERVER_CPU_PER_VIEW_BOUND_S),
              ("every browsing session visited every page, no exception shown",
               all(r.endswith(", 0 exceptions shown") for r, role in zip(results, roles) if role == "browser")),
              ("every trainer is training, in line or done",
               all(re.search(r"Training|Waiting for a free place|Finished", r)
                   for r, role in zip(results, roles) if role == "trainer"))]
    for text, good in checks:
        print(f"  {'met' if good else 'NOT met'}: {text}")
    ok = all(good for _, good in checks)
    print("OK: every bound met" if ok else "FAILED: a bound was not met")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
