"""A school's server on one machine, with one command: N app processes (streamlit run dashboard.py),
HAProxy in front of them (one address, each browser kept on its process by a cookie, websockets,
health checks on /_stcore/health) and, for a trial, a throwaway local PostgreSQL that they share
(the class set, the leaderboard, what each browser left, the passcode's wrong tries).

    python scripts/school_server.py start                 # 2 app processes, the proxy on :8500, a trial PostgreSQL
    python scripts/school_server.py start --apps 3 --db postgresql://digits:PW@dbhost/digits --port 80
    python scripts/school_server.py stop                  # from another terminal (or Ctrl-C in this one)
    python scripts/school_server.py config --app 10.0.0.11:8601 --app 10.0.0.12:8601   # HAProxy's config alone

`start` runs in the foreground until Ctrl-C, `stop` or SIGTERM, then stops everything it started (the
apps first, then the proxy, then PostgreSQL) and waits for them. Every child is also told by the kernel
to stop if this launcher dies without cleaning up (PR_SET_PDEATHSIG), so none outlives it. An app
process that dies is reported and not restarted: the proxy sends its browsers to the others (for a
process manager that restarts them, see docs/school_server.md). More machines: docs/school_server.md.

Why HAProxy (Debian's `haproxy` package) and not nginx: open-source nginx has no cookie stickiness
(`sticky cookie` is nginx Plus only; ip_hash puts a whole school behind one NAT address on one process)
and no active health checks; HAProxy has both built in (`cookie ... insert`, `option httpchk`),
re-dispatches a browser whose process is down to another one (`option redispatch`), and passes
websockets through in HTTP mode with no extra configuration.
"""
import argparse
import ctypes
import json
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from glob import glob
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT = 120          # seconds for a process to answer its health check
STOP_TIMEOUT = 20            # seconds a process is given to stop before it is killed
COOKIE = "DIGITS_SERVER"     # HAProxy's cookie: which app process this browser's session lives in

HAPROXY_CONFIG = """\
# HAProxy in front of the app processes of a school's server (scripts/school_server.py wrote this).
global
    maxconn 4096

defaults
    mode http
    timeout connect 5s
    timeout client 60s
    timeout server 60s
    timeout http-request 15s
    # A browser's websocket stays open all lesson: once upgraded, a connection idles up to an hour.
    timeout tunnel 1h
    timeout client-fin 10s
    # A browser whose process does not answer is sent to another one (its cookie is then renewed).
    retries 2
    option redispatch

frontend school
    bind {bind}
    default_backend apps

backend apps
    # A new browser goes to the process with the fewest open connections, then stays there:
    # its Streamlit session lives in that process (cookie {cookie}, set by the proxy).
    balance leastconn
    cookie {cookie} insert indirect nocache httponly
    # The apps count limits per client address: tell them the browser's address, never one it claims.
    http-request set-header X-Forwarded-For %[src]
    option httpchk GET /_stcore/health
    http-check expect string ok
    default-server check inter 2s fall 2 rise 2
{servers}
"""


def haproxy_config(apps, bind):
    """HAProxy's configuration for app processes at `apps` (host:port each), listening on `bind`."""
    servers = "\n".join(f"    server app{i} {where} cookie app{i}" for i, where in enumerate(apps, 1))
    return HAPROXY_CONFIG.format(bind=bind, cookie=COOKIE, servers=servers)


# ------------------------------------------------------------------ children that die with the launcher

_libc = ctypes.CDLL(None, use_errno=True)
PR_SET_PDEATHSIG = 1


def _child_setup(user=None, death_signal=signal.SIGTERM):
    """In the child, before exec: its own process group (Ctrl-C reaches the launcher only, which stops
    the children in order), the user to run as, and a signal when the launcher dies (set after the
    user change, which would clear it)."""
    def setup():
        os.setpgrp()
        if user is not None:
            os.setgid(user.pw_gid)
            os.setuid(user.pw_uid)
        _libc.prctl(PR_SET_PDEATHSIG, int(death_signal))
    return setup


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def healthy(url):
    try:
        with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as r:
            return r.status == 200 and r.read().strip() == b"ok"
    except (urllib.error.URLError, OSError):
        return False


