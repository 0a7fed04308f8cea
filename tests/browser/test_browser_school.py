"""Issue 26 in a real browser: a school's server, all real, started by its own launcher
(scripts/school_server.py): two app processes, HAProxy in front of them and a PostgreSQL server.

- Two students kept on two different processes (the proxy's cookie names each one's process) add
  their drawings to one class set, and each sees the other's on the Class page.
- A student trains; the process serving them is killed (SIGKILL, as a crash or the OOM killer
  would); the page reconnects through the proxy to the other process, which offers the run back
  ("Welcome back!") from the database, and Restore brings it back.

The kill test stops one of the two processes, so it comes last in this module.
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time

import pytest

pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.browser
from playwright.sync_api import expect  # noqa: E402

from browser_utils import ROOT, WAIT, button, key, no_exception, open_page, wait_for_app, wait_visible  # noqa: E402
from test_browser_class import add_to_class_set  # noqa: E402

sys.path.insert(0, str(ROOT / "scripts"))
from school_server import free_port  # noqa: E402

START_TIMEOUT = 240       # seconds: PostgreSQL, two Streamlit servers and the proxy on a busy 2-core machine


@pytest.fixture(scope="module")
def school(tmp_path_factory):
    """The launcher's school server on free ports: (proxy URL, its description: apps with pids, cookie)."""
    import pg_server
    if not (shutil.which("haproxy") or os.access("/usr/sbin/haproxy", os.X_OK)):
        pytest.skip("HAProxy is not installed (apt-get install haproxy; .ci/run does)")
    reason = pg_server.missing_reason()
    if reason:
        pytest.skip(reason)
    folder = tmp_path_factory.mktemp("school")
    state = folder / "school.json"
    first = free_port()
    while any(_port_taken(first + i) for i in range(2)):
        first = free_port()
    env = dict(os.environ, DIGITS_CACHE_DIR=str(folder / "cache"))
    env.pop("MNIST_DIR", None)                  # the built-in sample, as in the other browser tests
    env.pop("DIGITS_DB", None)                  # the launcher's own PostgreSQL
    log = open(ROOT / "screenshots-tmp" / "school-launcher.log", "w+b") if (ROOT / "screenshots-tmp").is_dir() \
        else open(folder / "launcher.log", "w+b")
    launcher = subprocess.Popen(
        [sys.executable, "scripts/school_server.py", "start", "--apps", "2", "--port", str(free_port()),
         "--address", "127.0.0.1", "--first-app-port", str(first), "--state", str(state),
         "--logs", str(folder / "logs")],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not state.exists():
            if launcher.poll() is not None or time.monotonic() > deadline:
                log.seek(0)
                pytest.fail(f"the school server did not start:\n{log.read().decode(errors='replace')}")
            time.sleep(0.2)                     # polling the launcher's "ready" file
        described = json.loads(state.read_text())
        yield described["url"], described
    finally:
        os.killpg(launcher.pid, signal.SIGTERM)     # the launcher stops its apps, the proxy and PostgreSQL
        launcher.wait(timeout=120)
        log.close()


def _port_taken(port):
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def on_process(page, url, name):
    """Keep this browser on the app process `name` (the proxy's cookie, as the proxy itself sets it)."""
    page.context.add_cookies([{"name": "DIGITS_SERVER", "value": name, "url": url}])


def serving(page, url):
    """The app process the proxy keeps this browser on (its cookie)."""
    return {c["name"]: c["value"] for c in page.context.cookies(url)}.get("DIGITS_SERVER")


def alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False


def kept_in_the_database(page, url, db, timeout=WAIT / 1000):
    """Wait until the database holds what this browser left (ui/keep.py writes it at the end of the
    page's next full run, after a fragment saw the run finish)."""
    import hashlib

    import psycopg
    browser = hashlib.sha256({c["name"]: c["value"] for c in page.context.cookies(url)}["digits_browser_key"]
                             .encode()).hexdigest()
    deadline = time.monotonic() + timeout
    with psycopg.connect(db) as conn:
        while not conn.execute("SELECT 1 FROM kept WHERE browser = %s", (browser,)).fetchone():
            assert time.monotonic() < deadline, "the finished run was not kept in the database"
            conn.rollback()
            time.sleep(0.1)                 # polling the database for the page's write


def test_two_students_on_two_processes_share_one_class_set(page, other_page, school):
    url, described = school
    assert all(alive(a["pid"]) for a in described["apps"])
    on_process(page, url, "app1")
    on_process(other_page, url, "app2")
    add_to_class_set(page, url, "7", "7", "Ada26")
    add_to_class_set(other_page, url, "small 7", "7", "Bo26")
    assert (serving(page, url), serving(other_page, url)) == ("app1", "app2")
    for browser_page in (page, other_page):
        open_page(browser_page, f"{url}/class")
        seven = key(browser_page, "class_gallery_digit").get_by_role("radio", name="7", exact=True)
        if seven.get_attribute("aria-checked") != "true":
            seven.click()
            expect(seven).to_have_attribute("aria-checked", "true", timeout=WAIT)
            wait_for_app(browser_page)
        for nickname in ("Ada26", "Bo26"):
            wait_visible(browser_page, browser_page.locator(f'img[alt^="A 7 drawn by {nickname} (drawing "]'))
    assert (serving(page, url), serving(other_page, url)) == ("app1", "app2")


def test_a_killed_process_s_student_gets_the_run_back_from_the_other(page, school):
    url, described = school
    pids = {a["name"]: a["pid"] for a in described["apps"]}
    assert all(alive(pid) for pid in pids.values())
    on_process(page, url, "app1")
    open_page(page, f"{url}/train?kind=cnn&filters=4&epochs=1")
    button(page, "train_start").click()
    wait_visible(page, page.get_by_text("Run finished:"))
    wait_for_app(page)
    kept_in_the_database(page, url, described["db"])      # what the page keeps is written: now the crash
    assert serving(page, url) == "app1"

    os.kill(pids["app1"], signal.SIGKILL)     # the process serving this student dies mid-lesson
    offer = page.locator("[data-testid=stSidebar]").get_by_text("Welcome back!")
    wait_visible(page, offer)                 # the page reconnected, to the other process
    assert serving(page, url) == "app2" and not alive(pids["app1"])
    expect(page.locator("[data-testid=stSidebar]")).to_contain_text("1 run and your model")
    button(page, "keep_restore").click()
    expect(offer).to_have_count(0, timeout=WAIT)
    wait_for_app(page)
    expect(page.get_by_text("Runs this session: 1.")).to_be_visible(timeout=WAIT)
    expect(key(page, "train_download")).to_be_visible()      # the model is back: it can be saved
    no_exception(page)
