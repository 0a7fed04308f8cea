"""Issue 26: the school server's launcher (scripts/school_server.py). Its HAProxy configuration is one
HAProxy accepts, with the cookie, health checks and websocket timeout the docs promise; and a launcher
killed without any chance to clean up (SIGKILL) leaves no process behind: the apps, the proxy and
PostgreSQL all stop. (The school server at work, in a browser: tests/browser/test_browser_school.py.)"""
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
import school_server  # noqa: E402

HAPROXY = shutil.which("haproxy") or ("/usr/sbin/haproxy" if os.access("/usr/sbin/haproxy", os.X_OK) else None)
needs_haproxy = pytest.mark.skipif(HAPROXY is None, reason="HAProxy is not installed (apt-get install haproxy)")


@needs_haproxy
def test_the_proxy_configuration_is_valid_and_says_what_the_docs_say(tmp_path):
    config = school_server.haproxy_config(["127.0.0.1:8601", "10.0.0.12:8601"], "*:8500")
    path = tmp_path / "haproxy.cfg"
    path.write_text(config)
    checked = subprocess.run([HAPROXY, "-c", "-f", path], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    for line in ("cookie DIGITS_SERVER insert indirect nocache", "option httpchk GET /_stcore/health",
                 "http-check expect string ok", "option redispatch", "timeout tunnel 1h",
                 "http-request set-header X-Forwarded-For %[src]",
                 "server app1 127.0.0.1:8601 cookie app1", "server app2 10.0.0.12:8601 cookie app2"):
        assert line in config


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (dead, not yet reaped by its new parent) counts as gone.
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"


@needs_haproxy
def test_a_killed_launcher_leaves_no_process_behind(tmp_path):
    import pg_server
    if pg_server.missing_reason():
        pytest.skip(pg_server.missing_reason())
    state = tmp_path / "school.json"
    env = dict(os.environ, DIGITS_CACHE_DIR=str(tmp_path / "cache"))
    env.pop("DIGITS_DB", None)
    launcher = subprocess.Popen([sys.executable, "scripts/school_server.py", "start", "--apps", "1",
                                 "--port", str(school_server.free_port()), "--address", "127.0.0.1",
                                 "--first-app-port", str(school_server.free_port()), "--state", str(state),
                                 "--logs", str(tmp_path / "logs")],
                                cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    children, described = {}, {}
    try:
        deadline = time.monotonic() + 180
        while not state.exists():
            assert launcher.poll() is None and time.monotonic() < deadline, "the launcher did not start"
            time.sleep(0.2)                   # polling the launcher's "ready" file
        described = json.loads(state.read_text())
        children = described["children"]
        assert set(children) == {"postgresql", "app1", "haproxy"} and all(map(alive, children.values()))
        launcher.kill()                       # SIGKILL: no cleanup code of the launcher runs
        launcher.wait()
        deadline = time.monotonic() + 60
        while any(map(alive, children.values())):
            left = [name for name, pid in children.items() if alive(pid)]
            assert time.monotonic() < deadline, f"left behind: {left}"
            time.sleep(0.1)                   # polling the children's exit
    finally:
        for pid in children.values():         # (only if the test failed: what it left)
            if alive(pid):
                os.killpg(pid, signal.SIGKILL)
        if launcher.poll() is None:
            launcher.kill()
        shutil.rmtree(described.get("run", tmp_path / "none"), ignore_errors=True)   # its temporary folder
