"""The scheduler process: its jobs, and the leader lock that keeps a second scheduler idle
(PostgreSQL advisory lock on a dedicated connection; SQLite file lock) — on whichever database the
suite runs against."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path


from app.jobs import JOBS, JobSpec, SchedulerProcess, leader_lock, trigger_args

ROOT = Path(__file__).resolve().parents[2]
RAN: list[str] = []


def probe_a():
    RAN.append("a")
    return "a"


def probe_b():
    RAN.append("b")
    return "b"


def wait_for(condition, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def test_every_job_has_an_explicit_id_and_a_known_trigger(app):
    ids = [spec.id for spec in JOBS]
    assert len(ids) == len(set(ids))
    assert {"sla_sweep", "sla_reminders", "outbox_delivery"} <= set(ids)
    by_id = {spec.id: spec for spec in JOBS}
    assert trigger_args(by_id["sla_sweep"], {"SWEEP_MINUTES": 3}) == {"minutes": 3}
    assert trigger_args(by_id["outbox_delivery"], app.config) == {"minutes": 1}
    from app.jobs import resolve

    for spec in JOBS:
        assert callable(resolve(spec)), spec.id


def test_second_scheduler_stays_idle_until_the_first_releases_the_lock(app):
    """Two schedulers, each with its own lock object (its own database connection on PostgreSQL, its own
    file descriptor on SQLite), in two threads: only the holder runs jobs; the other takes over."""
    RAN.clear()
    first = SchedulerProcess(app, [JobSpec("probe", f"{__name__}:probe_a", trigger_args={"seconds": 0.2})],
                             retry_seconds=0.1, heartbeat_seconds=0.2)
    second = SchedulerProcess(app, [JobSpec("probe", f"{__name__}:probe_b", trigger_args={"seconds": 0.2})],
                              retry_seconds=0.1, heartbeat_seconds=0.2)
    threads = [threading.Thread(target=p.run, daemon=True) for p in (first, second)]
    threads[0].start()
    try:
        assert wait_for(first.leading.is_set)
        threads[1].start()
        assert wait_for(lambda: RAN.count("a") >= 3)
        time.sleep(0.8)  # several retry periods of the second scheduler
        assert not second.leading.is_set()
        assert "b" not in RAN

        first.stop()
        threads[0].join(5)
        assert not threads[0].is_alive()
        assert wait_for(second.leading.is_set)
        assert wait_for(lambda: "b" in RAN)
        ran_by_first = RAN.count("a")
        time.sleep(0.5)
        assert RAN.count("a") == ran_by_first  # the stopped one runs nothing any more
    finally:
        first.stop()
        second.stop()
        for thread in threads:
            thread.join(5)
    assert not any(t.is_alive() for t in threads)


def test_the_lock_is_released_with_the_process_state(app):
    one, two = leader_lock(app.config), leader_lock(app.config)
    try:
        assert one.try_acquire()
        assert one.alive()
        assert not two.try_acquire()
        one.release()
        assert two.try_acquire()
    finally:
        one.dispose()
        two.dispose()


def test_scheduler_keeps_its_lock_across_heartbeats_and_retakes_a_lost_one(app):
    """A healthy lock stays held across heartbeats (both databases: a thread-local file lock once looked
    lost from the heartbeat's thread). On PostgreSQL, if the lock's connection dies (database restart)
    the lock is gone: the scheduler stops running jobs at its next heartbeat and competes again."""
    import sqlalchemy as sa

    from app.extensions import db

    RAN.clear()
    process = SchedulerProcess(app, [JobSpec("probe", f"{__name__}:probe_a", trigger_args={"seconds": 0.2})],
                               retry_seconds=0.2, heartbeat_seconds=0.2)
    thread = threading.Thread(target=process.run, daemon=True)
    thread.start()
    try:
        assert wait_for(process.leading.is_set)
        time.sleep(1.0)  # five heartbeats
        assert process.terms == 1 and process.leading.is_set()
        if db.engine.dialect.name != "postgresql":
            return  # a file lock has no connection to lose; it ends with the process
        pid = process._lock._conn.execute(sa.text("SELECT pg_backend_pid()")).scalar()
        with db.engine.connect() as conn:
            conn.execute(sa.text("SELECT pg_terminate_backend(:p)"), {"p": pid})
        # The heartbeat notices, the jobs stop, and the lock is taken again on a new connection.
        assert wait_for(lambda: process.terms == 2)
        assert wait_for(process.leading.is_set)
        new_pid = process._lock._conn.execute(sa.text("SELECT pg_backend_pid()")).scalar()
        assert new_pid != pid
    finally:
        process.stop()
        thread.join(5)


def _reader(stream, lines: "queue.Queue[str]") -> None:
    for line in iter(stream.readline, ""):
        lines.put(line)


def _wait_line(lines: "queue.Queue[str]", needle: str, seen: list[str], timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(needle in line for line in seen):
            return True
        try:
            seen.append(lines.get(timeout=0.2))
        except queue.Empty:
            pass
    return any(needle in line for line in seen)


def test_a_real_scheduler_process_waits_for_the_lock_runs_jobs_and_stops_on_sigterm(app, database_url):
    holder = leader_lock(app.config)
    assert holder.try_acquire()
    env = {**os.environ, "APP_MODE": "test", "DATABASE_URL": database_url, "SIAK_MODE": "fake",
           "SCHEDULER_LOCK_FILE": app.config["SCHEDULER_LOCK_FILE"], "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "run", "scheduler", "run", "--retry-seconds", "0.2",
         "--heartbeat-seconds", "0.2"], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True)
    lines: queue.Queue[str] = queue.Queue()
    seen: list[str] = []
    threading.Thread(target=_reader, args=(process.stdout, lines), daemon=True).start()
    try:
        assert _wait_line(lines, "another scheduler holds the lock", seen), "".join(seen)
        time.sleep(0.6)
        _wait_line(lines, "\x00", seen, timeout=0.3)  # drain
        assert not any("job " in line for line in seen), "".join(seen)

        holder.release()
        assert _wait_line(lines, "lock acquired", seen), "".join(seen)
        assert _wait_line(lines, "job sla_sweep done", seen), "".join(seen)
        assert _wait_line(lines, "job outbox_delivery done", seen), "".join(seen)

        process.send_signal(signal.SIGTERM)
        assert process.wait(15) == 0
        _wait_line(lines, "lock released", seen, timeout=2)
        assert any("lock released" in line for line in seen), "".join(seen)
        assert holder.try_acquire()  # the stopped process let go of it
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(5)
        holder.dispose()
