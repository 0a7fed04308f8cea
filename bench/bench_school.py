"""A school's server under a class: 20 browser sessions through the proxy on two app processes,
against the same 20 on one process (both behind the same HAProxy, sharing one PostgreSQL).

    python bench/bench_school.py [--sessions 20] [--deadline 900] [--modes 1,2]

For each number of app processes, starts scripts/school_server.py (the app with the built-in sample,
HAProxy, a trial PostgreSQL) on free ports, then opens --sessions browser contexts at once in one
headless Chromium (Playwright), arriving evenly over --arrive-over seconds (60: a class coming in);
each session:

  1. opens the Train page by a lesson link (an MLP 784-32-10, 1 epoch) and presses Start;
  2. waits for "Run finished";
  3. opens the Draw page from the menu, draws a 7 with the mouse and waits for the network's guess;
  4. says it meant a 7 and adds it to the class set ("Added your 7").

"Page time" runs from the action (the page load, the menu click, the end of the stroke, the click on
Add) until the page shows its result and has drawn everything (script run ended, no loading skeleton,
every chart and image drawn). The training run (Start to "Run finished") is reported apart: it waits
in each process's line of runs. Every app process's RSS (VmRSS) is sampled every 0.5 s.

Prints, per mode: how many sessions each process served (the proxy's cookie), the median and worst
page time per step and overall, the training runs' median and worst, each process's peak and final
RSS, the class set's size afterwards and the machine's load (`uptime`) before and after. The browsers
run on the same cores as the servers, at a lower priority (nice 10); on a shared machine, say its load
next to the figures.
"""
import argparse
import asyncio
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_load import CHROMIUM, CHROMIUM_ARGS, DRAWN_JS     # (DRAWN_JS: the page has drawn everything)

ROOT = Path(__file__).resolve().parents[1]
LINK = "/train?hidden=32&epochs=1"
SEVEN = [(0.25, 0.2), (0.75, 0.2), (0.42, 0.85)]          # one stroke, as fractions of the canvas
STEPS = ["open Train", "open Draw", "guess", "add to class set"]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def nice_chromium():
    """Chromium at a lower priority (nice 10): on one machine, 20 browsers' renderers would otherwise take
    the cores from the servers they measure (in a classroom each browser has a machine of its own)."""
    wrapper = Path(tempfile.mkdtemp(prefix="bench-school-chromium-")) / "chromium"
    wrapper.write_text(f'#!/bin/sh\nexec nice -n 10 {CHROMIUM} "$@"\n')
    wrapper.chmod(0o755)
    return str(wrapper)


def rss_mb(pid):
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def load():
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def start_school(apps, folder):
    """scripts/school_server.py with `apps` processes; returns (launcher, its description)."""
    state = folder / "school.json"
    first = free_port()
    env = dict(os.environ, DIGITS_CACHE_DIR=str(folder / "cache"), OPENBLAS_NUM_THREADS="1")
    env.pop("MNIST_DIR", None)
    env.pop("DIGITS_DB", None)
    launcher = subprocess.Popen(
        [sys.executable, "scripts/school_server.py", "start", "--apps", str(apps), "--port", str(free_port()),
         "--address", "127.0.0.1", "--first-app-port", str(first), "--state", str(state),
         "--logs", str(folder / "logs")],
        cwd=ROOT, env=env, stdout=open(folder / "launcher.log", "wb"), stderr=subprocess.STDOUT,
        start_new_session=True)
    deadline = time.monotonic() + 300
    try:
        while not state.exists():
            if launcher.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("the school server did not start:\n" + (folder / "launcher.log").read_text())
            time.sleep(0.5)                       # polling the launcher's "ready" file
    except BaseException:
        stop_school(launcher)
        raise
    return launcher, json.loads(state.read_text())


def stop_school(launcher):
    os.killpg(launcher.pid, signal.SIGTERM)       # the launcher stops its apps, the proxy and PostgreSQL
    launcher.wait(timeout=120)


async def shown(page, locator, start, timeout_ms):
    await locator.first.wait_for(timeout=timeout_ms)
    await page.wait_for_function(DRAWN_JS, timeout=timeout_ms, polling=100)
    return time.perf_counter() - start


