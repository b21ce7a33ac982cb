"""A gunicorn worker SIGKILLed in the middle of a submission's and of an answer's transaction (issue 14,
item 6): the transaction is whole or absent, never half; the citizen who got no response sends the same
form again and gets one complaint, with the next ticket number (no gap, no duplicate); the OPD admin whose
answer got no response answers again and the complaint has one answer.

The kill is aimed, not timed: the test holds an EXCLUSIVE lock on the history-log table (`audit_log`) from
a connection of its own, so the request's transaction, having already written its complaint (or answer)
rows, waits on its history row. The test finds that transaction in PostgreSQL (`pg_locks`: it holds a
granted row-exclusive lock on `complaint` or `answer` and waits), the gunicorn worker behind it by the
backend's client port (/proc/net/tcp and the worker's socket descriptors), kills it, then lets go.
"""

from __future__ import annotations

import glob
import os
import re
import signal
import threading
import time

import pytest

from .support import forms_of, login, psycopg, requests, worker_pids

pytestmark = pytest.mark.reliability

NIK = "3508011203900001"


def _db(cluster):
    return psycopg.connect(f"host=127.0.0.1 port={cluster.port} user=postgres dbname=pengaduan", autocommit=True)


def _waiting_writer(conn, table: str) -> tuple[int, int] | None:
    """(backend pid, client port) of a transaction that has written `table` and now waits on a lock."""
    return conn.execute(
        "SELECT a.pid, a.client_port FROM pg_stat_activity a "
        "JOIN pg_locks l ON l.pid = a.pid AND l.locktype = 'relation' AND l.granted AND l.mode = 'RowExclusiveLock' "
        "JOIN pg_class c ON c.oid = l.relation AND c.relname = %s "
        "WHERE a.wait_event_type = 'Lock' AND a.datname = 'pengaduan'", (table,)).fetchone()