class Child:
    """One process the launcher started: name, Popen, log file."""

    def __init__(self, name, cmd, log, stop_signal=signal.SIGTERM, **popen):
        self.name, self.log_path, self.stop_signal = name, log, stop_signal
        self.log = open(log, "ab")
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     **popen)

    def alive(self):
        return self.proc.poll() is None

    def stop(self):
        if self.alive():
            try:
                os.killpg(self.proc.pid, self.stop_signal)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(STOP_TIMEOUT)
        self.log.close()

    def wait_until(self, ready, what):
        deadline = time.monotonic() + START_TIMEOUT
        while not ready():
            if not self.alive():
                raise SystemExit(f"{self.name} exited (code {self.proc.returncode}) before {what}: see {self.log_path}")
            if time.monotonic() > deadline:
                raise SystemExit(f"{self.name} did not {what} within {START_TIMEOUT} s: see {self.log_path}")
            time.sleep(0.2)          # polling a process that is starting


# ------------------------------------------------------------------ a trial PostgreSQL

def postgres_bin_dir():
    """The folder of Debian's initdb and postgres (the newest installed), or None."""
    found = sorted(glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[4]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def start_postgres(folder, port, logs):
    """A PostgreSQL server of its own in `folder` (made with initdb if empty) on 127.0.0.1:port, in the
    foreground as a Child; as root it runs as the `postgres` user (it refuses root). Returns (child, url)."""
    bins = postgres_bin_dir()
    if bins is None:
        raise SystemExit("PostgreSQL is not installed (Debian: apt-get install postgresql), or give --db URL")
    user = pwd.getpwnam("postgres") if os.geteuid() == 0 else None
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    if user is not None:
        os.chown(folder, user.pw_uid, user.pw_gid)
    data = folder / "data"
    if not (data / "PG_VERSION").exists():
        made = subprocess.run([bins / "initdb", "-D", data, "-A", "trust", "-U", "digits", "-E", "UTF8"],
                              capture_output=True, text=True, preexec_fn=_child_setup(user), cwd=folder, timeout=300)
        if made.returncode:
            raise SystemExit(f"initdb failed in {folder}: {made.stderr.strip()[-500:]}")
    # SIGINT: PostgreSQL's fast shutdown (SIGTERM would wait for every client to leave).
    child = Child("postgresql", [bins / "postgres", "-D", data, "-p", str(port), "-k", folder,
                                 "-c", "listen_addresses=127.0.0.1", "-c", "max_connections=300"],
                  logs / "postgresql.log", stop_signal=signal.SIGINT,
                  preexec_fn=_child_setup(user, signal.SIGINT), cwd=folder)
    url = f"postgresql://digits@127.0.0.1:{port}/postgres"

    def ready():
        import psycopg
        try:
            with psycopg.connect(url, connect_timeout=2):
                return True
        except psycopg.OperationalError:
            return False

    child.wait_until(ready, "accept connections")
    import psycopg
    with psycopg.connect(url, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = 'digits'").fetchone():
            conn.execute("CREATE DATABASE digits")
    return child, url.rsplit("/", 1)[0] + "/digits"


# ------------------------------------------------------------------ start, stop

def state_path(arg):
    if arg:
        return Path(arg)
    sys.path.insert(0, str(ROOT))
    from engine.data import default_cache_dir
    return default_cache_dir() / "school_server.json"


def start(args):
    haproxy = shutil.which("haproxy") or ("/usr/sbin/haproxy" if os.access("/usr/sbin/haproxy", os.X_OK) else None)
    if not args.no_proxy and haproxy is None:
        raise SystemExit("HAProxy is not installed (Debian: apt-get install haproxy)")
    state = state_path(args.state)
    old = None
    if state.exists():
        try:
            old = json.loads(state.read_text())
            os.kill(old["launcher"], 0)
            raise SystemExit(f"a school server is already running (launcher {old['launcher']}; {state}): "
                             f"`python scripts/school_server.py stop` first")
        except (ProcessLookupError, ValueError, KeyError, TypeError):
            # Left by a launcher that was killed: its children stopped with it; its files go now.
            made = Path(old.get("run", "")) if isinstance(old, dict) else None
            if made and made.parent == Path(tempfile.gettempdir()) and made.name.startswith("digits-school-"):
                shutil.rmtree(made, ignore_errors=True)
    run = Path(tempfile.mkdtemp(prefix="digits-school-"))
    run.chmod(0o711)        # the trial PostgreSQL (another user, as root) reaches its folder inside
    logs = Path(args.logs) if args.logs else run
    logs.mkdir(parents=True, exist_ok=True)
    children = []
    stopping = []

    def stop_all(*_):
        if stopping:
            return
        stopping.append(True)
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):     # a second Ctrl-C: the cleanup goes on
            signal.signal(signum, signal.SIG_IGN)
        for child in reversed(children):        # the apps first, then the proxy, then PostgreSQL
            print(f"stopping {child.name}", flush=True)
            child.stop()
        state.unlink(missing_ok=True)
        if not args.keep_files:
            shutil.rmtree(run, ignore_errors=True)

    def on_signal(signum, _frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    try:
        db = args.db
        if not db:
            child, db = start_postgres(args.pg_data or run / "postgresql", args.pg_port or free_port(), logs)
            children.insert(0, child)
            print(f"trial PostgreSQL: {db} (its data: {args.pg_data or 'removed when stopped'})", flush=True)
        env = dict(os.environ, DIGITS_DB=db, MALLOC_ARENA_MAX=os.environ.get("MALLOC_ARENA_MAX", "2"),
                   # One secret for every process: Streamlit signs its session and login cookies with it
                   # (a random one per process otherwise), so one process's cookie holds on the others.
                   STREAMLIT_SERVER_COOKIE_SECRET=os.environ.get("STREAMLIT_SERVER_COOKIE_SECRET")
                   or secrets.token_hex(32), PYTHONUNBUFFERED="1")
        if args.trusted_proxy:
            env["FORWARDED_ALLOW_IPS"] = args.trusted_proxy
        if args.apps and not env.get("DIGITS_MAX_TRAINING_RUNS"):
            # Each process has its own line of runs: together they train no more runs at once than
            # this machine has cores (more threads than cores only make every run slower).
            env["DIGITS_MAX_TRAINING_RUNS"] = str(max(1, (os.cpu_count() or 2) // args.apps))
        apps = []
        for i in range(args.apps):
            port = args.first_app_port + i
            name = f"app{i + 1}"
            children.append(Child(name, [sys.executable, "-m", "streamlit", "run", "dashboard.py",
                                         "--server.port", str(port), "--server.address", args.app_address,
                                         "--server.headless", "true", "--server.fileWatcherType", "none",
                                         "--browser.gatherUsageStats", "false"],
                                  logs / f"{name}.log", cwd=ROOT, env=env, preexec_fn=_child_setup()))
            apps.append({"name": name, "port": port, "pid": children[-1].proc.pid})
        for child, app in zip(children[-args.apps:] if args.apps else [], apps):
            child.wait_until(lambda a=app: healthy(f"http://127.0.0.1:{a['port']}"), "answer its health check")
            print(f"{child.name} ready on {args.app_address}:{app['port']} (pid {app['pid']})", flush=True)
        url = None
        if not args.no_proxy:
            backends = [f"127.0.0.1:{a['port']}" for a in apps] + list(args.remote)
            config = run / "haproxy.cfg"
            config.write_text(haproxy_config(backends, f"{args.address}:{args.port}"))
            subprocess.run([haproxy, "-c", "-q", "-f", config], check=True)
            children.append(Child("haproxy", [haproxy, "-db", "-f", config], logs / "haproxy.log",
                                  preexec_fn=_child_setup()))
            url = f"http://{'127.0.0.1' if args.address in ('', '0.0.0.0', '*') else args.address}:{args.port}"
            children[-1].wait_until(lambda: healthy(url), "answer through the proxy")
        state.parent.mkdir(parents=True, exist_ok=True)
        state.write_text(json.dumps({"launcher": os.getpid(), "url": url, "db": db, "apps": apps,
                                     "children": {c.name: c.proc.pid for c in children}, "run": str(run),
                                     "logs": str(logs), "cookie": COOKIE}))
        print(f"School server ready: {url or 'no proxy'} ({len(apps)} app processes"
              f"{' + ' + str(len(args.remote)) + ' elsewhere' if args.remote else ''}; logs in {logs}). "
              f"Ctrl-C or `python scripts/school_server.py stop` stops it.", flush=True)
        reported = set()
        while True:
            for child in children:
                if not child.alive() and child.name not in reported:
                    reported.add(child.name)
                    print(f"{child.name} exited (code {child.proc.returncode}); see {child.log_path}", flush=True)
            time.sleep(1)            # the launcher only watches; each child works on its own
    except KeyboardInterrupt:
        pass
    finally:
        stop_all()


def stop(args):
    state = state_path(args.state)
    try:
        launcher = json.loads(state.read_text())["launcher"]
    except FileNotFoundError:
        raise SystemExit(f"no school server is running ({state} not found)") from None
    try:
        os.kill(launcher, signal.SIGTERM)
    except ProcessLookupError:
        state.unlink(missing_ok=True)
        raise SystemExit("the school server's launcher was gone already") from None
    deadline = time.monotonic() + 3 * STOP_TIMEOUT
    while time.monotonic() < deadline:
        try:
            os.kill(launcher, 0)
        except ProcessLookupError:
            print("stopped")
            return
        time.sleep(0.2)              # polling the launcher's exit
    raise SystemExit(f"the launcher {launcher} did not stop within {3 * STOP_TIMEOUT} s")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("start", help="start the app processes, the proxy and (without --db) a trial PostgreSQL")
    s.add_argument("--apps", type=int, default=2, help="app processes on this machine (default 2)")
    s.add_argument("--port", type=int, default=8500, help="the proxy's port: the school's address (default 8500)")
    s.add_argument("--address", default="0.0.0.0", help="the proxy listens on (default: every interface)")
    s.add_argument("--first-app-port", type=int, default=8601, help="app i listens on this port + i - 1 (8601)")
    s.add_argument("--app-address", default="127.0.0.1",
                   help="the apps listen on (default this machine only; 0.0.0.0 for a proxy on another machine)")
    s.add_argument("--remote", action="append", default=[], metavar="HOST:PORT",
                   help="an app process on another machine, also behind this proxy (repeat for each)")
    s.add_argument("--no-proxy", action="store_true", help="app processes only (for a machine behind another's proxy)")
    s.add_argument("--trusted-proxy", metavar="ADDRESS",
                   help="the proxy's address when it is on another machine (FORWARDED_ALLOW_IPS)")
    s.add_argument("--db", help="the shared PostgreSQL database (postgresql://...); without: a trial one here")
    s.add_argument("--pg-data", help="the trial PostgreSQL's folder, kept after it stops (default: removed)")
    s.add_argument("--pg-port", type=int, help="the trial PostgreSQL's port (default: a free one)")
    s.add_argument("--logs", help="folder for the processes' logs (default: a temporary folder)")
    s.add_argument("--state", help="where the running server is described (default: in the app's data folder)")
    s.add_argument("--keep-files", action="store_true", help="keep the temporary folder (config, logs) after stopping")
    t = sub.add_parser("stop", help="stop the school server that `start` runs")
    t.add_argument("--state")
    c = sub.add_parser("config", help="print HAProxy's configuration for app processes elsewhere")
    c.add_argument("--app", action="append", required=True, metavar="HOST:PORT")
    c.add_argument("--bind", default="*:80")
    args = p.parse_args(argv)
    if args.command == "start":
        if args.apps < 0 or (args.apps == 0 and not args.remote):
            p.error("--apps must be at least 1 (or 0 with --remote)")
        start(args)
    elif args.command == "stop":
        stop(args)
    else:
        print(haproxy_config(args.app, args.bind), end="")


if __name__ == "__main__":
    main()
