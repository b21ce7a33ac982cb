"""The SP4N-LAPOR! bridge's use cases: pull the reports LAPOR! disposed to the regency into the ordinary
workflow, and what Admin Sistem sees of it. Pushing follow-ups back is the outbox's job (channel "lapor":
services.complaints queues them with the answer and the "bukan wewenang" return; services.outbox delivers).

An imported report goes through `complaints.submit`, the public form's own service: the same input
boundary, structural NIK check, duplicate rule, transaction, timeline and notices; it enters the NIK queue
with channel "lapor". Its `LaporImport` row is written in that same transaction (`within`), and LAPOR!'s
tracking ID is unique there, so importing twice creates nothing, and a report that is refused leaves no
complaint, only a `refused` row naming what was wrong (never the values) and one history row.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from .. import audit, lapor
from ..extensions import db
from ..models import AuditLog, LaporImport, Outbox
from ..timeutil import utcnow
from ..workflow import Channel, Role
from .common import Actor, Forbidden, ServiceError, unit_of_work
from .complaints import SubmitInput, submit

log = logging.getLogger(__name__)

PULL_OK, PULL_FAILED, REFUSED = "lapor.pull", "lapor.pull_failed", "lapor.import_refused"


@dataclass(frozen=True)
class PullReport:
    imported: int = 0
    already: int = 0  # seen before and imported: nothing done
    refused: int = 0
    error: str | None = None  # the list itself could not be read: nothing was imported

    def __str__(self) -> str:
        if self.error:
            return f"LAPOR! pull failed: {self.error}"
        return f"imported={self.imported} already={self.already} refused={self.refused}"


def build_adapter() -> lapor.LaporAdapter:
    return lapor.build_adapter(current_app.config)


def enabled() -> bool:
    return current_app.config.get("LAPOR_MODE", "off") != "off"


def pull(adapter: lapor.LaporAdapter | None = None) -> PullReport:
    """The scheduled job: take every report LAPOR! disposed to the regency in the last LAPOR_LOOKBACK_DAYS
    (idempotent, so the overlap between runs is harmless). Each report is its own transaction."""
    if adapter is None:
        if not enabled():
            return PullReport()
        adapter = build_adapter()
    since = utcnow() - timedelta(days=current_app.config["LAPOR_LOOKBACK_DAYS"])
    result = adapter.list_disposed(since)
    if result.error:
        log.warning("LAPOR! pull failed after %d attempt(s): %s", result.attempts, result.error)
        with unit_of_work():
            audit.record("system", PULL_FAILED, actor=Actor.system(),
                         detail={"error": result.error, "attempts": result.attempts})
        return PullReport(error=result.error)
    imported = already = refused = 0
    for record in result.records:
        outcome = take(record)
        imported += outcome == "imported"
        already += outcome == "already"
        refused += outcome == "refused"
    report = PullReport(imported, already, refused)
    with unit_of_work():
        audit.record("system", PULL_OK, actor=Actor.system(),
                     detail={"received": len(result.records), "imported": imported, "refused": refused})
    log.info("LAPOR! pull: %s", report)
    return report


def take(record) -> str:
    """One raw LAPOR! record: "imported", "already" (imported before) or "refused"."""
    try:
        report = lapor.parse_report(record)
    except lapor.MalformedReport as exc:
        _refuse(exc.lapor_id, exc.problems)
        return "refused"
    known = db.session.scalar(sa.select(LaporImport.status).where(LaporImport.lapor_id == report.lapor_id))
    db.session.rollback()  # a read only: no transaction stays open into the submission
    if known == "imported":
        return "already"
    config = current_app.config
    opd_code = report.opd_code if report.opd_code and _active_opd(report.opd_code) else config["LAPOR_DEFAULT_OPD"]
    data = SubmitInput(name=report.name, nik=report.nik, phone=report.phone or "", opd_code=opd_code,
                       title=report.title, text=report.text, visibility=report.visibility, email=report.email,
                       address=report.address, location=report.location,
                       consent=True,  # given to LAPOR! when reporting; LAPOR! disposed it to the regency
                       channel=Channel.LAPOR.value)
    now = utcnow()

    def link(complaint) -> None:
        row = db.session.scalar(sa.select(LaporImport).where(LaporImport.lapor_id == report.lapor_id))
        if row is None:
            row = LaporImport(lapor_id=report.lapor_id, first_seen_at=now)
            db.session.add(row)
        row.complaint_id, row.status, row.problem = complaint.id, "imported", None
        row.last_seen_at = row.imported_at = now

    try:
        submit(data, Actor.system(), within=link)
    except ServiceError as exc:
        problems = dict(exc.errors) or {"laporan": exc.message}
        _refuse(report.lapor_id, problems)
        return "refused"
    except sa.exc.IntegrityError:
        # Another run imported the same tracking ID at the same moment: the unique key kept one.
        db.session.rollback()
        return "already"
    return "imported"


def _active_opd(code: str) -> bool:
    from ..models import Opd

    found = db.session.scalar(sa.select(Opd.id).where(Opd.code == code, Opd.active.is_(True)))
    db.session.rollback()
    return found is not None


def _refuse(lapor_id: str | None, problems: dict[str, str]) -> None:
    """Keep the refusal (once per tracking ID and problem) and log it; never the values."""
    problem = "; ".join(f"{k}: {v}" for k, v in sorted(problems.items()))[:500] or "tidak dapat dibaca"
    log.warning("LAPOR! report %s refused: %s", lapor_id or "(tanpa tracking ID)", problem)
    now = utcnow()
    with unit_of_work():
        row = None
        if lapor_id is not None:
            row = db.session.scalar(sa.select(LaporImport).where(LaporImport.lapor_id == lapor_id))
            if row is not None and row.status == "imported":
                return
        if row is not None and row.problem == problem:
            row.last_seen_at = now  # the same refusal again: no new history row
            return
        if lapor_id is not None:
            if row is None:
                row = LaporImport(lapor_id=lapor_id, first_seen_at=now)
                db.session.add(row)
            row.status, row.problem, row.last_seen_at, row.complaint_id = "refused", problem, now, None
        audit.record("system", REFUSED, actor=Actor.system(),
                     detail={"lapor_id": lapor_id, "fields": sorted(problems), "problem": problem})


# --------------------------------------------------------------------------- what Admin Sistem sees


@dataclass(frozen=True)
class PullRun:
    at: datetime
    ok: bool
    detail: str


@dataclass(frozen=True)
class Refused:
    lapor_id: str
    first_seen_at: datetime
    last_seen_at: datetime
    problem: str


@dataclass(frozen=True)
class Status:
    mode: str
    default_opd: str | None
    last_ok: PullRun | None
    last_failure: PullRun | None
    refused: list[Refused]
    refused_total: int
    imported_total: int
    pending: int
    dead: int

    @property
    def failing(self) -> bool:
        """The newest pull failed, or a follow-up is dead: what the outbox screen flags."""
        newest_failed = self.last_failure is not None and (self.last_ok is None or self.last_failure.at > self.last_ok.at)
        return newest_failed or self.dead > 0


def _last(action: str) -> PullRun | None:
    row = db.session.scalar(sa.select(AuditLog).where(AuditLog.action == action)
                            .order_by(AuditLog.at.desc(), AuditLog.id.desc()).limit(1))
    if row is None:
        return None
    import json

    detail = json.loads(row.detail or "{}")
    text = detail.get("error") if action == PULL_FAILED else (
        f"{detail.get('received', 0)} diterima, {detail.get('imported', 0)} diimpor, {detail.get('refused', 0)} ditolak")
    return PullRun(row.at, action == PULL_OK, str(text or ""))


def status(actor: Actor, limit: int = 20) -> Status:
    """The bridge's state for the outbox screen: last pulls, refused reports, follow-ups waiting or dead."""
    if not actor.has(Role.ADMIN_SISTEM):
        raise Forbidden("Hanya Admin Sistem yang dapat melihat status jembatan LAPOR!.")
    counts = dict(db.session.execute(sa.select(LaporImport.status, sa.func.count()).group_by(LaporImport.status))
                  .tuples().all())
    outbox = dict(db.session.execute(sa.select(Outbox.status, sa.func.count()).where(Outbox.channel == "lapor")
                                     .group_by(Outbox.status)).tuples().all())
    refused = [Refused(r.lapor_id, r.first_seen_at, r.last_seen_at, r.problem or "") for r in db.session.scalars(
        sa.select(LaporImport).where(LaporImport.status == "refused")
        .order_by(LaporImport.last_seen_at.desc(), LaporImport.id.desc()).limit(limit))]
    config = current_app.config
    return Status(mode=config.get("LAPOR_MODE", "off"), default_opd=config.get("LAPOR_DEFAULT_OPD"),
                  last_ok=_last(PULL_OK), last_failure=_last(PULL_FAILED), refused=refused,
                  refused_total=counts.get("refused", 0), imported_total=counts.get("imported", 0),
                  pending=outbox.get("pending", 0), dead=outbox.get("dead", 0))


def pull_job() -> PullReport:
    """Scheduler entry (app/jobs.py)."""
    return pull()
