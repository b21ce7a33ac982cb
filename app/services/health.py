"""The health of one web node and of what it depends on: read by `/health` (the proxy, monitoring) and by
the Admin Sistem page "Kesehatan sistem". Cheap (a handful of indexed queries, one Redis PING with a
one-second timeout, one statfs) and free of personal data: only counts, ages and sizes.

Healthy means every check passes:
- database: `SELECT 1` answers;
- redis (only when RATELIMIT_STORAGE_URI is a Redis address): PING answers;
- scheduler: the leader's heartbeat is at most HEALTH_SCHEDULER_MAX_SECONDS old (0 = not checked);
- outbox: no due notice has waited longer than HEALTH_OUTBOX_MAX_MINUTES (0 = not checked);
- disk: the attachment store's file system has at least HEALTH_DISK_MIN_MB free.
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask import current_app

from ..extensions import db, limiter
from ..models import Outbox, SchedulerHeartbeat
from ..timeutil import utcnow

log = logging.getLogger(__name__)

LEADER = "leader"


@dataclass
class Check:
    name: str
    ok: bool
    figures: dict[str, Any] = field(default_factory=dict)


@dataclass
class Health:
    checks: list[Check]
    at: datetime

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    def as_json(self) -> dict[str, Any]:
        # "database" and "dialect" at the top as before this page grew (monitoring already reads them).
        database = next(c for c in self.checks if c.name == "database")
        return {"status": "ok" if self.ok else "degraded", "database": "ok" if database.ok else "error",
                "dialect": database.figures["dialect"],
                "checks": {c.name: {"ok": c.ok, **c.figures} for c in self.checks}}


def _database() -> Check:
    try:
        db.session.execute(sa.text("SELECT 1"))
        return Check("database", True, {"dialect": db.engine.dialect.name})
    except Exception as exc:  # the probe must answer even when the database is down
        log.warning("health: database unreachable: %s", exc.__class__.__name__)
        db.session.rollback()
        return Check("database", False, {"dialect": db.engine.dialect.name, "error": exc.__class__.__name__})


def _redis(uri: str) -> Check | None:
    scheme = uri.split("://", 1)[0].lower()
    if not scheme.startswith("redis"):
        return None  # memory:// — one process's counters, nothing to reach
    try:
        if scheme in {"redis", "rediss", "redis+unix"}:
            import redis

            url = "unix://" + uri.split("://", 1)[1] if scheme == "redis+unix" else uri
            client = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
            try:
                ok = bool(client.ping())
            finally:
                client.close()
        else:  # sentinel, cluster: the limiter's own storage knows how to reach them
            ok = bool(limiter.storage.check())
    except Exception as exc:  # noqa: BLE001 - unreachable is an answer, not an error
        log.warning("health: redis unreachable: %s", exc.__class__.__name__)
        return Check("redis", False, {"error": exc.__class__.__name__})
    return Check("redis", ok)


def _scheduler(now: datetime, max_seconds: int) -> Check:
    try:
        beat = db.session.get(SchedulerHeartbeat, LEADER)
    except Exception as exc:  # noqa: BLE001 - reported by the database check
        db.session.rollback()
        return Check("scheduler", max_seconds == 0, {"heartbeat_age_seconds": None, "error": exc.__class__.__name__})
    age = None if beat is None else max(0, int((now - beat.beat_at).total_seconds()))
    ok = max_seconds == 0 or (age is not None and age <= max_seconds)
    return Check("scheduler", ok, {"heartbeat_age_seconds": age, "max_seconds": max_seconds or None})


def _outbox(now: datetime, max_minutes: int) -> Check:
    try:
        pending, oldest = db.session.execute(
            sa.select(sa.func.count(), sa.func.min(Outbox.next_attempt_at))
            .where(Outbox.status == "pending", Outbox.next_attempt_at <= now)).one()
        dead = db.session.scalar(sa.select(sa.func.count()).select_from(Outbox).where(Outbox.status == "dead"))
    except Exception as exc:  # noqa: BLE001
        db.session.rollback()
        return Check("outbox", max_minutes == 0, {"error": exc.__class__.__name__})
    waited = None if oldest is None else max(0, int((now - oldest).total_seconds() // 60))
    ok = max_minutes == 0 or waited is None or waited <= max_minutes
    return Check("outbox", ok, {"due": int(pending), "oldest_due_minutes": waited, "dead": int(dead or 0),
                                "max_minutes": max_minutes or None})


def _disk(path: str, min_mb: int) -> Check:
    probe = path
    while probe and not os.path.exists(probe):  # the store may not exist before the first upload
        parent = os.path.dirname(probe)
        probe = parent if parent != probe else ""
    try:
        usage = shutil.disk_usage(probe or "/")
    except OSError as exc:
        return Check("disk", False, {"error": exc.__class__.__name__})
    free_mb = usage.free // (1024 * 1024)
    return Check("disk", free_mb >= min_mb, {"free_mb": int(free_mb), "total_mb": int(usage.total // (1024 * 1024)),
                                             "min_mb": min_mb})


def check() -> Health:
    config = current_app.config
    now = utcnow()
    checks = [_database()]
    redis_check = _redis(str(config["RATELIMIT_STORAGE_URI"]))
    if redis_check is not None:
        checks.append(redis_check)
    checks += [_scheduler(now, int(config["HEALTH_SCHEDULER_MAX_SECONDS"])),
               _outbox(now, int(config["HEALTH_OUTBOX_MAX_MINUTES"])),
               _disk(str(config["UPLOAD_DIR"]), int(config["HEALTH_DISK_MIN_MB"]))]
    return Health(checks, now)


def beat(name: str = LEADER) -> None:
    """The scheduler's heartbeat: one row, upserted (called while it holds the leader lock)."""
    from .common import unit_of_work

    with unit_of_work():
        row = db.session.get(SchedulerHeartbeat, name)
        if row is None:
            row = SchedulerHeartbeat(name=name)
            db.session.add(row)
        row.beat_at, row.host, row.pid = utcnow(), socket.gethostname()[:128], os.getpid()
