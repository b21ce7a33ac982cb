"""What the reliability tests share: a throw-away PostgreSQL cluster, gunicorn on it, the forms of a page,
a signed-in desk session, and gunicorn's workers (issue 14)."""

from __future__ import annotations

import contextlib
import glob
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from html.parser import HTMLParser
from pathlib import Path

import pytest

requests = pytest.importorskip("requests")
psycopg = pytest.importorskip("psycopg")

ROOT = Path(__file__).resolve().parents[2]
WORKERS = 3
PASSWORD = "uji-beban-kata-sandi-2026"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def as_postgres(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


class Cluster:
    """A throw-away PostgreSQL cluster: initdb into a temp dir, pg_ctl on a free port."""

    def __init__(self):
        self.bin = Path(sorted(glob.glob("/usr/lib/postgresql/*/bin"))[-1])
        self.dir = Path(tempfile.mkdtemp(prefix="lpo-pg-"))
        self.data, self.port = self.dir / "data", free_port()
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
        subprocess.run(as_postgres([str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust",
                                    "--no-sync", "-E", "UTF8"]), check=True, capture_output=True)

    def ctl(self, *args: str) -> None:
        subprocess.run(as_postgres([str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.dir / "log"),
                                    "-o", f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off "
                                          "-c max_connections=60", *args]), check=True, capture_output=True)

    def start(self) -> None:
        self.ctl("-w", "start")

    def stop(self) -> None:
        self.ctl("-w", "-m", "immediate", "stop")

    def url(self, db: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{db}"

    def remove(self) -> None:
        try:
            self.stop()
        except subprocess.CalledProcessError:
            pass
        shutil.rmtree(self.dir, ignore_errors=True)


class Forms(HTMLParser):
    """Every <form>'s fields (inputs, checked radios, textareas) by form id or action."""

    def __init__(self):
        super().__init__()
        self.forms: dict[str, dict[str, str]] = {}
        self._form = None
        self._textarea = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self._form = self.forms.setdefault(a.get("id") or a.get("action") or "", {})
        elif self._form is not None and tag == "input" and a.get("name"):
            if a.get("type") in ("radio", "checkbox") and "checked" not in a:
                return
            self._form[a["name"]] = a.get("value") or ""
        elif self._form is not None and tag == "textarea" and a.get("name"):
            self._textarea = a["name"]
            self._form[a["name"]] = ""

    def handle_data(self, data):
        if self._textarea:
            self._form[self._textarea] += data

    def handle_endtag(self, tag):
        if tag == "textarea":
            self._textarea = None
        elif tag == "form":
            self._form = None


def forms_of(html: str) -> dict[str, dict[str, str]]:
    parser = Forms()
    parser.feed(html)
    return parser.forms


def env_for(cluster, tmp: Path) -> dict[str, str]:
    return {**os.environ, "APP_MODE": "test", "DATABASE_URL": cluster.url("pengaduan"), "RATELIMIT_ENABLED": "false",
            "INSTANCE_DIR": str(tmp), "UPLOAD_DIR": str(tmp / "uploads"), "SIAK_MODE": "fake",
            "SCHEDULER_LOCK_FILE": str(tmp / "scheduler.lock"), "PYTHONPATH": str(ROOT)}


def flask_cli(env, *args) -> None:
    done = subprocess.run([sys.executable, "-m", "flask", "--app", "run", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]


@contextlib.contextmanager
def running_service(tmp: Path):
    """gunicorn (WORKERS workers) on a cluster of its own with a validator and an OPD admin; yields base,
    cluster, gunicorn, tmp and env; stops both after."""
    cluster = Cluster()
    cluster.start()
    gunicorn = None
    try:
        with psycopg.connect(f"host=127.0.0.1 port={cluster.port} user=postgres dbname=postgres",
                             autocommit=True) as conn:
            conn.execute("CREATE DATABASE pengaduan")
        env = env_for(cluster, tmp)
        flask_cli(env, "setup")
        flask_cli(env, "staff", "create", "--username", "validator", "--email", "validator@uji.go.id",
                  "--role", "Validator", "--password", PASSWORD)
        flask_cli(env, "staff", "create", "--username", "opd.dinkes", "--email", "opd.dinkes@uji.go.id",
                  "--role", "Admin OPD", "--opd", "DINKESP2KB", "--password", PASSWORD)
        port = free_port()
        gunicorn = subprocess.Popen([str(Path(sys.executable).parent / "gunicorn"), "--workers", str(WORKERS),
                                     "--bind", f"127.0.0.1:{port}", "--timeout", "30", "--graceful-timeout", "5",
                                     "run:app"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                    stderr=open(tmp / "gunicorn.log", "w"))
        base = f"http://127.0.0.1:{port}"
        for _ in range(200):
            try:
                if requests.get(base + "/health", timeout=10).status_code == 200:
                    break
            except requests.RequestException:
                time.sleep(0.3)
        else:
            pytest.fail("gunicorn did not start: " + (tmp / "gunicorn.log").read_text()[-2000:])
        yield {"base": base, "cluster": cluster, "gunicorn": gunicorn, "tmp": tmp, "env": env}
    finally:
        if gunicorn is not None:
            gunicorn.terminate()
            try:
                gunicorn.wait(15)
            except subprocess.TimeoutExpired:
                gunicorn.kill()
        cluster.remove()


def login(base: str, username: str) -> requests.Session:
    s = requests.Session()
    page = s.get(base + "/login/", timeout=10)
    csrf = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text)
    s.post(base + "/login/", data={"username": username, "password": PASSWORD,
                                   **({"csrf_token": csrf.group(1)} if csrf else {})}, timeout=10)
    return s


def worker_pids(master: int) -> list[int]:
    pids = []
    for stat in glob.glob("/proc/[0-9]*/stat"):
        try:
            fields = Path(stat).read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == master:
            pids.append(int(Path(stat).parent.name))
    return pids

