"""Load with the desks at work, a database outage, a killed worker (issue 14, items 1, 2, 6).

gunicorn (3 workers) on a PostgreSQL cluster of this test's own (initdb into a temp dir, its own port;
never the shared 5432). Parallel citizens submit through the real form (GET for the CSRF token and the
form's idempotency token, then POST) while a validator decides and an OPD admin answers through their
desks. In the middle: PostgreSQL is stopped (immediate, like a crash) and started again, and a gunicorn
worker is SIGKILLed. A citizen whose request failed (503, connection reset) sends the same form again,
as the outage page lets them. Afterwards every acknowledged ticket exists exactly once with its
StatusEvents, tickets are gap-free, nothing is stored that was not acknowledged, no response was a 500,
and 503s came only around the outage. Figures are printed.

Marked `reliability`; sized to run in well under 3 minutes on 2 cores.
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import pytest

pytestmark = pytest.mark.reliability

requests = pytest.importorskip("requests")
psycopg = pytest.importorskip("psycopg")

ROOT = Path(__file__).resolve().parents[2]
CITIZENS = int(os.environ.get("RELIABILITY_CITIZENS", "6"))
PER_CITIZEN = int(os.environ.get("RELIABILITY_PER_CITIZEN", "10"))
LOAD_SECONDS = float(os.environ.get("RELIABILITY_LOAD_SECONDS", "80"))
WORKERS = 3
PASSWORD = "uji-beban-kata-sandi-2026"
OUTAGE_SECONDS = 4.0


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


class Figures:
    def __init__(self):
        self.lock = threading.Lock()
        self.statuses: Counter = Counter()
        self.errors: list[str] = []
        self.acknowledged: list[str] = []
        self.keys: dict[str, str | None] = {}  # form token -> ticket acknowledged (None: still in flight at the end)
        self.submitted = 0
        self.retries = 0
        self.conn_errors = 0
        self.bad_5xx: list[tuple[float, int, str]] = []
        self.unavailable: list[float] = []  # times of 503s
        self.decided = self.answered = self.desk_refused = 0
        self.first_ack_after_outage: float | None = None

    def status(self, code: int, path: str, outage) -> None:
        with self.lock:
            self.statuses[code] += 1
            now = time.monotonic()
            if code == 503:
                self.unavailable.append(now)
            elif code >= 500:
                self.bad_5xx.append((now, code, path))


def _env(cluster, tmp: Path) -> dict[str, str]:
    return {**os.environ, "APP_MODE": "test", "DATABASE_URL": cluster.url("pengaduan"), "RATELIMIT_ENABLED": "false",
            "INSTANCE_DIR": str(tmp), "UPLOAD_DIR": str(tmp / "uploads"), "SIAK_MODE": "fake",
            "SCHEDULER_LOCK_FILE": str(tmp / "scheduler.lock"), "PYTHONPATH": str(ROOT)}


def _flask(env, *args) -> None:
    done = subprocess.run([sys.executable, "-m", "flask", "--app", "run", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("beban")
    cluster = Cluster()
    cluster.start()
    gunicorn = None
    try:
        with psycopg.connect(f"host=127.0.0.1 port={cluster.port} user=postgres dbname=postgres",
                             autocommit=True) as conn:
            conn.execute("CREATE DATABASE pengaduan")
        env = _env(cluster, tmp)
        _flask(env, "setup")
        _flask(env, "staff", "create", "--username", "validator", "--email", "validator@uji.go.id",
               "--role", "Validator", "--password", PASSWORD)
        _flask(env, "staff", "create", "--username", "opd.dinkes", "--email", "opd.dinkes@uji.go.id",
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
        yield {"base": base, "cluster": cluster, "gunicorn": gunicorn, "tmp": tmp}
    finally:
        if gunicorn is not None:
            gunicorn.terminate()
            try:
                gunicorn.wait(15)
            except subprocess.TimeoutExpired:
                gunicorn.kill()
        cluster.remove()


def _citizen(base: str, n: int, figures: Figures, stop_at: float) -> None:
    """Forms one after another for the whole load window (at least PER_CITIZEN of them), so the load goes
    on through the outage and the kill however fast a submission is."""
    s = requests.Session()
    i = -1
    while True:
        i += 1
        if i >= PER_CITIZEN and time.monotonic() >= stop_at - 5:
            return  # the last seconds are for the retries of forms already sent
        form = None
        while form is None and time.monotonic() < stop_at:
            try:
                r = s.get(base + "/pengaduan/baru", timeout=30)
                figures.status(r.status_code, "GET form", None)
                if r.status_code == 200:
                    form = forms_of(r.text)["/pengaduan/baru"]
                    continue
            except requests.RequestException:
                with figures.lock:
                    figures.conn_errors += 1
            time.sleep(0.3)
        if form is None:
            return
        form.pop("website", None)
        form.update({"name": f"Warga {n}", "nik": "3508011203900001", "phone": "0812-3456-7890", "opd": "DINKESP2KB",
                     "title": f"Beban {n}-{i}: jalan berlubang", "visibility": "anonim", "consent": "ya",
                     "text": f"Jalan di depan pasar berlubang, mohon diperbaiki (uji beban {n}-{i})."})
        with figures.lock:
            figures.submitted += 1
            figures.keys[form["submission_key"]] = None
        tries = 0
        while time.monotonic() < stop_at:
            tries += 1
            try:
                r = s.post(base + "/pengaduan/baru", data=form, allow_redirects=False, timeout=30)
            except requests.RequestException:
                with figures.lock:
                    figures.conn_errors += 1
                    figures.retries += 1
                time.sleep(0.3)
                continue
            figures.status(r.status_code, "POST form", None)
            if r.status_code == 303:
                try:
                    receipt = s.get(base + "/pengaduan/terkirim", timeout=30)
                except requests.RequestException:
                    # Stored, but the receipt never came: the citizen sends the same form again.
                    with figures.lock:
                        figures.conn_errors += 1
                        figures.retries += 1
                    continue
                ticket = re.search(r'id="ticket">([^<]+)<', receipt.text)
                with figures.lock:
                    if ticket:
                        figures.acknowledged.append(ticket.group(1))
                        figures.keys[form["submission_key"]] = ticket.group(1)
                        if figures.first_ack_after_outage is None and getattr(figures, "restarted_at", None):
                            figures.first_ack_after_outage = time.monotonic()
                    else:
                        figures.errors.append(f"receipt without ticket: {receipt.status_code}")
                break
            if r.status_code == 503:
                assert "Layanan sedang terganggu" in r.text and form["title"] in r.text  # kept for "Kirim lagi"
                resend = forms_of(r.text).get("resend-form")
                if resend:
                    form = {**form, **resend}
                with figures.lock:
                    figures.retries += 1
                time.sleep(0.3)
                continue
            with figures.lock:
                figures.errors.append(f"POST form -> {r.status_code}: {r.text[:200]}")
            break


def _login(base: str, username: str) -> requests.Session:
    s = requests.Session()
    page = s.get(base + "/login/", timeout=10)
    csrf = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text)
    s.post(base + "/login/", data={"username": username, "password": PASSWORD,
                                   **({"csrf_token": csrf.group(1)} if csrf else {})}, timeout=10)
    return s


# Each desk: its queue, the page that opens one complaint, the form there and how to fill it, the action.
DESKS = {
    "validator": ("/staf/validasi/", "keputusan", {"decision": "valid", "remark": "Sesuai KTP."}, "keputusan",
                  "decided"),
    "opd.dinkes": ("/staf/opd/", "answer-form", {"text": "Sudah kami tindak lanjuti bersama petugas lapangan."},
                   "jawab", "answered"),
}


def _desk(base: str, username: str, figures: Figures, stop: threading.Event) -> None:
    queue_path, form_id, fill, action, counter = DESKS[username]
    s = None
    while not stop.is_set():
        try:
            if s is None:
                s = _login(base, username)
            queue = s.get(base + queue_path, timeout=30)
            figures.status(queue.status_code, username + " queue", None)
            for cid in re.findall(re.escape(queue_path) + r'(\d+)"', queue.text)[:5]:
                page = s.get(f"{base}{queue_path}{cid}", timeout=30)
                figures.status(page.status_code, username + " open", None)
                form = forms_of(page.text).get(form_id) if page.status_code == 200 else None
                if form is None:
                    continue
                done = s.post(f"{base}{queue_path}{cid}/{action}", data={**form, **fill}, allow_redirects=False,
                              timeout=30)
                figures.status(done.status_code, username + " " + action, None)
                with figures.lock:
                    if done.status_code == 302:
                        setattr(figures, counter, getattr(figures, counter) + 1)
                    elif done.status_code in (400, 409, 503):
                        figures.desk_refused += 1  # refused with a message (held, stale, outage)
        except requests.RequestException:
            with figures.lock:
                figures.conn_errors += 1
            time.sleep(0.3)
        time.sleep(0.2)


def _worker_pids(master: int) -> list[int]:
    pids = []
    for stat in glob.glob("/proc/[0-9]*/stat"):
        try:
            fields = Path(stat).read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == master:
            pids.append(int(Path(stat).parent.name))
    return pids


def test_load_with_desks_a_database_outage_and_a_killed_worker_loses_nothing(service):
    base, cluster = service["base"], service["cluster"]
    figures = Figures()
    total = CITIZENS * PER_CITIZEN
    stop_desks = threading.Event()
    started = time.monotonic()
    stop_at = started + LOAD_SECONDS
    citizens = [threading.Thread(target=_citizen, args=(base, n, figures, stop_at)) for n in range(CITIZENS)]
    desks = [threading.Thread(target=_desk, args=(base, who, figures, stop_desks)) for who in ("validator", "opd.dinkes")]
    for t in citizens + desks:
        t.start()

    def wait_until(second: float) -> None:
        while time.monotonic() < started + second:
            time.sleep(0.1)

    # Timed, not counted, so both faults land inside the load on a slow machine too.
    wait_until(LOAD_SECONDS * 0.2)
    stopped_at = time.monotonic()
    cluster.stop()
    time.sleep(OUTAGE_SECONDS)
    cluster.start()
    restarted_at = figures.restarted_at = time.monotonic()
    wait_until(LOAD_SECONDS * 0.55)
    victims = _worker_pids(service["gunicorn"].pid)
    killed_at = time.monotonic()
    os.kill(victims[0], signal.SIGKILL)  # mid-request: the citizens keep posting all the time
    for t in citizens:
        t.join()
    time.sleep(2)
    stop_desks.set()
    for t in desks:
        t.join()
    elapsed = time.monotonic() - started

    with psycopg.connect(f"host=127.0.0.1 port={cluster.port} user=postgres dbname=pengaduan") as conn:
        stored = dict(conn.execute("SELECT submission_key, ticket FROM complaint").fetchall())
        tickets = sorted(stored.values())
        without_event = conn.execute("SELECT count(*) FROM complaint c WHERE NOT EXISTS "
                                     "(SELECT 1 FROM status_event e WHERE e.complaint_id = c.id)").fetchone()[0]
        answered_without = conn.execute("SELECT count(*) FROM complaint c WHERE c.state = 'DIJAWAB' AND NOT EXISTS "
                                        "(SELECT 1 FROM answer a WHERE a.complaint_id = c.id)").fetchone()[0]
        states = dict(conn.execute("SELECT state, count(*) FROM complaint GROUP BY state").fetchall())
    acknowledged = figures.acknowledged
    found = [t for t in set(acknowledged) if t in set(tickets)]
    numbers = sorted(int(t.rsplit("-", 1)[1]) for t in tickets)
    outage_503 = [t for t in figures.unavailable if not (stopped_at - 1 <= t <= restarted_at + 15)]
    recovery = (figures.first_ack_after_outage - restarted_at) if figures.first_ack_after_outage else None
    print(f"\nreliability figures: submitted={figures.submitted} acknowledged={len(acknowledged)} "
          f"unique_acknowledged={len(set(acknowledged))} found={len(found)} stored={len(tickets)} "
          f"in_flight_at_end={sum(1 for t in figures.keys.values() if t is None)} "
          f"errors={len(figures.errors)} connection_errors={figures.conn_errors} retries={figures.retries} "
          f"5xx_other_than_503={len(figures.bad_5xx)} 503s={len(figures.unavailable)} "
          f"outage_seconds={restarted_at - stopped_at:.1f} recovery_seconds="
          f"{recovery if recovery is None else round(recovery, 2)} decided={figures.decided} "
          f"answered={figures.answered} desk_refused={figures.desk_refused} killed_worker={victims[0]} "
          f"at={killed_at - started:.1f}s states={states} statuses={dict(figures.statuses)} "
          f"elapsed={elapsed:.1f}s")
    assert figures.errors == []
    assert figures.bad_5xx == []
    assert outage_503 == []  # 503 only around the outage
    in_flight = {k for k, t in figures.keys.items() if t is None}  # the load window ended mid-retry
    assert len(in_flight) <= CITIZENS and len(acknowledged) == figures.submitted - len(in_flight)
    assert len(set(acknowledged)) == len(acknowledged)  # one ticket per form, never two forms one ticket
    assert all(stored.get(k) == t for k, t in figures.keys.items() if t is not None)  # acknowledged = stored
    assert set(stored) <= set(figures.keys)  # nothing stored that no citizen sent
    assert {k for k in stored if figures.keys[k] is None} <= in_flight  # stored, receipt pending: a retry finds it
    assert len(stored) == len(tickets) == len(set(tickets))
    assert figures.submitted >= total // 2  # the load was real
    assert numbers == list(range(1, len(numbers) + 1))  # gap-free
    assert without_event == 0 and answered_without == 0
    assert figures.decided > 0 and figures.answered > 0
    assert recovery is not None and recovery < 15
