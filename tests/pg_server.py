"""A throwaway PostgreSQL server for tests and benches: initdb into a temporary folder,
pg_ctl on a free port of 127.0.0.1, removed afterwards. Uses Debian's `postgresql` package
(.ci/run installs it); PostgreSQL refuses to run as root, so as root it runs as the
`postgres` user the package makes.
"""
import contextlib
import glob
import itertools
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
from school_server import free_port  # noqa: E402  (the school launcher's own port finder)


def bin_dir():
    """The folder of initdb and pg_ctl (the newest installed), or None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[4]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def missing_reason():
    """Why PostgreSQL tests cannot run here, or None when they can."""
    if bin_dir() is None:
        return "PostgreSQL's initdb/pg_ctl are not installed (apt-get install postgresql; .ci/run does)"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root and there is no 'postgres' user to run the server as"
    return None


_servers = {}      # url -> (start it again, its postmaster.pid file): for the tests that stop a server


def kill(url):
    """SIGKILL the server at `url` (a server of postgres()) and all its processes, as a crash or
    the OOM killer would: no shutdown, no checkpoint. start(url) brings it back (crash recovery)."""
    pid = int(Path(_servers[url][1]).read_text().splitlines()[0])
    os.killpg(pid, signal.SIGKILL)       # pg_ctl starts the postmaster in its own session: the group is the server
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            os.killpg(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)                 # polling: the kernel reaps the processes
    raise RuntimeError(f"the PostgreSQL server {pid} outlived SIGKILL")


def start(url):
    """Start a server of postgres() again after kill(url) (on the same port and data)."""
    _servers[url][0]()


@contextlib.contextmanager
def postgres(fsync=False):
    """Start a server; yields its URL (user `digits`, database `postgres`, no password,
    127.0.0.1 only). fsync=False for tests (a killed *client* loses nothing either way)."""
    bins = bin_dir()
    folder = tempfile.mkdtemp(prefix="digits-pg-")
    prefix = []
    if os.geteuid() == 0:
        user = pwd.getpwnam("postgres")
        os.chown(folder, user.pw_uid, user.pw_gid)
        prefix = ["runuser", "-u", "postgres", "--"]
    data, log, port = f"{folder}/data", f"{folder}/log", free_port()
    run = lambda *cmd: subprocess.run([*prefix, *map(str, cmd)], check=True, capture_output=True,  # noqa: E731
                                      text=True, timeout=120, cwd=folder)
    try:
        run(bins / "initdb", "-D", data, "-A", "trust", "-U", "digits", "-E", "UTF8", "--no-sync")
        opts = (f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c max_connections=200 "
                f"-c fsync={'on' if fsync else 'off'}")
        start = [bins / "pg_ctl", "-D", data, "-l", log, "-o", opts, "-w", "-t", "60", "start"]
        run(*start)
        url = f"postgresql://digits@127.0.0.1:{port}/postgres"
        _servers[url] = (lambda: run(*start), f"{data}/postmaster.pid")
        try:
            yield url
        finally:
            _servers.pop(url, None)
            subprocess.run([*prefix, str(bins / "pg_ctl"), "-D", data, "-m", "immediate", "-w", "stop"],
                           capture_output=True, timeout=60, cwd=folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


_numbers = itertools.count()


def new_database(url):
    """A fresh, empty database on the server at `url`; returns its URL."""
    import psycopg
    name = f"t{os.getpid()}_{next(_numbers)}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return url.rsplit("/", 1)[0] + "/" + name
