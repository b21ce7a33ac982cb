"""Scheduled jobs: thin shims, each calling one service. The scheduler process (`flask scheduler run`)
registers every entry of JOBS with an explicit id, max_instances=1 and coalesce=True.

Exactly one scheduler runs jobs, however many are started (FAB-NOTES #19): the process first takes a
leader lock — a PostgreSQL advisory lock held on its own connection for the life of the process, or
on SQLite a file lock (SCHEDULER_LOCK_FILE). A second scheduler stays idle and retries periodically,
so it takes over when the first stops. Jobs are idempotent, so a takeover never doubles anything.
"""

from __future__ import annotations

import importlib
import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, Sequence
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class JobSpec:
    id: str
    func: str  # "module:function", imported when the scheduler starts; called inside an app context
    trigger: str = "interval"  # APScheduler trigger name
    trigger_args: dict[str, Any] = field(default_factory=dict)  # e.g. {"minutes": 5}
    description: str = ""
    # A setting (minutes) that replaces trigger_args["minutes"] at start, e.g. "SWEEP_MINUTES".
    interval_setting: str | None = None


log = logging.getLogger("app.scheduler")

# The advisory lock's key: any fixed bigint; advisory locks are per database, so two deployments on
# one PostgreSQL server do not block each other.
ADVISORY_LOCK_KEY = 0x4C504F5343484544  # "LPOSCHED"


def find(job_id: str, jobs: Sequence["JobSpec"] | None = None) -> "JobSpec":
    for spec in JOBS if jobs is None else jobs:
        if spec.id == job_id:
            return spec
    raise KeyError(job_id)


def resolve(spec: "JobSpec") -> Callable[[], Any]:
    module, _, name = spec.func.partition(":")
    return getattr(importlib.import_module(module), name)


def run_job(app, spec: "JobSpec") -> Any:
    """Run one job inside an app context (the session is removed when the context ends)."""
    with app.app_context():
        started = time.monotonic()
        try:
            result = resolve(spec)()
        except Exception:
            log.exception("job %s failed", spec.id)
            raise
        log.info("job %s done in %.2f s: %s", spec.id, time.monotonic() - started, result)
        return result


def _run_job_logged(app, spec: "JobSpec") -> None:
    # The scheduler's wrapper: the failure is already logged with its traceback; the next run retries.
    try:
        run_job(app, spec)
    except Exception:  # noqa: BLE001 - one failing job must not stop the others
        pass


def trigger_args(spec: "JobSpec", config) -> dict[str, Any]:
    args = dict(spec.trigger_args)
    if spec.interval_setting:
        args["minutes"] = int(config[spec.interval_setting])
    return args


# --------------------------------------------------------------------------- leader lock


class PostgresLeaderLock:
    """pg_try_advisory_lock on a dedicated connection (not from the app's pool): the lock lives exactly
    as long as that connection, so a crashed scheduler releases it with its connection."""

    def __init__(self, url: str):
        import sqlalchemy as sa
        from sqlalchemy.pool import NullPool

        self._sa = sa
        self._engine = sa.create_engine(url, poolclass=NullPool)
        self._conn = None

    def try_acquire(self) -> bool:
        sa = self._sa
        try:
            conn = self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        except sa.exc.SQLAlchemyError as exc:
            log.warning("scheduler: database unreachable (%s)", exc.__class__.__name__)
            return False
        try:
            got = conn.execute(sa.text("SELECT pg_try_advisory_lock(:k)"), {"k": ADVISORY_LOCK_KEY}).scalar()
        except sa.exc.SQLAlchemyError as exc:
            log.warning("scheduler: lock query failed (%s)", exc.__class__.__name__)
            got = False
        if got:
            self._conn = conn
            return True
        conn.close()
        return False

    def alive(self) -> bool:
        if self._conn is None:
            return False
        try:
            self._conn.execute(self._sa.text("SELECT 1"))
            return True
        except self._sa.exc.SQLAlchemyError:
            return False

    def release(self) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            conn.execute(self._sa.text("SELECT pg_advisory_unlock(:k)"), {"k": ADVISORY_LOCK_KEY})
        except self._sa.exc.SQLAlchemyError:
            conn.invalidate()  # the connection is gone, and the lock with it
        finally:
            conn.close()

    def dispose(self) -> None:
        self.release()
        self._engine.dispose()


