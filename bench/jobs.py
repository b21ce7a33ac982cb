"""The scheduler's heavy jobs on the bench's data (issue 13): the overdue sweep and retention, timed in
process through their own services (the jobs of app/jobs.py call exactly these).

- sweep, steady: a sweep right after another (nothing new to flag: the daily case, every SWEEP_MINUTES);
- sweep, catch-up: the flags of every complaint the sweep can still change cleared first, as after a long
  scheduler outage or a restore, then one sweep sets them all again (history rows and notices included);
- retention, one day due: `now` placed so that the complaints closed on the earliest closing day of the data
  are past RETENTION_MONTHS (what the nightly run meets: one day's closings);
- retention, nothing due: the same run again (the nightly cost when nothing is due).

The retention catch-up of a whole history (turning retention on over years of closed complaints) is
estimated from the measured rate, not run: at a million complaints it is hours of work by design (one
batch of 200 per transaction, so the desks never wait on it).

Each figure's target: the issue's "overdue sweep ≤ 2 s in every case"; retention has none (it runs at night).
"""

from __future__ import annotations

import time
from datetime import timedelta


def _timed(fn) -> tuple[float, object]:
    start = time.perf_counter()
    result = fn()
    return round(time.perf_counter() - start, 2), result


def measure_jobs(app) -> list[dict]:
    import sqlalchemy as sa
    from dateutil.relativedelta import relativedelta

    from app.extensions import db
    from app.models import Complaint
    from app.services import retention, sla, summary
    from app.services.common import setting
    from app.timeutil import utcnow

    rows: list[dict] = []
    with app.app_context():
        sla.sweep()  # whatever the generator left unflagged
        seconds, report = _timed(sla.sweep)
        rows.append({"name": "overdue sweep, steady", "seconds": seconds, "target_seconds": 2.0,
                     "flags": report.validation_overdue + report.answer_overdue})

        now = utcnow()
        since = now - sla.LOOKBACK
        cleared = 0
        for kind, flag in (("validation", Complaint.validation_overdue), ("answer", Complaint.answer_overdue)):
            ids = [r[0] for r in db.session.execute(
                sa.update(Complaint).where(flag.is_(True), sla.still_changing(kind, since)).values({flag: False})
                .returning(Complaint.id), execution_options={"synchronize_session": False})]
            summary.after_bulk(ids, **{flag.key: True})
            cleared += len(ids)
        db.session.commit()
        seconds, report = _timed(sla.sweep)
        rows.append({"name": "overdue sweep, catch-up", "seconds": seconds, "target_seconds": 2.0,
                     "flags": report.validation_overdue + report.answer_overdue, "cleared_first": cleared,
                     "notices": report.notices})

        first_closed = db.session.scalar(sa.select(sa.func.min(Complaint.closed_at))
                                         .where(Complaint.anonymised_at.is_(None)))
        if first_closed is None:
            return rows
        day_end = first_closed.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
        at = day_end + relativedelta(months=setting("RETENTION_MONTHS"))
        due_in_history = db.session.scalar(sa.select(sa.func.count()).select_from(Complaint).where(
            Complaint.closed_at < retention.cutoff(now),
            Complaint.anonymised_at.is_(None)))
        db.session.remove()
        seconds, report = _timed(lambda: retention.run(now=at))
        rate = report.anonymised / seconds if seconds else None
        rows.append({"name": "retention, one day due", "seconds": seconds, "target_seconds": None,
                     "anonymised": report.anonymised, "per_second": round(rate, 1) if rate else None,
                     "whole_history_due": due_in_history,
                     "whole_history_estimate_minutes": round(due_in_history / rate / 60, 1) if rate else None})
        db.session.remove()
        seconds, report = _timed(lambda: retention.run(now=at))
        rows.append({"name": "retention, nothing due", "seconds": seconds, "target_seconds": None,
                     "anonymised": report.anonymised})
        db.session.remove()
    return rows


def markdown(rows: list[dict]) -> list[str]:
    lines = ["", "| job | seconds | what it did | target | met? |", "|---|---|---|---|---|"]
    for row in rows:
        did = ", ".join(f"{k.replace('_', ' ')} {v:,}" if isinstance(v, int) else f"{k.replace('_', ' ')} {v}"
                        for k, v in row.items() if k not in ("name", "seconds", "target_seconds") and v is not None)
        target = row.get("target_seconds")
        met = "–" if target is None else ("yes" if row["seconds"] <= target else
                                          f"no ({row['seconds'] / target:.1f}× the target)")
        lines.append(f"| {row['name']} | {row['seconds']} | {did or '–'} | "
                     f"{'≤ %g s' % target if target else '–'} | {met} |")
    return lines
