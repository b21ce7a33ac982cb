"""Staff request rows, and sign-in / sign-out rows (see the package docstring)."""

from __future__ import annotations

import json
import logging
import time
from typing import Any

import sqlalchemy as sa
from flask import Flask, current_app, has_request_context, request

from ..extensions import db
from ..inputs import printable
from ..logs import request_id
from ..models import AuditLog, Complaint, Staff
from ..timeutil import utcnow

from . import _state, client_ip, main_role, record, request_actor, request_user  # noqa: F401

log = logging.getLogger(__name__)

# --------------------------------------------------------------------------- staff requests


def _staff_blueprints(app: Flask) -> frozenset[str]:
    names = app.extensions.get("audit_staff_blueprints")
    if names is None:
        appbuilder = getattr(app, "appbuilder", None)
        views = getattr(appbuilder, "baseviews", []) if appbuilder else []
        names = frozenset(v.blueprint.name for v in views if getattr(v, "blueprint", None) is not None)
        app.extensions["audit_staff_blueprints"] = names
    return names


def is_staff_request() -> bool:
    """A request of the staff side: a signed-in staff user, the API, or one of FAB's views."""
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
        if not is_staff_request():
            return
        who = _who() or state.get("who") or {}
        values = {
            "at": utcnow(), "kind": "request", "action": "request",
            "user_id": who.get("user_id"), "username": who.get("username"), "role": who.get("role"),
            "complaint_id": _complaint_of_request(),
            "method": request.method[:8], "path": printable(request.path, multiline=False)[:500],
            "endpoint": (request.endpoint or "")[:120] or None,
            "status": 500 if exc is not None else state.get("status"),
            "ip": client_ip(),
            "request_id": request_id(),
            "user_agent": printable(request.user_agent.string or "", multiline=False)[:300] or None,
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
    # Printable only: a NUL in what someone typed must not cost the attempt its row (PostgreSQL refuses it).
    return (printable(str(value), multiline=False).strip()[:128] or None) if value is not None else None


def log_sign_in(user) -> None:
    _log_auth("login", user)


def log_sign_in_failed(user) -> None:
    tried = _username_tried()
    _log_auth("login.failed", user, detail={"username_tried": tried or user.username, "reason": "password"})


def _log_auth(action: str, user, detail: dict | None = None) -> None:
    from ..services.records import log_event
    from ..services.common import Actor

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
    from ..services.records import log_event
    from ..services.security import is_locked

    user = db.session.scalar(sa.select(Staff).where(sa.or_(Staff.username == tried, Staff.email == tried)))
    if user is None:
        reason = "unknown_user"
    elif not user.active:
        reason = "inactive"
    elif is_locked(user):
        reason = "locked"
    else:
        reason = "refused"
    log_event("auth", "login.failed", user_id=user.id if user else None, username=tried,
              role=main_role(user) if user else None, detail={"username_tried": tried, "reason": reason})
    _state()["auth_logged"] = True
