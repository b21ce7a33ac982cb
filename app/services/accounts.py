"""Staff accounts, roles and the OPD list: the set-up side of the product."""

from __future__ import annotations

import csv
import io
import logging
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from flask import current_app
from flask_appbuilder.security.sqla.models import Role as FabRole

from .. import audit, passwords
from ..extensions import db
from ..models import Opd, Staff
from ..security import sync_roles
from ..workflow import Role
from .common import Actor, Invalid, unit_of_work

DEFAULT_OPD_CSV = Path(__file__).resolve().parent.parent / "data" / "opd-lumajang.csv"


class PermissionSyncError(RuntimeError):
    """FAB refused a write while permissions were synced (it logs such errors and carries on)."""

    def __init__(self, messages: list[str]):
        super().__init__("Sinkronisasi hak akses gagal: " + "; ".join(messages))
        self.messages = messages


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@contextmanager
def _fab_errors_raised():
    """FAB's security manager catches every error of its writes (add_role, add_permission_view_menu,
    add_permission_role, ...), logs it, rolls back and returns as if nothing happened: a sync that half
    failed would look done. Its error records are collected here and raised."""
    logger = logging.getLogger("flask_appbuilder")
    collect = _Collect()
    level = logger.level
    if logger.getEffectiveLevel() > logging.ERROR:
        logger.setLevel(logging.ERROR)
    logger.addHandler(collect)
    try:
        yield
    except Exception as exc:
        if collect.messages:
            raise PermissionSyncError(collect.messages) from exc
        raise
    finally:
        logger.removeHandler(collect)
        logger.setLevel(level)
    if collect.messages:
        raise PermissionSyncError(collect.messages)


def sync_permissions() -> dict[str, int]:
    """Register every view's permissions (FAB) and apply our role table; idempotent.

    FAB commits each of its writes itself, so a failure leaves the earlier ones in place; the error is
    raised (`PermissionSyncError`) and a second run completes the rest."""
    appbuilder = current_app.appbuilder
    with unit_of_work(), _fab_errors_raised():
        # FAB grants each new permission to the admin role only if that role already exists.
        appbuilder.sm.add_role(Role.ADMIN_SISTEM.value)
        _share_resources(appbuilder)
        appbuilder.add_permissions(update_perms=True)
        result = sync_roles(appbuilder.sm)
        audit.record("system", "roles.sync", actor=Actor.system(), detail=result)
    return result


def _share_resources(appbuilder) -> None:
    """Views that share a resource (the desk's screen and its REST API: one "can_decide on Complaint" for
    both) register the same permissions. FAB registers each view's own and tries to delete the resource's
    others ("Refused to delete permission view … assoc with role exists"); with the union on each there is
    nothing to delete. It grants nothing: a method still needs its own permission, and roles are ours."""
    shared: dict[str, set[str]] = {}
    for view in appbuilder.baseviews:
        if view.class_permission_name and view.base_permissions:
            shared.setdefault(view.class_permission_name, set()).update(view.base_permissions)
    for view in appbuilder.baseviews:
        if view.class_permission_name in shared and view.base_permissions:
            view.base_permissions = sorted(shared[view.class_permission_name])


def import_opds(path: str | None) -> tuple[int, int]:
    """Create or update OPDs from a CSV (kode,nama,jenis[,tugas,kata_kunci]). Duties and keywords are
    only filled where they are still empty: what Admin Sistem wrote on the OPD screen is kept."""
    text = Path(path or DEFAULT_OPD_CSV).read_text(encoding="utf-8")
    created = updated = 0
    with unit_of_work():
        for row in csv.DictReader(io.StringIO(text)):
            code, name, kind = row["kode"].strip(), row["nama"].strip(), (row.get("jenis") or "dinas").strip()
            duties, keywords = (row.get("tugas") or "").strip() or None, (row.get("kata_kunci") or "").strip() or None
            opd = db.session.scalar(sa.select(Opd).where(Opd.code == code))
            if opd is None:
                db.session.add(Opd(code=code, name=name, kind=kind, active=True, duties=duties, keywords=keywords))
                created += 1
                continue
            changed = (opd.name, opd.kind) != (name, kind)
            opd.name, opd.kind = name, kind
            if duties and not opd.duties:
                opd.duties, changed = duties, True
            if keywords and not opd.keywords:
                opd.keywords, changed = keywords, True
            updated += changed
        audit.record("system", "opd.import", actor=Actor.system(), detail={"created": created, "updated": updated})
    from .portal import clear_opd_cache

    clear_opd_cache()
    return created, updated


def create_staff(*, username: str, email: str, first_name: str, last_name: str, role: str, password: str,
                 opd_code: str | None = None, actor: Actor | None = None) -> Staff:
    """Create a staff account; the password policy and the OPD rule apply on every path."""
    sm = current_app.appbuilder.sm
    errors: dict[str, str] = {}
    problems = passwords.problems(password, username)
    if problems:
        errors["password"] = " ".join(problems)
    db_role = sm.find_role(role)
    if db_role is None:
        errors["role"] = f"Peran '{role}' tidak dikenal."
    opd = None
    if role == Role.ADMIN_OPD.value:
        opd = db.session.scalar(sa.select(Opd).where(Opd.code == (opd_code or "")))
        if opd is None:
            errors["opd"] = "Akun Admin OPD wajib memiliki OPD yang valid."
    if db.session.scalar(sa.select(Staff.id).where(sa.or_(Staff.username == username, Staff.email == email))):
        errors["username"] = "Nama pengguna atau e-mail sudah dipakai."
    if errors:
        raise Invalid("Akun tidak dapat dibuat.", errors=errors)
    with unit_of_work():
        from werkzeug.security import generate_password_hash

        user = Staff(first_name=first_name, last_name=last_name, username=username, email=email, active=True,
                     password=generate_password_hash(password), roles=[db_role], opd_id=opd.id if opd else None)
        db.session.add(user)
        db.session.flush()
        audit.record("action", "user.create", actor=actor or Actor.system(),
                     detail={"username": username, "role": role, "opd": opd_code})
    return user


def staff_with_role(role: Role, opd_id: int | None = None) -> list[tuple[int, str]]:
    """(id, e-mail) of the active accounts holding `role` (of one OPD when given)."""
    query = (sa.select(Staff.id, Staff.email).join(Staff.roles).where(FabRole.name == role.value,
                                                                       Staff.active.is_(True),
                                                                       Staff.email.is_not(None))
             .order_by(Staff.id))
    if opd_id is not None:
        query = query.where(Staff.opd_id == opd_id)
    return [(uid, email) for uid, email in db.session.execute(query).all() if email]
