"""History-log events that are actions of their own (sign-in, sign-out, exports): one transaction each.

Domain actions write their row inside their own transaction with `audit.record`; these events have
no other write to ride on, so they commit here (services are the only place that commits).
"""

from __future__ import annotations

from typing import Any

from .. import audit
from .common import Actor, unit_of_work


def log_event(kind: str, action: str, *, actor: Actor | None = None, complaint_id: int | None = None,
              detail: dict[str, Any] | None = None, **columns: Any) -> None:
    with unit_of_work():
        audit.record(kind, action, actor=actor, complaint_id=complaint_id, detail=detail, **columns)


def log_export(actor: Actor, what: str, fmt: str, filters: dict[str, Any]) -> None:
    """An export is logged before the file is produced: no record, no file."""
    log_event("action", f"export.{what}", actor=actor,
              detail={"format": fmt, **{k: v for k, v in filters.items() if v not in (None, "")}})