class FileLeaderLock:
    """For SQLite (one machine): an OS file lock on SCHEDULER_LOCK_FILE, released when the process ends."""

    def __init__(self, path: str):
        from filelock import FileLock

        # Not thread-local: the heartbeat checks the lock from a worker thread of the scheduler.
        self._lock = FileLock(path, thread_local=False)
        self.path = path

    def try_acquire(self) -> bool:
        from filelock import Timeout

        try:
            self._lock.acquire(timeout=0)
            return True
        except Timeout:
            return False

    def alive(self) -> bool:
        return self._lock.is_locked

    def release(self) -> None:
        if self._lock.is_locked:
            self._lock.release(force=True)

    def dispose(self) -> None:
        self.release()


def leader_lock(config):
    url = config["SQLALCHEMY_DATABASE_URI"]
    if str(url).startswith("postgresql"):
        return PostgresLeaderLock(url)
    return FileLeaderLock(config["SCHEDULER_LOCK_FILE"])


# --------------------------------------------------------------------------- the process


class SchedulerProcess:
    """`flask scheduler run`: wait for the leader lock, then run JOBS with a BlockingScheduler until
    stopped (SIGINT/SIGTERM) or until the lock is lost, in which case it goes back to waiting."""

    def __init__(self, app, jobs: Sequence["JobSpec"] | None = None, *, retry_seconds: float = 30.0,
                 heartbeat_seconds: float = 30.0, run_at_start: bool = True):
        self.app = app
        self.jobs = list(JOBS if jobs is None else jobs)
        self.retry_seconds = retry_seconds
        self.heartbeat_seconds = heartbeat_seconds
        self.run_at_start = run_at_start
        self.leading = threading.Event()  # set while this process holds the lock and runs jobs
        self.terms = 0  # how many times it took the lock (a takeover after a lost connection counts again)
        self._stop = threading.Event()
        self._scheduler = None
        self._lock = leader_lock(app.config)

    def run(self) -> None:
        waiting_logged = False
        try:
            while not self._stop.is_set():
                if not self._lock.try_acquire():
                    if not waiting_logged:
                        log.info("scheduler: another scheduler holds the lock; idle, retrying every %.0f s",
                                 self.retry_seconds)
                        waiting_logged = True
                    self._stop.wait(self.retry_seconds)
                    continue
                waiting_logged = False
                self.terms += 1
                log.info("scheduler: lock acquired; running %d job(s): %s", len(self.jobs),
                         ", ".join(j.id for j in self.jobs))
                try:
                    self.leading.set()
                    self._beat()
                    self._run_scheduler()
                finally:
                    self.leading.clear()
                    self._lock.release()
                    log.info("scheduler: stopped running jobs; lock released")
        finally:
            self._lock.dispose()

    def _run_scheduler(self) -> None:
        from apscheduler.executors.pool import ThreadPoolExecutor
        from apscheduler.schedulers.blocking import BlockingScheduler

        executor = ThreadPoolExecutor(max_workers=len(self.jobs) + 2)
        scheduler = BlockingScheduler(timezone=ZoneInfo(self.app.config.get("TIMEZONE", "Asia/Jakarta")),
                                      executors={"default": executor})
        now = datetime.now(timezone.utc)
        for spec in self.jobs:
            extra = {"next_run_time": now} if self.run_at_start and spec.trigger == "interval" else {}
            scheduler.add_job(_run_job_logged, spec.trigger, args=[self.app, spec], id=spec.id,
                              name=spec.description or spec.id, replace_existing=True, max_instances=1,
                              coalesce=True, misfire_grace_time=None, **extra,
                              **trigger_args(spec, self.app.config))
        scheduler.add_job(self._heartbeat, "interval", seconds=self.heartbeat_seconds, args=[scheduler],
                          id="_leader_heartbeat", replace_existing=True, max_instances=1, coalesce=True)
        self._scheduler = scheduler
        if self._stop.is_set():
            return
        scheduler.start()  # blocks until shutdown
        executor.shutdown(wait=True)  # let running jobs finish before the lock is released

    def _heartbeat(self, scheduler) -> None:
        if self._stop.is_set():
            scheduler.shutdown(wait=False)
        elif not self._lock.alive():
            log.error("scheduler: leader lock lost (database connection gone); stopping jobs")
            scheduler.shutdown(wait=False)
        else:
            self._beat()

    def _beat(self) -> None:
        """The heartbeat row /health reads (its age says whether jobs are running)."""
        try:
            with self.app.app_context():
                from .services.health import beat

                beat()
        except Exception as exc:  # noqa: BLE001 - a missed beat shows as age on /health, never stops jobs
            log.warning("scheduler: heartbeat not written (%s)", exc.__class__.__name__)

    def stop(self) -> None:
        from apscheduler.schedulers import SchedulerNotRunningError

        self._stop.set()
        scheduler = self._scheduler
        if scheduler is not None:
            try:
                scheduler.shutdown(wait=False)
            except SchedulerNotRunningError:
                pass


