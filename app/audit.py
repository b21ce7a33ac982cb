"""The history log writer (SOP "Pencatatan": riwayat akses).

Rows are added to the caller's session, so a domain action and its record commit together: if the
log row cannot be written, the action fails with it rather than going unrecorded.
"""

from __future__ import annotations

import json
from typing import Any

from flask import has_request_context, request

from .extensions import db
from .models import AuditLog
from .timeutil import utcnow


def client_ip() -> str | None:
    return request.remote_addr if has_request_context() else None


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
    return row
