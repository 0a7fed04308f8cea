"""Real-browser tests: the app in a Streamlit server, driven by Debian's chromium.

One server for the whole session (built-in sample data, empty cache folder),
one chromium, and a fresh browser context (= a fresh Streamlit session) per
test. Deselect with `-m "not browser"`. Skipped when /usr/bin/chromium or
Playwright is missing.

Never sleeps a fixed time: every wait is for the element a test reads.

Refresh the screenshots of docs/screenshots.md (docs/screenshots/) with
    UPDATE_SCREENSHOTS=1 python -m pytest tests/browser -q
"""
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import pytest

from browser_utils import CHROMIUM, CHROMIUM_ARGS, ROOT, SCREENSHOTS, SERVER_PIDS, VIEWPORT

sys.path.insert(0, str(ROOT / "scripts"))
from school_server import free_port, healthy  # noqa: E402  (the launcher's own: one port finder, one health check)

SCRATCH = ROOT / "screenshots-tmp"      # git-ignored
FAILURES = SCRATCH / "failures"         # what the browser showed when a test failed

SERVER_START_TIMEOUT = 90          # seconds until /_stcore/health answers "ok"


def pytest_configure(config):
    config.addinivalue_line("markers", "browser: drives the running app in a real chromium "
                                       "(deselect with -m 'not browser')")


def _missing():
    """Why the browser tests cannot run here, or ''."""
    if not os.access(CHROMIUM, os.X_OK):
        return f"{CHROMIUM} not found: install Debian's chromium (apt-get install chromium) to run the browser tests"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright (python) is not installed: pip install -r requirements-dev.txt"
    return ""


@pytest.fixture(scope="session")
def app_url():
    """Start `streamlit run dashboard.py` on a free local port; yield its URL; kill it after."""
    with serve_app() as url:
        yield url


@pytest.fixture(scope="session")
def start_app():
    """start_app(log_name, NAME=value, ..., address=...) starts one more server with those
    environment variables (a module's own, e.g. with a teacher passcode), listening on
    `address` (default 127.0.0.1) -> its URL; stopped at the end."""
    with contextlib.ExitStack() as servers:
        yield lambda log_name, **env: servers.enter_context(serve_app(log_name, **env))


@contextlib.contextmanager
def serve_app(log_name="server.log", address="127.0.0.1", **extra_env):
    """The app in a Streamlit server of its own (an empty cache folder, the built-in sample),
    listening on `address` (this machine's loopback unless told otherwise)."""
    reason = _missing()
    if reason:
        pytest.skip(reason)
    cache = tempfile.mkdtemp(prefix="digits-cache-")
    env = dict(os.environ)
    env.pop("MNIST_DIR", None)                   # built-in sample, like a fresh user's machine
    env["DIGITS_CACHE_DIR"] = cache              # and no cached full MNIST either
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra_env)
    port = free_port()
    url = f"http://{address}:{port}"
    SCRATCH.mkdir(parents=True, exist_ok=True)
    log = open(SCRATCH / log_name, "w+b")         # kept after the run, for a failed test's story
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "dashboard.py", "--server.port", str(port),
         "--server.address", address, "--server.headless", "true", "--server.fileWatcherType", "none",
         "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while not healthy(url):
            if proc.poll() is not None:
                log.seek(0)
                pytest.fail(f"streamlit exited with code {proc.returncode}:\n{log.read().decode(errors='replace')}")
            if time.monotonic() > deadline:
                log.seek(0)
                pytest.fail(f"streamlit did not answer {url}/_stcore/health within {SERVER_START_TIMEOUT} s:\n"
                            f"{log.read().decode(errors='replace')}")
            time.sleep(0.2)                     # polling interval, not a wait for the app
        SERVER_PIDS[url] = proc.pid             # (tests that read the server's CPU time)
        yield url
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=10)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        log.close()
        shutil.rmtree(cache, ignore_errors=True)


@pytest.fixture(scope="session")
def playwright_instance():
    reason = _missing()
    if reason:
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright_instance):
    b = playwright_instance.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
    yield b
    b.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.stash[_FAILED] = report.failed
    return report


_FAILED = pytest.StashKey[bool]()


def _keep_evidence(request, page):
    """After a failed test, keep a screenshot of what the browser showed."""
    if not request.node.stash.get(_FAILED, False):
        return
    FAILURES.mkdir(parents=True, exist_ok=True)
    path = FAILURES / f"{request.node.name}.png"
    try:
        page.screenshot(path=str(path), full_page=True, timeout=10_000)
        print(f"\nscreenshot of the failed test: {path}")
    except Exception as err:           # the browser may be the thing that broke
        print(f"\nno screenshot of the failed test: {err}")


def _new_page(browser, request, **options):
    ctx = browser.new_context(viewport=VIEWPORT, device_scale_factor=1, **options)
    ctx.set_default_timeout(60_000)
    page = ctx.new_page()
    # Uncaught JavaScript errors (a chart spec Vega cannot draw, say) fail the test:
    # Streamlit only shows them in the browser's console.
    errors = []
    page.on("pageerror", lambda err: errors.append(str(err)))
    yield page
    _keep_evidence(request, page)
    ctx.close()
    if errors and not request.node.stash.get(_FAILED, False):
        pytest.fail("JavaScript errors in the page:\n" + "\n".join(errors[:5]), pytrace=False)


@pytest.fixture
def page(browser, request):
    """A fresh browser context (so a fresh Streamlit session) and its page."""
    yield from _new_page(browser, request)


@pytest.fixture
def touch_page(browser, request):
    """The same, on a touch screen (has_touch), for finger drawing."""
    yield from _new_page(browser, request, has_touch=True)


@pytest.fixture(scope="session")
def screenshot_dir():
    """Where the page screenshots go: docs/screenshots/ (docs/screenshots.md's pictures) when
    UPDATE_SCREENSHOTS=1, else screenshots-tmp/pages/, so that a normal test run
    does not rewrite files that git tracks."""
    folder = SCREENSHOTS if os.environ.get("UPDATE_SCREENSHOTS") == "1" else SCRATCH / "pages"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def other_page(browser, request):
    """A second, separate browser (its own context: no cookies or storage shared)."""
    yield from _new_page(browser, request)
