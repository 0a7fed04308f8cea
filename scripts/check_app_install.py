"""Does the app run with requirements.txt alone? For a virtual environment that installed only
requirements.txt (no pytest, no playwright, no torch), as a teacher does:

    python -m venv /tmp/app-only && /tmp/app-only/bin/pip install -r requirements.txt
    /tmp/app-only/bin/python scripts/check_app_install.py

1. every page of the menu (ui/pages.PAGES) runs through Streamlit's own AppTest (part of streamlit,
   no pytest needed) with no exception, and the PyTorch page says how to add PyTorch;
2. `streamlit run dashboard.py` starts headless and answers /_stcore/health and the app's root page.
Prints one line per check and exits 1 on the first failure. .ci/run runs it in such an environment.
"""
import importlib.util
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
TEST_ONLY = ["pytest", "playwright", "axe_playwright_python", "nbclient", "ipykernel", "torch"]


def fail(msg):
    print("FAILED:", msg)
    sys.exit(1)


def check_pages():
    from streamlit.testing.v1 import AppTest
    from ui.pages import PAGES
    for p in PAGES:
        at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=120)
        at.run()
        if p.path != PAGES[0].path:
            at.switch_page(p.path)
            at.run()
        if at.exception:
            fail(f"{p.title}: {at.exception[0].value}")
        if not at.title or p.heading not in at.title[0].value:
            fail(f"{p.title}: no title {p.heading!r}")
        shown = " ".join(str(e.value) for kind in (at.markdown, at.code, at.info, at.caption) for e in kind)
        if p.name == "pytorch" and "requirements-torch.txt" not in shown:
            fail("the PyTorch page does not say how to add PyTorch")
        print(f"ok  page {p.title}")


def check_server():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = dict(os.environ, STREAMLIT_SERVER_HEADLESS="true", STREAMLIT_BROWSER_GATHER_USAGE_STATS="false")
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", str(ROOT / "dashboard.py"),
                             "--server.port", str(port), "--server.address", "127.0.0.1"],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        end = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=5) as r:
                    if r.read() == b"ok":
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > end:
                fail("streamlit run dashboard.py did not answer /_stcore/health: " + proc.stderr.read().decode()[-500:])
            time.sleep(0.2)
        print("ok  streamlit run dashboard.py answers /_stcore/health")
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as r:
            if r.status != 200 or b"<div id=\"root\">" not in r.read():
                fail("the app's root page is not Streamlit's page")
        print("ok  the root page is served")
    finally:
        proc.terminate()
        proc.wait(10)


if __name__ == "__main__":
    # the Class page opens the class store: a throwaway one, not the user's
    os.environ.setdefault("DIGITS_DB", str(Path(tempfile.mkdtemp()) / "class.sqlite3"))
    present = [m for m in TEST_ONLY if importlib.util.find_spec(m)]
    print("test-only packages installed here (none expected):", ", ".join(present) or "none")
    check_pages()
    check_server()
    print("the app runs with requirements.txt alone")
