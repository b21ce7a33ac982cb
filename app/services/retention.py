"""Retention (UU 27/2022 PDP: personal data kept no longer than needed).

Complaints closed longer than RETENTION_MONTHS ago lose the complainant's personal data: the name
becomes "Dihapus", the encrypted NIK and its keyed hash are overwritten (so the NIK cannot be found
again, not even by brute force over the hash), phone, e-mail and address are emptied, the files the
complainant uploaded are deleted from storage and their rows removed, and queued or sent notices
(which carry the e-mail address) are removed. Everything the statistics count stays: OPD, dates,
states, timeline, answers, validator decisions, the history log.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial

import sqlalchemy as sa
from dateutil.relativedelta import relativedelta
from sqlalchemy_continuum import version_class

from .. import audit
from ..crypto import drop_sealed
from ..extensions import db
from ..models import Attachment, Complaint, Outbox
from ..timeutil import utcnow
from .common import Actor, setting, unit_of_work
from .security import ERASED

log = logging.getLogger(__name__)

ERASED_NAME = "Dihapus"


@dataclass
class RetentionReport:
    cutoff: datetime
    anonymised: int = 0
    files_deleted: int = 0
    complaint_ids: list[int] = field(default_factory=list)


def cutoff(now: datetime | None = None) -> datetime:
    return (now or utcnow()) - relativedelta(months=setting("RETENTION_MONTHS"))


def _delete_file(stored_name: str) -> bool:
    """Remove one stored upload through the storage interface (local folder or object store)."""
    from ..storage import get_storage

    try:
        get_storage().delete(stored_name)
    except ValueError:  # a name the storage refuses was never written by it
        log.warning("retention: refusing to delete odd stored name %r", stored_name)
        return False
    except OSError as exc:  # the rows are already anonymised; the file is left for an operator
        log.warning("retention: could not delete %s: %s", stored_name, exc)
        return False
    return True


def run(now: datetime | None = None, batch_size: int = 200) -> RetentionReport:
    """Anonymise every due complaint, one transaction per batch. Idempotent: anonymised rows carry
    `anonymised_at` and are not selected again. The complainants' files are deleted after their batch
    has committed: a batch that rolls back keeps its rows and its files, and is done again next run."""
    now = now or utcnow()
    report = RetentionReport(cutoff=cutoff(now))
    while True:
        with unit_of_work() as unit:
            complaints = db.session.scalars(
                sa.select(Complaint).where(Complaint.closed_at.is_not(None), Complaint.closed_at < report.cutoff,
                                           Complaint.anonymised_at.is_(None))
                .order_by(Complaint.id).limit(batch_size)).all()
            doomed: list[str] = []
            for complaint in complaints:
                doomed += _anonymise(complaint, now)
                report.complaint_ids.append(complaint.id)
            report.anonymised += len(complaints)
            if complaints:
                audit.record("system", "retention.anonymise", actor=Actor.system(),
                             detail={"count": len(complaints), "cutoff": report.cutoff.isoformat(),
                                     "first_id": complaints[0].id, "last_id": complaints[-1].id})
            unit.after_commit(partial(_delete_files, doomed, report))
        if len(complaints) < batch_size:
            return report


def _delete_files(stored_names: list[str], report: RetentionReport) -> None:
    for name in stored_names:
        report.files_deleted += _delete_file(name)


def _anonymise(complaint: Complaint, now: datetime) -> list[str]:
    """Erase one complaint's personal data in the open transaction; returns the stored names of the
    complainant's files, to delete once it has committed."""
    complaint.name = ERASED_NAME
    complaint.nik_encrypted = ERASED
    complaint.nik_hash = ERASED
    complaint.phone = complaint.email = complaint.address = None
    complaint.anonymised_at = now
    # NIKs typed into the text were sealed at submission; erase them here and in the kept versions.
    complaint.text = drop_sealed(complaint.text)
    versions = version_class(Complaint)
    for version in db.session.scalars(sa.select(versions).where(versions.id == complaint.id)):
        if version.text:
            version.text = drop_sealed(version.text)
    names = []
    # The complainant's own files (an answer's files belong to the OPD and stay with the answer).
    for attachment in db.session.scalars(sa.select(Attachment).where(
            Attachment.complaint_id == complaint.id, Attachment.answer_id.is_(None))).all():
        names.append(attachment.stored_name)
        db.session.delete(attachment)
    db.session.execute(sa.delete(Outbox).where(Outbox.complaint_id == complaint.id))
    return names


def retention_job() -> None:
    """Scheduler entry (app/jobs.py JOBS id "retention")."""
    report = run()
    log.info("retention: %d complaint(s) anonymised, %d file(s) deleted (closed before %s)",
             report.anonymised, report.files_deleted, report.cutoff.isoformat())

