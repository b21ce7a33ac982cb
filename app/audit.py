"""The history log writer (SOP "Pencatatan": riwayat akses).

Three ways rows get written:

- `record(...)` adds a row to the caller's session, so a domain action and its record commit
  together: if the log row cannot be written, the action fails with it rather than going unrecorded.
- Changes to accounts, roles and settings (Staff, Role, Opd, NonWorkingDay) are noticed by a session
  listener and recorded as diffs in the same transaction, whichever screen, API or command made them.
- Every staff request gets one row (user, role, method, path, endpoint, complaint, status, address,
  user agent, duration), written at teardown on its own connection, so it is there even when the
  view raised, and a failure to write it never breaks a response that was already committed.

The table is append-only: no screen edits or deletes it, and on PostgreSQL a trigger refuses UPDATE
and DELETE (migration 0006).
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

import sqlalchemy as sa
from flask import Flask, current_app, g, has_app_context, has_request_context, request
from flask_babel import lazy_gettext as _l
from sqlalchemy import event
from sqlalchemy.orm import Session

from .extensions import db
from .models import AuditLog, Complaint, NonWorkingDay, Opd, Staff
from .timeutil import utcnow
from .workflow import Role

log = logging.getLogger(__name__)

KINDS = {"auth": _l("Masuk/keluar"), "request": _l("Akses halaman"), "action": _l("Tindakan"),
         "pii": _l("Lihat data pribadi"), "system": _l("Sistem")}

# Actions written by this product, with their labels for the filter list. Other modules may write
# more; the screens show unknown ones by their code.
ACTIONS = {
    "login": _l("Masuk berhasil"),
    "login.failed": _l("Masuk gagal"),
    "login.locked": _l("Masuk ditolak (akun terkunci)"),
    "lockout": _l("Akun dikunci"),
    "unlock": _l("Kunci akun dibuka"),
    "logout": _l("Keluar"),
    "request": _l("Akses halaman"),
    "nik.view": _l("Lihat NIK lengkap"),
    "contact.view": _l("Lihat kontak pengadu"),
    "complaint.identity_view": _l("Lihat identitas pengadu"),
    "attachment.download": _l("Unduh lampiran"),
    "complaint.export": _l("Ekspor pengaduan (OPD)"),
    "complaint.submit": _l("Pengaduan masuk"),
    "complaint.claim": _l("Pengaduan dibuka validator"),
    "complaint.decide": _l("Keputusan NIK"),
    "complaint.answer": _l("Jawaban"),
    "answer.edit": _l("Jawaban diubah"),
    "complaint.return": _l("Dikembalikan (bukan wewenang)"),
    "complaint.reroute": _l("Disposisi ulang"),
    "complaint.close": _l("Pengaduan selesai"),
    "note.add": _l("Catatan internal"),
    "user.create": _l("Akun dibuat"),
    "user.update": _l("Akun diubah"),
    "user.delete": _l("Akun dihapus"),
    "role.create": _l("Peran dibuat"),
    "role.update": _l("Peran diubah"),
    "role.delete": _l("Peran dihapus"),
    "roles.sync": _l("Sinkronisasi peran"),
    "opd.create": _l("OPD ditambahkan"),
    "opd.update": _l("OPD diubah"),
    "opd.delete": _l("OPD dihapus"),
    "opd.import": _l("Impor daftar OPD"),
    "setting.create": _l("Pengaturan ditambahkan"),
    "setting.update": _l("Pengaturan diubah"),
    "setting.delete": _l("Pengaturan dihapus"),
    "export.history": _l("Ekspor riwayat akses"),
    "export.recap": _l("Ekspor rekap"),
}


def _state() -> dict:
    """Per-request bookkeeping. Not `g`: an app context can outlive one request (tests, CLI)."""
    return request.environ.setdefault("lpo.audit", {})


def client_ip() -> str | None:
    return request.remote_addr if has_request_context() else None


def _mark(action: str) -> None:
    """Remember which summary actions this transaction recorded (see `_TRACKED` suppression)."""
    db.session.info.setdefault("audit_actions", set()).add(action)


def record(kind: str, action: str, *, actor=None, complaint_id: int | None = None,
           detail: dict[str, Any] | None = None, **columns: Any) -> AuditLog:
    """Add one history row to the current transaction. `actor` is a services.common.Actor or None."""
    row = AuditLog(
        at=utcnow(),
        kind=kind,
        action=action,
        user_id=getattr(actor, "user_id", None),
        username=getattr(actor, "username", None),
        role=getattr(actor, "main_role", None),
        complaint_id=complaint_id,
        detail=json.dumps(detail, ensure_ascii=False, default=str) if detail else None,
    )
    if has_request_context():
        row.method = request.method
        row.path = request.path[:500]
        row.endpoint = (request.endpoint or "")[:120] or None
        row.ip = client_ip()
        row.user_agent = (request.user_agent.string or "")[:300] or None
    for key, value in columns.items():
        setattr(row, key, value)
    db.session.add(row)
    _mark(action)
    if kind == "auth" and has_request_context():
        _state()["auth_logged"] = True  # this sign-in attempt has its row (see _log_unhooked_login_failure)
    return row


# --------------------------------------------------------------------------- who is acting


_ROLE_ORDER = [Role.ADMIN_SISTEM, Role.PIMPINAN, Role.VALIDATOR, Role.ADMIN_OPD]


def main_role(user) -> str | None:
    names = {r.name for r in getattr(user, "roles", None) or []}
    for role in _ROLE_ORDER:
        if role.value in names:
            return role.value
    return sorted(names)[0] if names else None


def _authenticated(user) -> bool:
    try:
        return bool(user is not None and user.is_authenticated and user.id is not None)
    except Exception:  # a detached or half-loaded user object: treat as nobody
        return False


def request_user():
    """The signed-in staff user of this request (session or JWT), or None."""
    if not has_request_context():
        return None
    user = g.get("user")
    if _authenticated(user):
        return user
    from flask_login import current_user

    return current_user if _authenticated(current_user) else None


def request_actor():
    """The services Actor for whoever acts in this request; the system outside requests."""
    from .services.common import Actor

    user = request_user()
    return Actor.from_user(user) if user is not None else Actor.system()


# --------------------------------------------------------------------------- account and setting diffs

# model → (prefix, columns never logged or not worth a row, summary actions that already cover a create)
_IGNORED = {"changed_on", "changed_by_fk", "created_on", "created_by_fk", "last_login", "login_count",
            "fail_login_count", "locked_until"}  # sign-in bookkeeping; lockout is logged on its own
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


# --------------------------------------------------------------------------- staff requests


def _staff_blueprints(app: Flask) -> frozenset[str]:
    names = app.extensions.get("audit_staff_blueprints")
    if names is None:
        appbuilder = getattr(app, "appbuilder", None)
        views = getattr(appbuilder, "baseviews", []) if appbuilder else []
        names = frozenset(v.blueprint.name for v in views if getattr(v, "blueprint", None) is not None)
        app.extensions["audit_staff_blueprints"] = names
    return names


def _is_staff_request() -> bool:
    endpoint = request.endpoint or ""
    if endpoint == "static" or endpoint.endswith(".static") or endpoint == "health":
        return False
    if request_user() is not None:
        return True
    if request.path.startswith("/api/"):
        return True
    return request.blueprint is not None and request.blueprint in _staff_blueprints(current_app)


def _complaint_of_request() -> int | None:
    """The complaint a staff URL concerns, from its view arguments (`complaint_id`, `ticket`, or a
    Complaint view's `pk`)."""
    args = request.view_args or {}
    value = args.get("complaint_id")
    if value is not None:
        try:
            return int(value)
        except (TypeError, ValueError):
            return None
    if args.get("ticket"):
        try:
            return db.session.scalar(sa.select(Complaint.id).where(Complaint.ticket == str(args["ticket"])))
        except Exception:
            return None
    if "pk" in args:
        view = _view_of_blueprint(request.blueprint)
        model = getattr(getattr(view, "datamodel", None), "obj", None)
        if model is Complaint:
            try:
                return int(args["pk"])
            except (TypeError, ValueError):
                return None
    return None


def _view_of_blueprint(name: str | None):
    appbuilder = getattr(current_app, "appbuilder", None)
    for view in getattr(appbuilder, "baseviews", []) if appbuilder else []:
        if getattr(getattr(view, "blueprint", None), "name", None) == name:
            return view
    return None


def _who() -> dict[str, Any]:
    user = request_user()
    if user is None:
        return {}
    return {"user_id": user.id, "username": user.username, "role": main_role(user)}


def _before_request() -> None:
    state = _state()
    state["start"] = time.perf_counter()
    # Remember who started the request: after sign-out the user is gone by teardown.
    try:
        state["who"] = _who()
    except Exception:
        state["who"] = {}


def _after_request(response):
    _state()["status"] = response.status_code
    try:
        _log_unhooked_login_failure()
    except Exception:  # the sign-in answer must not fail because of its record
        log.exception("history log: sign-in failure could not be recorded")
    return response


def _teardown_request(exc) -> None:
    state = _state()
    start = state.pop("start", None)
    if start is None:
        return
    try:
        if exc is not None:
            db.session.rollback()  # the failed request's own changes never reach the database
        if not _is_staff_request():
            return
        who = _who() or state.get("who") or {}
        values = {
            "at": utcnow(), "kind": "request", "action": "request",
            "user_id": who.get("user_id"), "username": who.get("username"), "role": who.get("role"),
            "complaint_id": _complaint_of_request(),
            "method": request.method[:8], "path": request.path[:500],
            "endpoint": (request.endpoint or "")[:120] or None,
            "status": 500 if exc is not None else state.get("status"),
            "ip": client_ip(), "user_agent": (request.user_agent.string or "")[:300] or None,
            "duration_ms": int((time.perf_counter() - start) * 1000),
            "detail": json.dumps({"error": exc.__class__.__name__}) if exc is not None else None,
        }
        # Its own short transaction: the view's transaction is finished (committed or rolled back).
        with db.engine.begin() as conn:
            conn.execute(sa.insert(AuditLog.__table__).values(**values))
    except Exception:
        log.exception("history log: request row could not be written")


def init_app(app: Flask) -> None:
    """Register the request hooks (one line in create_app)."""
    app.before_request(_before_request)
    app.after_request(_after_request)
    app.teardown_request(_teardown_request)


# --------------------------------------------------------------------------- sign-in and sign-out


def _username_tried() -> str | None:
    if not has_request_context():
        return None
    value = request.form.get("username")
    if value is None and request.is_json:
        body = request.get_json(silent=True)
        value = body.get("username") if isinstance(body, dict) else None
    return (str(value).strip()[:128] or None) if value is not None else None


def log_sign_in(user) -> None:
    _log_auth("login", user)


def log_sign_in_failed(user) -> None:
    tried = _username_tried()
    _log_auth("login.failed", user, detail={"username_tried": tried or user.username, "reason": "password"})


def log_sign_out(user) -> None:
    _log_auth("logout", user)


def _log_auth(action: str, user, detail: dict | None = None) -> None:
    from .services.records import log_event
    from .services.common import Actor

    if has_request_context():
        _state()["auth_logged"] = True
    log_event("auth", action, actor=Actor.from_user(user), detail=detail)


def _is_login_endpoint() -> bool:
    endpoint = request.endpoint or ""
    appbuilder = getattr(current_app, "appbuilder", None)
    auth_view = getattr(getattr(appbuilder, "sm", None), "auth_view", None)
    auth_bp = getattr(getattr(auth_view, "blueprint", None), "name", None)
    return endpoint in {f"{auth_bp}.login", "SecurityApi.login"}


def _log_unhooked_login_failure() -> None:
    """FAB calls no hook for an unknown or inactive username (or an empty password): the failure is
    recorded here, with the username that was tried."""
    if request.method != "POST" or _state().get("auth_logged") or not _is_login_endpoint():
        return
    if request_user() is not None:
        return
    tried = _username_tried()
    if not tried:
        return
    from .services.records import log_event

    user = db.session.scalar(sa.select(Staff).where(sa.or_(Staff.username == tried, Staff.email == tried)))
    if user is None:
        reason = "unknown_user"
    elif not user.active:
        reason = "inactive"
    elif user.locked_until is not None and user.locked_until > utcnow():
        reason = "locked"
    else:
        reason = "refused"
    log_event("auth", "login.failed", user_id=user.id if user else None, username=tried,
              role=main_role(user) if user else None, detail={"username_tried": tried, "reason": reason})
    _state()["auth_logged"] = True
