"""When a staff session or API token stops working (issue 11, item 8).

Sessions live in signed cookies (no server-side store, DESIGN "web nodes are stateless"), so a cookie
cannot be deleted on the server. Instead every session and every API token carries three things from
its sign-in, and each request checks them against the account:

- the account's `session_version`. Sign-out, a password change and deactivation raise it, which ends
  every session and token of the account at its next request (a copied cookie included). Sign-out
  therefore signs the account out on every device.
- the client address it signed in from, and when. A lockout of that address for the account (see
  services/security.py) ends the sessions opened from that address before the lockout; sessions from
  other addresses go on, so a stranger's failures cannot throw a validator out.

A change of your own password keeps the session it was made in (the others end).
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask import has_request_context, request, session
from sqlalchemy import event
from sqlalchemy.orm import Session

from .. import audit
from ..extensions import db
from ..models import SignInThrottle, Staff
from ..timeutil import utcnow
from .common import Actor, unit_of_work

# Keys this module adds to the session cookie and to the API tokens' claims.
VERSION, ADDRESS, SIGNED_IN_AT = "_sv", "_sip", "_sat"
# Flask-Login's own keys, dropped together with ours when a session is found to be over.
_LOGIN_KEYS = ("_user_id", "_fresh", "_id", "_remember", "_remember_seconds")


def _epoch(value: datetime) -> float:
    return (value - datetime(1970, 1, 1)).total_seconds()


def _address() -> str | None:
    return audit.client_ip() if has_request_context() else None


def _credentials(user) -> dict:
    return {VERSION: int(user.session_version or 0), ADDRESS: _address(), SIGNED_IN_AT: _epoch(utcnow())}


def stamp_session(_app, user, **_extra) -> None:
    """Receiver of Flask-Login's `user_logged_in`: what this session's requests are checked against."""
    session.update(_credentials(user))


def is_current(user, version, address, signed_in_at) -> bool:
    """Whether a session or token with these credentials still belongs to a signed-in account."""
    if user is None or not getattr(user, "is_active", False):
        return False
    try:
        if version is None or int(version) != int(user.session_version or 0):
            return False
        signed_in_at = float(signed_in_at) if signed_in_at is not None else None
    except (TypeError, ValueError):
        return False
    if address and user.last_lockout_at is not None and \
            (signed_in_at is None or _epoch(user.last_lockout_at) >= signed_in_at):
        # Some address was locked out of this account after this sign-in: was it this one?
        row = db.session.get(SignInThrottle, (user.id, address))
        if row is not None and row.locked_at is not None and \
                (signed_in_at is None or _epoch(row.locked_at) >= signed_in_at):
            return False
    return True


def session_user(user):
    """The user of the current session cookie, or None when that session is over (its keys are then
    removed from the cookie)."""
    if user is not None and is_current(user, session.get(VERSION), session.get(ADDRESS),
                                       session.get(SIGNED_IN_AT)):
        return user
    for key in (*_LOGIN_KEYS, VERSION, ADDRESS, SIGNED_IN_AT):
        session.pop(key, None)
    return None


def keep_current_session(user_id: int) -> None:
    """After the signed-in user changed their own password: this session stays, the others end."""
    if not has_request_context() or str(session.get("_user_id")) != str(user_id):
        return
    version = db.session.scalar(sa.select(Staff.session_version).where(Staff.id == int(user_id)))
    session[VERSION] = int(version or 0)


def sign_out(user) -> None:
    """Sign-out: every session and token of the account ends, and the history log says so."""
    with unit_of_work():
        _raise_version(user.id)
        audit.record("auth", "logout", actor=Actor.from_user(user))
    for key in (VERSION, ADDRESS, SIGNED_IN_AT):
        session.pop(key, None)


def _raise_version(user_id: int) -> None:
    db.session.execute(sa.update(Staff).where(Staff.id == user_id)
                       .values(session_version=Staff.session_version + 1)
                       .execution_options(synchronize_session=False))


# --------------------------------------------------------------------------- API tokens (JWT)


def token_claims(identity) -> dict:
    """Flask-JWT-Extended's additional claims: the same credentials as a session. A token made by
    the refresh endpoint keeps those of the refresh token it came from."""
    if has_request_context() and request.endpoint == "SecurityApi.refresh":
        from flask_jwt_extended import get_jwt

        current = get_jwt()
        return {key: current.get(key) for key in (VERSION, ADDRESS, SIGNED_IN_AT)}
    try:
        user = db.session.get(Staff, int(identity))
    except (TypeError, ValueError):
        user = None
    return _credentials(user) if user is not None else {}


def token_revoked(_header: dict, payload: dict) -> bool:
    """Flask-JWT-Extended's blocklist check, for access and refresh tokens alike."""
    try:
        user = db.session.get(Staff, int(payload.get("sub")))
    except (TypeError, ValueError):
        return True
    return not is_current(user, payload.get(VERSION), payload.get(ADDRESS), payload.get(SIGNED_IN_AT))


# --------------------------------------------------------------------------- account changes


def _ends_sessions(obj) -> bool:
    state = sa.inspect(obj)
    if state.attrs.password.history.has_changes():
        return True
    added = state.attrs.active.history.added
    return bool(added) and not added[0]


def _before_flush(db_session: Session, _flush_context, _instances) -> None:
    """A password change or a deactivation, whichever screen, API or command made it, ends the
    account's sessions in the same transaction."""
    for obj in db_session.dirty:
        if isinstance(obj, Staff) and _ends_sessions(obj):
            obj.session_version = Staff.session_version + 1  # evaluated by the UPDATE itself


def _install_listener() -> None:
    if not event.contains(Session, "before_flush", _before_flush):
        event.listen(Session, "before_flush", _before_flush)


_install_listener()
