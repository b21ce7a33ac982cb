"""Sign-in hardening and NIK key rotation: the rules behind the security manager and the CLI.

Lockout per account AND client address (issue 11, item 9): after LOGIN_MAX_FAILURES failed sign-ins
in a row from one address, that address is refused for the account for LOGIN_LOCKOUT_MINUTES (timed:
nothing has to run, the time simply passes). Other addresses are not affected, so nobody on the
internet can lock a validator out by typing the username. When an account sees failures from
LOGIN_ALERT_ADDRESSES or more addresses within LOGIN_ALERT_MINUTES, the history log gets a
`login.attack` row and every Admin Sistem account an e-mail, once per episode. Admin Sistem can unlock
earlier; every lockout and unlock goes to the history log.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import has_request_context

from .. import audit, notify
from ..crypto import SEALED_NIK
from ..extensions import db
from ..models import Complaint, SignInThrottle, Staff
from ..timeutil import format_wib, utcnow
from ..workflow import Role
from .common import Actor, Invalid, NotFound, setting, unit_of_work

# What retention writes in place of an erased encrypted NIK and its hash (never a Fernet token).
ERASED = "dihapus"
NO_ADDRESS = "-"  # sign-ins outside a request (none today) share one row


def _address() -> str:
    return (audit.client_ip() if has_request_context() else None) or NO_ADDRESS


def _throttle(user, address: str) -> SignInThrottle | None:
    return db.session.get(SignInThrottle, (user.id, address))


def is_locked(user, address: str | None = None, now: datetime | None = None) -> bool:
    """Whether sign-ins to `user` from `address` (default: this request's client) are refused now."""
    row = _throttle(user, address or _address())
    return row is not None and row.locked_until is not None and row.locked_until > (now or utcnow())


def _keep_for() -> timedelta:
    """How long a pair's row outlives its last event: the lockout, the attack window, and the lifetime
    of the sessions and API tokens a lockout may have to end (services/sessions.py reads `locked_at`)."""
    times = [timedelta(minutes=setting("LOGIN_LOCKOUT_MINUTES")), timedelta(minutes=setting("LOGIN_ALERT_MINUTES")),
             setting("PERMANENT_SESSION_LIFETIME"), setting("JWT_REFRESH_TOKEN_EXPIRES")]
    return max(t if isinstance(t, timedelta) else timedelta(seconds=int(t)) for t in times)


def _locked_row(user, address: str) -> SignInThrottle:
    """The pair's row, created if needed and locked for this transaction (PostgreSQL), so concurrent
    failures count one by one."""
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    db.session.execute(insert(SignInThrottle).values(user_id=user.id, ip=address, failures=0)
                       .on_conflict_do_nothing())
    return db.session.get(SignInThrottle, (user.id, address), with_for_update=True, populate_existing=True)


def note_failure(user) -> bool:
    """Called after FAB has counted a failed sign-in. Counts it for this account and address and locks
    the pair at LOGIN_MAX_FAILURES; the count starts again after a lockout, and failures further apart
    than the lockout time do not add up. Returns True when this failure locked the pair."""
    now, address = utcnow(), _address()
    window = timedelta(minutes=setting("LOGIN_LOCKOUT_MINUTES"))
    locked = False
    with unit_of_work():
        row = _locked_row(user, address)
        if row.last_failure_at is None or row.last_failure_at < now - window:
            row.failures = 0
        row.failures += 1
        row.last_failure_at = now
        if row.failures >= setting("LOGIN_MAX_FAILURES"):
            failures, row.failures = row.failures, 0
            row.locked_at, row.locked_until = now, now + window
            user.last_lockout_at = now
            audit.record("auth", "lockout", actor=Actor.from_user(user),
                         detail={"failures": failures, "ip_address": address,
                                 "locked_until": format_wib(row.locked_until)})
            locked = True
        _watch_for_attack(user, now)
        cutoff = now - _keep_for()
        db.session.execute(sa.delete(SignInThrottle).where(
            SignInThrottle.user_id == user.id,
            sa.or_(SignInThrottle.last_failure_at.is_(None), SignInThrottle.last_failure_at < cutoff),
            sa.or_(SignInThrottle.locked_at.is_(None), SignInThrottle.locked_at < cutoff))
            .execution_options(synchronize_session=False))
    return locked


def _watch_for_attack(user, now: datetime) -> None:
    """Failures from many addresses: one history row and one notice to each Admin Sistem per episode.
    An episode lasts while such failures go on and ends LOGIN_ALERT_MINUTES after the last one."""
    since = now - timedelta(minutes=setting("LOGIN_ALERT_MINUTES"))
    addresses = db.session.scalar(sa.select(sa.func.count()).select_from(SignInThrottle).where(
        SignInThrottle.user_id == user.id, SignInThrottle.last_failure_at >= since))
    if addresses < setting("LOGIN_ALERT_ADDRESSES"):
        return
    ongoing = user.attack_seen_at is not None and user.attack_seen_at >= since
    user.attack_seen_at = now
    if ongoing:
        return
    audit.record("auth", "login.attack", actor=Actor.from_user(user),
                 detail={"addresses": addresses, "minutes": setting("LOGIN_ALERT_MINUTES")})
    from .accounts import staff_with_role

    context = {"username": user.username, "addresses": addresses, "minutes": setting("LOGIN_ALERT_MINUTES"),
               "since": format_wib(since), "limit": setting("LOGIN_MAX_FAILURES"),
               "lockout": setting("LOGIN_LOCKOUT_MINUTES"),
               "history_url": setting("PUBLIC_BASE_URL").rstrip("/") + "/riwayat/"}
    stamp = now.strftime("%Y%m%d%H%M%S")
    notify.queue_many(notify.Notice("email", email, "sign_in_attack", context,
                                    f"auth:attack:u{user.id}:{stamp}:a{uid}",
                                    locale=setting("BABEL_DEFAULT_LOCALE") or "id")
                      for uid, email in staff_with_role(Role.ADMIN_SISTEM))


def note_locked_attempt(user) -> None:
    """A sign-in attempt from a locked-out address: refused without checking the password, and logged."""
    row = _throttle(user, _address())
    with unit_of_work():
        audit.record("auth", "login.locked", actor=Actor.from_user(user),
                     detail={"locked_until": format_wib(row.locked_until if row else None)})


def unlock(user_ids, actor: Actor) -> int:
    """Admin unlock: lifts the lockouts of every address and clears the failure counts. Returns how
    many of the accounts had an address locked out."""
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
            locked = db.session.scalars(sa.select(SignInThrottle.ip).where(
                SignInThrottle.user_id == user.id, SignInThrottle.locked_until > now)).all()
            # `locked_at` stays: the sessions the lockout ended stay ended.
            db.session.execute(sa.update(SignInThrottle).where(SignInThrottle.user_id == user.id)
                               .values(failures=0, locked_until=None).execution_options(synchronize_session=False))
            user.fail_login_count = 0
            unlocked += bool(locked)
            audit.record("auth", "unlock", actor=actor,
                         detail={"user_id": user.id, "username": user.username, "was_locked": bool(locked),
                                 "addresses": sorted(locked)})
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
