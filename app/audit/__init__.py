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
from typing import Any

from flask import g, has_request_context, request
from flask_babel import lazy_gettext as _l

from ..extensions import db
from ..inputs import printable
from ..models import AuditLog
from ..timeutil import utcnow
from ..workflow import Role, highest_role

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
    "login.attack": _l("Masuk gagal dari banyak alamat"),
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
    "lapor.pull": _l("Tarikan SP4N-LAPOR!"),
    "lapor.pull_failed": _l("Tarikan SP4N-LAPOR! gagal"),
    "lapor.import_refused": _l("Laporan SP4N-LAPOR! ditolak"),
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
        # What a URL or a header holds may not be storable (a NUL): printable, one line.
        row.path = printable(request.path, multiline=False)[:500]
        row.endpoint = (request.endpoint or "")[:120] or None
        row.ip = client_ip()
        row.user_agent = printable(request.user_agent.string or "", multiline=False)[:300] or None
    for key, value in columns.items():
        setattr(row, key, value)
    db.session.add(row)
    _mark(action)
    if kind == "auth" and has_request_context():
        _state()["auth_logged"] = True  # this sign-in attempt has its row (see _log_unhooked_login_failure)
    return row


# --------------------------------------------------------------------------- who is acting


def main_role(user) -> str | None:
    """The role a history row shows for `user`: the highest by workflow.ROLE_PRECEDENCE (a role the
    product does not know, e.g. one an admin added by hand, only when the user holds no other)."""
    names = {r.name for r in getattr(user, "roles", None) or []}
    known = highest_role(Role(n) for n in names if n in _ROLE_VALUES)
    if known is not None:
        return known.value
    return sorted(names)[0] if names else None


_ROLE_VALUES = {r.value for r in Role}


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
    from ..services.common import Actor

    user = request_user()
    return Actor.from_user(user) if user is not None else Actor.system()



# The listeners and request hooks live in their own modules; importing them installs the listeners.
from .changes import _install_listeners  # noqa: E402,F401
from .requests import init_app, is_staff_request, log_sign_in, log_sign_in_failed  # noqa: E402,F401
