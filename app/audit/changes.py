"""Account and setting changes recorded as diffs in the same transaction (see the package docstring)."""

from __future__ import annotations

import json
import logging
from typing import Any

import sqlalchemy as sa
from flask import has_app_context, has_request_context, request
from sqlalchemy import event
from sqlalchemy.orm import Session

from ..models import AuditLog, NonWorkingDay, Opd, Staff
from ..timeutil import utcnow

from . import _state, client_ip, record, request_actor  # noqa: F401

log = logging.getLogger(__name__)

# --------------------------------------------------------------------------- account and setting diffs

# model → (prefix, columns never logged or not worth a row, summary actions that already cover a create)
_IGNORED = {"changed_on", "changed_by_fk", "created_on", "created_by_fk", "last_login", "login_count",
            "fail_login_count", "session_version", "last_lockout_at",
            "attack_seen_at"}  # sign-in bookkeeping; sign-out, lockout and attacks are logged on their own
_SECRET = {"password"}


def _tracked(obj) -> tuple[str, str, set[str]] | None:
    from flask_appbuilder.security.sqla.models import Role as FabRole

    if isinstance(obj, Staff):
        return "user", "user", {"user.create"}
    if isinstance(obj, FabRole):
        return "role", "role", {"roles.sync"}
    if isinstance(obj, Opd):
        return "opd", "opd", {"opd.import"}
    if isinstance(obj, NonWorkingDay):
        return "setting", "non_working_day", set()
    return None


def _text(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float)):
        return value
    return str(value)[:200]


def _snapshot(obj) -> dict[str, Any]:
    state = sa.inspect(obj)
    values = {}
    for attr in state.mapper.column_attrs:
        if attr.key in _IGNORED or attr.key == "id":
            continue
        value = state.attrs[attr.key].loaded_value
        if value is sa.orm.base.NO_VALUE or value is None:
            continue
        values[attr.key] = "***" if attr.key in _SECRET else _text(value)
    for name in ("roles", "permissions"):
        if name in state.mapper.relationships and name not in state.unloaded:
            values[name] = sorted(str(v) for v in getattr(obj, name))
    return values


def _diff(obj, session: Session) -> dict[str, Any]:
    state = sa.inspect(obj)
    changed = [attr for attr in state.mapper.column_attrs
               if attr.key not in _IGNORED and state.attrs[attr.key].history.has_changes()]
    # An attribute set without being loaded first (e.g. after a commit expired it) has no old value in
    # its history: read the stored ones, before this flush writes the new ones.
    stored: dict[str, Any] = {}
    unknown = [attr for attr in changed if not state.attrs[attr.key].history.deleted]
    if unknown and state.identity:
        mapper = state.mapper
        columns = [attr.columns[0] for attr in unknown]
        pk = mapper.primary_key[0]
        row = session.connection().execute(sa.select(*columns).where(pk == state.identity[0])).first()
        if row is not None:
            stored = {attr.key: value for attr, value in zip(unknown, row)}
    changes: dict[str, Any] = {}
    for attr in changed:
        history = state.attrs[attr.key].history
        old = history.deleted[0] if history.deleted else stored.get(attr.key)
        new = history.added[0] if history.added else None
        if old == new:
            continue
        changes[attr.key] = "***" if attr.key in _SECRET else [_text(old), _text(new)]
    for name in ("roles", "permissions"):
        if name in state.mapper.relationships:
            history = state.attrs[name].history
            if history.added or history.deleted:
                changes[name] = {"+": sorted(str(v) for v in history.added),
                                 "-": sorted(str(v) for v in history.deleted)}
    return changes


def _before_flush(session: Session, flush_context, instances) -> None:
    # Updates and deletes are read before the flush: the stored old values are still there.
    _collect(session, (("update", session.dirty), ("delete", session.deleted)))


def _after_flush(session: Session, flush_context) -> None:
    # Creations after it: only now do the new records have their ids.
    _collect(session, (("create", session.new),))


def _collect(session: Session, groups) -> None:
    pending = session.info.setdefault("audit_pending", [])
    for verb, objects in groups:
        for obj in objects:
            tracked = _tracked(obj)
            if tracked is None:
                continue
            prefix, target_kind, covered_by = tracked
            detail = _diff(obj, session) if verb == "update" else _snapshot(obj)
            if verb == "update" and not detail:
                continue
            label = getattr(obj, "username", None) or getattr(obj, "code", None) or getattr(obj, "name", None)
            if label is not None:
                detail = {"_object": _text(label), **detail}
            pending.append((f"{prefix}.{verb}", f"{target_kind}:{obj.id}", detail,
                            covered_by if verb == "create" else set()))


def _before_commit(session: Session) -> None:
    session.flush()  # changes still in memory are noticed now, not after this hook has run
    pending = session.info.pop("audit_pending", None)
    if not pending:
        return
    recorded = session.info.get("audit_actions", set())
    actor = request_actor() if has_app_context() else None
    for action, target, detail, covered_by in _merged(pending):
        if covered_by & recorded:
            continue  # the service already wrote a summary row for this change
        row = AuditLog(at=utcnow(), kind="action", action=action, target=target,
                       user_id=getattr(actor, "user_id", None), username=getattr(actor, "username", None),
                       role=getattr(actor, "main_role", None),
                       detail=json.dumps(detail, ensure_ascii=False, default=str) if detail else None)
        if has_request_context():
            row.method, row.path = request.method, request.path[:500]
            row.endpoint = (request.endpoint or "")[:120] or None
            row.ip, row.user_agent = client_ip(), (request.user_agent.string or "")[:300] or None
        session.add(row)


def _merged(pending: list) -> list:
    """One row per changed record and transaction, however many flushes it took: a create stays a
    create (with the final values), updates keep the first old and the last new value."""
    merged: dict[str, list] = {}
    for action, target, detail, covered_by in pending:
        entry = merged.get(target)
        if entry is None:
            merged[target] = [action, target, dict(detail), set(covered_by)]
            continue
        verb = action.rsplit(".", 1)[1]
        if verb == "delete":
            merged[target] = [action, target, dict(detail), set(covered_by)]
        elif entry[0].endswith(".create"):
            for key, value in detail.items():
                entry[2][key] = value[1] if isinstance(value, list) and len(value) == 2 else value
        else:
            for key, value in detail.items():
                old = entry[2].get(key)
                if isinstance(value, list) and isinstance(old, list):
                    entry[2][key] = [old[0], value[1]]
                elif isinstance(value, dict) and isinstance(old, dict):
                    entry[2][key] = {"+": sorted(set(old["+"]) | set(value["+"])),
                                     "-": sorted(set(old["-"]) | set(value["-"]))}
                else:
                    entry[2][key] = value
    return [tuple(entry) for entry in merged.values()]


def _forget(session: Session, *args) -> None:
    session.info.pop("audit_pending", None)
    session.info.pop("audit_actions", None)


def _install_listeners() -> None:
    if event.contains(Session, "after_flush", _after_flush):
        return
    event.listen(Session, "before_flush", _before_flush)
    event.listen(Session, "after_flush", _after_flush)
    event.listen(Session, "before_commit", _before_commit)
    event.listen(Session, "after_commit", _forget)
    event.listen(Session, "after_soft_rollback", _forget)


_install_listeners()