async def student(i, browser, url, timeout_ms, out, arrive):
    await asyncio.sleep(arrive)                   # students come in over the first minute, not all in one instant
    ctx = await browser.new_context(viewport={"width": 1400, "height": 900})
    ctx.set_default_timeout(timeout_ms)
    page = await ctx.new_page()
    times = out["times"]
    step = "open Train"
    try:
        start = time.perf_counter()
        await page.goto(url + LINK, timeout=timeout_ms)
        times["open Train"].append(await shown(page, page.locator(".st-key-train_start button"), start, timeout_ms))
        start, step = time.perf_counter(), "training run"
        await page.locator(".st-key-train_start button").first.click()
        await page.get_by_text("Run finished:").first.wait_for(timeout=timeout_ms)
        out["training"].append(time.perf_counter() - start)
        start, step = time.perf_counter(), "open Draw"
        await page.locator("[data-testid=stSidebarNav]").locator('a[href$="/draw"]').click()
        canvas = page.locator("[class*=st-key-draw_canvas_] canvas.upper-canvas")
        times["open Draw"].append(await shown(page, canvas, start, timeout_ms))
        box = await canvas.bounding_box()
        points = [(box["x"] + fx * box["width"], box["y"] + fy * box["height"]) for fx, fy in SEVEN]
        await page.mouse.move(*points[0])
        await page.mouse.down()
        for x, y in points[1:]:
            await page.mouse.move(x, y, steps=8)
        start, step = time.perf_counter(), "guess"
        await page.mouse.up()
        times["guess"].append(await shown(page, page.locator("#draw-prediction"), start, timeout_ms))
        await page.locator(".st-key-class_meant input").click()
        step = "add to class set"
        await page.get_by_role("option", name="7", exact=True).click()
        add = page.locator(".st-key-class_add").get_by_role("button")
        await page.wait_for_function(DRAWN_JS, timeout=timeout_ms, polling=100)
        start = time.perf_counter()
        await add.click()
        times["add to class set"].append(await shown(page, page.get_by_text(re.compile("Added your 7")), start,
                                                     timeout_ms))
        cookies = {c["name"]: c["value"] for c in await ctx.cookies(url)}
        out["served_by"][i] = cookies.get("DIGITS_SERVER")
        out["done"] += 1
    except Exception as err:                      # report it, keep the others going
        out["failed"].append(f"session {i} at '{step}': {type(err).__name__}: {str(err).splitlines()[0][:160]}")
    except asyncio.CancelledError:
        out["failed"].append(f"session {i} still at '{step}' at the deadline")
        raise
    finally:
        await ctx.close()


async def one_mode(url, apps, sessions, deadline, arrive_over):
    from playwright.async_api import async_playwright
    out = {"times": {s: [] for s in STEPS}, "training": [], "served_by": {}, "done": 0, "failed": [],
           "rss": {a["name"]: [] for a in apps}}
    stop = asyncio.Event()

    async def sampler():
        while not stop.is_set():
            for a in apps:
                mb = rss_mb(a["pid"])
                if mb is not None:
                    out["rss"][a["name"]].append(mb)
            await asyncio.sleep(0.5)

    sampling = asyncio.create_task(sampler())
    async with async_playwright() as p:
        wrapper = nice_chromium()
        browser = await p.chromium.launch(executable_path=wrapper, args=CHROMIUM_ARGS, headless=True)
        start = time.perf_counter()
        try:
            await asyncio.wait_for(asyncio.gather(*(student(i, browser, url, int(deadline * 1000), out,
                                                            arrive_over * i / sessions)
                                                    for i in range(sessions))), timeout=deadline)
        except asyncio.TimeoutError:
            out["failed"].append(f"deadline of {deadline:.0f} s reached")
        out["seconds"] = time.perf_counter() - start
        stop.set()
        await sampling
        await browser.close()
        shutil.rmtree(Path(wrapper).parent, ignore_errors=True)
    return out


def report(n_apps, out, class_set, before, after):
    print(f"\n== {n_apps} app process{'es' if n_apps > 1 else ''} behind the proxy: "
          f"{out['done']} sessions done in {out['seconds']:.0f} s")
    print(f"   load before: {before}\n   load after:  {after}")
    served = {}
    for name in out["served_by"].values():
        served[name] = served.get(name, 0) + 1
    print("   sessions per process: " + ", ".join(f"{k}: {v}" for k, v in sorted(served.items())))
    every = []
    for step in STEPS:
        t = out["times"][step]
        every += t
        if t:
            print(f"   {step:18s} median {statistics.median(t):6.2f} s   worst {max(t):6.2f} s   ({len(t)})")
    if every:
        print(f"   {'every page':18s} median {statistics.median(every):6.2f} s   worst {max(every):6.2f} s   "
              f"({len(every)})")
    if out["training"]:
        t = out["training"]
        print(f"   {'training run':18s} median {statistics.median(t):6.2f} s   worst {max(t):6.2f} s   ({len(t)})")
    for name, rss in out["rss"].items():
        if rss:
            print(f"   {name} RSS: start {rss[0]:.0f} MB, peak {max(rss):.0f} MB, end {rss[-1]:.0f} MB")
    print(f"   class set afterwards: {class_set} drawings (each session adds one)")
    for f in out["failed"]:
        print("   FAILED:", f)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sessions", type=int, default=20)
    ap.add_argument("--deadline", type=float, default=600.0, help="seconds for all sessions of one mode")
    ap.add_argument("--modes", default="2,1", help="numbers of app processes to measure, in order")
    ap.add_argument("--arrive-over", type=float, default=60.0,
                    help="seconds over which the sessions open their first page, evenly (default 60)")
    args = ap.parse_args()
    if not shutil.which("haproxy") and not os.access("/usr/sbin/haproxy", os.X_OK):
        raise SystemExit("HAProxy is not installed (apt-get install haproxy)")
    failed = False
    for n in [int(m) for m in args.modes.split(",")]:
        folder = Path(tempfile.mkdtemp(prefix="bench-school-"))
        launcher, described = start_school(n, folder)
        try:
            before = load()
            out = asyncio.run(one_mode(described["url"], described["apps"], args.sessions, args.deadline,
                                       args.arrive_over))
            after = load()
            import psycopg
            with psycopg.connect(described["db"]) as conn:
                class_set = conn.execute("SELECT count(*) FROM drawings").fetchone()[0]
        finally:
            stop_school(launcher)
            shutil.rmtree(folder, ignore_errors=True)
        report(n, out, class_set, before, after)
        failed |= bool(out["failed"]) or class_set != args.sessions
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
