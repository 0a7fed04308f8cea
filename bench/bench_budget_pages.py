"""Issue 21, items 2 and 3, measured on a real server driven by chromium:

  upload   how long the Train page takes to answer after a model file at the model loader's limit of
           arithmetic per image is uploaded (tests/test_budget_pages.py limit_model), until "Loaded" is on
           the page and the script has finished its run;
  pytorch  the server's resident memory (VmRSS now, VmHWM its peak, /proc/<pid>/status) before and after
           the PyTorch page's comparison of a CNN saved with batch size 3,000 (2 mini-batches).

    python bench/bench_budget_pages.py [--app DIR] [--only upload|pytorch]

--app: the project folder whose dashboard.py is served (default: this one), e.g. an export of another
branch (`git archive main | tar -x -C /tmp/main`) to compare before and after. The built-in sample data.
Say the machine's load (uptime) next to the figures: this is wall time on a shared machine.
"""
import argparse
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "browser"))

from browser_utils import CHROMIUM, CHROMIUM_ARGS  # noqa: E402


def serve(app):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if k != "MNIST_DIR"}
    env.update(DIGITS_CACHE_DIR=tempfile.mkdtemp(prefix="bench-cache-"), OPENBLAS_NUM_THREADS="1")
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "dashboard.py", "--server.port", str(port),
                             "--server.headless", "true", "--server.fileWatcherType", "none",
                             "--browser.gatherUsageStats", "false"], cwd=app, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            if urllib.request.urlopen(url + "/_stcore/health", timeout=2).read() == b"ok":
                return proc, url
        except OSError:
            time.sleep(0.2)
    raise SystemExit("the server did not start")


def memory_mb(pid, field):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024


def upload(page, url, path):
    page.goto(f"{url}/train")
    page.locator(".st-key-train_upload input[type=file]").wait_for(state="attached", timeout=120_000)
    started = time.perf_counter()
    page.locator(".st-key-train_upload input[type=file]").set_input_files(str(path))
    page.get_by_text(re.compile(r"Loaded " + re.escape(path.name))).wait_for(timeout=1_800_000)
    page.wait_for_function("document.querySelector('[data-testid=stApp]').getAttribute("
                           "'data-test-script-state') === 'notRunning'", timeout=1_800_000)
    return time.perf_counter() - started


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--app", default=str(ROOT))
    ap.add_argument("--only", choices=["upload", "pytorch"])
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    from engine.convnet import ConvNet, cnn_spec
    from engine.modelfile import model_to_bytes
    from engine.trainer import Settings
    folder = Path(tempfile.mkdtemp(prefix="bench-models-"))
    limit = folder / "limit.npz"
    sys.path.insert(0, str(ROOT / "tests"))
    from test_budget_pages import limit_model          # as many filters as the loader's limit allows
    limit.write_bytes(model_to_bytes(limit_model(), {}))
    spec = cnn_spec(filters=(32, 32), k=5, p=2, pool=2)
    cnn = folder / "cnn3000.npz"
    cnn.write_bytes(model_to_bytes(ConvNet(spec), Settings(layers=spec, batch_size=3000, optimizer="adam",
                                                           lr=0.001).as_dict()))
    print("load:", open("/proc/loadavg").read().split()[:3])
    proc, url = serve(args.app)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            if args.only in (None, "upload"):
                page = browser.new_context().new_page()
                print(f"upload of {limit.name}: the Train page answered after {upload(page, url, limit):.1f} s")
                page.context.close()
            if args.only in (None, "pytorch"):
                page = browser.new_context().new_page()
                upload(page, url, cnn)
                page.locator("[data-testid=stSidebarNav]").get_by_role("link", name=re.compile("PyTorch")).click()
                box = page.locator(".st-key-pytorch_batches input")
                box.wait_for(timeout=120_000)
                box.fill("2")
                box.press("Enter")
                time.sleep(1)
                rss, hwm = memory_mb(proc.pid, "VmRSS"), memory_mb(proc.pid, "VmHWM")
                started = time.perf_counter()
                page.locator(".st-key-pytorch_run button").click()
                page.get_by_text(re.compile("Same network: the largest|Above 1e-4, more")).wait_for(timeout=3_600_000)
                print(f"PyTorch comparison of {cnn.name} (2 mini-batches of 3,000): "
                      f"{time.perf_counter() - started:.1f} s; server memory before: VmRSS {rss:.0f} MB, peak "
                      f"{hwm:.0f} MB; after: VmRSS {memory_mb(proc.pid, 'VmRSS'):.0f} MB, "
                      f"peak {memory_mb(proc.pid, 'VmHWM'):.0f} MB")
            browser.close()
    finally:
        os.killpg(proc.pid, 15)
        proc.wait(10)
    print("load:", open("/proc/loadavg").read().split()[:3])


if __name__ == "__main__":
    main()
