"""The public version: one token in the shared cache (app.extensions.cache) that changes whenever a commit
changes what an anonymous page may show. The rendered public pages and their ETags are keyed on it
(app/pagecache.py), so a published answer, a returned complaint or a renamed OPD shows at once.

The token changes after the commit, here, for every service at once: a session listener notes a flush or
a bulk UPDATE/DELETE that touched a complaint, its answers, its status events or an OPD, and `after_commit`
replaces the token (a rollback forgets the note). Nothing per user is ever keyed on it: the pages cached
are the anonymous ones only (the list, a published complaint, the statistics, the home page).
"""

from __future__ import annotations

import logging
import secrets

from flask import current_app, has_app_context
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session

from ..extensions import cache
from ..models import Answer, Complaint, Opd, StatusEvent

log = logging.getLogger(__name__)

VERSION_KEY = "public-version"
_WATCHED = (Complaint, Answer, StatusEvent, Opd)
_WATCHED_TABLES = {m.__table__.name for m in _WATCHED}
_FLAG = "public_changed"
# What an anonymous page shows of a complaint (services.portal, disclosure's public view): a change to
# any other column (the PIN hash, SIAK's verdict, a reminder time, a claim) leaves the pages as they are,
# so a submission or a tracking visit does not empty the cache.
PUBLIC_COLUMNS = frozenset({"ticket", "name", "opd_id", "public_title", "public_text", "visibility", "state",
                            "submitted_at", "validation_deadline", "validated_at", "answer_deadline",
                            "answered_at", "closed_at", "published_at", "anonymised_at"})
# Steps of a complaint not yet published (or hidden from the public timeline).
_UNPUBLISHED_STEPS = frozenset({"submit", "claim"})


def version() -> str | None:
    """The current token (made on first use); None when the cache cannot be reached (the caller then
    renders without caching rather than fail)."""
    try:
        value = cache.get(VERSION_KEY)
        if value is None:
            value = secrets.token_hex(8)
            cache.add(VERSION_KEY, value, timeout=0)  # another process may have set it first
            value = cache.get(VERSION_KEY) or value
        return str(value)
    except Exception:  # noqa: BLE001 - Redis down: pages are rendered, not cached
        log.warning("public cache unreachable; pages rendered without it", exc_info=True)
        return None


def bump() -> None:
    """A new token: every cached public page and ETag is out of date from now on."""
    if not has_app_context() or "cache" not in current_app.extensions:
        return
    try:
        cache.set(VERSION_KEY, secrets.token_hex(8), timeout=0)
    except Exception:  # noqa: BLE001 - the entries still expire after PUBLIC_PAGE_CACHE_SECONDS
        log.warning("public cache unreachable; version not bumped", exc_info=True)


def _public_change(obj, new: bool) -> bool:
    if isinstance(obj, Complaint):
        if new:
            return obj.published_at is not None
        state = sa.inspect(obj)
        return any(state.attrs[key].history.has_changes() for key in PUBLIC_COLUMNS)
    if isinstance(obj, StatusEvent):
        return obj.action not in _UNPUBLISHED_STEPS
    return isinstance(obj, (Answer, Opd))


@event.listens_for(Session, "before_flush")
def _note_flush(session, _flush_context, _instances) -> None:
    # Before the flush: afterwards the attributes' history is gone.
    if session.info.get(_FLAG):
        return
    if (any(_public_change(o, True) for o in session.new)
            or any(_public_change(o, False) for o in session.dirty)
            or any(isinstance(o, _WATCHED) for o in session.deleted)):
        session.info[_FLAG] = True


@event.listens_for(Session, "do_orm_execute")
def _note_bulk(state) -> None:
    if not (state.is_update or state.is_delete or state.is_insert):
        return
    table = getattr(state.statement, "table", None)
    name = getattr(table, "name", None)
    if name not in _WATCHED_TABLES:
        return
    if state.is_update and name == Complaint.__tablename__:
        values = getattr(state.statement, "_values", None) or {}
        keys = {getattr(k, "key", str(k)) for k in values}
        if keys and not keys & PUBLIC_COLUMNS:
            return
    state.session.info[_FLAG] = True


@event.listens_for(Session, "after_commit")
def _bump_after_commit(session) -> None:
    if session.info.pop(_FLAG, False):
        bump()


@event.listens_for(Session, "after_rollback")
def _forget(session) -> None:
    session.info.pop(_FLAG, None)