# Feature modules append their jobs here (one line each).
JOBS: list[JobSpec] = []
JOBS.append(JobSpec(id="retention", func="app.services.retention:retention_job", trigger="cron",
                    trigger_args={"hour": 2, "minute": 30}, description="Anonymise complaints closed > RETENTION_MONTHS"))
JOBS.append(JobSpec(id="siak_precheck", func="app.services.validation:precheck_job", trigger="interval",
                    trigger_args={"minutes": 1}, description="SIAK verdict for complaints awaiting the NIK check"))
JOBS.append(JobSpec(id="sla_sweep", func="app.services.sla:sweep", interval_setting="SWEEP_MINUTES",
                    trigger_args={"minutes": 5}, description="Flag overdue complaints; tell the Pimpinan"))
JOBS.append(JobSpec(id="sla_reminders", func="app.services.sla:send_reminders", interval_setting="SWEEP_MINUTES",
                    trigger_args={"minutes": 5}, description="Remind validators and OPDs at REMINDER_SHARE"))
JOBS.append(JobSpec(id="outbox_delivery", func="app.services.outbox:deliver_due", trigger_args={"minutes": 1},
                    description="Deliver due notices (SMTP, webhook)"))
JOBS.append(JobSpec(id="silence_close", func="app.services.citizen:silence_close_job", trigger="cron",
                    trigger_args={"minute": 5}, description="Close answers left silent SILENCE_CLOSE_DAYS working days"))
JOBS.append(JobSpec(id="routing_train", func="app.services.routing:routing_train_job", trigger="cron",
                    trigger_args={"hour": 1, "minute": 15}, description="Retrain the OPD-suggestion model"))
JOBS.append(JobSpec(id="routing_first", func="app.services.routing:first_model_job", trigger_args={"minutes": 60},
                    description="Store an OPD-suggestion model when none is stored (the web workers never train)"))
JOBS.append(JobSpec(id="lapor_pull", func="app.services.lapor:pull_job", interval_setting="LAPOR_PULL_MINUTES",
                    trigger_args={"minutes": 15}, description="Import the reports SP4N-LAPOR! disposed to the regency"))
JOBS.append(JobSpec(id="public_statistics", func="app.services.portal:statistics_job",
                    interval_setting="PUBLIC_STATISTICS_MINUTES", trigger_args={"minutes": 10},
                    description="Store the public statistics of the current year (the page reads them)"))
