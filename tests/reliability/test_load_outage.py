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

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter

import pytest

from .support import ROOT, forms_of, login, psycopg, requests, worker_pids

pytestmark = pytest.mark.reliability

CITIZENS = int(os.environ.get("RELIABILITY_CITIZENS", "6"))
PER_CITIZEN = int(os.environ.get("RELIABILITY_PER_CITIZEN", "10"))
LOAD_SECONDS = float(os.environ.get("RELIABILITY_LOAD_SECONDS", "80"))
OUTAGE_SECONDS = 4.0


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


# Each desk: its queue, the page that opens one complaint, the form there and how to fill it, the action.
DESKS = {
    "validator": ("/staf/validasi/", "keputusan", {"decision": "valid", "remark": "Sesuai KTP.",
                                                   # the fake SIAK finds no NIK: the validator saw the e-KTP
                                                   "override_reason": "KTP asli diperlihatkan di loket."}, "keputusan",
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
                s = login(base, username)
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


# --------------------------------------------------------------------------- the scheduler's leader

SCHEDULERS = 2  # started side by side: exactly one may run jobs at any moment, before and after the outage


def _start_schedulers(service) -> list[tuple[subprocess.Popen, object]]:
    env = {**service["env"], "LOG_FORMAT": "json"}
    started = []
    for n in range(SCHEDULERS):
        log_path = service["tmp"] / f"scheduler-{n}.log"
        proc = subprocess.Popen([sys.executable, "-m", "flask", "--app", "run", "scheduler", "run",
                                 "--retry-seconds", "0.5", "--heartbeat-seconds", "0.5"], cwd=ROOT, env=env,
                                stdout=subprocess.DEVNULL, stderr=open(log_path, "w"))
        started.append((proc, log_path))
    return started


def _wait_for_a_leader(schedulers, seconds: float = 180) -> None:
    """Start-up takes long on a loaded machine: the outage must find a leader at work."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if any("scheduler: lock acquired" in log_path.read_text() for _, log_path in schedulers):
            return
        time.sleep(0.5)
    for proc, _ in schedulers:
        proc.kill()
    pytest.fail("no scheduler took the lock: " + schedulers[0][1].read_text()[-2000:])


def _terms(log_path, until: float) -> tuple[list[tuple[float, float]], list[float]]:
    """A scheduler's terms as leader (from "lock acquired" to "lock released", after its running jobs have
    finished; or `until`)
    and the times its jobs finished, from its JSON log lines (wall-clock seconds)."""
    from datetime import datetime

    terms, jobs, start = [], [], None
    for line in log_path.read_text().splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if entry.get("logger") != "app.scheduler":
            continue
        at, message = datetime.fromisoformat(entry["time"]).timestamp(), entry["message"]
        if message.startswith("scheduler: lock acquired"):
            start = at
        elif start is not None and "lock released" in message:
            terms.append((start, at))
            start = None
        elif re.match(r"job \S+ done in", message):
            jobs.append(at)
    if start is not None:
        terms.append((start, until))
    return terms, jobs


def _check_single_leader(schedulers, stopped_wall: float, restarted_wall: float, cluster) -> str:
    end = time.time()
    by_process = [(proc.pid, *_terms(log_path, end)) for proc, log_path in schedulers]
    terms = sorted((a, b, pid) for pid, ts, _ in by_process for a, b in ts)
    for (a1, b1, p1), (a2, b2, p2) in zip(terms, terms[1:]):
        assert a2 >= b1, f"two leaders at once: {p1} {a1:.2f}-{b1:.2f} and {p2} {a2:.2f}-{b2:.2f}"
    for pid, ts, jobs in by_process:  # jobs ran only while their process led
        assert all(any(a <= j <= b for a, b in ts) for j in jobs), f"scheduler {pid} ran a job while idle"
    shown = f"terms={[(round(a - stopped_wall, 2), round(b - stopped_wall, 2), pid) for a, b, pid in terms]} " \
            f"(seconds from the stop; restarted at {restarted_wall - stopped_wall:.2f})"
    assert any(a < stopped_wall for a, _, _ in terms), "no leader before the outage: " + shown
    # After the stop, not after `pg_ctlcluster start` returned: a scheduler retrying every 0.5 s can take
    # the lock while the wrapper is still finishing, and no lock can be taken while the server is down.
    resumed = [a for a, _, _ in terms if a >= stopped_wall]
    assert resumed, "no scheduler took the lock again after the outage: " + shown
    open_terms = [(pid, a) for a, b, pid in terms if b == end]
    assert len(open_terms) == 1, f"leaders at the end: {open_terms}; " + shown
    leader = open_terms[0][0]
    jobs_after = sum(1 for pid, _, jobs in by_process if pid == leader for j in jobs if j >= resumed[0])
    with psycopg.connect(f"host=127.0.0.1 port={cluster.port} user=postgres dbname=pengaduan") as conn:
        beat_pid, beat_at = conn.execute("SELECT pid, beat_at FROM scheduler_heartbeat").fetchone()
    assert beat_pid == leader  # the heartbeat /health reads is the current leader's
    assert jobs_after > 0  # jobs resumed
    return (f"scheduler_terms={len(terms)} resumed_after_restart={resumed[0] - restarted_wall:.1f}s "
            f"jobs_after_outage={jobs_after} leader={leader} heartbeat={beat_at:%H:%M:%S}")


def test_load_with_desks_a_database_outage_and_a_killed_worker_loses_nothing(service):
    base, cluster = service["base"], service["cluster"]
    figures = Figures()
    total = CITIZENS * PER_CITIZEN
    stop_desks = threading.Event()
    desks = [threading.Thread(target=_desk, args=(base, who, figures, stop_desks)) for who in ("validator", "opd.dinkes")]
    schedulers = _start_schedulers(service)
    _wait_for_a_leader(schedulers)
    started = time.monotonic()
    stop_at = started + LOAD_SECONDS
    citizens = [threading.Thread(target=_citizen, args=(base, n, figures, stop_at)) for n in range(CITIZENS)]
    for t in citizens + desks:
        t.start()

    def wait_until(second: float) -> None:
        while time.monotonic() < started + second:
            time.sleep(0.1)

    # Timed, not counted, so both faults land inside the load on a slow machine too.
    wait_until(LOAD_SECONDS * 0.2)
    stopped_at, stopped_wall = time.monotonic(), time.time()
    cluster.stop()
    time.sleep(OUTAGE_SECONDS)
    cluster.start()
    restarted_at = figures.restarted_at = time.monotonic()
    restarted_wall = time.time()
    wait_until(LOAD_SECONDS * 0.55)
    victims = worker_pids(service["gunicorn"].pid)
    killed_at = time.monotonic()
    os.kill(victims[0], signal.SIGKILL)  # mid-request: the citizens keep posting all the time
    for t in citizens:
        t.join()
    time.sleep(2)
    stop_desks.set()
    for t in desks:
        t.join()
    elapsed = time.monotonic() - started
    try:
        leadership = _check_single_leader(schedulers, stopped_wall, restarted_wall, cluster)
    finally:
        for proc, _ in schedulers:
            proc.terminate()
        for proc, _ in schedulers:
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()

    with psycopg.connect(f"host=127.0.0.1 port={cluster.port} user=postgres dbname=pengaduan") as conn:
        stored = dict(conn.execute("SELECT submission_key, ticket FROM complaint").fetchall())
        tickets = sorted(stored.values())
        without_event = conn.execute("SELECT count(*) FROM complaint c WHERE NOT EXISTS "
                                     "(SELECT 1 FROM status_event e WHERE e.complaint_id = c.id)").fetchone()[0]
        answered_without = conn.execute("SELECT count(*) FROM complaint c WHERE c.state = 'dijawab' AND NOT EXISTS "
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
          f"elapsed={elapsed:.1f}s {leadership}")
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