def _worker_with_port(workers: list[int], port: int) -> int | None:
    """The worker holding the local TCP port `port` (its side of the connection to PostgreSQL)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = open(table).read().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(fields[9])
    for pid in workers:
        for fd in glob.glob(f"/proc/{pid}/fd/*"):
            try:
                link = os.readlink(fd)
            except OSError:
                continue
            if link.startswith("socket:[") and link[8:-1] in inodes:
                return pid
    return None


def _kill_inside(service, table: str, send) -> dict:
    """Run `send()` in a thread while the history log is locked; SIGKILL the worker whose transaction has
    written `table`; release the lock. Returns what the sender saw and the worker killed."""
    seen: dict = {}

    def sender():
        try:
            seen["response"] = send()
        except requests.RequestException as exc:
            seen["error"] = exc.__class__.__name__

    time.sleep(0.5)  # the page views before it have written their own history rows
    with _db(service["cluster"]) as watcher, psycopg.connect(
            f"host=127.0.0.1 port={service['cluster'].port} user=postgres dbname=pengaduan") as locker:
        locker.execute("LOCK TABLE audit_log IN EXCLUSIVE MODE")  # reads go on; inserts wait
        thread = threading.Thread(target=sender)
        thread.start()
        writer = None
        deadline = time.monotonic() + 20
        while writer is None and time.monotonic() < deadline:
            writer = _waiting_writer(watcher, table)
            time.sleep(0.05)
        assert writer is not None, f"no transaction writing {table} reached the history row"
        backend, port = writer
        victim = _worker_with_port(worker_pids(service["gunicorn"].pid), port)
        assert victim is not None, f"no worker holds port {port}"
        os.kill(victim, signal.SIGKILL)
        thread.join(30)
        locker.rollback()  # lets go of the lock: the orphaned backend finds its client gone and rolls back
        for _ in range(200):
            if watcher.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", (backend,)).fetchone() is None:
                break
            time.sleep(0.05)
        else:
            pytest.fail(f"backend {backend} of the killed worker is still there")
    seen["victim"] = victim
    return seen


def _tickets(conn) -> list[int]:
    return sorted(int(t.rsplit("-", 1)[1]) for (t,) in conn.execute("SELECT ticket FROM complaint"))


def _new_form(session, base: str, title: str) -> dict[str, str]:
    page = session.get(base + "/pengaduan/baru", timeout=30)
    assert page.status_code == 200
    form = forms_of(page.text)["/pengaduan/baru"]
    form.pop("website", None)
    form.update({"name": "Warga Uji", "nik": NIK, "phone": "0812-3456-7890", "opd": "DINKESP2KB", "title": title,
                 "visibility": "anonim", "consent": "ya",
                 "text": f"{title}: saluran air tersumbat di depan puskesmas, mohon ditangani."})
    return form


def _submit(session, base: str, form: dict[str, str]) -> str:
    posted = session.post(base + "/pengaduan/baru", data=form, allow_redirects=False, timeout=30)
    assert posted.status_code == 303, posted.text[:300]
    receipt = session.get(base + "/pengaduan/terkirim", timeout=30)
    return re.search(r'id="ticket">([^<]+)<', receipt.text).group(1)


def test_a_worker_killed_inside_a_submission_leaves_nothing_and_the_resent_form_makes_one_complaint(service):
    base, citizen = service["base"], requests.Session()
    form = _new_form(citizen, base, "Terputus di tengah")
    with _db(service["cluster"]) as conn:
        before = _tickets(conn)

    seen = _kill_inside(service, "complaint",
                        lambda: citizen.post(base + "/pengaduan/baru", data=form, allow_redirects=False, timeout=30))

    assert "response" not in seen, "the killed request answered"
    with _db(service["cluster"]) as conn:
        assert conn.execute("SELECT count(*) FROM complaint WHERE submission_key = %s",
                            (form["submission_key"],)).fetchone()[0] == 0  # absent, not half
        assert _tickets(conn) == before  # the ticket number it took was rolled back with it
        orphans = conn.execute("SELECT count(*) FROM status_event e WHERE NOT EXISTS "
                               "(SELECT 1 FROM complaint c WHERE c.id = e.complaint_id)").fetchone()[0]
        assert orphans == 0

    # The citizen got no answer and sends the same form again (the same idempotency token).
    ticket = _submit(citizen, base, form)
    again = _submit(citizen, base, form)  # and once more, as a citizen unsure of the first retry would
    assert again == ticket
    with _db(service["cluster"]) as conn:
        rows = conn.execute("SELECT ticket FROM complaint WHERE submission_key = %s",
                            (form["submission_key"],)).fetchall()
        numbers = _tickets(conn)
    assert rows == [(ticket,)]
    assert numbers == list(range(1, len(numbers) + 1))  # gap-free, the killed one included
    print(f"\nkilled worker {seen['victim']} inside a submission; sender saw {seen.get('error')}; "
          f"resent -> {ticket} (one row)")


def test_a_worker_killed_inside_an_answer_leaves_the_complaint_unanswered_until_answered_again(service):
    base = service["base"]
    citizen = requests.Session()
    ticket = _submit(citizen, base, _new_form(citizen, base, "Dijawab setelah terputus"))
    with _db(service["cluster"]) as conn:
        cid = conn.execute("SELECT id FROM complaint WHERE ticket = %s", (ticket,)).fetchone()[0]
    validator = login(base, "validator")
    page = validator.get(f"{base}/staf/validasi/{cid}", timeout=30)
    decided = validator.post(f"{base}/staf/validasi/{cid}/keputusan", allow_redirects=False, timeout=30,
                             data={**forms_of(page.text)["keputusan"], "decision": "valid", "remark": "Sesuai KTP.",
                                   "override_reason": "KTP asli diperlihatkan di loket."})
    assert decided.status_code == 302
    opd = login(base, "opd.dinkes")
    page = opd.get(f"{base}/staf/opd/{cid}", timeout=30)
    form = {**forms_of(page.text)["answer-form"], "text": "Saluran sudah dibersihkan petugas kami."}

    seen = _kill_inside(service, "answer",
                        lambda: opd.post(f"{base}/staf/opd/{cid}/jawab", data=form, allow_redirects=False, timeout=30))

    assert "response" not in seen, "the killed request answered"
    with _db(service["cluster"]) as conn:
        state, answered_at = conn.execute("SELECT state, answered_at FROM complaint WHERE id = %s", (cid,)).fetchone()
        answers = conn.execute("SELECT count(*) FROM answer WHERE complaint_id = %s", (cid,)).fetchone()[0]
        events = conn.execute("SELECT count(*) FROM status_event WHERE complaint_id = %s AND to_state = 'dijawab'",
                              (cid,)).fetchone()[0]
    assert (state, answered_at, answers, events) == ("diteruskan", None, 0, 0)  # absent, not half

    # The OPD admin saw no answer and answers again from the page.
    page = opd.get(f"{base}/staf/opd/{cid}", timeout=30)
    again = opd.post(f"{base}/staf/opd/{cid}/jawab", allow_redirects=False, timeout=30,
                     data={**forms_of(page.text)["answer-form"], "text": form["text"]})
    assert again.status_code == 302
    with _db(service["cluster"]) as conn:
        state = conn.execute("SELECT state FROM complaint WHERE id = %s", (cid,)).fetchone()[0]
        answers = conn.execute("SELECT count(*) FROM answer WHERE complaint_id = %s", (cid,)).fetchone()[0]
        events = conn.execute("SELECT count(*) FROM status_event WHERE complaint_id = %s AND to_state = 'dijawab'",
                              (cid,)).fetchone()[0]
        logged = conn.execute("SELECT count(*) FROM audit_log WHERE complaint_id = %s AND action = 'complaint.answer'",
                              (cid,)).fetchone()[0]
    assert (state, answers, events, logged) == ("dijawab", 1, 1, 1)
    print(f"\nkilled worker {seen['victim']} inside an answer; sender saw {seen.get('error')}; answered again: "
          f"one answer, one event")
