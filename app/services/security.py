"""Sign-in hardening and NIK key rotation: the rules behind the security manager and the CLI.

Lockout: after LOGIN_MAX_FAILURES failed sign-ins in a row an account is locked for
LOGIN_LOCKOUT_MINUTES (timed unlock: nothing has to run, the time simply passes); Admin Sistem can
unlock earlier. Every lockout and unlock goes to the history log.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from .. import audit
from ..crypto import SEALED_NIK
from ..extensions import db
from ..models import Complaint, Staff
from ..timeutil import format_wib, utcnow
from .common import Actor, Invalid, NotFound, setting, unit_of_work

# What retention writes in place of an erased encrypted NIK and its hash (never a Fernet token).
ERASED = "dihapus"


def is_locked(user, now: datetime | None = None) -> bool:
    until = getattr(user, "locked_until", None)
    return until is not None and until > (now or utcnow())


def note_failure(user) -> bool:
    """Called after FAB has counted a failed sign-in (`fail_login_count`). Locks the account when the
    count reaches LOGIN_MAX_FAILURES; the count starts again so a timed unlock gives a fresh set of tries.
    Returns True when this failure locked the account."""
    limit = setting("LOGIN_MAX_FAILURES")
    if limit <= 0 or (user.fail_login_count or 0) < limit:
        return False
    now = utcnow()
    with unit_of_work():
        user.locked_until = now + timedelta(minutes=setting("LOGIN_LOCKOUT_MINUTES"))
        failures, user.fail_login_count = user.fail_login_count, 0
        audit.record("auth", "lockout", actor=Actor.from_user(user),
                     detail={"failures": failures, "locked_until": format_wib(user.locked_until)})
    return True


def note_locked_attempt(user) -> None:
    """A sign-in attempt on a locked account: refused without checking the password, and logged."""
    with unit_of_work():
        audit.record("auth", "login.locked", actor=Actor.from_user(user),
                     detail={"locked_until": format_wib(user.locked_until)})


def unlock(user_ids, actor: Actor) -> int:
    """Admin unlock: clears the lock and the failure count. Returns how many accounts were locked."""
    ids = [int(i) for i in user_ids]
    if not ids:
        raise Invalid("Pilih akun yang akan dibuka kuncinya.")
    now = utcnow()
    unlocked = 0
    with unit_of_work():
        users = db.session.scalars(sa.select(Staff).where(Staff.id.in_(ids))).all()
        if not users:
            raise NotFound("Akun tidak ditemukan.")
        for user in users:
            was_locked = is_locked(user, now)
            user.locked_until = None
            user.fail_login_count = 0
            unlocked += was_locked
            audit.record("auth", "unlock", actor=actor,
                         detail={"user_id": user.id, "username": user.username, "was_locked": was_locked})
    return unlocked


@dataclass
class RotationReport:
    rotated: int = 0
    current: int = 0  # already encrypted with the primary key
    erased: int = 0  # anonymised by retention: nothing to re-encrypt
    failed: int = 0  # not decryptable with any configured key (listed by id)
    failed_ids: list[int] | None = None


def rotate_nik_key(batch_size: int = 500) -> RotationReport:
    """Re-encrypt every complaint's NIK with the primary NIK_ENCRYPTION_KEY (old keys in
    NIK_ENCRYPTION_OLD_KEYS). One transaction per batch, walking by id: safe to stop and re-run, and a
    second run changes nothing."""
    from .complaints import cipher

    crypt = cipher()
    report = RotationReport(failed_ids=[])
    last_id = 0
    while True:
        with unit_of_work():
            rows = db.session.execute(
                sa.select(Complaint.id, Complaint.nik_encrypted, Complaint.text).where(Complaint.id > last_id)
                .order_by(Complaint.id).limit(batch_size)).all()
            for complaint_id, token, text in rows:
                if SEALED_NIK.search(text or ""):
                    # NIKs the complainant typed into the text are sealed with the same key.
                    try:
                        new_text = crypt.rotate_sealed(text)
                    except ValueError:
                        new_text = text
                    if new_text != text:
                        db.session.execute(sa.update(Complaint).where(Complaint.id == complaint_id)
                                           .values(text=new_text).execution_options(synchronize_session=False))
                if token == ERASED:
                    report.erased += 1
                elif not crypt.needs_rotation(token):
                    report.current += 1
                else:
                    try:
                        new_token = crypt.rotate(token)
                    except ValueError:
                        report.failed += 1
                        report.failed_ids.append(complaint_id)
                        continue
                    # A Core UPDATE: the version counter of an open complaint must not move for this.
                    db.session.execute(sa.update(Complaint).where(Complaint.id == complaint_id)
                                       .values(nik_encrypted=new_token)
                                       .execution_options(synchronize_session=False))
                    report.rotated += 1
            if rows:
                last_id = rows[-1][0]
            else:
                audit.record("system", "nik.rotate_key", actor=Actor.system(),
                             detail={"rotated": report.rotated, "current": report.current,
                                     "erased": report.erased, "failed": report.failed})
        if not rows:
            return report
